#!/usr/bin/python3
"""Loads TuneLab's exports where users take them (PyTorch, ONNX) and compares their outputs with TuneLab's.

Usage: check_export.py MODEL.pt STATE_DICT CASE.json [MODEL.onnx]
CASE.json: {"input": nested list, "expected": nested list} (TuneLab's outputs for that input).
The TorchScript module must run as it is; the state dict, with its spec beside it (STATE_DICT.spec.json),
must load into a torch.nn network built from the spec's layers with its readable names. The ONNX model must
pass onnx.checker (full check, with strict shape inference), have the input "input" with a dynamic batch
dimension "batch" and the output "output", and compute TuneLab's outputs: run by onnx.reference where this
onnx has it (1.13 on), else by the small NumPy evaluator below, which follows the ONNX operator specification
for the operators TuneLab writes. Exit 0 when all agree with TuneLab to 1e-5, 1 when not, 77 when this Python
has no torch (or no onnx, for an ONNX model).
"""
import json
import math
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


def expanded_layers(model):
    """The spec's layers with each block instance replaced by its layers, named as TuneLab names them: an
    identity "NAME/input" reading the instance's inputs, then the block's layers as "NAME/LAYER" ("NAME/N"
    for the block's N-th layer without a name)."""
    layers = []
    for layer in model["layers"]:
        if layer["type"] != "block":
            layers.append(layer)
            continue
        prefix = layer["name"] + "/"
        entry = {"type": "identity", "name": prefix + "input"}
        if "inputs" in layer:
            entry["inputs"] = layer["inputs"]
        layers.append(entry)
        for n, inner in enumerate(model["blocks"][layer["block"]]["layers"]):
            inner = dict(inner, name=prefix + inner.get("name", str(n)))
            if "inputs" in inner:
                inner["inputs"] = [prefix + name for name in inner["inputs"]]
            layers.append(inner)
    return layers


class Graph(torch.nn.Module):
    """Layers that read named layers: add, concat and multiply merge them; a name without a layer of its own
    stands for the last layer of the block instance of that name."""

    def __init__(self, layers, modules):
        super().__init__()
        self.modules_ = torch.nn.ModuleList(modules)
        self.kinds = [layer["type"] for layer in layers]
        names = {layer["name"]: i for i, layer in enumerate(layers) if "name" in layer}
        instances = {layer["name"].rsplit("/", 1)[0]: i for i, layer in enumerate(layers)
                     if "/" in layer.get("name", "")}

        def source(name):
            return -1 if name == "input" else names.get(name, instances.get(name))

        self.reads = [[source(n) for n in layer["inputs"]] if "inputs" in layer else [i - 1]
                      for i, layer in enumerate(layers)]

    def forward(self, x):
        values = {-1: x}
        pending = list(range(len(self.kinds)))
        while pending:
            for i in pending:
                if all(r in values for r in self.reads[i]):
                    inputs = [values[r] for r in self.reads[i]]
                    if self.kinds[i] == "add":
                        values[i] = sum(inputs[1:], inputs[0])
                    elif self.kinds[i] == "multiply":
                        values[i] = math.prod(inputs[1:], start=inputs[0])
                    elif self.kinds[i] == "concat":
                        values[i] = torch.cat(inputs, 1)
                    else:
                        values[i] = self.modules_[i](inputs[0])
                    pending.remove(i)
                    break
        return values[len(self.kinds) - 1]


def build(spec, state):
    """A torch.nn network from the spec's layers, its parameters taken from the readable state dict."""
    layers = []
    written = expanded_layers(spec["model"])
    for index, layer in enumerate(written):
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
        elif kind in ("identity", "add", "concat", "multiply"):
            module = torch.nn.Identity()
        else:
            raise SystemExit(f"unknown layer type {kind}")
        own = {name.split(".", 3)[3]: value for name, value in state.items() if name.startswith(prefix)}
        if own:
            module.load_state_dict(own, strict=False)
        layers.append(module)
    if any("inputs" in layer for layer in written):
        return Graph(written, layers).eval()
    return torch.nn.Sequential(*layers).eval()


def attributes(node):
    import onnx
    return {attribute.name: onnx.helper.get_attribute_value(attribute) for attribute in node.attribute}


def window_patches(x, kernel, strides, pads, fill):
    """Each cell (i, j) of a window, with the view of the padded NCHW array it reads at every output position."""
    import numpy as np
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])), constant_values=fill)
    height = (x.shape[2] - kernel[0]) // strides[0] + 1
    width = (x.shape[3] - kernel[1]) // strides[1] + 1
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            yield (i, j), x[:, :, i:i + strides[0] * height:strides[0], j:j + strides[1] * width:strides[1]]


def run_node(node, inputs):
    """One node of the operators TuneLab writes, in float64, as the ONNX specification defines them."""
    import numpy as np
    a = attributes(node)
    op, x = node.op_type, inputs[0]
    if op == "Gemm":
        w = inputs[1].T if a.get("transB", 0) else inputs[1]
        return x @ w + (inputs[2] if len(inputs) > 2 else 0.0)
    if op == "MatMul":
        return x @ inputs[1]
    binary = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}
    if op in binary:
        return binary[op](x, inputs[1])
    if op == "Expand":
        return x * np.ones(tuple(inputs[1]))
    if op == "Reshape":
        shape = [x.shape[i] if d == 0 else d for i, d in enumerate(inputs[1])]
        return x.reshape(shape)
    if op == "Pad":
        pads, rank = inputs[1], x.ndim
        constant = inputs[2] if len(inputs) > 2 else 0.0
        return np.pad(x, [(pads[i], pads[i + rank]) for i in range(rank)], constant_values=constant)
    if op == "Flatten":
        axis = a.get("axis", 1)
        return x.reshape(int(np.prod(x.shape[:axis])), -1)
    if op == "Conv":
        w, strides, pads = inputs[1], a.get("strides", [1, 1]), a.get("pads", [0] * 4)
        out = 0.0
        for (i, j), patch in window_patches(x, a["kernel_shape"], strides, pads, 0):
            out = out + np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
        return out + (inputs[2][None, :, None, None] if len(inputs) > 2 else 0.0)
    if op == "MaxPool":
        pads = a.get("pads", [0] * 4)
        patches = [p for _, p in window_patches(x, a["kernel_shape"], a["strides"], pads, -np.inf)]
        return np.max(patches, axis=0)
    if op == "AveragePool":
        pads = a.get("pads", [0] * 4)
        total = sum(p for _, p in window_patches(x, a["kernel_shape"], a["strides"], pads, 0))
        if a.get("count_include_pad", 0):
            count = a["kernel_shape"][0] * a["kernel_shape"][1]
        else:
            count = sum(p for _, p in window_patches(np.ones_like(x), a["kernel_shape"], a["strides"], pads, 0))
        return total / count
    if op == "BatchNormalization":
        scale, bias, mean, var = (v.reshape([-1] + [1] * (x.ndim - 2)) for v in inputs[1:5])
        return (x - mean) / np.sqrt(var + a.get("epsilon", 1e-5)) * scale + bias
    unary = {"Relu": lambda v: np.maximum(v, 0), "Sigmoid": lambda v: 1 / (1 + np.exp(-v)), "Tanh": np.tanh,
             "Sqrt": np.sqrt, "Reciprocal": lambda v: 1 / v, "Identity": lambda v: v,
             "Erf": np.vectorize(math.erf),
             "LeakyRelu": lambda v: np.where(v >= 0, v, a.get("alpha", 0.01) * v),
             "Elu": lambda v: np.where(v >= 0, v, a.get("alpha", 1.0) * (np.exp(v) - 1))}
    if op in unary:
        return unary[op](x)
    if op == "Concat":
        return np.concatenate(inputs, axis=a["axis"])
    raise SystemExit(f"{node.name}: the evaluator has no {op}")


def run_onnx(model, x):
    """The model's output for x and what computed it: onnx.reference where it exists, else run_node over the
    graph in order."""
    import numpy as np
    from onnx import numpy_helper
    try:
        from onnx.reference import ReferenceEvaluator
        return ReferenceEvaluator(model).run(None, {"input": x.astype(np.float32)})[0], "onnx.reference"
    except ImportError:
        pass
    values = {init.name: numpy_helper.to_array(init).astype(np.float64 if init.data_type == 1 else np.int64)
              for init in model.graph.initializer}
    values["input"] = x.astype(np.float64)
    for node in model.graph.node:
        values[node.output[0]] = run_node(node, [values[name] for name in node.input])
    return values["output"], "check_export.py's evaluator"


def check_onnx(path, x, expected):
    """The ONNX model's largest difference from TuneLab's outputs after the checks of its form, and what ran it."""
    try:
        import onnx
    except ImportError:
        sys.exit(77)
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    form = {"opset": opset, "input": model.graph.input[0].name, "batch": dims[0].dim_param,
            "sample": [d.dim_value for d in dims[1:]], "output": model.graph.output[0].name}
    if opset < 13 or form["input"] != "input" or form["batch"] != "batch" or form["output"] != "output" or \
            form["sample"] != list(x.shape[1:]):
        raise SystemExit(f"{path}: unexpected form {form}")
    output, runner = run_onnx(model, x.numpy())
    actual = torch.tensor(output, dtype=torch.float64)
    return (actual - expected.double()).abs().max().item(), runner


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
    differences = {"torchscript": (scripted - expected).abs().max().item(),
                   "state_dict": (rebuilt - expected).abs().max().item()}
    runner = {}
    if len(sys.argv) > 4:
        differences["onnx"], runner["onnx_run_by"] = check_onnx(sys.argv[4], x, expected)
    print(json.dumps({**differences, **runner}))
    return 0 if max(differences.values()) <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
