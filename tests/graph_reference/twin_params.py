"""PyTorch twins of the graph networks TuneLab ships in resources/experiments, written by hand the
way a PyTorch user would, and their parameter counts as JSON: {"digits-resnet": 28378, ...}.
Run with Debian's /usr/bin/python3 (python3-torch)."""
import json

import torch
from torch import nn


class Residual(nn.Module):
    def __init__(self, width, skip=True):
        super().__init__()
        self.skip = skip
        self.conv1 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + x if self.skip else y)


def resnet(skip):
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        *[Residual(16, skip) for _ in range(6)],
        nn.AvgPool2d(8), nn.Flatten(), nn.Linear(16, 10))


class DenseLayer(nn.Module):
    def __init__(self, channels, growth=12):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels)
        self.conv = nn.Conv2d(channels, growth, 3, padding=1, bias=False)

    def forward(self, x):
        return torch.cat([x, self.conv(torch.relu(self.bn(x)))], 1)


def densenet():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False),
        *[DenseLayer(16 + 12 * k) for k in range(4)],
        nn.BatchNorm2d(64), nn.ReLU(), nn.Conv2d(64, 32, 1, bias=False), nn.AvgPool2d(2),
        *[DenseLayer(32 + 12 * k) for k in range(4)],
        nn.BatchNorm2d(80), nn.ReLU(), nn.AvgPool2d(4), nn.Flatten(), nn.Linear(80, 10))


def counts(model):
    model(torch.zeros(2, 1, 8, 8))  # the twin runs on the digits' sample shape
    parameters = list(model.parameters())
    return {"params": sum(p.numel() for p in parameters), "tensors": len(parameters)}


print(json.dumps({"digits-resnet": counts(resnet(True)), "digits-plain": counts(resnet(False)),
                  "digits-densenet": counts(densenet())}))
