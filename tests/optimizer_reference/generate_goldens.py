#!/usr/bin/python3
"""Golden parameter trajectories of torch.optim for tests/tst_optimizers.cpp.

    generate_goldens.py [OUT]        write the goldens (default: goldens.json beside this script)
    generate_goldens.py --check FILE regenerate and compare with FILE; exit 1 when they differ,
                                     77 (skipped) when this Python has no torch

Run with Debian's /usr/bin/python3 (torch 1.13). Each case runs 100 steps of one torch.optim
optimizer on four float64 parameters. The gradient is a fixed smooth function of the parameters,
so the trajectory feeds back: the gradient of
    f(p) = 1/2 (p - c)^T H (p - c) + sum_i (a_i / w_i) sin(w_i p_i),
    g_i  = sum_j H_ij (p_j - c_j) + a_i cos(w_i p_i),
computed element by element in plain floats, in the same order as the C++ test, so both sides get the
same gradient from the same parameters. TuneLab's extras are applied by hand before step(), as
TuneLab does: the gradient is multiplied by `grad_scale` (clipping), then `l1 * sign(p)` is added.
The learning rate of step t is lr * lr_gamma^(t - 1).
"""
import json
import math
import os
import sys

STEPS = 100
PROBLEM = {
    "hessian": [[3.0, 0.5, 0.0, 0.2],
                [0.5, 2.0, 0.3, 0.0],
                [0.0, 0.3, 1.0, 0.1],
                [0.2, 0.0, 0.1, 0.5]],
    "center": [1.5, -2.0, 0.8, -0.6],
    "sine_amplitude": [0.3, -0.2, 0.5, 0.1],
    "sine_frequency": [2.0, 3.0, 1.5, 4.0],
    "initial": [0.1, 0.4, -1.2, 2.0],
}

# TuneLab's optimizer fields (engine/core/spec/spec.h, JSON names); unset fields keep TuneLab's
# defaults, which are torch.optim's (Adagrad's eps is 1e-10 in both and is written out here).
CASES = [
    {"name": "sgd", "optimizer": {"type": "sgd", "lr": 0.05}},
    {"name": "sgd_momentum", "optimizer": {"type": "sgd", "lr": 0.02, "momentum": 0.9}},
    {"name": "sgd_dampening_weight_decay",
     "optimizer": {"type": "sgd", "lr": 0.03, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}},
    {"name": "sgd_nesterov", "optimizer": {"type": "sgd", "lr": 0.02, "momentum": 0.9, "nesterov": True,
                                           "weight_decay": 0.02}},
    {"name": "sgd_momentum_l1", "optimizer": {"type": "sgd", "lr": 0.02, "momentum": 0.9, "l1": 0.01}},
    {"name": "adagrad", "optimizer": {"type": "adagrad", "lr": 0.3, "eps": 1e-10}},
    {"name": "adagrad_lr_decay", "optimizer": {"type": "adagrad", "lr": 0.3, "lr_decay": 0.05,
                                               "initial_accumulator": 0.1, "weight_decay": 0.01, "eps": 1e-10}},
    {"name": "rmsprop", "optimizer": {"type": "rmsprop", "lr": 0.01}},
    {"name": "rmsprop_momentum", "optimizer": {"type": "rmsprop", "lr": 0.005, "momentum": 0.5,
                                               "weight_decay": 0.01}},
    {"name": "rmsprop_centered", "optimizer": {"type": "rmsprop", "lr": 0.01, "centered": True, "alpha": 0.9}},
    {"name": "rmsprop_centered_momentum", "optimizer": {"type": "rmsprop", "lr": 0.005, "centered": True,
                                                        "momentum": 0.5, "eps": 1e-6}},
    {"name": "adam", "optimizer": {"type": "adam", "lr": 0.05}},
    {"name": "adam_amsgrad", "optimizer": {"type": "adam", "lr": 0.05, "amsgrad": True, "weight_decay": 0.01,
                                           "beta2": 0.95}},
    {"name": "adamw", "optimizer": {"type": "adamw", "lr": 0.05, "weight_decay": 0.1, "beta2": 0.99}},
    {"name": "adamw_amsgrad", "optimizer": {"type": "adamw", "lr": 0.05, "weight_decay": 0.1, "amsgrad": True,
                                            "beta2": 0.99}},
    {"name": "adam_l1", "optimizer": {"type": "adam", "lr": 0.05, "l1": 0.01}},
    {"name": "adamw_l1_clipped_decaying_lr", "lr_gamma": 0.98, "grad_scale": 0.5,
     "optimizer": {"type": "adamw", "lr": 0.08, "weight_decay": 0.05, "l1": 0.02, "eps": 1e-6}},
    {"name": "adagrad_decaying_lr", "lr_gamma": 0.97, "grad_scale": 0.7,
     "optimizer": {"type": "adagrad", "lr": 0.4, "lr_decay": 0.01, "eps": 1e-10}},
]


def gradient(p):
    problem = PROBLEM
    g = []
    for i in range(len(p)):
        value = 0.0
        for j in range(len(p)):
            value += problem["hessian"][i][j] * (p[j] - problem["center"][j])
        value += problem["sine_amplitude"][i] * math.cos(problem["sine_frequency"][i] * p[i])
        g.append(value)
    return g


def torch_optimizer(torch, params, spec):
    kind = spec["type"]
    lr = spec["lr"]
    weight_decay = spec.get("weight_decay", 0.0)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=spec.get("momentum", 0.0),
                               dampening=spec.get("dampening", 0.0), weight_decay=weight_decay,
                               nesterov=spec.get("nesterov", False))
    if kind == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, lr_decay=spec.get("lr_decay", 0.0), weight_decay=weight_decay,
                                   initial_accumulator_value=spec.get("initial_accumulator", 0.0),
                                   eps=spec.get("eps", 1e-10))
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=spec.get("alpha", 0.99), eps=spec.get("eps", 1e-8),
                                   weight_decay=weight_decay, momentum=spec.get("momentum", 0.0),
                                   centered=spec.get("centered", False))
    betas = (spec.get("beta1", 0.9), spec.get("beta2", 0.999))
    make = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]
    return make(params, lr=lr, betas=betas, eps=spec.get("eps", 1e-8),
                weight_decay=weight_decay,
                amsgrad=spec.get("amsgrad", False))


def trajectory(torch, case):
    spec = case["optimizer"]
    p = torch.tensor(PROBLEM["initial"], dtype=torch.float64)
    optimizer = torch_optimizer(torch, [p], spec)
    scale = case.get("grad_scale", 1.0)
    l1 = spec.get("l1", 0.0)
    rows = []
    for step in range(1, STEPS + 1):
        grad = torch.tensor(gradient(p.tolist()), dtype=torch.float64)
        if scale != 1.0:
            grad.mul_(scale)
        if l1 != 0.0:
            grad.add_(p.sign(), alpha=l1)
        p.grad = grad
        for group in optimizer.param_groups:
            group["lr"] = spec["lr"] * case.get("lr_gamma", 1.0) ** (step - 1)
        optimizer.step()
        rows.append(p.tolist())
    return rows


def goldens(torch):
    cases = [dict(case, trajectory=trajectory(torch, case)) for case in CASES]
    return {"generator": "tests/optimizer_reference/generate_goldens.py", "torch": torch.__version__,
            "steps": STEPS, "problem": PROBLEM, "cases": cases}


def write(data, path):
    # One line per step keeps the file readable and its diffs small.
    lines = ["{", f'  "generator": {json.dumps(data["generator"])},', f'  "torch": {json.dumps(data["torch"])},',
             f'  "steps": {data["steps"]},', f'  "problem": {json.dumps(data["problem"])},', '  "cases": [']
    for index, case in enumerate(data["cases"]):
        head = {key: value for key, value in case.items() if key != "trajectory"}
        lines.append("    {" + json.dumps(head)[1:-1] + ', "trajectory": [')
        rows = [f"      {json.dumps(row)}" for row in case["trajectory"]]
        lines.append(",\n".join(rows))
        lines.append("    ]}" + ("," if index + 1 < len(data["cases"]) else ""))
    lines += ["  ]", "}"]
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def compare(fresh, path, tolerance=1e-12):
    with open(path, encoding="utf-8") as source:
        stored = json.load(source)
    problems = []
    if stored["problem"] != fresh["problem"] or stored["steps"] != fresh["steps"]:
        problems.append("the problem or the step count changed")
    stored_cases = {case["name"]: case for case in stored["cases"]}
    for case in fresh["cases"]:
        old = stored_cases.pop(case["name"], None)
        if old is None:
            problems.append(f'{case["name"]}: missing from {path}')
            continue
        if {k: v for k, v in old.items() if k != "trajectory"} != {k: v for k, v in case.items() if k != "trajectory"}:
            problems.append(f'{case["name"]}: its settings differ')
            continue
        for step, (a, b) in enumerate(zip(old["trajectory"], case["trajectory"]), start=1):
            worst = max(abs(x - y) for x, y in zip(a, b))
            if worst > tolerance:
                problems.append(f'{case["name"]}: step {step} differs by {worst:.3g}')
                break
    problems += [f"{name}: in {path} but no longer generated" for name in stored_cases]
    return problems


def main():
    try:
        import torch
    except ImportError:
        print("skipped: this Python has no torch (use Debian's /usr/bin/python3)")
        return 77
    torch.set_num_threads(1)
    here = os.path.dirname(os.path.abspath(__file__))
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        problems = compare(goldens(torch), sys.argv[2])
        for problem in problems:
            print(problem)
        print("goldens are up to date" if not problems else
              "stale goldens: run tests/optimizer_reference/generate_goldens.py")
        return 1 if problems else 0
    write(goldens(torch), sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "goldens.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
