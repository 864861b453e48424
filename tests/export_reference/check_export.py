#!/usr/bin/python3
"""Loads TuneLab's exports in PyTorch, where users take them, and compares their outputs with TuneLab's.

Usage: check_export.py MODEL.pt STATE_DICT CASE.json
CASE.json: {"input": nested list, "expected": nested list} (TuneLab's outputs for that input).
The TorchScript module must run as it is; the state dict, with its spec beside it (STATE_DICT.spec.json),
must load into a torch.nn network built from the spec's layers with its readable names. Exit 0 when both
agree with TuneLab to 1e-5, 1 when not, 77 when this Python has no torch.
"""
import json
import sys

try:
    import torch
except ImportError:
    sys.exit(77)


class BatchNorm(torch.nn.Module):
    """Batch norm in evaluation for inputs of any rank (TuneLab's batchnorm follows a linear or a conv layer)."""

    def __init__(self, features, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(features))
        self.bias = torch.nn.Parameter(torch.zeros(features))
        self.register_buffer("running_mean", torch.zeros(features))
        self.register_buffer("running_var", torch.ones(features))
        self.register_buffer("num_batches_tracked", torch.tensor(0))
        self.eps = eps

    def forward(self, x):
        return torch.nn.functional.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                              False, 0.0, self.eps)


def build(spec, state):
    """A torch.nn network from the spec's layers, its parameters taken from the readable state dict."""
    layers = []
    for index, layer in enumerate(spec["model"]["layers"]):
        kind = layer["type"]
        prefix = f"layers.{index}."
        if kind == "linear":
            weight = state[prefix + "linear.weight"]
            module = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=prefix + "linear.bias" in state)
        elif kind == "conv2d":
            weight = state[prefix + "conv2d.weight"]
            module = torch.nn.Conv2d(weight.shape[1], weight.shape[0], weight.shape[2],
                                     stride=layer.get("stride", 1) or 1, padding=layer.get("padding", 0),
                                     bias=prefix + "conv2d.bias" in state)
        elif kind == "batchnorm":
            module = BatchNorm(state[prefix + "batch_norm.weight"].shape[0], layer.get("eps", 1e-5))
        elif kind == "layernorm":
            module = torch.nn.LayerNorm(list(state[prefix + "layer_norm.weight"].shape), eps=layer.get("eps", 1e-5))
        elif kind in ("maxpool2d", "avgpool2d"):
            size = layer.get("kernel_size", 2)
            stride = layer.get("stride", 0) or size
            cls = torch.nn.MaxPool2d if kind == "maxpool2d" else torch.nn.AvgPool2d
            module = cls(size, stride=stride, padding=layer.get("padding", 0))
        elif kind == "dropout":
            module = torch.nn.Dropout(layer.get("p", 0.5))
        elif kind == "flatten":
            module = torch.nn.Flatten()
        elif kind == "relu":
            module = torch.nn.ReLU()
        elif kind == "leaky_relu":
            module = torch.nn.LeakyReLU(layer.get("negative_slope", 0.01))
        elif kind == "elu":
            module = torch.nn.ELU(layer.get("alpha", 1.0))
        elif kind == "gelu":
            module = torch.nn.GELU()
        elif kind == "silu":
            module = torch.nn.SiLU()
        elif kind == "tanh":
            module = torch.nn.Tanh()
        elif kind == "sigmoid":
            module = torch.nn.Sigmoid()
        else:
            raise SystemExit(f"unknown layer type {kind}")
        own = {name.split(".", 3)[3]: value for name, value in state.items() if name.startswith(prefix)}
        if own:
            module.load_state_dict(own, strict=False)
        layers.append(module)
    return torch.nn.Sequential(*layers).eval()


def main():
    model_path, state_path, case_path = sys.argv[1:4]
    with open(case_path) as case_file:
        case = json.load(case_file)
    with open(state_path + ".spec.json") as spec_file:
        spec = json.load(spec_file)
    x = torch.tensor(case["input"], dtype=torch.float32)
    expected = torch.tensor(case["expected"], dtype=torch.float32)
    with torch.no_grad():
        scripted = torch.jit.load(model_path)(x)
        rebuilt = build(spec, torch.load(state_path))(x)
    worst = max((scripted - expected).abs().max().item(), (rebuilt - expected).abs().max().item())
    print(json.dumps({"torchscript": (scripted - expected).abs().max().item(),
                      "state_dict": (rebuilt - expected).abs().max().item()}))
    return 0 if worst <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
