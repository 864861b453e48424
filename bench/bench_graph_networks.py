#!/usr/bin/python3
"""Residual against plain: trains resources/experiments/digits-resnet.json, its plain twin
digits-plain.json (the same 13 convolutions, no additions) and digits-densenet.json with several
seeds, prints the final and best validation accuracy of each, and draws the mean validation
accuracy and training loss per epoch of each network into an SVG (docs/residual-vs-plain.svg).

Usage: bench/bench_graph_networks.py [--seeds 1 2 3 4 5] [--svg docs/residual-vs-plain.svg] [--blocks N]
(--blocks: residual and plain with N blocks instead of six, 2N + 1 convolutions)
Needs build/app/tunelab-cli. One thread per run, runs one after another.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "build", "app", "tunelab-cli")
NETWORKS = ["digits-resnet", "digits-plain", "digits-densenet"]
COLOURS = {"digits-resnet": "#1f77b4", "digits-plain": "#d62728", "digits-densenet": "#2ca02c"}
EPOCH = re.compile(r"epoch (\d+)/\d+ .*train_loss ([0-9.eE+-]+) .*val_accuracy ([0-9.]+)")


def load_spec(name):
    path = os.path.join(ROOT, "resources", "experiments", name + ".json")
    text = "\n".join(line for line in open(path) if not line.lstrip().startswith("//"))
    spec = json.loads(text)
    spec["data"]["path"] = os.path.normpath(os.path.join(os.path.dirname(path), spec["data"]["path"]))
    return spec


def deepen(spec, blocks):
    """The network with `blocks` instances of its block where it had six (resnet and plain)."""
    layers = spec["model"]["layers"]
    instances = [i for i, layer in enumerate(layers) if layer["type"] == "block"]
    template = layers[instances[0]]
    names = [template["name"].rstrip("0123456789") + str(k + 1) for k in range(blocks)]
    spec["model"]["layers"] = (layers[:instances[0]] + [dict(template, name=n) for n in names] +
                               layers[instances[-1] + 1:])
    return spec


def train(name, seed, folder, blocks=None):
    spec = load_spec(name)
    if blocks:
        spec = deepen(spec, blocks)
    spec["seed"] = seed
    spec_path = os.path.join(folder, f"{name}-{seed}.json")
    json.dump(spec, open(spec_path, "w"))
    out = subprocess.run([CLI, "train", spec_path, "--db", os.path.join(folder, "runs.db"), "--threads", "1"],
                         capture_output=True, text=True, check=True,
                         env=dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1"))
    epochs = [(float(m.group(2)), float(m.group(3))) for m in EPOCH.finditer(out.stdout + out.stderr)]
    seconds = float(re.search(r"steps in ([0-9.]+) s", out.stdout + out.stderr).group(1))
    return epochs, seconds


def polyline(values, x0, y0, width, height, low, high):
    points = []
    for i, value in enumerate(values):
        x = x0 + width * i / max(1, len(values) - 1)
        y = y0 + height * (1 - (value - low) / (high - low))
        points.append(f"{x:.1f},{y:.1f}")
    return " ".join(points)


def draw(curves, path):
    width, height, margin = 920, 360, 50
    panel = (width - 3 * margin) / 2
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="sans-serif" font-size="12">', f'<rect width="{width}" height="{height}" fill="white"/>']
    panels = [("validation accuracy (mean over seeds)", 1, 0.6, 1.0), ("training loss (mean over seeds)", 0, 0.0, 0.5)]
    for k, (title, column, low, high) in enumerate(panels):
        x0 = margin + k * (panel + margin)
        y0, h = 40, height - 100
        parts.append(f'<text x="{x0}" y="25" font-weight="bold">{title}</text>')
        parts.append(f'<rect x="{x0}" y="{y0}" width="{panel}" height="{h}" fill="none" stroke="#888"/>')
        for tick in range(5):
            value = low + (high - low) * tick / 4
            y = y0 + h * (1 - tick / 4)
            parts.append(f'<line x1="{x0}" x2="{x0 + panel}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
            parts.append(f'<text x="{x0 - 5}" y="{y + 4:.1f}" text-anchor="end">{value:.3g}</text>')
        for name, epochs in curves.items():
            values = [min(high, max(low, e[column])) for e in epochs]
            parts.append(f'<polyline fill="none" stroke-width="2" stroke="{COLOURS[name]}" '
                         f'points="{polyline(values, x0, y0, panel, h, low, high)}"/>')
        parts.append(f'<text x="{x0 + panel / 2}" y="{y0 + h + 20}" text-anchor="middle">epoch</text>')
    for i, name in enumerate(curves):
        x = margin + i * 200
        parts.append(f'<line x1="{x}" x2="{x + 24}" y1="{height - 20}" y2="{height - 20}" stroke-width="3" '
                     f'stroke="{COLOURS[name]}"/><text x="{x + 30}" y="{height - 16}">{name}</text>')
    parts.append("</svg>")
    open(path, "w").write("\n".join(parts) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--svg", default=os.path.join(ROOT, "docs", "residual-vs-plain.svg"))
    parser.add_argument("--blocks", type=int, help="residual and plain with this many blocks instead of six")
    args = parser.parse_args()
    means = {}
    with tempfile.TemporaryDirectory() as folder:
        print(f"{'network':18} {'seed':>4} {'final val acc':>14} {'best val acc':>13} {'final train loss':>17} {'s':>6}")
        for name in NETWORKS if not args.blocks else NETWORKS[:2]:
            runs = []
            for seed in args.seeds:
                epochs, seconds = train(name, seed, folder, args.blocks)
                runs.append(epochs)
                print(f"{name:18} {seed:>4} {epochs[-1][1]:>14.4f} {max(e[1] for e in epochs):>13.4f} "
                      f"{epochs[-1][0]:>17.4f} {seconds:>6.1f}", flush=True)
            means[name] = [(statistics.mean(r[i][0] for r in runs), statistics.mean(r[i][1] for r in runs))
                           for i in range(min(len(r) for r in runs))]
            finals = [r[-1][1] for r in runs]
            print(f"{name:18} mean final val acc {statistics.mean(finals):.4f} (min {min(finals):.4f})", flush=True)
    draw(means, args.svg)
    print(f"curves: {args.svg}")


if __name__ == "__main__":
    main()
