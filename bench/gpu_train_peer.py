#!/usr/bin/env python3
"""The PyTorch peer of scripts/gpu_checks.py: the benchmark's training jobs in eager PyTorch, on a
given device, timed like tunelab-cli times its own (all epochs with their validation).

Usage: gpu_train_peer.py JOB --device cuda [--epochs 20] [--batch B] [--digits digits.csv] [--mnist FOLDER]
                         [--bf16]
  JOB = digits-mlp : digits.csv scaled by 1/16, MLP 64-256-256-10, ReLU, Adam 1e-3, cross-entropy, batch 64
        spirals-mlp: 2000 two-spiral points, MLP 2-32-32-2, ReLU, Adam 1e-3, batch 32 (launch-bound)
        cnn28      : the idx files in --mnist (1x28x28), conv16-pool-conv32-pool-fc128-fc10, batch 256
Validation: the last 20 % of a seeded permutation. Prints one JSON line: steps, seconds, steps_per_s, val_acc.
"""
import argparse
import csv
import gzip
import json
import math
import os
import time

import torch
import torch.nn as nn


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def job_data(args):
    if args.job == "digits-mlp":
        with open(args.digits) as f:
            rows = list(csv.reader(f))[1:]
        x = torch.tensor([[float(v) for v in r[:-1]] for r in rows]) / 16.0
        y = torch.tensor([int(r[-1]) for r in rows])
        model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    elif args.job == "spirals-mlp":
        torch.manual_seed(0)
        n = 1000
        t = torch.sqrt(torch.rand(n)) * 3 * math.pi
        arm = torch.stack([t * torch.cos(t), t * torch.sin(t)], 1) / (3 * math.pi)
        x = torch.cat([arm, -arm]) + 0.02 * torch.randn(2 * n, 2)
        y = torch.cat([torch.zeros(n), torch.ones(n)]).long()
        model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))
    elif args.job == "cnn28":
        x = read_idx(os.path.join(args.mnist, "train-images-idx3-ubyte")).float().unsqueeze(1) / 255.0
        y = read_idx(os.path.join(args.mnist, "train-labels-idx1-ubyte")).long()
        model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    else:
        raise SystemExit(f"unknown job {args.job}")
    return x, y, model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--digits", default="")
    parser.add_argument("--mnist", default="")
    parser.add_argument("--bf16", action="store_true", help="the forward pass under bfloat16 autocast")
    args = parser.parse_args()
    batch = args.batch or {"digits-mlp": 64, "spirals-mlp": 32, "cnn28": 256}[args.job]
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    x, y, model = job_data(args)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(1))
    validation = len(x) // 5
    xv, yv = x[order[-validation:]].to(device), y[order[-validation:]].to(device)
    xt, yt = x[order[:-validation]].to(device), y[order[:-validation]].to(device)
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = nn.CrossEntropyLoss()
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    steps = 0
    synchronize()
    start = time.perf_counter()
    for _ in range(args.epochs):
        shuffled = torch.randperm(len(xt), device=device)
        for first in range(0, len(xt), batch):
            rows = shuffled[first:first + batch]
            optimizer.zero_grad()
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
                output = model(xt[rows])
            loss = loss_function(output.float(), yt[rows])
            loss.backward()
            optimizer.step()
            steps += 1
        with torch.no_grad():
            accuracy = (model(xv).argmax(1) == yv).float().mean().item()
    synchronize()
    seconds = time.perf_counter() - start
    print(json.dumps({"job": args.job, "device": str(device), "epochs": args.epochs, "batch": batch, "steps": steps,
                      "seconds": round(seconds, 4), "steps_per_s": round(steps / seconds, 1),
                      "val_acc": round(accuracy, 4), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
