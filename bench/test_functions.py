"""The test functions the sampler benchmarks share (bench_sampler_suite.py, bench_scale_out.py): plain
Python, no imports beyond math, so that an objective command can load them quickly. The same definitions
as bench_sampler_quality.cpp; `bench_sampler_suite.py --check` compares the two."""

import math


def branin(x):
    a = x[1] - 5.1 / (4.0 * math.pi**2) * x[0] ** 2 + 5.0 / math.pi * x[0] - 6.0
    return a * a + 10.0 * (1.0 - 1.0 / (8.0 * math.pi)) * math.cos(x[0]) + 10.0


HARTMANN_C = [1.0, 1.2, 3.0, 3.2]
HARTMANN6_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
               [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
HARTMANN6_P = [[.1312, .1696, .5569, .0124, .8283, .5886], [.2329, .4135, .8307, .3736, .1004, .9991],
               [.2348, .1451, .3522, .2883, .3047, .6650], [.4047, .8828, .8732, .5743, .1091, .0381]]
HARTMANN3_A = [[3, 10, 30], [0.1, 10, 35], [3, 10, 30], [0.1, 10, 35]]
HARTMANN3_P = [[.3689, .1170, .2673], [.4699, .4387, .7470], [.1091, .8732, .5547], [.0381, .5743, .8828]]


def hartmann(a, p):
    def value(x):
        return -sum(c * math.exp(-sum(aij * (xj - pij) ** 2 for aij, xj, pij in zip(ai, x, pi)))
                    for c, ai, pi in zip(HARTMANN_C, a, p))
    return value


def ackley(x):
    d = len(x)
    squares = sum(v * v for v in x)
    cosines = sum(math.cos(2.0 * math.pi * v) for v in x)
    return -20.0 * math.exp(-0.2 * math.sqrt(squares / d)) - math.exp(cosines / d) + 20.0 + math.e


def levy(x):
    w = [1.0 + (v - 1.0) / 4.0 for v in x]
    total = math.sin(math.pi * w[0]) ** 2
    for wi in w[:-1]:
        total += (wi - 1.0) ** 2 * (1.0 + 10.0 * math.sin(math.pi * wi + 1.0) ** 2)
    return total + (w[-1] - 1.0) ** 2 * (1.0 + math.sin(2.0 * math.pi * w[-1]) ** 2)


def rosenbrock_log1p(x):
    return math.log1p(sum(100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2 for i in range(len(x) - 1)))
