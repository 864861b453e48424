#!/usr/bin/python3
"""Structured pruning: how the neuron ranking (L1 norm, L2 norm, first-order Taylor) decides what a
network keeps, through `tunelab-cli compress`.

Per set and seed a plan trains the source (bench_compress.py's MLP and CNN, and the residual network
of resources/experiments/digits-resnet.json), then removes a share of every hidden layer's neurons or
channels with each ranking and fine-tunes briefly (3 epochs, lr 0.001) and at length (20 epochs on
the stacks, 15 on the residual network, its own training length). A short fine-tune shows what the
ranking kept; the long one, what is left once training has repaired it. Medians over the seeds of the
validation accuracy, in points.

Nothing was chosen on these sets: the shares (0.5 and 0.75), the epochs and the learning rate were
fixed before the first run, and Taylor importance reads up to 1,024 training rows with no setting.
digits (MLP, CNN, residual) is reported; wine and breast_cancer (MLP) are held out.

Usage: bench/bench_structured_importance.py [--cli build/app/tunelab-cli] [--seeds 3]
                                            [--sets digits-mlp,digits-cnn,digits-resnet,wine-mlp,breast_cancer-mlp]
"""
import argparse, json, os, statistics, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_compress import DATA, ROOT, run_plan, source_experiment  # noqa: E402

RANKINGS = ("l1", "l2", "taylor")
FRACTIONS = (0.5, 0.75)


def residual_experiment(seed):
    with open(os.path.join(ROOT, "resources", "experiments", "digits-resnet.json")) as text:
        lines = [line for line in text if not line.lstrip().startswith("//")]
    experiment = json.loads("".join(lines))
    experiment["seed"] = seed
    experiment["device"] = "cpu"
    experiment["data"]["path"] = os.path.join(DATA, "digits.csv")
    return experiment


def plan(name, seed):
    dataset, network = name.rsplit("-", 1)
    experiment = residual_experiment(seed) if network == "resnet" else source_experiment(dataset, network, seed)
    long_epochs = experiment["training"]["epochs"]
    variants = []
    for fraction in FRACTIONS:
        for ranking in RANKINGS:
            for epochs in (3, long_epochs):
                variants.append({"name": f"{ranking}-{int(fraction * 100)}-{epochs}", "kind": "structured",
                                 "fraction": fraction, "importance": ranking, "epochs": epochs, "lr": 0.001})
    return {"name": f"{name}-{seed}", "source": {"experiment": experiment},
            "latency": {"threads": 1, "repeats": 20}, "variants": variants}, long_epochs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "tunelab-cli"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sets", default="digits-mlp,digits-cnn,digits-resnet,wine-mlp,breast_cancer-mlp")
    args = parser.parse_args()
    print("| set | source | share | epochs | " + " | ".join(RANKINGS) + " |")
    print("|---|---|---|---|" + "---|" * len(RANKINGS))
    with tempfile.TemporaryDirectory() as folder:
        for name in args.sets.split(","):
            accuracy, sources = {}, []
            for seed in range(1, args.seeds + 1):
                the_plan, long_epochs = plan(name, seed)
                report = run_plan(args.cli, folder, the_plan)
                sources.append(report["source"]["val_accuracy"])
                for variant in report["variants"]:
                    if variant.get("val_accuracy") is not None:
                        accuracy.setdefault(variant["name"], []).append(variant["val_accuracy"])
            for fraction in FRACTIONS:
                for epochs in (3, long_epochs):
                    cells = []
                    for ranking in RANKINGS:
                        values = accuracy.get(f"{ranking}-{int(fraction * 100)}-{epochs}", [])
                        cells.append("%.1f" % (100 * statistics.median(values)) if values else "failed")
                    print(f"| {name} | {100 * statistics.median(sources):.1f} | {fraction} | {epochs} | "
                          + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
