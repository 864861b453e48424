#!/usr/bin/python3
"""Data-parallel training on the CPU: one run over 1 and 2 processes, tunelab-cli against PyTorch's
DistributedDataParallel over Gloo (bench/ddp_peer.py), on the same LibTorch build.

Every process uses one intra-op thread (OPENBLAS_NUM_THREADS=1). On a 2-core machine the two
processes share the cores the single process leaves idle, so the ratio shows what data parallelism
gains there, communication included; it is no forecast for processes on separate machines.
Rounds alternate the four set-ups so that machine noise hits them alike.

Usage: bench/bench_data_parallel.py [--cli build/app/tunelab-cli] [--rounds 3]
Prints one line per run and, per job, the median samples/s and the 2-process / 1-process ratio.
"""
import argparse, json, os, socket, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = os.path.join(ROOT, "bench", "ddp_peer.py")
# (spec, global batch, epochs): a small MLP on digits at two batch sizes; the spirals MLP is the
# overhead-bound case, where one exchange per step costs most.
JOBS = [("digits-mlp", 64, 20), ("digits-mlp", 512, 60), ("spirals-mlp", 32, 10)]

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def last_json(text):
    return json.loads(text.strip().splitlines()[-1])

def tunelab(cli, spec, processes, db, env):
    command = [cli, "train", spec, "--threads", "1", "--json", "--db", db]
    if processes > 1:
        command += ["--world-size", str(processes)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr}")
    return last_json(result.stdout)["steps_per_second"]

def peer(job, batch, epochs, processes, env):
    port = str(free_port())
    ranks = []
    for rank in range(processes):
        rank_env = dict(env, RANK=str(rank), WORLD_SIZE=str(processes), MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
        ranks.append(subprocess.Popen(["/usr/bin/python3", PEER, job, "--batch", str(batch), "--epochs", str(epochs)],
                                      env=rank_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [rank.communicate() for rank in ranks]
    if any(rank.returncode != 0 for rank in ranks):
        sys.exit(f"peer failed: {outputs}")
    return last_json(outputs[0][0])["steps_per_s"]

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "tunelab-cli"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    summary = {}
    with tempfile.TemporaryDirectory() as folder:
        db = os.path.join(folder, "bench.sqlite")
        for job, batch, epochs in JOBS:
            with open(os.path.join(ROOT, "bench", "specs", f"{job}.json")) as file:
                spec = json.load(file)
            if "path" in spec["data"]:
                spec["data"]["path"] = os.path.normpath(os.path.join(ROOT, "bench", "specs", spec["data"]["path"]))
            spec["training"].update(batch_size=batch, epochs=epochs)
            spec_path = os.path.join(folder, f"{job}-{batch}.json")
            with open(spec_path, "w") as file:
                json.dump(spec, file)
            samples = {key: [] for key in ("tunelab-1", "tunelab-2", "pytorch-1", "pytorch-2")}
            for round_index in range(args.rounds):
                for processes in (1, 2):
                    samples[f"tunelab-{processes}"].append(tunelab(args.cli, spec_path, processes, db, env) * batch)
                    samples[f"pytorch-{processes}"].append(peer(job, batch, epochs, processes, env) * batch)
                print(f"{job} batch {batch} round {round_index + 1}: " +
                      ", ".join(f"{key} {values[-1]:.0f} samples/s" for key, values in samples.items()), flush=True)
            medians = {key: statistics.median(values) for key, values in samples.items()}
            summary[f"{job}/{batch}"] = {
                **{f"{key}_samples_per_s": round(value) for key, value in medians.items()},
                "tunelab_2_over_1": round(medians["tunelab-2"] / medians["tunelab-1"], 2),
                "pytorch_2_over_1": round(medians["pytorch-2"] / medians["pytorch-1"], 2),
                "tunelab_2_over_pytorch_2": round(medians["tunelab-2"] / medians["pytorch-2"], 2)}
    for job, numbers in summary.items():
        print(f"{job}: tunelab 2 processes / 1 = {numbers['tunelab_2_over_1']}x, pytorch DDP 2 / 1 = "
              f"{numbers['pytorch_2_over_1']}x, tunelab 2 / pytorch 2 = {numbers['tunelab_2_over_pytorch_2']}x")
    print(json.dumps(summary))

if __name__ == "__main__":
    main()
