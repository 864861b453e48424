#!/usr/bin/python3
"""Scale-out: several `tunelab-cli optimize` processes sharing one study on a PostgreSQL server.

Two measurements, each printed as a markdown table (--json PATH also writes every raw number):

1. Coordination overhead. A study of TRIALS trials (random sampler, so sampling costs nothing worth
   measuring) whose command sleeps 200 ms and prints a value, evaluated by 1, 2, 4 and 8 worker
   processes at once (each `optimize --name S --storage URL --parallel 1`), all started together
   right after `study create`; the time runs from the first start until the last worker exits. Every
   measurement gets a fresh database, and is repeated REPEATS times (the orders interleaved); the
   table shows the median. The same 1- and 8-worker runs against a SQLite file store follow for
   comparison. After each run the study is checked: exactly the budget's trials, numbered
   0..TRIALS-1 once each, all complete, and every number evaluated by exactly one worker (from the
   `trial N complete` lines each worker prints on stderr).

2. Sampler quality under parallelism. The test functions of bench_sampler_quality (Branin,
   Hartmann-6, Rosenbrock-4 as log1p) and two held out from every choice of TuneLab's samplers
   (Ackley-4, a dimension no bench uses, and Levy-4), 60 trials in total with the default sampler
   of a study (`auto`: the GP below 200 trials), seeds 0..SEEDS-1: one worker against 8 workers
   sharing the 60 trials. Each trial runs a small Python command (written to a temporary folder)
   that reads TUNELAB_PARAMS and prints the function's value.

   shortfall = (median best with 8 workers - sequential median best) / (sequential median best -
   the function's minimum): the share of the gap the sequential study leaves that the parallel one
   adds (negative: the parallel study did better). "Within 10 %" means shortfall <= 0.10. Beside it
   the same difference as a share of the gap uniform random search leaves after 60 trials (median
   over 200 seeds, computed here), the measure of bench/README.md's sampler suite: a sequential
   study very near the minimum makes the first measure strict. Two more columns help to read it: the
   trials that started before 10 results were complete (suggested from few results or none: the GP's
   random start is the first 10 trials, running ones counted, and the trials after it that start before
   10 results are in are the model's on fewer results than a sequential study would have), and how
   many other trials were running when a trial started (the sampler's pending points), both from the
   trials' start and end times. --sampler and --startup-trials change the studies' sampler settings.

A throw-away PostgreSQL server runs for the whole script (tests/postgres/postgres_server.sh, Unix
socket only) and is stopped at the end, also on failure. tunelab-cli is copied to the temporary
folder first, so a rebuild of build/ during the run changes nothing. Timings depend on the machine:
the script prints its cores and load average beside the tables.

Usage: /usr/bin/python3 bench/bench_scale_out.py [--json PATH] [--trials 96] [--repeats 3]
           [--seeds 10] [--sampler S] [--startup-trials N] [--skip-overhead] [--skip-quality]
           [--cli PATH]
About 6 minutes on 2 shared cores with the defaults (3 of them the overhead measurement).
"""
import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER_SCRIPT = os.path.join(ROOT, "tests", "postgres", "postgres_server.sh")

# The test functions (bench/test_functions.py, the definitions of bench_sampler_quality.cpp and
# bench_sampler_suite.py), imported by the objective command and by the random-search reference
# computed in this process. name: (function, bounds per dimension, known minimum, set).
sys.path.insert(0, os.path.join(ROOT, "bench"))
import test_functions  # noqa: E402

FUNCTIONS = {
    "branin": (test_functions.branin, [(-5.0, 10.0), (0.0, 15.0)], 0.397887, "reported"),
    "hartmann6": (test_functions.hartmann(test_functions.HARTMANN6_A, test_functions.HARTMANN6_P),
                  [(0.0, 1.0)] * 6, -3.32237, "reported"),
    "rosenbrock4": (test_functions.rosenbrock_log1p, [(-2.0, 2.0)] * 4, 0.0, "reported"),
    "ackley4": (test_functions.ackley, [(-32.768, 32.768)] * 4, 0.0, "held out"),
    "levy4": (test_functions.levy, [(-10.0, 10.0)] * 4, 0.0, "held out"),
}

# The objective command: this script's FUNCTIONS, imported (the script runs nothing when imported).
OBJECTIVE_SOURCE = r'''
import json, os, sys
sys.path.insert(0, %r)
from bench_scale_out import FUNCTIONS
params = json.loads(os.environ["TUNELAB_PARAMS"])
print(repr(FUNCTIONS[sys.argv[1]][0]([params["x%%d" %% i] for i in range(len(params))])))
''' % os.path.join(ROOT, "bench")

TRIAL_LINE = re.compile(r"^trial (\d+) (complete|failed|pruned)\b")
EXPECTED_LINE = re.compile(r"^(trial \d+ complete\b|continuing study |study finished: )")


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError("%s exited with %d:\n%s%s" % (" ".join(args), result.returncode, result.stdout,
                                                        result.stderr))
    return result.stdout


def machine_note():
    load = os.getloadavg()
    return "%d cores (%s), load average %.2f %.2f %.2f" % (os.cpu_count(), platform.machine(), *load)


class PostgresServer:
    """The throw-away server of the PostgreSQL tests: one database per measurement."""

    def __init__(self, folder, port):
        self.folder = folder
        self.port = port
        self.admin_url = None
        self.databases = 0

    def start(self):
        run(["bash", SERVER_SCRIPT, "start", self.folder, str(self.port)])
        url_file = os.path.join(self.folder, "url")
        if not os.path.exists(url_file):
            raise RuntimeError("no PostgreSQL server here (tests/postgres/postgres_server.sh wrote no url)")
        with open(url_file) as f:
            self.admin_url = f.read().strip()

    def stop(self):
        subprocess.run(["bash", SERVER_SCRIPT, "stop", self.folder], capture_output=True)

    def new_database(self, stem):
        self.databases += 1
        name = "%s_%d" % (re.sub(r"[^a-z0-9_]", "_", stem.lower()), self.databases)
        run(["psql", "-qX", self.admin_url, "-c", "CREATE DATABASE %s" % name])
        return self.admin_url.replace("/postgres?", "/%s?" % name, 1)


def create_study(cli, storage, study, folder):
    path = os.path.join(folder, "study-%s.json" % study["name"])
    with open(path, "w") as f:
        json.dump(study, f)
    run([cli, "study", "create", path, "--storage", storage])


def run_workers(cli, storage, name, command, workers, folder):
    """Starts `workers` optimize processes on one study at once; returns the seconds until the last
    exits and each worker's exit code, stdout and stderr."""
    procs = []
    started = time.perf_counter()
    for i in range(workers):
        out = open(os.path.join(folder, "%s-w%d.out" % (name, i)), "w+")
        err = open(os.path.join(folder, "%s-w%d.err" % (name, i)), "w+")
        procs.append((subprocess.Popen([cli, "optimize", "--name", name, "--storage", storage, "--parallel",
                                        "1", "--command", command], stdout=out, stderr=err,
                                       stdin=subprocess.DEVNULL), out, err))
    for proc, _, _ in procs:
        proc.wait()
    seconds = time.perf_counter() - started
    results = []
    for proc, out, err in procs:
        out.seek(0)
        err.seek(0)
        results.append({"rc": proc.returncode, "stdout": out.read(), "stderr": err.read()})
        out.close()
        err.close()
    return seconds, results


def check_study(cli, storage, name, budget, workers):
    """Everything that is wrong with the finished study, as a list of sentences (empty: sound)."""
    problems = []
    status = json.loads(run([cli, "study", "status", name, "--storage", storage, "--json"]))
    trials = status.get("trial_list", [])
    numbers = [t["number"] for t in trials]
    if status.get("trials") != budget or len(trials) != budget:
        problems.append("%s trials (trial_list %d), budget %d" % (status.get("trials"), len(trials), budget))
    if sorted(numbers) != list(range(budget)):
        duplicated = sorted({n for n in numbers if numbers.count(n) > 1})
        missing = sorted(set(range(budget)) - set(numbers))
        extra = sorted(set(numbers) - set(range(budget)))
        problems.append("trial numbers: duplicated %s, missing %s, beyond the budget %s" %
                        (duplicated, missing, extra))
    states = {}
    for t in trials:
        states[t["state"]] = states.get(t["state"], 0) + 1
    if states.get("complete", 0) != len(trials):
        problems.append("states %s" % states)
    # Who evaluated what: every number by exactly one worker.
    evaluated = {}
    for i, worker in enumerate(workers):
        if worker["rc"] != 0:
            problems.append("worker %d exited with %d: %s" % (i, worker["rc"], worker["stderr"].strip()[-300:]))
        for line in worker["stderr"].splitlines():
            match = TRIAL_LINE.match(line)
            if match:
                evaluated.setdefault(int(match.group(1)), []).append(i)
            if line.strip() and not EXPECTED_LINE.match(line):
                problems.append("worker %d printed: %s" % (i, line.strip()[:200]))
    twice = {n: w for n, w in evaluated.items() if len(w) > 1}
    if twice:
        problems.append("evaluated by more than one worker: %s" % twice)
    if sorted(evaluated) != list(range(budget)):
        problems.append("the workers reported trials %s" % compress_ranges(sorted(evaluated)))
    per_worker = [sum(1 for ws in evaluated.values() for w in ws if w == i) for i in range(len(workers))]
    return problems, status, per_worker


def compress_ranges(numbers):
    parts, start = [], None
    for i, n in enumerate(numbers):
        if start is None:
            start = n
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            parts.append(str(start) if start == n else "%d-%d" % (start, n))
            start = None
    return ",".join(parts) or "none"


# 1. Coordination overhead ------------------------------------------------------------------------

def overhead(args, cli, server, folder):
    sleep_command = "sleep %g; echo 0.5" % args.sleep
    stores = [("postgresql", n) for n in args.workers]
    if not args.skip_sqlite:
        stores += [("sqlite", n) for n in (1, max(args.workers))]
    measurements = []
    for repeat in range(args.repeats):
        for kind, workers in stores:
            name = "overhead-%s-n%d-r%d" % (kind, workers, repeat)
            if kind == "postgresql":
                storage = server.new_database(name)
            else:
                storage = os.path.join(folder, "%s.sqlite" % name)
            create_study(cli, storage, {
                "name": name,
                "space": {"parameters": [{"path": "x", "kind": "float", "low": -5, "high": 5}]},
                "sampler": {"type": "random", "seed": repeat},
                "pruner": "none",
                "objective": {"metric": "value", "direction": "minimize"},
                "budget": {"trials": args.trials},
            }, folder)
            seconds, results = run_workers(cli, storage, name, sleep_command, workers, folder)
            problems, _, per_worker = check_study(cli, storage, name, args.trials, results)
            log("overhead %-10s %d worker(s), repeat %d: %.2f s, %.2f trials/s, trials per worker %s%s" %
                (kind, workers, repeat, seconds, args.trials / seconds, per_worker,
                 "" if not problems else "  PROBLEMS: " + "; ".join(problems)))
            measurements.append({"store": kind, "workers": workers, "repeat": repeat, "seconds": seconds,
                                 "trials": args.trials, "trials_per_worker": per_worker,
                                 "problems": problems})
    rows = []
    for kind in ("postgresql", "sqlite"):
        base = None
        for workers in sorted({m["workers"] for m in measurements if m["store"] == kind}):
            ms = [m for m in measurements if m["store"] == kind and m["workers"] == workers]
            seconds = statistics.median(m["seconds"] for m in ms)
            rate = args.trials / seconds
            if workers == 1:
                base = rate
            speedup = rate / base if base else float("nan")
            rows.append({
                "store": kind, "workers": workers, "seconds": seconds,
                "seconds_all": [round(m["seconds"], 3) for m in ms], "trials_per_second": rate,
                "ideal_trials_per_second": workers / args.sleep, "speedup": speedup,
                "efficiency": speedup / workers,
                # Time per trial beyond the command's sleep, as one worker sees it.
                "overhead_ms_per_trial": (seconds * workers / args.trials - args.sleep) * 1000,
                "problems": sum(len(m["problems"]) for m in ms),
            })
    return {"measurements": measurements, "rows": rows}


def print_overhead(args, result):
    print("### Coordination overhead: %d trials of `sleep %g; echo 0.5`, random sampler, median of %d" %
          (args.trials, args.sleep, args.repeats))
    print()
    print("| store | workers | seconds (median; all) | trials/s | ideal trials/s | speed-up vs 1 worker "
          "| speed-up / N (target >= 0.9) | overhead per trial (ms) | problems found |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in result["rows"]:
        target = "" if r["workers"] == 1 else (" met" if r["efficiency"] >= 0.9 else " **missed**")
        print("| %s | %d | %.2f (%s) | %.2f | %.1f | %.2fx | %.3f%s | %.0f | %d |" % (
            r["store"], r["workers"], r["seconds"], ", ".join("%.2f" % s for s in r["seconds_all"]),
            r["trials_per_second"], r["ideal_trials_per_second"], r["speedup"], r["efficiency"], target,
            r["overhead_ms_per_trial"], r["problems"]))
    print()
    problems = [p for m in result["measurements"] for p in m["problems"]]
    checked = len(result["measurements"])
    print("Checked after every run (%d runs): the study holds exactly %d trials, numbers 0..%d once each, all "
          "complete, each evaluated by one worker: %s." %
          (checked, args.trials, args.trials - 1,
           "no problem found" if not problems else "%d problem(s), listed in the log" % len(problems)))
    print()


# 2. Sampler quality under parallelism ------------------------------------------------------------

def random_search_median(name, trials, seeds=200):
    function, bounds = FUNCTIONS[name][:2]
    bests = []
    for seed in range(seeds):
        rng = random.Random(seed)
        bests.append(min(function([rng.uniform(lo, hi) for lo, hi in bounds]) for _ in range(trials)))
    return statistics.median(bests)


# The study's default number of random (here Sobol) trials before its sampler models the results.
STARTUP_TRIALS = 10


def what_trials_saw(trials, startup_trials=STARTUP_TRIALS):
    """From the trials' start and end times: how many trials started while fewer than startup_trials
    trials were complete (the sampler had few results or none), and how many other trials were running,
    on average, when a trial started (the sampler's pending points)."""
    model_free, running = 0, []
    for t in trials:
        start = t["started_at"]
        done = sum(1 for u in trials if u is not t and u["finished_at"] is not None and u["finished_at"] <= start)
        running.append(sum(1 for u in trials if u is not t and u["started_at"] <= start
                           and (u["finished_at"] is None or u["finished_at"] > start)))
        model_free += done < startup_trials
    return model_free, statistics.mean(running) if running else 0.0


def quality(args, cli, server, folder):
    objective = os.path.join(folder, "objective.py")
    with open(objective, "w") as f:
        f.write(OBJECTIVE_SOURCE)
    runs = []
    for name in args.functions:
        _, bounds, _, _ = FUNCTIONS[name]
        space = {"parameters": [{"path": "x%d" % i, "kind": "float", "low": lo, "high": hi}
                                for i, (lo, hi) in enumerate(bounds)]}
        command = "%s -S -E %s %s" % (args.python, objective, name)
        for seed in range(args.seeds):
            for workers in (1, args.quality_workers):
                study = "quality-%s-s%d-n%d" % (name, seed, workers)
                storage = server.new_database(study)
                # Without --sampler no type: the study's default (`auto`).
                sampler = {"seed": seed}
                if args.sampler:
                    sampler["type"] = args.sampler
                if args.startup_trials is not None:
                    sampler["startup_trials"] = args.startup_trials
                create_study(cli, storage, {
                    "name": study, "space": space, "sampler": sampler, "pruner": "none",
                    "objective": {"metric": "value", "direction": "minimize"},
                    "budget": {"trials": args.quality_trials},
                }, folder)
                seconds, results = run_workers(cli, storage, study, command, workers, folder)
                problems, status, per_worker = check_study(cli, storage, study, args.quality_trials, results)
                values = [t["value"] for t in status["trial_list"] if t["state"] == "complete"]
                best = min(values) if values else float("nan")
                startup = STARTUP_TRIALS if args.startup_trials is None else args.startup_trials
                model_free, pending = what_trials_saw(status["trial_list"], startup)
                log("quality %-11s seed %d, %d worker(s): best %.6g, %.1f s, trials per worker %s, "
                    "%d started before %d results, %.1f running at a start%s" %
                    (name, seed, workers, best, seconds, per_worker, model_free, startup, pending,
                     "" if not problems else "  PROBLEMS: " + "; ".join(problems)))
                runs.append({"function": name, "seed": seed, "workers": workers, "best": best,
                             "seconds": seconds, "trials_per_worker": per_worker, "problems": problems,
                             "model_free_trials": model_free, "mean_running_at_start": pending})
    rows = []
    for name in args.functions:
        _, _, minimum, kind = FUNCTIONS[name]
        seq = [r["best"] for r in runs if r["function"] == name and r["workers"] == 1]
        par = [r["best"] for r in runs if r["function"] == name and r["workers"] == args.quality_workers]
        seq_median, par_median = statistics.median(seq), statistics.median(par)
        random_median = random_search_median(name, args.quality_trials)
        gap = seq_median - minimum
        shortfall = (par_median - seq_median) / gap if gap > 0 else float("inf")
        rows.append({
            "function": name, "set": kind, "minimum": minimum, "sequential_median": seq_median,
            "parallel_median": par_median, "shortfall": shortfall, "within_10_percent": shortfall <= 0.10,
            "random_median": random_median,
            "shortfall_of_random_gap": (par_median - seq_median) / (random_median - minimum),
            "parallel_better_seeds": sum(1 for s, p in zip(seq, par) if p < s),
            "sequential_seconds": statistics.median(r["seconds"] for r in runs
                                                    if r["function"] == name and r["workers"] == 1),
            "parallel_seconds": statistics.median(r["seconds"] for r in runs if r["function"] == name
                                                  and r["workers"] == args.quality_workers),
            "sequential_model_free_trials": statistics.median(
                r["model_free_trials"] for r in runs if r["function"] == name and r["workers"] == 1),
            "parallel_model_free_trials": statistics.median(
                r["model_free_trials"] for r in runs if r["function"] == name
                and r["workers"] == args.quality_workers),
            "parallel_mean_running_at_start": statistics.mean(
                r["mean_running_at_start"] for r in runs if r["function"] == name
                and r["workers"] == args.quality_workers),
            "problems": sum(len(r["problems"]) for r in runs if r["function"] == name),
        })
    return {"runs": runs, "rows": rows}


def print_quality(args, result):
    n = args.quality_workers
    startup = STARTUP_TRIALS if args.startup_trials is None else args.startup_trials
    print("### Sampler quality: %d trials in total, %s%s, seeds 0..%d" %
          (args.quality_trials, "sampler `%s`" % args.sampler if args.sampler else
           "the study's default sampler (`auto`: the GP below 200 trials)",
           "" if args.startup_trials is None else " with %d startup trials" % args.startup_trials,
           args.seeds - 1))
    print()
    print("Median best value (lower is better). shortfall = (%d-worker median - sequential median) / "
          "(sequential median - minimum); within 10 %% means shortfall <= 0.10 (negative: %d workers did "
          "better). Shortfall vs random-search gap: the same difference over (random-search median - minimum), "
          "random search being %d uniform points, median over 200 seeds. Trials before %d results: trials that started "
          "while fewer than %d trials were complete (suggested from few results or none), median over seeds; running "
          "at a start: other trials running when a trial started (the sampler's pending points), mean." %
          (n, n, args.quality_trials, startup, startup))
    print()
    print("| function | set | minimum | sequential (1 worker) | %d workers | shortfall vs sequential gap "
          "| within 10 %% | seeds where %d workers did better | shortfall vs random-search gap "
          "| trials before %d results (1 / %d workers) | running at a start (%d workers) |" % (n, n, startup, n, n))
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in result["rows"]:
        print("| %s | %s | %.6g | %.6g | %.6g | %+.3f | %s | %d of %d | %+.4f | %g / %g | %.1f |" % (
            r["function"], r["set"], r["minimum"], r["sequential_median"], r["parallel_median"], r["shortfall"],
            "yes" if r["within_10_percent"] else "**no**", r["parallel_better_seeds"], args.seeds,
            r["shortfall_of_random_gap"], r["sequential_model_free_trials"], r["parallel_model_free_trials"],
            r["parallel_mean_running_at_start"]))
    print()
    problems = [p for r in result["runs"] for p in r["problems"]]
    print("Checked after every study (%d): %d trials, numbers once each, all complete, each evaluated by one "
          "worker: %s." % (len(result["runs"]), args.quality_trials,
                           "no problem found" if not problems else "%d problem(s), listed in the log" %
                           len(problems)))
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "tunelab-cli"))
    parser.add_argument("--python", default="/usr/bin/python3", help="runs the objective command")
    parser.add_argument("--json", help="also write every number to this file")
    parser.add_argument("--trials", type=int, default=96, help="trials of each overhead measurement")
    parser.add_argument("--sleep", type=float, default=0.2, help="seconds each overhead trial sleeps")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each overhead measurement")
    parser.add_argument("--workers", default="1,2,4,8", help="worker counts of the overhead measurement")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..SEEDS-1 of the quality measurement")
    parser.add_argument("--quality-trials", type=int, default=60)
    parser.add_argument("--quality-workers", type=int, default=8)
    parser.add_argument("--sampler", help="the quality studies' sampler (default: the study default, auto)")
    parser.add_argument("--startup-trials", type=int,
                        help="the quality studies' random trials before the sampler models the results "
                             "(default: the study default, 10)")
    parser.add_argument("--functions", default=",".join(FUNCTIONS))
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--port", type=int, default=55440, help="names the server's Unix socket")
    parser.add_argument("--pg-dir", default="/tmp/tunelab-bench-postgres",
                        help="the server's folder (made afresh, removed at the end)")
    args = parser.parse_args()
    args.workers = [int(w) for w in args.workers.split(",")]
    args.functions = args.functions.split(",")
    for name in args.functions:
        if name not in FUNCTIONS:
            parser.error("unknown function %s (known: %s)" % (name, ", ".join(FUNCTIONS)))
    if 1 not in args.workers:
        parser.error("--workers must include 1, the baseline")

    # tunelab-cli may be rebuilt by someone else while this runs: wait for it, then use a copy.
    for _ in range(60):
        if os.access(args.cli, os.X_OK):
            break
        log("waiting for %s" % args.cli)
        time.sleep(5)
    folder = tempfile.mkdtemp(prefix="tunelab-bench-scale-out-")
    cli = os.path.join(folder, "tunelab-cli")
    shutil.copy2(args.cli, cli)
    version = run([cli, "--version"]).strip()
    server = PostgresServer(args.pg_dir, args.port)
    started = time.time()
    report = {"command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]), "tunelab": version,
              "machine_before": machine_note()}
    try:
        server.start()
        log("PostgreSQL server: %s; %s; %s" % (server.admin_url, version, machine_note()))
        if not args.skip_overhead:
            report["overhead"] = overhead(args, cli, server, folder)
            report["machine_after_overhead"] = machine_note()
        if not args.skip_quality:
            report["quality"] = quality(args, cli, server, folder)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    report["seconds"] = time.time() - started
    report["machine_after"] = machine_note()

    print("## Scale-out (%s)" % version)
    print()
    print("`%s`, %.0f s in all. Timings on %s at the start, %s at the end: shared cores, so take the ratios "
          "rather than the absolute times." % (report["command"], report["seconds"], report["machine_before"],
                                               report["machine_after"]))
    print()
    if "overhead" in report:
        print_overhead(args, report["overhead"])
    if "quality" in report:
        print_quality(args, report["quality"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
