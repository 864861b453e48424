#!/usr/bin/python3
"""Peer for bench_data_parallel.py: the same data-parallel training written with PyTorch's
DistributedDataParallel over Gloo, on the same LibTorch build (Debian's python3-torch).

Usage: ddp_peer.py JOB --batch B --epochs E   (run once per rank, with RANK, WORLD_SIZE,
MASTER_ADDR and MASTER_PORT set, or alone)
  JOB = digits-mlp : ../shared/data/digits.csv scaled to [0,1], MLP 64-256-256-10, ReLU, Adam
        spirals-mlp: 2000 two-spiral points, MLP 2-32-32-2, ReLU, Adam
Each rank takes its share of every global batch of B rows; all ranks validate each epoch, as
tunelab-cli does. Rank 0 prints one JSON line: steps, seconds, steps_per_s, val_acc.
"""
import argparse, csv, json, math, os, time
import torch, torch.nn as nn, torch.distributed as dist

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def data(job):
    if job == "digits-mlp":
        rows = list(csv.reader(open(os.path.join(ROOT, "..", "shared", "data", "digits.csv"))))[1:]
        X = torch.tensor([[float(v) for v in r[:-1]] for r in rows]) / 16.0
        y = torch.tensor([int(r[-1]) for r in rows])
        return X, y, [64, 256, 256, 10]
    n = 1000; g = torch.Generator().manual_seed(0)
    t = torch.sqrt(torch.rand(n, generator=g)) * 3 * math.pi
    arm = torch.stack([t * torch.cos(t), t * torch.sin(t)], 1) / (3 * math.pi)
    X = torch.cat([arm, -arm]) + 0.02 * torch.randn(2 * n, 2, generator=g)
    return X, torch.cat([torch.zeros(n), torch.ones(n)]).long(), [2, 32, 32, 2]

def main():
    p = argparse.ArgumentParser()
    p.add_argument("job"); p.add_argument("--batch", type=int, default=64); p.add_argument("--epochs", type=int, default=20)
    a = p.parse_args()
    torch.set_num_threads(1); torch.manual_seed(0)
    size = int(os.environ.get("WORLD_SIZE", "1")); rank = int(os.environ.get("RANK", "0"))
    if size > 1:
        dist.init_process_group("gloo", rank=rank, world_size=size)
    X, y, widths = data(a.job)
    layers = []
    for i in range(len(widths) - 1):
        layers += [nn.Linear(widths[i], widths[i + 1])] + ([nn.ReLU()] if i < len(widths) - 2 else [])
    model = nn.Sequential(*layers)
    trained = nn.parallel.DistributedDataParallel(model) if size > 1 else model
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(1)); nval = len(X) // 5
    Xv, yv, Xt, yt = X[perm[:nval]], y[perm[:nval]], X[perm[nval:]], y[perm[nval:]]
    opt = torch.optim.Adam(trained.parameters(), lr=1e-3); lossf = nn.CrossEntropyLoss()
    order = torch.Generator().manual_seed(2)
    steps = 0; t0 = time.perf_counter()
    for _ in range(a.epochs):
        idx = torch.randperm(len(Xt), generator=order)
        for i in range(0, len(Xt), a.batch):
            b = idx[i:i + a.batch]
            share = len(b) // size + (1 if rank < len(b) % size else 0)
            first = rank * (len(b) // size) + min(rank, len(b) % size)
            mine = b[first:first + share]
            opt.zero_grad(); loss = lossf(trained(Xt[mine]), yt[mine]); loss.backward(); opt.step(); steps += 1
        with torch.no_grad():
            acc = (model(Xv).argmax(1) == yv).float().mean().item()
    dt = time.perf_counter() - t0
    if rank == 0:
        print(json.dumps({"job": a.job, "processes": size, "batch": a.batch, "steps": steps, "seconds": round(dt, 4),
                          "steps_per_s": round(steps / dt, 1), "val_acc": round(acc, 4)}))
    if size > 1:
        dist.destroy_process_group()

if __name__ == "__main__":
    main()
