#!/usr/bin/python3
"""Trials per second of a trivial command: `tunelab-cli optimize --command` against an Optuna 3.1 loop
that runs the same command with subprocess for each trial (in-memory storage), side by side in one
run. The command prints a constant, so the numbers measure what each tool spends around a trial:
starting the command, reading its output, the sampler and the storage.

Usage: bench/bench_command_launch.py [--cli build/app/tunelab-cli] [--trials 300] [--samplers random,tpe]
"""
import argparse, os, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMAND = "echo 0.5"
OPTUNA_LOOP = r'''
import subprocess, sys, time, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
sampler_name, trials = sys.argv[1], int(sys.argv[2])
sampler = optuna.samplers.RandomSampler(seed=0) if sampler_name == "random" else \
    optuna.samplers.TPESampler(seed=0, multivariate=True)
study = optuna.create_study(sampler=sampler)
def objective(trial):
    trial.suggest_float("x", -5.0, 5.0)
    trial.suggest_float("y", -5.0, 5.0)
    out = subprocess.run(["sh", "-c", sys.argv[3]], capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])
start = time.perf_counter()
study.optimize(objective, n_trials=trials)
print(time.perf_counter() - start)
'''


def tunelab_seconds(cli, sampler, trials, folder):
    space = os.path.join(folder, "space.json")
    with open(space, "w") as out:
        out.write('{"parameters": [{"path": "x", "kind": "float", "low": -5, "high": 5},'
                  ' {"path": "y", "kind": "float", "low": -5, "high": 5}]}')
    db = os.path.join(folder, f"{sampler}.sqlite")
    start = time.perf_counter()
    subprocess.run([cli, "optimize", "--space", space, "--command", COMMAND, "--trials", str(trials),
                    "--sampler", sampler, "--seed", "0", "--db", db],
                   check=True, capture_output=True)
    return time.perf_counter() - start


def optuna_seconds(sampler, trials):
    """The loop alone, and the whole process (Python, importing Optuna, the loop)."""
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/python3", "-c", OPTUNA_LOOP, sampler, str(trials), COMMAND],
                         check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1]), time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "tunelab-cli"))
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--samplers", default="random,tpe")
    args = parser.parse_args()
    print(f"{args.trials} trials of `{COMMAND}`; seconds (trials per second). TuneLab: the whole")
    print("tunelab-cli process. Optuna: its loop alone, and the whole Python process with its imports.")
    print(f"{'sampler':8} {'TuneLab':>18} {'Optuna loop':>18} {'ratio':>7} {'Optuna process':>15} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as folder:
        for sampler in args.samplers.split(","):
            ours = tunelab_seconds(args.cli, sampler, args.trials, folder)
            loop, process = optuna_seconds(sampler, args.trials)
            print(f"{sampler:8} {ours:8.2f} s ({args.trials / ours:5.0f}/s) {loop:8.2f} s "
                  f"({args.trials / loop:5.0f}/s) {loop / ours:6.2f}x {process:13.2f} s {process / ours:6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
