#!/usr/bin/python3
"""Regression accuracy: tunelab-cli against the same training written in PyTorch, epoch by epoch.

Both sides train one MLP (10-64-64-1, ReLU, MSE, Adam lr 0.01 with its defaults, batch 32, last partial
batch kept) on the same rows. The PyTorch side is what a user writes: nn.Linear's default initialisation
after torch.manual_seed(seed) and DataLoader(shuffle=True)'s batch order, on TuneLab's split and feature
scaling, which it re-implements bit for bit (splitDataset and standardizeFeatures of
engine/core/data/dataset.cpp: std::mt19937_64, the unbiased draw, Fisher-Yates; the mean and population
deviation of the training rows in double, applied in float). The initial parameters are then TuneLab's
exactly: each run prints whether its `initial_parameters_hash` matched.

Tasks (10 features each):
  generated-10    TuneLab's regression generator, 1000 samples, noise 0.1 (re-implemented here; new data per
                  seed, as in TuneLab)                                                     investigation
  cancer-texture  breast_cancer.csv, target mean_texture from the ten *_error columns       investigation
  wine-alcohol    wine.csv, target alcohol from malic_acid..hue                             held out
The CSV tasks are written to a temporary CSV with only those columns, which both sides read.

--control        trains PyTorch a second time with another batch order stream: the ratio of the two
                 PyTorch runs is the noise floor that the TuneLab / PyTorch ratio is to be judged against.
--order tunelab  the PyTorch side visits the rows in TuneLab's own order (std::shuffle of libstdc++ 12 on the
                 trainer's std::mt19937_64, re-implemented; the batch order hashes are compared). With the
                 same initial parameters the two runs then differ only by floating-point rounding.
--no-shuffle     both sides visit the training rows in order.

Usage: bench/bench_regression_parity.py [--cli build/app/tunelab-cli] [--tasks generated-10,cancer-texture,wine-alcohol]
       [--seeds 1,...,10] [--epochs 300] [--every 50] [--control] [--order torch|tunelab] [--no-shuffle]
Prints, per task and seed, the validation MAE and loss of both sides at sampled epochs, then the MAE ratio
(TuneLab / PyTorch) at the last epoch and averaged over the last 50 epochs, per seed, with their median and
geometric mean. One intra-op thread and OPENBLAS_NUM_THREADS=1 on both sides.
"""
import argparse, csv, io, json, math, os, statistics, subprocess, sys, tempfile

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch  # noqa: E402  (after the thread variables)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data")
TASKS = {
    "cancer-texture": ("breast_cancer.csv", "mean_texture",
                       ["radius_error", "texture_error", "perimeter_error", "area_error", "smoothness_error",
                        "compactness_error", "concavity_error", "concave_points_error", "symmetry_error",
                        "fractal_dimension_error"]),
    "wine-alcohol": ("wine.csv", "alcohol",
                     ["malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids",
                      "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue"]),
}
# Built-in generator tasks: samples, features, noise (the data depend on the run's seed).
GENERATED = {"generated-10": (1000, 10, 0.1)}
HIDDEN, LR, BATCH, VALIDATION = 64, 0.01, 32, 0.2
MASK64 = (1 << 64) - 1


class Mt19937_64:
    """std::mt19937_64, bit for bit."""

    def __init__(self, seed):
        self.state = [seed & MASK64]
        for i in range(1, 312):
            previous = self.state[-1]
            self.state.append((6364136223846793005 * (previous ^ (previous >> 62)) + i) & MASK64)
        self.index = 312

    def __call__(self):
        if self.index >= 312:
            mt = self.state
            for k in range(312):
                y = (mt[k] & 0xFFFFFFFF80000000) | (mt[(k + 1) % 312] & 0x7FFFFFFF)
                mt[k] = mt[(k + 156) % 312] ^ (y >> 1) ^ (0xB5026F5AA96619E9 if y & 1 else 0)
            self.index = 0
        x = self.state[self.index]
        self.index += 1
        x ^= (x >> 29) & 0x5555555555555555
        x ^= (x << 17) & 0x71D67FFFEDA60000
        x ^= (x << 37) & 0xFFF7EEE000000000
        return (x ^ (x >> 43)) & MASK64


def draw_at_most(engine, bound):
    """drawAtMost of dataset.cpp: unbiased in [0, bound]."""
    span = bound + 1
    while True:
        value = engine()
        draw = value % span
        if value - draw <= MASK64 - bound:
            return draw


def split_dataset(rows, fraction, seed):
    """splitDataset of dataset.cpp: (train rows, validation rows), both ascending."""
    order = list(range(rows))
    engine = Mt19937_64(seed)
    for i in range(rows - 1, 0, -1):
        j = draw_at_most(engine, i)
        order[i], order[j] = order[j], order[i]
    validation = min(max(int(math.floor(fraction * rows + 0.5)), 1), rows - 1)
    return sorted(order[validation:]), sorted(order[:validation])


def uniform_below(engine, span):
    """libstdc++'s uniform_int_distribution over [0, span) for a 64-bit engine (Lemire's method)."""
    product = engine() * span
    low = product & MASK64
    if low < span:
        threshold = ((1 << 64) - span) % span
        while low < threshold:
            product = engine() * span
            low = product & MASK64
    return product >> 64


class EpochOrder:
    """The trainer's epoch shuffle: std::shuffle (libstdc++ 12) of 0..rows-1 driven by its std::mt19937_64."""

    def __init__(self, seed):
        self.engine = Mt19937_64((seed * 0x9E3779B97F4A7C15 + 17) & MASK64)

    def __call__(self, rows):
        order = list(range(rows))
        if rows <= 1:
            return order
        if MASK64 // rows >= rows:
            i = 1
            if rows % 2 == 0:
                j = uniform_below(self.engine, 2)
                order[i], order[j] = order[j], order[i]
                i += 1
            while i != rows:
                span = i + 1
                both = uniform_below(self.engine, span * (span + 1))
                for j in (both // (span + 1), both % (span + 1)):
                    order[i], order[j] = order[j], order[i]
                    i += 1
            return order
        for i in range(1, rows):
            j = uniform_below(self.engine, i + 1)
            order[i], order[j] = order[j], order[i]
        return order


def standardize(features, train_rows):
    """standardizeFeatures of dataset.cpp: statistics of the training rows in double, applied in float."""
    train = features[train_rows].double()
    mean = train.mean(0)
    deviation = ((train - mean) ** 2).mean(0).sqrt()
    spread = deviation > 1e-7 * mean.abs().clamp(min=1.0)
    factor = torch.where(spread, 1.0 / deviation, torch.ones_like(deviation))
    return (features - mean.float()) * factor.float()


def fnv1a64(data, value=0xCBF29CE484222325):
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & MASK64
    return value


class GeneratorRandom:
    """The Random class of engine/core/data/data_generators.cpp."""

    def __init__(self, seed):
        self.engine = Mt19937_64(seed ^ 0x9E3779B97F4A7C15)
        self.spare = None

    def uniform(self, low=0.0, high=1.0):
        return low + (high - low) * (float(self.engine() >> 11) * (1.0 / 9007199254740992.0))

    def normal(self):
        if self.spare is not None:
            value, self.spare = self.spare, None
            return value
        u1, u2 = 1.0 - self.uniform(), self.uniform()
        radius = math.sqrt(-2.0 * math.log(u1))
        self.spare = radius * math.sin(2.0 * math.pi * u2)
        return radius * math.cos(2.0 * math.pi * u2)


def generate_regression(samples, width, noise, seed):
    """fillRegression of data_generators.cpp: a linear term, sin(3 x0) and Gaussian noise."""
    random = GeneratorRandom(seed)
    weights = [random.uniform(-1.0, 1.0) for _ in range(width)]
    features = torch.empty(samples, width, dtype=torch.float32)
    targets = torch.empty(samples, dtype=torch.float32)
    for i in range(samples):
        row = [random.uniform(-1.0, 1.0) for _ in range(width)]
        features[i] = torch.tensor(row, dtype=torch.float32)
        first = float(features[i, 0])
        linear = 0.0
        for weight, x in zip(weights, row):
            linear += weight * x
        targets[i] = linear + (math.sin(3.0 * first) + noise * random.normal())
    return features, targets


def task_data(task, seed, folder):
    """The task's data section for TuneLab's spec, and the same rows as tensors for PyTorch."""
    if task in GENERATED:
        samples, width, noise = GENERATED[task]
        features, targets = generate_regression(samples, width, noise, seed)
        return {"kind": "regression", "samples": samples, "features": width, "noise": noise}, features, targets
    source, target, columns = TASKS[task]
    path = os.path.join(folder, f"{task}.csv")
    if not os.path.exists(path):
        write_task_csv(source, target, columns, path)
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    features = torch.tensor([[float(row[name]) for name in columns] for row in rows], dtype=torch.float32)
    targets = torch.tensor([float(row[target]) for row in rows], dtype=torch.float32)
    return {"kind": "csv", "path": path, "target": target, "task": "regression"}, features, targets


def write_task_csv(source, target, columns, path):
    with open(os.path.join(DATA, source), newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns + [target])
        for row in rows:
            writer.writerow([row[name] for name in columns + [target]])


def spec_for(task, data, seed, epochs, shuffle):
    layers = [{"type": "linear", "out_features": HIDDEN}, {"type": "relu"},
              {"type": "linear", "out_features": HIDDEN}, {"type": "relu"}, {"type": "linear", "out_features": 1}]
    return {"name": f"parity-{task}-{seed}", "seed": seed,
            "data": dict(data, validation_fraction=VALIDATION, standardize=True),
            "model": {"layers": layers}, "loss": {"type": "mse"}, "optimizer": {"type": "adam", "lr": LR},
            "training": {"epochs": epochs, "batch_size": BATCH, "shuffle": shuffle}}


def run_tunelab(cli, spec, folder, env):
    spec_path = os.path.join(folder, spec["name"] + ".json")
    with open(spec_path, "w") as handle:
        json.dump(spec, handle)
    db = os.path.join(folder, "runs.sqlite")
    result = subprocess.run([cli, "train", spec_path, "--threads", "1", "--json", "--db", db], env=env,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"tunelab-cli train failed:\n{result.stderr}")
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    run_id = str(summary["run_id"])
    exported = subprocess.run([cli, "runs", "export", run_id, "--format", "csv", "--series", "epochs", "--db", db],
                              env=env, capture_output=True, text=True, check=True).stdout
    shown = json.loads(subprocess.run([cli, "runs", "show", run_id, "--db", db], env=env, capture_output=True,
                                      text=True, check=True).stdout)
    curve = {}
    for row in csv.DictReader(io.StringIO(exported)):
        if row["kind"] == "epoch":
            curve[int(row["epoch"])] = (float(row["val_mae"]), float(row["val_loss"]))
    return curve, shown


def build_network(width, seed):
    torch.manual_seed(seed)  # a user's script: the default initialisation and the DataLoader both draw from it
    return torch.nn.Sequential(torch.nn.Linear(width, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, HIDDEN),
                               torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 1))


def run_pytorch(features, targets, seed, epochs, order, order_seed=None):
    """One PyTorch run; order is "torch" (torch.randperm), "tunelab" (the trainer's shuffle) or "none".
    Returns the per-epoch (MAE, loss) curve and the hashes of the initial parameters and the batch order."""
    train_rows, validation_rows = split_dataset(len(features), VALIDATION, seed)
    scaled = standardize(features, torch.tensor(train_rows))
    train_x, train_y = scaled[train_rows], targets[train_rows].unsqueeze(1)
    val_x, val_y = scaled[validation_rows], targets[validation_rows].unsqueeze(1)
    network = build_network(features.shape[1], seed)
    flat = torch.cat([p.detach().reshape(-1) for p in network.parameters()])
    initial_hash = fnv1a64(flat.numpy().tobytes())
    optimizer = torch.optim.Adam(network.parameters(), lr=LR)
    loss_function = torch.nn.MSELoss()
    rows = len(train_x)
    if rows <= BATCH:
        order = "none"  # one step per epoch: the trainer does not shuffle
    # "torch" is DataLoader(shuffle=True)'s RandomSampler: without a generator of its own it seeds a fresh one
    # from the global generator every epoch (the global one continues after the initialisation).
    own_generator = None if order_seed is None else torch.Generator().manual_seed(order_seed)
    tunelab_order = EpochOrder(seed)
    order_hash, curve = 0xCBF29CE484222325, {}
    for epoch in range(1, epochs + 1):
        if order == "torch":
            generator = own_generator
            if generator is None:
                generator = torch.Generator().manual_seed(int(torch.empty((), dtype=torch.int64).random_().item()))
            batch_order = torch.randperm(rows, generator=generator)
        elif order == "tunelab":
            batch_order = torch.tensor(tunelab_order(rows))
        else:
            batch_order = torch.arange(rows)
        if order != "torch":  # comparable with TuneLab's batch_order_hash
            order_hash = fnv1a64(torch.tensor(train_rows)[batch_order].numpy().astype("<i8").tobytes(), order_hash)
        for start in range(0, rows, BATCH):  # the last partial batch is kept, as in DataLoader(drop_last=False)
            batch = batch_order[start:start + BATCH]
            optimizer.zero_grad()
            loss = loss_function(network(train_x[batch]), train_y[batch])
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            output = network(val_x)
            curve[epoch] = ((output - val_y).abs().mean().item(), loss_function(output, val_y).item())
    return curve, initial_hash, order_hash


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "tunelab-cli"))
    parser.add_argument("--tasks", default="generated-10,cancer-texture,wine-alcohol")
    parser.add_argument("--seeds", default="1,2,3,4,5,6,7,8,9,10")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--every", type=int, default=50, help="print every this many epochs (and the first)")
    parser.add_argument("--order", choices=["torch", "tunelab"], default="torch",
                        help="the PyTorch side's batch order: torch.randperm, or TuneLab's own shuffle")
    parser.add_argument("--no-shuffle", action="store_true", help="both sides visit the rows in order")
    parser.add_argument("--control", action="store_true",
                        help="also train PyTorch a second time with another randperm stream: the noise floor")
    args = parser.parse_args()
    torch.set_num_threads(1)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    seeds = [int(seed) for seed in args.seeds.split(",")]
    shuffle = not args.no_shuffle
    order = args.order if shuffle else "none"
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for task in args.tasks.split(","):
            ratios, controls, tails, control_tails = [], [], [], []
            for seed in seeds:
                data, features, targets = task_data(task, seed, folder)
                ours, shown = run_tunelab(args.cli, spec_for(task, data, seed, args.epochs, shuffle), folder, env)
                peer, initial_hash, order_hash = run_pytorch(features, targets, seed, args.epochs, order)
                control = (run_pytorch(features, targets, seed, args.epochs, "torch", seed + 1000)[0]
                           if args.control else None)
                same = []
                if f"{initial_hash:016x}" == shown.get("initial_parameters_hash"):
                    same.append("initial parameters")
                if order != "torch" and f"{order_hash:016x}" == shown.get("batch_order_hash"):
                    same.append("batch order")
                print(f"\n{task} seed {seed}: pytorch order {order}; identical on both sides: "
                      f"{', '.join(same) or 'nothing checked'}")
                header = f"{'epoch':>6} {'tunelab MAE':>12} {'pytorch MAE':>12} {'ratio':>7}"
                header += f" {'control MAE':>12}" if control else ""
                print(header + f" {'tunelab loss':>13} {'pytorch loss':>13}")
                for epoch in sorted(ours):
                    if epoch == 1 or epoch % args.every == 0 or epoch == args.epochs:
                        (mae, loss), (peer_mae, peer_loss) = ours[epoch], peer[epoch]
                        line = f"{epoch:>6} {mae:>12.5f} {peer_mae:>12.5f} {mae / peer_mae:>7.3f}"
                        line += f" {control[epoch][0]:>12.5f}" if control else ""
                        print(line + f" {loss:>13.5f} {peer_loss:>13.5f}")
                final = ours[max(ours)][0] / peer[max(peer)][0]
                ratios.append(final)
                tails.append(tail_mae(ours) / tail_mae(peer))
                line = f"final MAE ratio (tunelab / pytorch): {final:.3f}; last-{tail_epochs(ours)}-epochs mean: {tails[-1]:.3f}"
                if control:
                    controls.append(control[max(control)][0] / peer[max(peer)][0])
                    control_tails.append(tail_mae(control) / tail_mae(peer))
                    line += f"; control (pytorch, other order / pytorch): {controls[-1]:.3f}, {control_tails[-1]:.3f}"
                print(line, flush=True)
            results[task] = {"final": summarize(ratios), "tail": summarize(tails)}
            if controls:
                results[task]["control_final"] = summarize(controls)
                results[task]["control_tail"] = summarize(control_tails)
    print("\nsummary: validation MAE ratios, tunelab / pytorch (control: pytorch with another batch order / pytorch);"
          " final = last epoch, tail = mean over the last epochs")
    for task, numbers in results.items():
        for key, values in numbers.items():
            print(f"{task} {key}: {describe(values)}")
    print(json.dumps({"order": order, "epochs": args.epochs, "results": results}))


def tail_epochs(curve):
    return max(1, min(50, len(curve) // 6))


def tail_mae(curve):
    """The validation MAE averaged over the last epochs: less at the mercy of the last few steps."""
    last = sorted(curve)[-tail_epochs(curve):]
    return statistics.mean(curve[epoch][0] for epoch in last)


def summarize(ratios):
    return {"ratios": [round(r, 3) for r in ratios], "median": round(statistics.median(ratios), 3),
            "geometric_mean": round(math.exp(statistics.mean(math.log(r) for r in ratios)), 3),
            "above_one": sum(r > 1.0 for r in ratios)}


def describe(numbers):
    return (f"per seed {numbers['ratios']}, median {numbers['median']}, geometric mean {numbers['geometric_mean']}, "
            f"above 1 on {numbers['above_one']} of {len(numbers['ratios'])} seeds")


if __name__ == "__main__":
    main()
