#!/usr/bin/python3
"""TuneLab's samplers against Optuna's on one suite of 15 test functions.

The functions, bounds and spaces are those of bench_sampler_quality.cpp: six reported ones (branin,
hartmann6, rosenbrock4 as log1p, the conditional optimizer space, ackley5, levy4) and nine
development ones (camel6, goldstein as log, hartmann3, styblinski3, rastrigin3, griewank4,
schwefel4, michalewicz5, sphere6+cat). Optuna's multivariate TPE, random and CMA-ES sampler each
minimise every function for TRIALS trials over seeds 0..SEEDS-1; TuneLab's random, tpe, gp and rf
come from the C++ bench (TUNELAB_BENCH_JSON=1 prints every seed's best). The table shows the median
over seeds of the best value, then each sampler's median rank over the functions.

CMA-ES has no categorical or conditional parameters: Optuna samples those independently (at random),
so on "optimizer" CMA-ES is random search and on "sphere6+cat" the colour is random.

Usage: bench_sampler_suite.py [path to bench_sampler_quality] [--trials 60] [--seeds 10]
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import threading
import time
import warnings

import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


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


def rosenbrock4(x):
    return math.log1p(sum(100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2 for i in range(3)))


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


def camel6(x):
    a, b = x[0] ** 2, x[1] ** 2
    return (4.0 - 2.1 * a + a * a / 3.0) * a + x[0] * x[1] + (-4.0 + 4.0 * b) * b


def goldstein(x):
    s, t = x[0] + x[1] + 1.0, 2.0 * x[0] - 3.0 * x[1]
    a = 1.0 + s * s * (19.0 - 14.0 * x[0] + 3.0 * x[0] ** 2 - 14.0 * x[1] + 6.0 * x[0] * x[1] + 3.0 * x[1] ** 2)
    b = 30.0 + t * t * (18.0 - 32.0 * x[0] + 12.0 * x[0] ** 2 + 48.0 * x[1] - 36.0 * x[0] * x[1]
                        + 27.0 * x[1] ** 2)
    return math.log(a * b)


def styblinski(x):
    return sum(0.5 * (v**4 - 16.0 * v * v + 5.0 * v) for v in x)


def rastrigin(x):
    return 10.0 * len(x) + sum(v * v - 10.0 * math.cos(2.0 * math.pi * v) for v in x)


def griewank(x):
    product = 1.0
    for i, v in enumerate(x):
        product *= math.cos(v / math.sqrt(i + 1))
    return sum(v * v / 4000.0 for v in x) - product + 1.0


def schwefel(x):
    return 418.9829 * len(x) - sum(v * math.sin(math.sqrt(abs(v))) for v in x)


def michalewicz(x):
    return -sum(math.sin(v) * math.sin((i + 1) * v * v / math.pi) ** 20 for i, v in enumerate(x))


def box(function, bounds):
    def objective(trial):
        return function([trial.suggest_float(f"x{i}", low, high) for i, (low, high) in enumerate(bounds)])
    return objective


def optimizer_loss(trial):
    # Each optimizer a bowl in log10 of its own learning rate; SGD's floor (0) needs momentum near 0.9.
    kind = trial.suggest_categorical("optimizer.type", ["sgd", "adam", "rmsprop"])
    if kind == "sgd":
        lr = math.log10(trial.suggest_float("sgd.lr", 1e-5, 1.0, log=True))
        momentum = trial.suggest_float("sgd.momentum", 0.0, 0.99)
        return 0.25 * (lr + 1.5) ** 2 + 2.0 * (momentum - 0.9) ** 2
    if kind == "adam":
        return 0.2 + 0.25 * (math.log10(trial.suggest_float("adam.lr", 1e-5, 1.0, log=True)) + 3.0) ** 2
    return 0.35 + 0.25 * (math.log10(trial.suggest_float("rmsprop.lr", 1e-5, 1.0, log=True)) + 2.5) ** 2


SPHERE_CENTRE = [1.3, -2.1, 0.7, 3.2, -0.4, -3.6]


def sphere_with_colour(trial):
    x = [trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(6)]
    trial.suggest_categorical("colour", ["red", "green", "blue", "grey"])  # does not matter
    return sum((v - c) ** 2 for v, c in zip(x, SPHERE_CENTRE))


# (name, set, objective, minimum), in the C++ bench's order.
FUNCTIONS = [
    ("branin", "reported", box(branin, [(-5, 10), (0, 15)]), 0.397887),
    ("hartmann6", "reported", box(hartmann(HARTMANN6_A, HARTMANN6_P), [(0.0, 1.0)] * 6), -3.32237),
    ("rosenbrock4", "reported", box(rosenbrock4, [(-2.0, 2.0)] * 4), 0.0),
    ("optimizer", "reported", optimizer_loss, 0.0),
    ("ackley5", "reported", box(ackley, [(-32.768, 32.768)] * 5), 0.0),
    ("levy4", "reported", box(levy, [(-10.0, 10.0)] * 4), 0.0),
    ("camel6", "dev", box(camel6, [(-3, 3), (-2, 2)]), -1.031628),
    ("goldstein", "dev", box(goldstein, [(-2, 2), (-2, 2)]), math.log(3.0)),
    ("hartmann3", "dev", box(hartmann(HARTMANN3_A, HARTMANN3_P), [(0.0, 1.0)] * 3), -3.86278),
    ("styblinski3", "dev", box(styblinski, [(-5.0, 5.0)] * 3), -117.49797),
    ("rastrigin3", "dev", box(rastrigin, [(-5.12, 5.12)] * 3), 0.0),
    ("griewank4", "dev", box(griewank, [(-600.0, 600.0)] * 4), 0.0),
    ("schwefel4", "dev", box(schwefel, [(-500.0, 500.0)] * 4), 0.0),
    ("michalewicz5", "dev", box(michalewicz, [(0.0, math.pi)] * 5), -4.687658),
    ("sphere6+cat", "dev", sphere_with_colour, 0.0),
]

TUNELAB = ["random", "tpe", "gp", "rf"]
OPTUNA = {
    "mTPE": lambda seed: optuna.samplers.TPESampler(multivariate=True, seed=seed),
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "CMA-ES": lambda seed: optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False),
}
COLUMNS = [f"TL {s}" for s in TUNELAB] + [f"Optuna {s}" for s in ["random", "mTPE", "CMA-ES"]]


def run_tunelab(path, trials, seeds, bests):
    """Fills bests[(function, "TL sampler")] with the per-seed bests of the C++ bench."""
    for sampler in TUNELAB:
        for chosen in ["all", "dev"]:
            command = [path, str(trials), str(seeds), sampler, chosen]
            env = {**os.environ, "TUNELAB_BENCH_JSON": "1"}
            out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
            for line in out.splitlines():
                if line.startswith("{"):
                    row = json.loads(line)
                    bests[(row["function"], f"TL {row['sampler']}")] = row["bests"]


def run_optuna(objective, make_sampler, trials, seeds):
    bests = []
    for seed in range(seeds):
        study = optuna.create_study(sampler=make_sampler(seed), direction="minimize")
        study.optimize(objective, n_trials=trials)
        bests.append(study.best_value)
    return bests


def ranks(values):
    """Rank 1 = smallest; ties share the mean of their ranks."""
    order = sorted(values)
    return [order.index(v) + 1 + (order.count(v) - 1) / 2.0 for v in values]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", nargs="?", default="/work/main/build-rf/bench/bench_sampler_quality")
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    started = time.monotonic()

    bests = {}
    # The C++ bench runs beside Optuna, on its own thread (it waits in a subprocess).
    cpp = threading.Thread(target=run_tunelab, args=(args.bench, args.trials, args.seeds, bests))
    cpp.start()
    for name, _, objective, _ in FUNCTIONS:
        for label, make_sampler in OPTUNA.items():
            bests[(name, f"Optuna {label}")] = run_optuna(objective, make_sampler, args.trials, args.seeds)
    cpp.join()

    medians = {key: statistics.median(values) for key, values in bests.items()}
    print(f"{args.trials} trials, seeds 0..{args.seeds - 1}: median over seeds of the best value (lower is better)")
    print(f"{'function':<13}{'set':<9}{'minimum':>10}" + "".join(f"{c:>14}" for c in COLUMNS))
    rank_table = {c: [] for c in COLUMNS}
    for name, kind, _, minimum in FUNCTIONS:
        row = [medians[(name, c)] for c in COLUMNS]
        print(f"{name:<13}{kind:<9}{minimum:>10.5g}" + "".join(f"{v:>14.5g}" for v in row))
        for c, r in zip(COLUMNS, ranks(row)):
            rank_table[c].append(r)
    print("\nmedian rank over the functions (rank of the medians per function, 1 = best)")
    for subset, kinds in [("all 15", {"reported", "dev"}), ("reported 6", {"reported"}), ("dev 9", {"dev"})]:
        chosen = [i for i, f in enumerate(FUNCTIONS) if f[1] in kinds]
        print(f"{subset:<32}" + "".join(f"{statistics.median(rank_table[c][i] for i in chosen):>14.1f}"
                                        for c in COLUMNS))

    # Shortfall vs Optuna's mTPE, relative to the function's range that random search leaves:
    # (TuneLab median - mTPE median) / (Optuna random median - minimum); positive = TuneLab worse.
    print("\nvs Optuna mTPE, of the medians: shortfall = (TL - mTPE) / (Optuna random - minimum), > 0 = behind")
    for sampler in ["tpe", "gp"]:
        behind, worst = [], (-math.inf, "")
        for name, _, _, minimum in FUNCTIONS:
            ours, theirs = medians[(name, f"TL {sampler}")], medians[(name, "Optuna mTPE")]
            if ours > theirs:
                behind.append(name)
            shortfall = (ours - theirs) / max(medians[(name, "Optuna random")] - minimum, 1e-12)
            worst = max(worst, (shortfall, name))
        print(f"TL {sampler:<4} as good as mTPE on {len(FUNCTIONS) - len(behind)}/{len(FUNCTIONS)} functions "
              f"(behind on: {', '.join(behind) or 'none'}); largest shortfall {worst[0]:+.3f} ({worst[1]})")
    print(f"\n{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
