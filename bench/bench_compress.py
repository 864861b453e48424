#!/usr/bin/python3
"""Model compression: `tunelab-cli compress` against the issue's targets, with PyTorch beside it.

For each dataset and network, per seed: a compression plan trains the source, then makes
  prune-90       unstructured magnitude pruning to 90 % (one shot, one threshold), fine-tuned;
  structured-50  half of every hidden layer's neurons or channels removed, fine-tuned;
  int8           post-training int8 quantization (per-channel weights, 512 calibration rows), each layer
                 int8 only where it measured faster at batch 1 and accurate enough;
  int8-all       the same with every layer int8;
  qat-all        5 epochs of quantization-aware fine-tuning (weights and activations rounded), then
                 every layer int8;
  qat-all-weights  the same with only the weights rounded in fine-tuning;
  student        a distilled student with at most 1/8 of the source's parameters, trained on mixed pairs
                 of samples that the teacher labels as mixed, and the same student trained alone on the
                 same mixed samples (same epochs, same seed);
  student-plain  the same without mixup, and alone.
and measures accuracy, parameters, file size and batch-1 / batch-64 CPU latency on one thread.

Beside it, in the same run and on the same weights, PyTorch (Debian's python3-torch): the exported
TorchScript source run by torch.jit.load, and PyTorch's own int8 (torch.ao.quantization.quantize_dynamic
of the same network), both timed the same way.

digits (MLP and CNN) is the reported set; wine and breast_cancer (MLP) are held out: the variants'
settings (epochs, learning rates, temperature, alpha) were fixed before any of them ran.

Usage: bench/bench_compress.py [--cli build/app/tunelab-cli] [--seeds 3] [--distill-seeds 5]
                               [--sets digits-mlp,digits-cnn,wine-mlp,breast_cancer-mlp]
                               [--students-only] [--first-seed 1] [--student-temperature 1]
                               [--student-alpha 0.3] [--student-mixup 1]
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data"))
TARGETS = {"digits": ("digit", 10), "wine": ("target", 3), "breast_cancer": ("target", 2)}


def source_experiment(dataset, network, seed):
    target, classes = TARGETS[dataset]
    data = {"kind": "csv", "path": os.path.join(DATA, dataset + ".csv"), "target": target,
            "validation_fraction": 0.2, "standardize": True}
    if network == "mlp":
        layers = [{"type": "linear", "out_features": 512}, {"type": "relu"},
                  {"type": "linear", "out_features": 512}, {"type": "relu"},
                  {"type": "linear", "out_features": classes}]
    else:
        data = dict(data, standardize=False, scale=0.0625, input_shape=[1, 8, 8])
        layers = [{"type": "conv2d", "out_channels": 32, "kernel_size": 3, "padding": 1}, {"type": "relu"},
                  {"type": "conv2d", "out_channels": 64, "kernel_size": 3, "padding": 1}, {"type": "relu"},
                  {"type": "maxpool2d", "kernel_size": 2}, {"type": "flatten"},
                  {"type": "linear", "out_features": 128}, {"type": "relu"},
                  {"type": "linear", "out_features": classes}]
    return {"name": f"{dataset}-{network}", "seed": seed, "device": "cpu", "data": data,
            "model": {"layers": layers},
            "optimizer": {"type": "adamw", "lr": 0.001, "weight_decay": 0.01},
            "schedule": {"type": "cosine"}, "training": {"epochs": 20, "batch_size": 64}}


def student_layers(classes):
    # features -> 128 -> classes: 9.6k parameters on digits, 1/31 of the MLP source and 1/16 of the CNN.
    return [{"type": "linear", "out_features": 128}, {"type": "relu"},
            {"type": "linear", "out_features": classes}]


STUDENTS = ("student", "student-plain")


STUDENT_SETTINGS = {"temperature": 1.0, "alpha": 0.3, "mixup": 1.0}


def plan(dataset, network, seed, with_student, students_only=False):
    _, classes = TARGETS[dataset]
    # Fine-tuning (20 epochs at lr 0.001, one-shot global pruning) and the distillation settings (T 1,
    # alpha 0.3, 80 epochs; mixup 1 and the 128-wide student) were chosen on digits-mlp seeds 1-3;
    # nothing was chosen on the other sets or seeds.
    variants = [] if students_only else [
        {"name": "prune-90", "kind": "prune", "sparsity": 0.9, "epochs": 20, "lr": 0.001},
        {"name": "structured-50", "kind": "structured", "fraction": 0.5, "epochs": 20, "lr": 0.001},
        {"name": "int8", "kind": "int8"},
        {"name": "int8-all", "kind": "int8", "all_int8": True},
        {"name": "qat-all", "kind": "qat", "all_int8": True, "epochs": 5, "lr": 0.0003},
        {"name": "qat-all-weights", "kind": "qat", "all_int8": True, "epochs": 5, "lr": 0.0003,
         "activations": False},
    ]
    if with_student:
        student = {"layers": student_layers(classes)}
        if network == "cnn":
            student["layers"] = [{"type": "flatten"}] + student["layers"]
        # "student" learns from the teacher on mixed pairs of samples, which the teacher labels as
        # mixed, and "student alone" trains on the same mixed pairs with their mixed labels;
        # "student-plain" and its alone train without mixup.
        for name, mixup in zip(STUDENTS, (STUDENT_SETTINGS["mixup"], 0.0)):
            variants.append({"name": name, "kind": "distill", "temperature": STUDENT_SETTINGS["temperature"],
                             "alpha": STUDENT_SETTINGS["alpha"], "epochs": 80, "lr": 0.003, "mixup": mixup,
                             "student": student})
    return {"name": f"{dataset}-{network}-{seed}", "source": {"experiment": source_experiment(dataset, network, seed)},
            "latency": {"threads": 1, "repeats": 300}, "variants": variants}


def run_plan(cli, folder, the_plan):
    path = os.path.join(folder, the_plan["name"] + ".json")
    with open(path, "w") as out:
        json.dump(the_plan, out)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    started = time.time()
    result = subprocess.run([cli, "compress", path, "--db", os.path.join(folder, "runs.db"), "--json",
                             "--out", os.path.join(folder, the_plan["name"])],
                            capture_output=True, text=True, env=env, check=False)
    if not result.stdout.strip():
        sys.exit(f"compress {the_plan['name']} failed:\n{result.stderr[-3000:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report["seconds"] = time.time() - started
    return report


PEER = r'''
import json, statistics, sys, time, torch
torch.set_num_threads(1)
path, rows = sys.argv[1], json.loads(sys.argv[2])
scripted = torch.jit.load(path).eval()
x1 = torch.tensor(rows[:1], dtype=torch.float32)
x64 = torch.tensor((rows * 64)[:64], dtype=torch.float32)
def median_ms(f, x, n):
    with torch.no_grad():
        for _ in range(max(5, n // 10)): f(x)
        times = []
        for _ in range(n):
            t = time.perf_counter(); f(x); times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)
out = {"torchscript_ms": median_ms(scripted, x1, 300), "torchscript64_ms": median_ms(scripted, x64, 75)}
# An MLP (linear layers with ReLU between) rebuilt as nn.Sequential, for PyTorch's eager mode and its
# dynamic int8 quantization of linear layers (the form PyTorch documents for MLPs on the CPU).
named = dict(scripted.named_parameters())
prefixes = sorted({n.rsplit("_", 1)[0] for n in named}, key=lambda n: int(n[5:]) if n[5:].isdigit() else -1)
if all(p.dim() in (1, 2) for p in named.values()) and all(p + "_weight" in named for p in prefixes):
    layers = []
    for prefix in prefixes:
        weight, bias = named[prefix + "_weight"], named.get(prefix + "_bias")
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
        linear.weight.data.copy_(weight)
        if bias is not None: linear.bias.data.copy_(bias)
        layers += [linear, torch.nn.ReLU()]
    eager = torch.nn.Sequential(*layers[:-1]).eval()
    out["eager_ms"] = median_ms(eager, x1, 300)
    out["eager64_ms"] = median_ms(eager, x64, 75)
    for engine in torch.backends.quantized.supported_engines:
        if engine == "none": continue
        torch.backends.quantized.engine = engine
        try:
            q = torch.ao.quantization.quantize_dynamic(eager, {torch.nn.Linear}, dtype=torch.qint8)
            out[engine + "_dynamic_int8_ms"] = median_ms(q, x1, 300)
            out[engine + "_dynamic_int8_64_ms"] = median_ms(q, x64, 75)
        except Exception as error:
            out[engine + "_dynamic_int8_error"] = str(error)[:120]
print(json.dumps(out))
'''


def peer(file, rows):
    result = subprocess.run(["/usr/bin/python3", "-c", PEER, file, json.dumps(rows)], capture_output=True,
                            text=True, env=dict(os.environ, OMP_NUM_THREADS="1"), check=False)
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"}
    return json.loads(result.stdout)


def first_rows(dataset, network, count=4):
    import csv
    target, _ = TARGETS[dataset]
    with open(os.path.join(DATA, dataset + ".csv")) as handle:
        reader = csv.DictReader(handle)
        rows = []
        for row in reader:
            values = [float(v) for k, v in row.items() if k != target]
            rows.append([[values[i * 8:(i + 1) * 8] for i in range(8)]] if network == "cnn" else values)
            if len(rows) == count:
                return rows


def by_name(report):
    return {v["name"]: v for v in report["variants"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "tunelab-cli"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--distill-seeds", type=int, default=5)
    parser.add_argument("--sets", default="digits-mlp,digits-cnn,wine-mlp,breast_cancer-mlp")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--students-only", action="store_true",
                        help="train the source and the students only (about 1 minute per set on 2 cores)")
    for key, value in STUDENT_SETTINGS.items():
        parser.add_argument("--student-" + key, type=float, default=value)
    args = parser.parse_args()
    for key in STUDENT_SETTINGS:
        STUDENT_SETTINGS[key] = getattr(args, "student_" + key)
    with tempfile.TemporaryDirectory() as folder:
        for name in args.sets.split(","):
            dataset, network = name.rsplit("-", 1)
            reports = []
            seeds = max(args.distill_seeds, 0 if args.students_only else args.seeds)
            for seed in range(args.first_seed, args.first_seed + seeds):
                reports.append(run_plan(args.cli, folder, plan(dataset, network, seed, True, args.students_only)))
            if args.students_only:
                summarize_students(name, reports, args.first_seed)
                continue
            summarize(name, reports[:args.seeds], reports, peer(reports[0]["source"]["file"],
                                                                first_rows(dataset, network)))


def points(value):
    return "-" if value is None else f"{100 * value:.1f}"


def summarize(name, reports, distill_reports, peer_times):
    held_out = "" if name.startswith("digits") else "  (held out)"
    print(f"\n== {name}{held_out}: median of {len(reports)} seeds")
    def median(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None
    source_acc = median([r["source"]["val_accuracy"] for r in reports])
    print(f"source: accuracy {points(source_acc)} %, {reports[0]['source']['parameters']} parameters, "
          f"{reports[0]['source']['size_bytes']} bytes, batch-1 {median([r['source']['latency_ms'] for r in reports]):.4f} ms, "
          f"batch-64 {median([r['source']['batch64_ms'] for r in reports]):.4f} ms")
    for variant in ("prune-90", "structured-50", "int8", "int8-all", "qat-all", "qat-all-weights"):
        rows = [by_name(r).get(variant) for r in reports]
        rows = [v for v in rows if v and v["status"] == "completed"]
        if not rows:
            print(f"{variant}: failed: {[by_name(r).get(variant, {}).get('message') for r in reports]}")
            continue
        drops = [r["source"]["val_accuracy"] - by_name(r)[variant]["val_accuracy"] for r in reports
                 if by_name(r).get(variant, {}).get("status") == "completed"]
        size_ratio = median([r["source"]["size_bytes"] / max(1, by_name(r)[variant]["size_bytes"]) for r in reports
                             if by_name(r).get(variant, {}).get("status") == "completed"])
        b64 = median([r["source"]["batch64_ms"] / by_name(r)[variant]["batch64_ms"] for r in reports
                      if by_name(r).get(variant, {}).get("status") == "completed"])
        print(f"{variant}: accuracy drop {points(median(drops))} points (seeds: {' '.join(points(d) for d in drops)}), nonzero "
              f"{median([v['nonzero_parameters'] for v in rows])}, size {size_ratio:.2f}x smaller, "
              f"batch-1 speedup {median([v['speedup'] for v in rows]):.2f}x, batch-64 speedup {b64:.2f}x")
    print_students(distill_reports)
    tl = median([r["source"]["latency_ms"] for r in reports])
    tl64 = median([r["source"]["batch64_ms"] for r in reports])
    line = f"PyTorch (same weights, 1 thread): TorchScript batch-1 {peer_times.get('torchscript_ms', float('nan')):.4f} ms"
    if "eager_ms" in peer_times:
        line += (f", eager {peer_times['eager_ms']:.4f} ms (TuneLab {peer_times['eager_ms'] / tl:.2f}x as fast at batch 1, "
                 f"{peer_times['eager64_ms'] / tl64:.2f}x at batch 64)")
        int8_rows = [by_name(r).get("int8") for r in reports]
        int8_ms = median([v["latency_ms"] for v in int8_rows if v and v["status"] == "completed"])
        for engine in ("onednn", "qnnpack", "fbgemm", "x86"):
            key = engine + "_dynamic_int8_ms"
            if key in peer_times and int8_ms:
                line += f"; PyTorch dynamic int8 ({engine}) {peer_times[key]:.4f} ms, TuneLab int8 {int8_ms:.4f} ms"
    print(line)
    print(f"   raw: {json.dumps(peer_times)}")


def student_margins(reports, student, alone):
    margins = []
    for r in reports:
        named = by_name(r)
        if named.get(student, {}).get("status") == "completed" and named.get(alone, {}).get("status") == "completed":
            margins.append(named[student]["val_accuracy"] - named[alone]["val_accuracy"])
    return margins


def print_students(reports):
    source = reports[0]["source"]
    for student, alone in (("student", "student alone"), ("student-plain", "student-plain alone"),
                           ("student", "student-plain alone")):
        margins = student_margins(reports, student, alone)
        if not margins:
            continue
        size = by_name(reports[0])[student]["parameters"]
        wins = sum(m > 0 for m in margins)
        ties = sum(m == 0 for m in margins)
        print(f"{student} ({size} parameters, 1/{source['parameters'] / size:.0f} of the source) against {alone}: "
              f"better in {wins}, tied in {ties} of {len(margins)} seeds, median margin "
              f"{points(statistics.median(margins))} points, mean {points(statistics.mean(margins))} "
              f"(seeds: {' '.join(points(m) for m in margins)})")
    for name in ("student", "student alone", "student-plain", "student-plain alone"):
        values = [by_name(r)[name]["val_accuracy"] for r in reports if by_name(r).get(name, {}).get("status") == "completed"]
        if values:
            print(f"   {name}: mean accuracy {points(statistics.mean(values))} % ({' '.join(points(v) for v in values)})")


def summarize_students(name, reports, first_seed):
    held_out = "" if name.startswith("digits") else "  (held out)"
    source = [r["source"]["val_accuracy"] for r in reports]
    print(f"\n== {name}{held_out}: students, seeds {first_seed}-{first_seed + len(reports) - 1}; source (teacher) "
          f"mean accuracy {points(statistics.mean(source))} %")
    print_students(reports)


if __name__ == "__main__":
    main()
