#!/usr/bin/python3
"""Training throughput: tunelab-cli against the PyTorch peer (../shared/reference/ref_train.py).

Both sides train the same job on the same LibTorch build with one intra-op thread and
OPENBLAS_NUM_THREADS=1, alternating run by run so that machine noise hits both alike. The timed
part on both sides is the training loop (all epochs with their validation).

Usage: bench/bench_train.py [--cli build/app/tunelab-cli] [--rounds 5] [--jobs digits-mlp,spirals-mlp]
Prints one line per run and a summary with the median steps/s of each side and their ratio.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = os.path.join(ROOT, "..", "shared", "reference", "ref_train.py")
JOBS = {"digits-mlp": {"batch": 64}, "spirals-mlp": {"batch": 32}}

def run(command, env):
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "tunelab-cli"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jobs", default="digits-mlp,spirals-mlp")
    args = parser.parse_args()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    summary = {}
    with tempfile.TemporaryDirectory() as folder:
        db = os.path.join(folder, "bench.sqlite")
        for job in args.jobs.split(","):
            ours, peers = [], []
            spec = os.path.join(ROOT, "bench", "specs", f"{job}.json")
            for round_index in range(args.rounds):
                mine = run([args.cli, "train", spec, "--threads", "1", "--json", "--db", db], env)
                peer = run(["/usr/bin/python3", PEER, job, "--threads", "1", "--batch", str(JOBS[job]["batch"])], env)
                ours.append(mine["steps_per_second"])
                peers.append(peer["steps_per_s"])
                print(f"{job} round {round_index + 1}: tunelab {mine['steps_per_second']:.0f} steps/s "
                      f"(val_acc {mine['val_accuracy']:.3f}), pytorch {peer['steps_per_s']:.0f} steps/s "
                      f"(val_acc {peer['val_acc']:.3f})", flush=True)
            ratio = statistics.median(ours) / statistics.median(peers)
            # Rounds alternate, so each round's pair saw the same machine state.
            paired = statistics.median(mine / peer for mine, peer in zip(ours, peers))
            summary[job] = {"tunelab_steps_per_s": round(statistics.median(ours), 1),
                            "pytorch_steps_per_s": round(statistics.median(peers), 1), "ratio": round(ratio, 2),
                            "median_round_ratio": round(paired, 2)}
    for job, numbers in summary.items():
        print(f"{job}: tunelab {numbers['tunelab_steps_per_s']} steps/s, pytorch {numbers['pytorch_steps_per_s']} "
              f"steps/s, ratio {numbers['ratio']}x (median of per-round ratios {numbers['median_round_ratio']}x)")
    print(json.dumps(summary))

if __name__ == "__main__":
    main()
