#!/usr/bin/python3
"""Peer for bench_augmentation.py: the same small CNN trained in PyTorch on the same images, with
the same per-sample augmentation written with torch operations on each batch (random horizontal
flip, random crop after zero padding, Gaussian noise), on the same LibTorch build.

Usage: augment_peer.py FOLDER --size S --channels C --epochs E --batch B [--augment]
FOLDER is an image folder of raw .u8 files written by bench_augmentation.py (S x S x C bytes each).
Prints one JSON line: seconds (the training loop), samples_per_s.
"""
import argparse, json, os, time
import torch, torch.nn as nn, torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("folder"); p.add_argument("--size", type=int); p.add_argument("--channels", type=int)
p.add_argument("--epochs", type=int, default=3); p.add_argument("--batch", type=int, default=128)
p.add_argument("--augment", action="store_true")
a = p.parse_args()
torch.set_num_threads(1); torch.manual_seed(0)
images, labels = [], []
for label, name in enumerate(sorted(os.listdir(a.folder))):
    for file in sorted(os.listdir(os.path.join(a.folder, name))):
        raw = open(os.path.join(a.folder, name, file), "rb").read()
        images.append(torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(a.size, a.size, a.channels))
        labels.append(label)
X = torch.stack(images).permute(0, 3, 1, 2).float() / 255.0
y = torch.tensor(labels)
s = a.size
model = nn.Sequential(nn.Conv2d(a.channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(32 * (s // 4) * (s // 4), 64), nn.ReLU(), nn.Linear(64, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)

def augment(x):
    n = x.size(0)
    flip = torch.rand(n) < 0.5
    x = torch.where(flip.view(n, 1, 1, 1), x.flip(3), x)
    padded = F.pad(x, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (n,)); dx = torch.randint(0, 9, (n,))
    rows = (dy.view(n, 1) + torch.arange(s)).view(n, 1, s, 1).expand(n, x.size(1), s, s + 8)
    x = padded.gather(2, rows)
    cols = (dx.view(n, 1) + torch.arange(s)).view(n, 1, 1, s).expand(n, x.size(1), s, s)
    x = x.gather(3, cols)
    return x + torch.randn_like(x) * 0.05

samples = 0; t0 = time.perf_counter()
for _ in range(a.epochs):
    order = torch.randperm(len(X))
    for i in range(0, len(X), a.batch):
        b = order[i:i + a.batch]
        xb = X[b]
        if a.augment:
            xb = augment(xb)
        opt.zero_grad(); loss = F.cross_entropy(model(xb), y[b]); loss.backward(); opt.step()
        samples += len(b)
dt = time.perf_counter() - t0
print(json.dumps({"seconds": round(dt, 4), "samples_per_s": round(samples / dt, 1)}))
