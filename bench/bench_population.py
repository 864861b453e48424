#!/usr/bin/python3
"""Population-based training against random search with ASHA at the same total epochs.

One MLP per dataset (64 or fewer inputs -> 128 -> classes, SGD with momentum on a cosine schedule over
EPOCHS epochs), one space of hyperparameters that leave the network as it is (learning rate, momentum,
weight decay). PBT trains POPULATION members for EPOCHS epochs each, compared every INTERVAL epochs
(quantile 0.25, perturbation x0.8 / x1.2, resampling 0.25: the published defaults, none chosen here).
Random search with ASHA (rungs scaled to the epochs, TuneLab's defaults) draws from the same random
sampler and seed and is given the same total: its trials are counted in order (parallel 1) until
their epochs would exceed PBT's. The score of each is the best validation loss any trial reached.
Seeds vary the sampler and the network's initialisation.

digits is the reported dataset; wine and breast_cancer are held out (nothing was chosen on any of
them; the interval of 2 was fixed before the first run).

Usage: bench/bench_population.py [--cli build/app/tunelab-cli] [--seeds 3] [--datasets digits,wine,breast_cancer]
                                [--population 8]
"""
import argparse, json, os, sqlite3, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data"))
EPOCHS = 12
POPULATION = 8
INTERVAL = 2
TARGETS = {"digits": ("digit", 10), "wine": ("target", 3), "breast_cancer": ("target", 2)}
SPACE = {"parameters": [
    {"path": "optimizer.lr", "kind": "float", "low": 1e-4, "high": 1.0, "log": True},
    {"path": "optimizer.momentum", "kind": "float", "low": 0.0, "high": 0.99},
    {"path": "optimizer.weight_decay", "kind": "float", "low": 1e-6, "high": 1e-2, "log": True},
]}


def experiment(dataset, seed):
    target, classes = TARGETS[dataset]
    return {"name": dataset + "-mlp", "seed": 7 + seed, "device": "cpu",
            "data": {"kind": "csv", "path": os.path.join(DATA, dataset + ".csv"), "target": target,
                     "validation_fraction": 0.2, "standardize": True},
            "model": {"layers": [{"type": "linear", "out_features": 128}, {"type": "relu"},
                                 {"type": "linear", "out_features": classes}]},
            "optimizer": {"type": "sgd", "lr": 0.01, "momentum": 0.9},
            "schedule": {"type": "cosine"},
            "training": {"epochs": EPOCHS, "batch_size": 64}}


def run_study(cli, db, folder, study):
    path = os.path.join(folder, study["name"] + ".json")
    with open(path, "w") as out:
        json.dump(study, out)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    started = time.time()
    result = subprocess.run([cli, "study", "run", path, "--db", db], capture_output=True, text=True, env=env,
                            check=False)
    if result.returncode != 0:
        sys.exit(f"study {study['name']} failed:\n{result.stderr[-3000:]}")
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT t.number, t.state, t.value, (SELECT count(*) FROM trial_values v WHERE v.trial_id = t.id)"
            " FROM trials t JOIN studies s ON s.id = t.study_id WHERE s.name = ? ORDER BY t.number",
            (study["name"],)).fetchall()
    return rows, time.time() - started


def best_within(rows, epochs_allowed):
    spent, best, trials = 0, float("inf"), 0
    for _, state, value, epochs in rows:
        if spent + epochs > epochs_allowed:
            break
        spent += epochs
        trials += 1
        if state in ("complete", "pruned") and value is not None:
            best = min(best, value)
    return best, spent, trials


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "tunelab-cli"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--datasets", default="digits,wine,breast_cancer")
    parser.add_argument("--population", type=int, default=POPULATION)
    args = parser.parse_args()
    population = args.population
    table = []
    with tempfile.TemporaryDirectory() as folder:
        db = os.path.join(folder, "population.sqlite")
        for dataset in args.datasets.split(","):
            pbt_scores, asha_scores = [], []
            for seed in range(args.seeds):
                base = {"experiment": experiment(dataset, seed), "space": SPACE,
                        "sampler": {"type": "random", "seed": seed},
                        "objective": {"metric": "val_loss", "at": "best"}}
                pbt, pbt_seconds = run_study(args.cli, db, folder, dict(
                    base, name=f"pbt-{dataset}-{seed}", parallel=2,
                    population={"size": population, "interval": INTERVAL}))
                pbt_epochs = sum(row[3] for row in pbt)
                pbt_best = min(row[2] for row in pbt if row[1] == "complete")
                asha, asha_seconds = run_study(args.cli, db, folder, dict(
                    base, name=f"asha-{dataset}-{seed}", parallel=1, pruner={"type": "asha"},
                    budget={"trials": 20 * population}))
                asha_best, asha_epochs, asha_trials = best_within(asha, pbt_epochs)
                pbt_scores.append(pbt_best)
                asha_scores.append(asha_best)
                print(json.dumps({"dataset": dataset, "seed": seed, "pbt_best_val_loss": round(pbt_best, 5),
                                  "pbt_epochs": pbt_epochs, "pbt_seconds": round(pbt_seconds, 1),
                                  "asha_best_val_loss": round(asha_best, 5), "asha_epochs": asha_epochs,
                                  "asha_trials": asha_trials, "asha_seconds": round(asha_seconds, 1)}), flush=True)
            table.append((dataset, statistics.median(pbt_scores), statistics.median(asha_scores)))
    print("\n| dataset | PBT median best val_loss | random + ASHA median best val_loss | PBT / ASHA |")
    print("|---|---|---|---|")
    for dataset, pbt, asha in table:
        print(f"| {dataset} | {pbt:.4f} | {asha:.4f} | {pbt / asha:.3f} |")


if __name__ == "__main__":
    main()
