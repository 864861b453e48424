#!/usr/bin/python3
"""Pruning: on a digits study (../shared/data/digits.csv), how many training epochs ASHA needs to reach
the best validation loss that a full-budget random search reaches. Both searches draw from the same
random sampler and seed; the random search trains every trial for all 27 epochs, the ASHA study
(rungs at 1, 3, 9, 27 epochs, reduction factor 3) runs more trials and stops the poor ones early.
Epochs are counted in trial order, sequentially (parallel 1), until the best complete trial is at
least as good as the random search's best. Target: at most 1/4 of the random search's epochs.

Usage: bench/bench_asha.py [--cli build/app/tunelab-cli] [--seeds 3] [--random-trials 16] [--asha-trials 64]
"""
import argparse, json, os, sqlite3, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPOCHS = 27
SPACE = {"parameters": [
    {"path": "optimizer.lr", "kind": "float", "low": 1e-5, "high": 0.1, "log": True},
    {"path": "model.layers[0].out_features", "kind": "int", "low": 8, "high": 512, "log": True},
    {"path": "training.batch_size", "kind": "categorical", "choices": [16, 32, 64, 128, 256]},
]}


def experiment():
    with open(os.path.join(ROOT, "bench", "specs", "digits-mlp.json")) as spec_file:
        spec = json.load(spec_file)
    spec["data"]["path"] = os.path.normpath(os.path.join(ROOT, "bench", "specs", spec["data"]["path"]))
    spec["training"]["epochs"] = EPOCHS
    return spec


def run_study(cli, db, folder, name, seed, trials, pruner):
    study = {"name": name, "experiment": experiment(), "space": SPACE,
             "sampler": {"type": "random", "seed": seed}, "pruner": pruner,
             "objective": {"metric": "val_loss", "at": "best"}, "budget": {"trials": trials}, "parallel": 1}
    path = os.path.join(folder, name + ".json")
    with open(path, "w") as out:
        json.dump(study, out)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    started = time.time()
    result = subprocess.run([cli, "study", "run", path, "--db", db], capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        sys.exit(f"study {name} failed:\n{result.stderr[-3000:]}")
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT t.number, t.state, t.value, (SELECT count(*) FROM trial_values v WHERE v.trial_id = t.id)"
            " FROM trials t JOIN studies s ON s.id = t.study_id WHERE s.name = ? ORDER BY t.number",
            (name,)).fetchall()
    return rows, time.time() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "tunelab-cli"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--random-trials", type=int, default=16)
    parser.add_argument("--asha-trials", type=int, default=64)
    args = parser.parse_args()
    ratios = []
    with tempfile.TemporaryDirectory() as folder:
        db = os.path.join(folder, "asha.sqlite")
        for seed in range(args.seeds):
            full, full_seconds = run_study(args.cli, db, folder, f"random-{seed}", seed, args.random_trials,
                                           {"type": "none"})
            full_epochs = sum(row[3] for row in full)
            target = min(row[2] for row in full if row[1] == "complete")
            asha, asha_seconds = run_study(args.cli, db, folder, f"asha-{seed}", seed, args.asha_trials,
                                           {"type": "asha", "min_epochs": 1, "reduction_factor": 3})
            spent, best, reached = 0, float("inf"), None
            for number, state, value, epochs in asha:
                spent += epochs
                if state == "complete":
                    best = min(best, value)
                if best <= target and reached is None:
                    reached = spent
            pruned = sum(1 for row in asha if row[1] == "pruned")
            ratio = reached / full_epochs if reached else float("inf")
            ratios.append(ratio)
            print(json.dumps({"seed": seed, "random_best_val_loss": round(target, 5), "random_epochs": full_epochs,
                              "random_seconds": round(full_seconds, 1), "asha_best_val_loss": round(best, 5),
                              "asha_trials": len(asha), "asha_pruned": pruned,
                              "asha_epochs_total": sum(row[3] for row in asha),
                              "asha_epochs_to_reach": reached, "asha_seconds": round(asha_seconds, 1),
                              "fraction_of_random_epochs": round(ratio, 3)}), flush=True)
    print(f"median fraction of the random search's epochs ASHA needed: {statistics.median(ratios):.3f} "
          f"(target <= 0.25)")


if __name__ == "__main__":
    main()
