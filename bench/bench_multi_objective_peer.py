#!/usr/bin/python3
"""Multi-objective search against Optuna 3.1, side by side: the final hypervolume after TRIALS trials
on ZDT1 and ZDT2 (reported: 2 objectives, 10 dimensions) and on ZDT3, ZDT6 and DTLZ2 (development:
the only ones any constant of TuneLab's nsga2 and motpe samplers was chosen on).

TuneLab runs every trial through `tunelab-cli optimize --command` (the problem as a small Python
command reading TUNELAB_PARAMS); Optuna's NSGAIISampler and MOTPESampler run the same functions in
one process. Both fronts are measured here, by the same exact hypervolume code, from the same fixed
reference point per problem (bench/functions/zdt.py). The table shows the median (and quartiles)
over seeds 0..SEEDS-1.

Usage: bench_multi_objective_peer.py [--cli build/app/tunelab-cli] [--trials 200] [--seeds 10]
                                     [--problems zdt1,zdt2] [--dev]
"""
import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile
import warnings

import optuna

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "functions"))
from zdt import PROBLEMS  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORTED = ["zdt1", "zdt2"]
DEVELOPMENT = ["zdt3", "zdt6", "dtlz2"]


def dominates(a, b):
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def hypervolume(points, reference):
    """Exact, by slicing along the last objective; points outside the reference add nothing."""
    points = [p for p in points if all(x < r for x, r in zip(p, reference))]
    points = [p for p in points if not any(dominates(q, p) for q in points)]
    if not points:
        return 0.0
    if len(reference) == 1:
        return reference[0] - min(p[0] for p in points)
    points.sort(key=lambda p: p[-1])
    volume = 0.0
    for i, point in enumerate(points):
        upper = points[i + 1][-1] if i + 1 < len(points) else reference[-1]
        if upper > point[-1]:
            volume += (upper - point[-1]) * hypervolume([p[:-1] for p in points[: i + 1]], reference[:-1])
    return volume


def tunelab_front(cli, problem, sampler, trials, seed):
    dimensions, objectives, _, _ = PROBLEMS[problem]
    with tempfile.TemporaryDirectory() as folder:
        space = os.path.join(folder, "space.json")
        with open(space, "w") as out:
            json.dump({"parameters": [{"path": f"x{i}", "kind": "float", "low": 0, "high": 1}
                                      for i in range(dimensions)]}, out)
        command = f"/usr/bin/python3 -S -E {os.path.join(ROOT, 'bench', 'functions', 'zdt.py')} {problem}"
        result = subprocess.run([cli, "optimize", "--space", space, "--command", command,
                                 "--directions", ",".join(["minimize"] * objectives), "--trials", str(trials),
                                 "--sampler", sampler, "--seed", str(seed), "--db",
                                 os.path.join(folder, "runs.sqlite")],
                                check=True, capture_output=True, text=True)
        return [item["values"] for item in json.loads(result.stdout)["pareto_front"]]


def optuna_front(problem, sampler, trials, seed):
    dimensions, objectives, function, _ = PROBLEMS[problem]
    if sampler == "nsga2":
        made = optuna.samplers.NSGAIISampler(seed=seed)
    else:
        made = optuna.samplers.MOTPESampler(seed=seed)
    study = optuna.create_study(directions=["minimize"] * objectives, sampler=made)
    study.optimize(lambda t: function([t.suggest_float(f"x{i}", 0.0, 1.0) for i in range(dimensions)]),
                   n_trials=trials)
    return [t.values for t in study.best_trials]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "tunelab-cli"))
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--problems", default=",".join(REPORTED))
    parser.add_argument("--dev", action="store_true", help="the development problems instead")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    problems = DEVELOPMENT if args.dev else args.problems.split(",")
    runners = [("TuneLab motpe", lambda p, s: tunelab_front(args.cli, p, "motpe", args.trials, s)),
               ("TuneLab nsga2", lambda p, s: tunelab_front(args.cli, p, "nsga2", args.trials, s)),
               ("TuneLab random", lambda p, s: tunelab_front(args.cli, p, "random", args.trials, s)),
               ("Optuna MOTPE", lambda p, s: optuna_front(p, "motpe", args.trials, s)),
               ("Optuna NSGA-II", lambda p, s: optuna_front(p, "nsga2", args.trials, s))]
    print(f"final hypervolume after {args.trials} trials, median [quartiles] over {args.seeds} seeds")
    for problem in problems:
        reference = PROBLEMS[problem][3]
        print(f"\n{problem} (reference point {reference})")
        medians = {}
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = {name: [pool.submit(run, problem, seed) for seed in range(args.seeds)]
                       for name, run in runners}
            for name, _ in runners:
                volumes = sorted(hypervolume(f.result(), reference) for f in futures[name])
                quartiles = statistics.quantiles(volumes, n=4) if len(volumes) > 1 else volumes * 3
                medians[name] = statistics.median(volumes)
                print(f"  {name:16} {medians[name]:10.4f}  [{quartiles[0]:.4f}, {quartiles[2]:.4f}]")
        best_peer = max(medians["Optuna MOTPE"], medians["Optuna NSGA-II"])
        for name in ("TuneLab motpe", "TuneLab nsga2"):
            print(f"  {name} / better Optuna: {medians[name] / best_peer:.3f}")


if __name__ == "__main__":
    main()
