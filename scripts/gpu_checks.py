#!/usr/bin/env python3
"""The checks and benchmarks of scripts/gpu-check.sh, run against a built tunelab-cli.

Each check runs tunelab-cli as a user would, on the given device, and records what it saw: passed,
failed (with the reason) or skipped (with the reason). The benchmarks time TuneLab's training against
bench/gpu_train_peer.py (eager PyTorch) on the same device, rounds alternating. Everything lands in
OUT: one log per check, results.json with every check and number, and summary.txt.

Usage: gpu_checks.py --cli build-gpu/app/tunelab-cli --out OUT [--device cuda] [--data .gpu-deps/data]
                     [--rounds 3] [--epochs 20] [--only check,check]
"""
import argparse
import json
import os
import random
import shlex
import statistics
import struct
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Skip(Exception):
    """A check that cannot run here, with the reason."""


class Context:
    def __init__(self, args):
        self.cli = os.path.abspath(args.cli)
        self.out = os.path.abspath(args.out)
        self.device = args.device
        self.data = os.path.abspath(args.data)
        self.rounds = args.rounds
        self.epochs = args.epochs
        self.db = os.path.join(self.out, "runs.sqlite")
        self.log = None
        try:
            import torch
            self.torch = torch
        except ImportError:
            self.torch = None

    def on_gpu(self):
        return self.device.startswith("cuda")

    def run(self, command, timeout=300, check=True):
        """Runs a command, logs it with its output; returns (returncode, stdout)."""
        self.log.write(f"$ {' '.join(shlex.quote(c) for c in command)}\n")
        self.log.flush()
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                env=dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1"))
        self.log.write(result.stdout + result.stderr + f"[exit {result.returncode}, "
                       f"{time.perf_counter() - started:.1f} s]\n\n")
        self.log.flush()
        if check and result.returncode != 0:
            raise AssertionError(f"{os.path.basename(command[0])} {command[1]} exited with {result.returncode}: "
                                 f"{result.stderr.strip().splitlines()[-1:]}")
        return result.returncode, result.stdout

    def cli_json(self, *arguments, timeout=300, check=True):
        code, stdout = self.run([self.cli, *arguments], timeout=timeout, check=check)
        lines = stdout.strip().splitlines()
        return code, (json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {})

    def spec(self, name, spec):
        path = os.path.join(self.out, "specs", name + ".json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(spec, f, indent=1)
        return path


def digits_spec(ctx, epochs=5, hidden=256):
    return {"name": "digits-mlp", "seed": 0, "device": ctx.device,
            "data": {"kind": "csv", "path": os.path.join(ctx.data, "digits.csv"), "target": "digit",
                     "scale": 0.0625, "validation_fraction": 0.2},
            "model": {"layers": [{"type": "linear", "out_features": hidden}, {"type": "relu"},
                                 {"type": "linear", "out_features": hidden}, {"type": "relu"},
                                 {"type": "linear", "out_features": 10}]},
            "loss": {"type": "cross_entropy"}, "optimizer": {"type": "adam", "lr": 0.001},
            "training": {"epochs": epochs, "batch_size": 64}}


def write_mnist_like(folder, samples=4096, seed=0):
    """Random 28x28 images with random labels in MNIST's idx format: the cnn28 job's data, read alike by both."""
    os.makedirs(folder, exist_ok=True)
    images = os.path.join(folder, "train-images-idx3-ubyte")
    if os.path.exists(images):
        return folder
    generator = random.Random(seed)
    with open(images, "wb") as f:
        f.write(struct.pack(">IIII", 0x803, samples, 28, 28))
        f.write(bytes(generator.randrange(256) for _ in range(samples * 28 * 28)))
    with open(os.path.join(folder, "train-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, samples))
        f.write(bytes(generator.randrange(10) for _ in range(samples)))
    return folder


def cnn28_spec(ctx, epochs):
    conv = lambda channels: {"type": "conv2d", "out_channels": channels, "kernel_size": 3, "padding": 1}
    return {"name": "cnn28", "seed": 0, "device": ctx.device,
            "data": {"kind": "mnist", "path": write_mnist_like(os.path.join(ctx.out, "mnist")),
                     "validation_fraction": 0.2},
            "model": {"layers": [conv(16), {"type": "relu"}, {"type": "maxpool2d", "kernel_size": 2},
                                 conv(32), {"type": "relu"}, {"type": "maxpool2d", "kernel_size": 2},
                                 {"type": "flatten"}, {"type": "linear", "out_features": 128}, {"type": "relu"},
                                 {"type": "linear", "out_features": 10}]},
            "loss": {"type": "cross_entropy"}, "optimizer": {"type": "adam", "lr": 0.001},
            "training": {"epochs": epochs, "batch_size": 256}}


# The checks: each returns a dict of what it measured, raises AssertionError when something is wrong,
# or Skip when it cannot run here.

def check_device(ctx):
    info = {"device": ctx.device}
    if ctx.torch is not None:
        info["python_torch"] = ctx.torch.__version__
        info["cuda_available"] = bool(ctx.torch.cuda.is_available())
        if ctx.torch.cuda.is_available():
            info["gpu"] = ctx.torch.cuda.get_device_name(0)
            info["gpu_memory_gib"] = round(ctx.torch.cuda.get_device_properties(0).total_memory / 2 ** 30, 1)
    if ctx.on_gpu() and not info.get("cuda_available"):
        raise AssertionError("device cuda asked for, but Python's torch sees no GPU")
    return info


def check_train_digits(ctx):
    _, result = ctx.cli_json("train", ctx.spec("digits-mlp", digits_spec(ctx)), "--json", "--db", ctx.db)
    assert result.get("status") == "completed", result
    assert result.get("device", "").startswith(ctx.device.split(":")[0]), f"trained on {result.get('device')}"
    assert result["val_accuracy"] > 0.9, f"val_accuracy {result['val_accuracy']}"
    ctx.digits_run = result["run_id"]
    return {k: result[k] for k in ("run_id", "device", "val_accuracy", "steps_per_second")}


def check_export_loads_on_cpu(ctx):
    if ctx.torch is None:
        raise Skip("Python has no torch")
    run = getattr(ctx, "digits_run", None)
    if run is None:
        raise Skip("train_digits did not finish")
    path = os.path.join(ctx.out, "digits-mlp.pt")
    _, exported = ctx.cli_json("export", str(run), "--format", "torchscript", "-o", path, "--json", "--db", ctx.db)
    module = ctx.torch.jit.load(path, map_location="cpu")
    output = module(ctx.torch.zeros(4, 64))
    assert tuple(output.shape) == (4, 10), f"output shape {tuple(output.shape)}"
    assert all(p.device.type == "cpu" for p in module.parameters()), "parameters left on the GPU"
    return {"file_bytes": os.path.getsize(path), "export": exported}


def check_layers_and_optimizers(ctx):
    conv = lambda channels: {"type": "conv2d", "out_channels": channels, "kernel_size": 3, "padding": 1}
    layers = [conv(8), {"type": "batchnorm"}, {"type": "relu"}, {"type": "maxpool2d", "kernel_size": 2},
              conv(16), {"type": "gelu"}, {"type": "avgpool2d", "kernel_size": 2}, {"type": "flatten"},
              {"type": "dropout", "p": 0.1}, {"type": "linear", "out_features": 32}, {"type": "tanh"},
              {"type": "layernorm"}, {"type": "linear", "out_features": 10}]
    experiment = digits_spec(ctx, epochs=2)
    experiment["data"]["input_shape"] = [1, 8, 8]
    experiment["model"]["layers"] = layers
    race = {"name": "gpu-race", "experiment": experiment,
            "setups": [{"name": name, "optimizer": optimizer} for name, optimizer in [
                ("sgd", {"type": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True}),
                ("adam", {"type": "adam", "lr": 0.003, "amsgrad": True}),
                ("adamw", {"type": "adamw", "lr": 0.003, "weight_decay": 0.01}),
                ("rmsprop", {"type": "rmsprop", "lr": 0.001, "centered": True}),
                ("adagrad", {"type": "adagrad", "lr": 0.05})]]}
    path = ctx.spec("race", race)
    code, stdout = ctx.run([ctx.cli, "race", path, "--device", ctx.device, "--db", ctx.db,
                            "--csv", os.path.join(ctx.out, "race.csv")], timeout=600)
    with open(os.path.join(ctx.out, "race.csv")) as f:
        rows = f.read().strip().splitlines()
    assert len(rows) == 6, f"{len(rows) - 1} set-ups in the race table"
    return {"race_table": rows}


def check_lr_find(ctx):
    _, result = ctx.cli_json("lr-find", ctx.spec("digits-lr", digits_spec(ctx, epochs=1)), "--device", ctx.device,
                             "--json")
    suggestion = result.get("suggested_lr") or result.get("suggestion")
    assert suggestion, f"no suggestion in {sorted(result)}"
    return {"suggested_lr": suggestion}


def check_deterministic(ctx):
    """Two runs of a CNN with training.deterministic give the same losses, bit for bit."""
    spec = digits_spec(ctx, epochs=2)
    spec["data"]["input_shape"] = [1, 8, 8]
    spec["model"]["layers"] = [{"type": "conv2d", "out_channels": 16, "kernel_size": 3, "padding": 1},
                               {"type": "batchnorm"}, {"type": "relu"}, {"type": "maxpool2d", "kernel_size": 2},
                               {"type": "flatten"}, {"type": "linear", "out_features": 10}]
    spec["training"]["deterministic"] = True
    path = ctx.spec("deterministic", spec)
    runs = [ctx.cli_json("train", path, "--json", "--db", ctx.db)[1] for _ in range(2)]
    for run in runs:
        assert run.get("status") == "completed", run
    same = all(runs[0][key] == runs[1][key] for key in ("train_loss", "val_loss", "val_accuracy"))
    assert same, f"the two runs differ: {[{k: r[k] for k in ('train_loss', 'val_loss')} for r in runs]}"
    return {"train_loss": runs[0]["train_loss"], "message": runs[0].get("message", "")}


def check_cuda_graph_step(ctx):
    """The digits MLP trained with its steps replayed from a CUDA graph and with every step eager: the
    same training within float rounding, and each one's steps per second."""
    path = ctx.spec("graph-step", digits_spec(ctx, epochs=3))
    runs = {}
    for name, flags in (("replayed", []), ("eager", ["--no-cuda-graphs"])):
        _, runs[name] = ctx.cli_json("train", path, "--json", "--threads", "1", "--db", ctx.db, *flags)
        assert runs[name].get("status") == "completed", runs[name]
    replayed, eager = runs["replayed"], runs["eager"]
    drift = abs(replayed["train_loss"] - eager["train_loss"]) / max(1e-6, abs(eager["train_loss"]))
    assert drift <= 0.05, f"train loss {replayed['train_loss']} replayed against {eager['train_loss']} eager"
    assert abs(replayed["val_accuracy"] - eager["val_accuracy"]) <= 0.02, (replayed, eager)
    return {"train_loss": {k: r["train_loss"] for k, r in runs.items()},
            "val_accuracy": {k: r["val_accuracy"] for k, r in runs.items()},
            "steps_per_second": {k: r["steps_per_second"] for k, r in runs.items()},
            "speedup": round(replayed["steps_per_second"] / max(1e-9, eager["steps_per_second"]), 3)}


def check_study_shares_device(ctx):
    space = {"parameters": [{"path": "optimizer.lr", "kind": "float", "low": 1e-4, "high": 1e-2, "log": True}]}
    study = {"name": "gpu-shared", "experiment": digits_spec(ctx, epochs=2), "space": space,
             "sampler": {"type": "random", "seed": 1}, "budget": {"trials": 8}, "parallel": 4,
             "objective": {"metric": "val_accuracy", "direction": "maximize", "at": "best"}}
    path = ctx.spec("study", study)
    _, result = ctx.cli_json("study", "run", path, "--json", "--db", ctx.db, timeout=600)
    assert result.get("complete") == 8, result
    return {k: result.get(k) for k in ("trials", "complete", "failed", "best_value", "seconds")}


def check_out_of_memory(ctx):
    if not ctx.on_gpu():
        raise Skip("the out-of-memory check needs a GPU (on the CPU it would take the machine's memory)")
    # Weights, gradients and Adam's state fit (about 52 GB, so the check before training lets it
    # start); a batch of 1024 through the 40M-wide layer does not (164 GB for one activation).
    huge = 40_000_000
    spec = digits_spec(ctx, epochs=1, hidden=16)
    spec["model"]["layers"][0]["out_features"] = huge
    spec["training"]["batch_size"] = 1024
    code, result = ctx.cli_json("train", ctx.spec("too-big", spec), "--json", "--db", ctx.db, check=False)
    assert result.get("status") == "failed", f"exit {code}, {result}"
    assert result.get("message"), "failed without a message"
    # In a study the trial that does not fit fails, and the others still train on the same GPU.
    space = {"parameters": [{"path": "model.layers[0].out_features", "kind": "categorical",
                             "choices": [huge, 64, 128]}]}
    study = {"name": "gpu-oom", "experiment": spec, "space": space,
             "sampler": "grid", "budget": {"trials": 3}, "parallel": 1,
             "objective": {"metric": "val_accuracy", "direction": "maximize", "at": "best"}}
    _, studied = ctx.cli_json("study", "run", ctx.spec("study-oom", study), "--json", "--db", ctx.db,
                              timeout=600, check=False)
    assert studied.get("failed") == 1 and studied.get("complete") == 2, studied
    return {"message": result.get("message"), "study": studied}


def bench_training(ctx):
    """Steps per second of TuneLab against eager PyTorch on the device, rounds alternating."""
    peer = os.path.join(ROOT, "bench", "gpu_train_peer.py")
    jobs = {"spirals-mlp": None, "digits-mlp": digits_spec(ctx, epochs=ctx.epochs),
            "cnn28": cnn28_spec(ctx, max(1, ctx.epochs // 4)), "cnn28-bf16": cnn28_spec(ctx, max(1, ctx.epochs // 4))}
    jobs["cnn28-bf16"]["training"]["precision"] = "bf16"
    spirals = json.load(open(os.path.join(ROOT, "bench", "specs", "spirals-mlp.json")))
    spirals.update(device=ctx.device)
    spirals["training"]["epochs"] = ctx.epochs
    jobs["spirals-mlp"] = spirals
    results = {}
    for job, spec in jobs.items():
        path = ctx.spec("bench-" + job, spec)
        epochs = spec["training"]["epochs"]
        ours, eager, theirs = [], [], []
        for _ in range(ctx.rounds):
            _, mine = ctx.cli_json("train", path, "--json", "--threads", "1", "--db", ctx.db, timeout=600)
            assert mine.get("status") == "completed", mine
            ours.append(mine["steps_per_second"])
            if not job.startswith("cnn28"):  # the MLPs' steps are launch-bound: what a CUDA graph saves
                _, plain = ctx.cli_json("train", path, "--json", "--threads", "1", "--db", ctx.db,
                                        "--no-cuda-graphs", timeout=600)
                eager.append(plain["steps_per_second"])
            if ctx.torch is not None:
                bf16 = ["--bf16"] if job.endswith("-bf16") else []
                _, stdout = ctx.run([sys.executable, peer, job.replace("-bf16", ""), "--device", ctx.device,
                                     "--epochs", str(epochs), "--digits", os.path.join(ctx.data, "digits.csv"),
                                     "--mnist", os.path.join(ctx.out, "mnist"), *bf16], timeout=600)
                theirs.append(json.loads(stdout.strip().splitlines()[-1])["steps_per_s"])
        entry = {"epochs": epochs, "tunelab_steps_per_s": ours, "tunelab_median": statistics.median(ours)}
        if eager:
            entry.update(tunelab_no_graphs_steps_per_s=eager, tunelab_no_graphs_median=statistics.median(eager))
        if theirs:
            entry.update(pytorch_steps_per_s=theirs, pytorch_median=statistics.median(theirs),
                         ratio=round(statistics.median(ours) / statistics.median(theirs), 3))
        results[job] = entry
    # Mixed precision's speed-up on the CNN, both sides.
    plain, mixed = results["cnn28"], results["cnn28-bf16"]
    results["bf16_speedup"] = {"tunelab": round(mixed["tunelab_median"] / plain["tunelab_median"], 3)}
    if "pytorch_median" in plain:
        results["bf16_speedup"]["pytorch"] = round(mixed["pytorch_median"] / plain["pytorch_median"], 3)
    return results


def bench_concurrent_trials(ctx):
    """16 digits-MLP trials with different learning rates: all at once on the device against one after
    another; the ratio is the trial throughput gained by running them together."""
    space = {"parameters": [{"path": "optimizer.lr", "kind": "float", "low": 1e-4, "high": 1e-2, "log": True}]}
    seconds = {}
    for parallel in (1, 16):
        study = {"name": f"gpu-concurrent-{parallel}", "experiment": digits_spec(ctx, epochs=max(1, ctx.epochs // 4)),
                 "space": space, "sampler": {"type": "random", "seed": 3}, "budget": {"trials": 16},
                 "parallel": parallel, "objective": {"metric": "val_accuracy", "direction": "maximize", "at": "best"}}
        _, result = ctx.cli_json("study", "run", ctx.spec(f"study-concurrent-{parallel}", study), "--json",
                                 "--force-parallel", "--db", ctx.db, timeout=900)
        assert result.get("complete") == 16, result
        seconds[parallel] = result["seconds"]
    return {"epochs": max(1, ctx.epochs // 4), "one_after_another_s": seconds[1], "all_at_once_s": seconds[16],
            "throughput_ratio": round(seconds[1] / seconds[16], 2)}


CHECKS = [("device", check_device), ("train_digits", check_train_digits),
          ("export_loads_on_cpu", check_export_loads_on_cpu), ("layers_and_optimizers", check_layers_and_optimizers),
          ("lr_find", check_lr_find), ("deterministic", check_deterministic),
          ("cuda_graph_step", check_cuda_graph_step),
          ("study_shares_device", check_study_shares_device),
          ("out_of_memory", check_out_of_memory), ("bench_training", bench_training),
          ("bench_concurrent_trials", bench_concurrent_trials)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--data", default=os.path.join(ROOT, ".gpu-deps", "data"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    ctx = Context(args)
    # Each run of the checks starts from an empty run store and a new summary.
    for path in (ctx.db, ctx.db + "-wal", ctx.db + "-shm", os.path.join(ctx.out, "summary.txt")):
        if os.path.exists(path):
            os.remove(path)
    chosen = set(filter(None, args.only.split(",")))
    results = {}
    for name, check in CHECKS:
        if chosen and name not in chosen:
            continue
        started = time.perf_counter()
        with open(os.path.join(ctx.out, name + ".log"), "w") as ctx.log:
            try:
                entry = {"status": "passed", "result": check(ctx)}
            except Skip as reason:
                entry = {"status": "skipped", "reason": str(reason)}
            except Exception as error:  # every failure is recorded, and the other checks still run
                entry = {"status": "failed", "reason": f"{type(error).__name__}: {error}"}
                ctx.log.write(traceback.format_exc())
        entry["seconds"] = round(time.perf_counter() - started, 1)
        results[name] = entry
        line = f"{name:24} {entry['status']:8} {entry['seconds']:6.1f} s  {entry.get('reason', '')}"
        print(line, flush=True)
        with open(os.path.join(ctx.out, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
        with open(os.path.join(ctx.out, "summary.txt"), "a") as f:
            f.write(line.rstrip() + "\n")
    failed = [name for name, entry in results.items() if entry["status"] == "failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
