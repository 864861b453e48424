#!/usr/bin/python3
"""Start-up of the commands that do not train: wall time and peak memory of `tunelab-cli` against the
`optuna` command line doing the same thing on a study of the same size, side by side in one run.

Each command runs --repeat times; the table gives the median wall milliseconds and the peak
resident memory (MiB, as GNU time reports it). The study has --trials finished trials in each tool's SQLite file.

Usage: bench/bench_cli_startup.py [--cli build/app/tunelab-cli] [--trials 200] [--repeat 15]
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPACE = ('{"parameters": [{"path": "x", "kind": "float", "low": -5, "high": 5},'
         ' {"path": "y", "kind": "float", "low": -5, "high": 5}]}')
OPTUNA_FILL = r'''
import sys, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(study_name="bench", storage="sqlite:///" + sys.argv[1],
                            sampler=optuna.samplers.RandomSampler(seed=0))
study.optimize(lambda t: t.suggest_float("x", -5, 5) ** 2 + t.suggest_float("y", -5, 5) ** 2,
               n_trials=int(sys.argv[2]))
'''


def peak_mib(argv):
    """Peak resident memory of `argv` as GNU time reports it: the benchmark's own Python is forked
    to start each command, and its memory would count in the child's peak."""
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True).stderr
    return int(out.strip().splitlines()[-1]) / 1024.0


def measure(argv, repeat):
    """Median wall milliseconds and peak resident MiB of `argv`, which must succeed."""
    walls = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        walls.append((time.perf_counter() - start) * 1000.0)
        if done.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed: {done.stderr.decode(errors='replace')}")
    return statistics.median(walls), peak_mib(argv)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "tunelab-cli"))
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    cli = args.cli
    with tempfile.TemporaryDirectory() as folder:
        db = os.path.join(folder, "tunelab.sqlite")
        space = os.path.join(folder, "space.json")
        with open(space, "w") as out:
            out.write(SPACE)
        subprocess.run([cli, "optimize", "--space", space, "--command", "echo 0.5", "--trials",
                        str(args.trials), "--sampler", "random", "--name", "bench", "--db", db],
                       check=True, capture_output=True)
        optuna_db = os.path.join(folder, "optuna.sqlite3")
        subprocess.run(["/usr/bin/python3", "-c", OPTUNA_FILL, optuna_db, str(args.trials)], check=True)
        storage = "sqlite:///" + optuna_db
        ask_space = '{"x": {"name": "FloatDistribution", "attributes": {"low": -5, "high": 5}}}'
        rows = [
            ("--version", [cli, "--version"], ["optuna", "--version"]),
            ("study list", [cli, "study", "list", "--db", db], ["optuna", "studies", "--storage", storage]),
            ("study status", [cli, "study", "status", "bench", "--db", db],
             ["optuna", "trials", "--study-name", "bench", "--storage", storage]),
            ("study best", [cli, "study", "best", "bench", "--format", "text", "--db", db],
             ["optuna", "best-trial", "--study-name", "bench", "--storage", storage]),
            ("runs list", [cli, "runs", "list", "--db", db], None),
        ]
        print(f"{args.trials} finished trials in each store; median ms over {args.repeat} runs, peak MiB")
        print(f"{'command':14} {'TuneLab ms':>11} {'MiB':>6} {'Optuna ms':>10} {'MiB':>6} {'time ratio':>11}")
        for name, ours, theirs in rows:
            ours_ms, ours_mib = measure(ours, args.repeat)
            if theirs:
                their_ms, their_mib = measure(theirs, max(3, args.repeat // 3))
                print(f"{name:14} {ours_ms:11.1f} {ours_mib:6.1f} {their_ms:10.0f} {their_mib:6.1f} "
                      f"{their_ms / ours_ms:10.1f}x")
            else:
                print(f"{name:14} {ours_ms:11.1f} {ours_mib:6.1f} {'-':>10} {'-':>6} {'-':>11}")
        # ask and tell change the study, so each pair runs once per repeat.
        ask_walls, tell_walls = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            asked = subprocess.run([cli, "ask", "--study", "bench", "--db", db], check=True, capture_output=True,
                                   text=True).stdout
            ask_walls.append((time.perf_counter() - start) * 1000.0)
            number = json.loads(asked.strip().splitlines()[-1])["trial"]
            start = time.perf_counter()
            subprocess.run([cli, "tell", "--study", "bench", "--trial", str(number), "--value", "1.0", "--db", db],
                           check=True, capture_output=True)
            tell_walls.append((time.perf_counter() - start) * 1000.0)
        their_ask, their_tell = [], []
        for _ in range(max(3, args.repeat // 3)):
            start = time.perf_counter()
            asked = subprocess.run(["optuna", "ask", "--study-name", "bench", "--storage", storage,
                                    "--search-space", ask_space, "-f", "json"],
                                   check=True, capture_output=True, text=True).stdout
            their_ask.append((time.perf_counter() - start) * 1000.0)
            number = json.loads(asked)["number"]
            start = time.perf_counter()
            subprocess.run(["optuna", "tell", "--study-name", "bench", "--storage", storage, "--trial-number",
                            str(number), "--values", "1.0"], check=True, capture_output=True)
            their_tell.append((time.perf_counter() - start) * 1000.0)
        for name, ours, theirs in (("ask", ask_walls, their_ask), ("tell", tell_walls, their_tell)):
            ours_ms, their_ms = statistics.median(ours), statistics.median(theirs)
            print(f"{name:14} {ours_ms:11.1f} {'':>6} {their_ms:10.0f} {'':>6} {their_ms / ours_ms:10.1f}x")


if __name__ == "__main__":
    main()
