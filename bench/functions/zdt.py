#!/usr/bin/env python3
"""ZDT and DTLZ test problems for multi-objective benchmarks (pure Python, no packages).

As a command for `tunelab-cli optimize --command`: `zdt.py NAME` reads the parameters x0..x{n-1}
from TUNELAB_PARAMS and prints the objectives on one line. Imported, `PROBLEMS[name]` gives
(dimensions, objectives, function)."""
import json
import math
import os
import sys


def zdt1(x):
    g = 1.0 + 9.0 * sum(x[1:]) / (len(x) - 1)
    return [x[0], g * (1.0 - math.sqrt(x[0] / g))]


def zdt2(x):
    g = 1.0 + 9.0 * sum(x[1:]) / (len(x) - 1)
    return [x[0], g * (1.0 - (x[0] / g) ** 2)]


def zdt3(x):
    g = 1.0 + 9.0 * sum(x[1:]) / (len(x) - 1)
    return [x[0], g * (1.0 - math.sqrt(x[0] / g) - x[0] / g * math.sin(10.0 * math.pi * x[0]))]


def zdt6(x):
    f1 = 1.0 - math.exp(-4.0 * x[0]) * math.sin(6.0 * math.pi * x[0]) ** 6
    g = 1.0 + 9.0 * (sum(x[1:]) / (len(x) - 1)) ** 0.25
    return [f1, g * (1.0 - (f1 / g) ** 2)]


def dtlz2(x, objectives=3):
    k = len(x) - objectives + 1
    g = sum((xi - 0.5) ** 2 for xi in x[-k:])
    values = []
    for m in range(objectives):
        value = 1.0 + g
        for xi in x[: objectives - 1 - m]:
            value *= math.cos(xi * math.pi / 2.0)
        if m > 0:
            value *= math.sin(x[objectives - 1 - m] * math.pi / 2.0)
        values.append(value)
    return values


# name: (dimensions, objectives, function, hypervolume reference point)
PROBLEMS = {
    "zdt1": (10, 2, zdt1, [1.1, 11.0]),
    "zdt2": (10, 2, zdt2, [1.1, 11.0]),
    "zdt3": (10, 2, zdt3, [1.1, 11.0]),
    "zdt6": (10, 2, zdt6, [1.1, 11.0]),
    "dtlz2": (6, 3, dtlz2, [2.5, 2.5, 2.5]),
}


def main():
    name = sys.argv[1]
    dimensions, _, function, _ = PROBLEMS[name]
    params = json.loads(os.environ["TUNELAB_PARAMS"])
    values = function([float(params[f"x{i}"]) for i in range(dimensions)])
    print(" ".join(repr(v) for v in values))


if __name__ == "__main__":
    main()
