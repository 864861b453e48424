#!/usr/bin/env python3
"""Objective for the sampler benchmark: reads the parameters TuneLab passes in TUNELAB_PARAMS
({"x0": ..., "x1": ...}) and prints the value of one standard test function on its last line.
The definitions match ../shared/reference/optuna_ref.py. Usage: test_function.py branin|hartmann6|rosenbrock4"""
import json, math, os, sys

A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[.1312, .1696, .5569, .0124, .8283, .5886], [.2329, .4135, .8307, .3736, .1004, .9991],
     [.2348, .1451, .3522, .2883, .3047, .6650], [.4047, .8828, .8732, .5743, .1091, .0381]]
C = [1.0, 1.2, 3.0, 3.2]
FUNCTIONS = {
    "branin": lambda x: (x[1] - 5.1 / (4 * math.pi ** 2) * x[0] ** 2 + 5 / math.pi * x[0] - 6) ** 2
    + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x[0]) + 10,
    "hartmann6": lambda x: -sum(C[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j]) ** 2 for j in range(6)))
                                for i in range(4)),
    "rosenbrock4": lambda x: math.log1p(sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))),
}
BOUNDS = {"branin": [(-5, 10), (0, 15)], "hartmann6": [(0, 1)] * 6, "rosenbrock4": [(-2, 2)] * 4}

if __name__ == "__main__":
    name = sys.argv[1]
    params = json.loads(os.environ["TUNELAB_PARAMS"])
    print(FUNCTIONS[name]([params[f"x{i}"] for i in range(len(BOUNDS[name]))]))
