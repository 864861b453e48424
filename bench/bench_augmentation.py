#!/usr/bin/python3
"""Augmentation overhead: the share of epoch time that training-time augmentation adds, for 28x28 gray
and 32x32 colour images in batches of 128 on the CPU, TuneLab (tunelab-cli train) beside the same
model and augmentation in PyTorch (bench/augment_peer.py), on the same LibTorch build.

The images are ../shared/data/digits.csv (1,797 samples) drawn at 28x28 (gray) and 32x32 (each class
in its own colour), written as an image folder of PNG files for TuneLab and as raw bytes for the peer.
The reported augmentation is the issue's: horizontal flip, random crop after 4 pixels of padding,
Gaussian noise (0.05). Held out: the same measured with every augmentation TuneLab has (rotation,
zoom, shift, brightness, contrast, cutout, mixup on top), which no choice here was tuned on.
One intra-op thread each; rounds alternate the set-ups. overhead = augmented / plain - 1 of the
training loop's seconds (no validation split).

Usage: bench/bench_augmentation.py [--cli build/app/tunelab-cli] [--rounds 3] [--epochs 3]
"""
import argparse, csv, json, os, statistics, struct, sys, tempfile, zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_train import run  # noqa: E402 (runs a command and reads its last JSON line)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = os.path.join(ROOT, "bench", "augment_peer.py")
COLOURS = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
           (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212)]
REPORTED = {"flip_horizontal": True, "crop_padding": 4, "noise": 0.05}
HELD_OUT = dict(REPORTED, rotation=10, scale=[0.9, 1.1], translate=0.05, brightness=0.1, contrast=0.2,
                cutout=8, mixup=0.2)

def png(size, channels, pixels):
    raw = b"".join(b"\x00" + bytes(pixels[y * size * channels:(y + 1) * size * channels]) for y in range(size))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", size, size, 8, 0 if channels == 1 else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

def write_folders(folder, size, channels):
    rows = list(csv.reader(open(os.path.join(ROOT, "..", "shared", "data", "digits.csv"))))[1:]
    pngs, raws = os.path.join(folder, f"png{size}"), os.path.join(folder, f"raw{size}")
    for index, row in enumerate(rows):
        digit = int(row[-1])
        levels = [int(v) * 255 // 16 for v in row[:-1]]
        pixels = []
        for y in range(size):
            for x in range(size):
                level = levels[(y * 8 // size) * 8 + x * 8 // size]
                pixels += [level] if channels == 1 else [c * level // 255 for c in COLOURS[digit]]
        for base, name, data in ((pngs, f"{index:04d}.png", png(size, channels, pixels)),
                                 (raws, f"{index:04d}.u8", bytes(pixels))):
            os.makedirs(os.path.join(base, str(digit)), exist_ok=True)
            with open(os.path.join(base, str(digit), name), "wb") as file:
                file.write(data)
    return pngs, raws

def spec_for(path, size, augment, epochs):
    return {"name": f"augment-{size}", "seed": 1, "device": "cpu",
            "data": {"kind": "image_folder", "path": path, "validation_fraction": 0},
            "model": {"layers": [
                {"type": "conv2d", "out_channels": 16, "kernel_size": 3, "padding": 1}, {"type": "relu"},
                {"type": "maxpool2d", "kernel_size": 2},
                {"type": "conv2d", "out_channels": 32, "kernel_size": 3, "padding": 1}, {"type": "relu"},
                {"type": "maxpool2d", "kernel_size": 2}, {"type": "flatten"},
                {"type": "linear", "out_features": 64}, {"type": "relu"}, {"type": "linear", "out_features": 10}]},
            "optimizer": {"type": "adam", "lr": 0.001},
            "training": {"epochs": epochs, "batch_size": 128},
            **({"augment": augment} if augment else {})}

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "tunelab-cli"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    summary = {}
    with tempfile.TemporaryDirectory() as folder:
        db = os.path.join(folder, "bench.sqlite")
        for size, channels in ((28, 1), (32, 3)):
            pngs, raws = write_folders(folder, size, channels)
            specs = {}
            for name, augment in (("plain", None), ("reported", REPORTED), ("held_out", HELD_OUT)):
                specs[name] = os.path.join(folder, f"{name}-{size}.json")
                with open(specs[name], "w") as file:
                    json.dump(spec_for(pngs, size, augment, args.epochs), file)
            seconds = {key: [] for key in ("plain", "reported", "held_out", "peer_plain", "peer_reported")}
            for round_index in range(args.rounds):
                for name in ("plain", "reported", "held_out"):
                    seconds[name].append(run([args.cli, "train", specs[name], "--threads", "1", "--json", "--db", db],
                                             env)["train_seconds"])
                peer = ["/usr/bin/python3", PEER, raws, "--size", str(size), "--channels", str(channels),
                        "--epochs", str(args.epochs)]
                seconds["peer_plain"].append(run(peer, env)["seconds"])
                seconds["peer_reported"].append(run(peer + ["--augment"], env)["seconds"])
                print(f"{size}x{size}x{channels} round {round_index + 1}: " +
                      ", ".join(f"{key} {values[-1]:.2f} s" for key, values in seconds.items()), flush=True)
            medians = {key: statistics.median(values) for key, values in seconds.items()}
            summary[f"{size}x{size}x{channels}"] = {
                **{f"{key}_seconds": round(value, 3) for key, value in medians.items()},
                "tunelab_overhead_reported": round(medians["reported"] / medians["plain"] - 1, 3),
                "tunelab_overhead_held_out": round(medians["held_out"] / medians["plain"] - 1, 3),
                "pytorch_overhead_reported": round(medians["peer_reported"] / medians["peer_plain"] - 1, 3)}
    for images, numbers in summary.items():
        print(f"{images}: TuneLab flip+crop+noise {numbers['tunelab_overhead_reported']:+.1%} (target <= +10 %), "
              f"every augmentation {numbers['tunelab_overhead_held_out']:+.1%}; PyTorch flip+crop+noise "
              f"{numbers['pytorch_overhead_reported']:+.1%}")
    print(json.dumps(summary))

if __name__ == "__main__":
    main()
