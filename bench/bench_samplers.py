#!/usr/bin/python3
"""Sampler quality: TuneLab's samplers through `tunelab-cli optimize --command` against Optuna 3.1
(../shared/reference/optuna_ref.py) on Branin, Hartmann-6 and Rosenbrock-4 (log1p), 60 trials,
seeds 0..9. Prints the median (over seeds) of the best value per function and sampler, and for GP on
Branin the median number of trials to get within 0.01 of the minimum 0.397887.

Usage: bench/bench_samplers.py [--cli build/app/tunelab-cli] [--samplers random,tpe,gp] [--seeds 10]
       [--trials 60] [--peers random,mtpe] [--functions branin,hartmann6,rosenbrock4]
"""
import argparse, json, os, sqlite3, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = os.path.join(ROOT, "..", "shared", "reference", "optuna_ref.py")
FUNCTION = os.path.join(ROOT, "bench", "functions", "test_function.py")
BOUNDS = {"branin": [(-5, 10), (0, 15)], "hartmann6": [(0, 1)] * 6, "rosenbrock4": [(-2, 2)] * 4}
BRANIN_MIN = 0.397887


def space_file(folder, function):
    path = os.path.join(folder, f"{function}.json")
    with open(path, "w") as out:
        json.dump({"parameters": [{"path": f"x{i}", "kind": "float", "low": lo, "high": hi}
                                  for i, (lo, hi) in enumerate(BOUNDS[function])]}, out)
    return path


def values_in_trial_order(db, study):
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT t.number, t.value, t.state FROM trials t JOIN studies s ON s.id = t.study_id"
            " WHERE s.name = ? ORDER BY t.number", (study,)).fetchall()
    return [value if state == "complete" else None for _, value, state in rows]


def trials_to_reach(values, target):
    best = float("inf")
    for index, value in enumerate(values):
        if value is not None:
            best = min(best, value)
        if best <= target:
            return index + 1
    return len(values) + 1  # never: counted as one past the budget


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "tunelab-cli"))
    parser.add_argument("--samplers", default="random,tpe,gp")
    parser.add_argument("--peers", default="random,mtpe")
    parser.add_argument("--functions", default="branin,hartmann6,rosenbrock4")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=60)
    args = parser.parse_args()
    python = sys.executable if os.path.basename(sys.executable).startswith("python") else "python3"
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        db = os.path.join(folder, "samplers.sqlite")
        for function in args.functions.split(","):
            space = space_file(folder, function)
            for sampler in args.samplers.split(","):
                bests, reach, started = [], [], time.time()
                for seed in range(args.seeds):
                    study = f"{function}-{sampler}-{seed}"
                    command = [args.cli, "optimize", "--space", space, "--trials", str(args.trials),
                               "--command", f"{python} {FUNCTION} {function}", "--sampler", sampler,
                               "--seed", str(seed), "--direction", "minimize", "--db", db, "--name", study]
                    result = subprocess.run(command, capture_output=True, text=True, check=False)
                    if result.returncode != 0:
                        sys.exit(f"failed: {' '.join(command)}\n{result.stderr[-2000:]}")
                    summary = json.loads(result.stdout.strip().splitlines()[-1])
                    bests.append(summary["best_value"])
                    if function == "branin":
                        reach.append(trials_to_reach(values_in_trial_order(db, study), BRANIN_MIN + 0.01))
                row = {"median_best": statistics.median(bests), "mean_best": statistics.mean(bests),
                       "seconds": round(time.time() - started, 1)}
                if reach:
                    row["median_trials_to_0.01"] = statistics.median(reach)
                results[(function, "tunelab-" + sampler)] = row
                print(json.dumps({"func": function, "sampler": "tunelab-" + sampler, **row}), flush=True)
            for peer in args.peers.split(","):
                if not peer:
                    continue
                started = time.time()
                result = subprocess.run(["/usr/bin/python3", PEER, function, peer, str(args.trials), str(args.seeds)],
                                        capture_output=True, text=True, check=False)
                if result.returncode != 0:
                    sys.exit(f"optuna peer failed: {result.stderr[-2000:]}")
                row = json.loads(result.stdout.strip().splitlines()[-1])
                results[(function, "optuna-" + peer)] = {"median_best": row["median_best"],
                                                         "seconds": round(time.time() - started, 1)}
                print(json.dumps({"func": function, "sampler": "optuna-" + peer, **results[(function, "optuna-" + peer)]}),
                      flush=True)
    print("\nmedian best value over seeds (lower is better)")
    names = sorted({name for _, name in results})
    print("function".ljust(13) + "".join(name.rjust(17) for name in names))
    for function in args.functions.split(","):
        print(function.ljust(13) + "".join(
            (f"{results[(function, name)]['median_best']:.5f}" if (function, name) in results else "-").rjust(17)
            for name in names))


if __name__ == "__main__":
    main()
