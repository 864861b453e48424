#!/usr/bin/python3
"""The PyTorch side of tst_trainer's regressionMatchesPyTorchEpochByEpoch.

Trains what a PyTorch user writes for TuneLab's regression set-up: features z-scored with the mean and
population deviation of the training rows, nn.Linear's default initialisation after
torch.manual_seed(seed), MSELoss (mean over the rows of each batch), torch.optim.Adam with its defaults,
the rows in order with the last partial batch kept (DataLoader(shuffle=False, drop_last=False)).

Usage: pytorch_regression_reference.py JOB_JSON, with the keys csv, target, train, validation (0-based
data rows), seed, hidden (widths), lr, batch, epochs. Prints one JSON list, one entry per epoch:
[mean training batch loss, validation MSE, validation MAE], both validation values over the rows in
the target's own units.
"""
import csv
import json
import sys

import torch


def main():
    job = json.loads(sys.argv[1])
    torch.set_num_threads(1)
    with open(job["csv"], newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = [name for name in rows[0] if name != job["target"]]
    features = torch.tensor([[float(row[name]) for name in names] for row in rows], dtype=torch.float32)
    targets = torch.tensor([[float(row[job["target"]])] for row in rows], dtype=torch.float32)
    train, validation = torch.tensor(job["train"]), torch.tensor(job["validation"])

    statistics = features[train].double()
    mean = statistics.mean(0)
    deviation = ((statistics - mean) ** 2).mean(0).sqrt()
    features = (features - mean.float()) * (1.0 / deviation).float()

    torch.manual_seed(job["seed"])
    layers, width = [], features.shape[1]
    for hidden in job["hidden"]:
        layers += [torch.nn.Linear(width, hidden), torch.nn.ReLU()]
        width = hidden
    network = torch.nn.Sequential(*layers, torch.nn.Linear(width, 1))
    optimizer = torch.optim.Adam(network.parameters(), lr=job["lr"])
    loss_function = torch.nn.MSELoss()

    train_x, train_y = features[train], targets[train]
    val_x, val_y = features[validation], targets[validation]
    curve = []
    for _ in range(job["epochs"]):
        losses = []
        for start in range(0, len(train_x), job["batch"]):
            optimizer.zero_grad()
            loss = loss_function(network(train_x[start:start + job["batch"]]), train_y[start:start + job["batch"]])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        with torch.no_grad():
            output = network(val_x)
            curve.append([sum(losses) / len(losses), loss_function(output, val_y).item(),
                          (output - val_y).abs().mean().item()])
    print(json.dumps(curve))


if __name__ == "__main__":
    main()
