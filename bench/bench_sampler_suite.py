#!/usr/bin/python3
"""TuneLab's samplers against Optuna's on one suite of 29 test functions.

The functions, bounds and spaces are those of bench_sampler_quality.cpp: six reported ones (branin,
hartmann6, rosenbrock4 as log1p, the conditional optimizer space, ackley5, levy4), nine
development ones (camel6, goldstein as log, hartmann3, styblinski3, rastrigin3, griewank4,
schwefel4, michalewicz5, sphere6+cat), seven more development ones in 8-10 dimensions (dev8:
styblinski8, levy8, ackley8, michalewicz10, schwefel8, griewank8, alpine8) and seven held-out ones (ellipsoid8, rosenbrock10,
rastrigin8, noisy_sphere6, noisy_hartmann6, integer_sphere8, mixed_int_cat). The held-out functions
are for measuring only: they must never be used to choose a constant of any sampler or of the
bench, or they would become one more development set. Optuna's multivariate TPE, random and CMA-ES
sampler each minimise every function for TRIALS trials over seeds 0..SEEDS-1; TuneLab's samplers
(the C++ bench's default set, and "auto" when the bench accepts it) come from the C++ bench
(TUNELAB_BENCH_JSON=1 prints every seed's best). The table shows the median over seeds of the best
value, then each sampler's median rank over the functions of each set and of all of them.

On a noisy function both tools see the value plus Gaussian noise drawn from a stream keyed by
(seed, trial number), the same in both (noise()); a seed's best is the noiseless value of the trial
with the best noisy value, the one a user would pick.

CMA-ES has no categorical or conditional parameters: Optuna samples those independently (at random),
so on "optimizer" CMA-ES is random search and on "sphere6+cat" and "mixed_int_cat" the categorical
is random.

Usage: bench_sampler_suite.py [path to bench_sampler_quality] [--trials 60] [--seeds 10]
                              [--sets reported,dev,dev8,heldout]
       bench_sampler_suite.py [path] --check   compares these definitions with the C++ ones at the
                                               fixed points that "bench_sampler_quality check" prints
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import threading
import time
import warnings

import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


from test_functions import (HARTMANN3_A, HARTMANN3_P, HARTMANN6_A, HARTMANN6_P,  # noqa: E402
                            ackley, branin, hartmann, levy, rosenbrock_log1p)


def camel6(x):
    a, b = x[0] ** 2, x[1] ** 2
    return (4.0 - 2.1 * a + a * a / 3.0) * a + x[0] * x[1] + (-4.0 + 4.0 * b) * b


def goldstein(x):
    s, t = x[0] + x[1] + 1.0, 2.0 * x[0] - 3.0 * x[1]
    a = 1.0 + s * s * (19.0 - 14.0 * x[0] + 3.0 * x[0] ** 2 - 14.0 * x[1] + 6.0 * x[0] * x[1] + 3.0 * x[1] ** 2)
    b = 30.0 + t * t * (18.0 - 32.0 * x[0] + 12.0 * x[0] ** 2 + 48.0 * x[1] - 36.0 * x[0] * x[1]
                        + 27.0 * x[1] ** 2)
    return math.log(a * b)


def styblinski(x):
    return sum(0.5 * (v**4 - 16.0 * v * v + 5.0 * v) for v in x)


def rastrigin(x):
    return 10.0 * len(x) + sum(v * v - 10.0 * math.cos(2.0 * math.pi * v) for v in x)


def griewank(x):
    product = 1.0
    for i, v in enumerate(x):
        product *= math.cos(v / math.sqrt(i + 1))
    return sum(v * v / 4000.0 for v in x) - product + 1.0


def schwefel(x):
    return 418.9829 * len(x) - sum(v * math.sin(math.sqrt(abs(v))) for v in x)


def michalewicz(x):
    return -sum(math.sin(v) * math.sin((i + 1) * v * v / math.pi) ** 20 for i, v in enumerate(x))


def alpine(x):
    return sum(abs(v * math.sin(v) + 0.1 * v) for v in x)


def box(function, bounds):
    def objective(trial):
        return function([trial.suggest_float(f"x{i}", low, high) for i, (low, high) in enumerate(bounds)])
    return objective


def optimizer_loss(trial):
    # Each optimizer a bowl in log10 of its own learning rate; SGD's floor (0) needs momentum near 0.9.
    kind = trial.suggest_categorical("optimizer.type", ["sgd", "adam", "rmsprop"])
    if kind == "sgd":
        lr = math.log10(trial.suggest_float("sgd.lr", 1e-5, 1.0, log=True))
        momentum = trial.suggest_float("sgd.momentum", 0.0, 0.99)
        return 0.25 * (lr + 1.5) ** 2 + 2.0 * (momentum - 0.9) ** 2
    if kind == "adam":
        return 0.2 + 0.25 * (math.log10(trial.suggest_float("adam.lr", 1e-5, 1.0, log=True)) + 3.0) ** 2
    return 0.35 + 0.25 * (math.log10(trial.suggest_float("rmsprop.lr", 1e-5, 1.0, log=True)) + 2.5) ** 2


SPHERE_CENTRE = [1.3, -2.1, 0.7, 3.2, -0.4, -3.6]


def sphere_with_colour(trial):
    x = [trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(6)]
    trial.suggest_categorical("colour", ["red", "green", "blue", "grey"])  # does not matter
    return sum((v - c) ** 2 for v, c in zip(x, SPHERE_CENTRE))


# The held-out set: never used to choose a constant. The shifts, the rotation and the centres were
# drawn once with numpy.random.default_rng(20240917): shifts uniform in [-4, 4] rounded to 4 decimals,
# the rotation the Q of a QR decomposition of a standard normal 8x8 matrix with R's diagonal made
# positive; the same constants as in bench_sampler_quality.cpp.
ELLIPSOID_SHIFT = [2.9998, -2.8089, 0.0687, -2.8193, -3.6014, -3.3686, -2.4593, -0.5176]
ELLIPSOID_ROTATION = [
    [0.2772238548150554, -0.008289811658894511, -0.6668407250894668, 0.6314159851629906,
     0.03533048643251286, 0.10749255551925518, -0.21521215459364346, -0.14351428548576334],
    [-0.7050217347898085, -0.11723166497733455, -0.28269648585915647, 0.19687376716535904,
     -0.2950179264962291, -0.16597283786029235, 0.4933297607141054, -0.11210572785475714],
    [-0.3341450009443473, 0.4242656804642007, 0.08593471175315306, 0.12934460574974624,
     0.061147153794393456, 0.8068840768231356, -0.032788360169271155, 0.16838938384894403],
    [-0.15429992800487233, -0.426508090978767, 0.35480907588782934, 0.30591723710511964,
     -0.5405639751838083, 0.06971026903476538, -0.5144296797161348, 0.11445835927824617],
    [-0.12094595051253992, -0.21976335811938294, 0.4668910290620544, 0.5093844409412692,
     0.6166826249363085, -0.056891202463480645, 0.1340628676597548, -0.24105908091130532],
    [-0.186134882867652, 0.7262400918707511, 0.1496356575212353, 0.22082016227907997,
     -0.06888473257038528, -0.5084892774354813, -0.31842485398706477, -0.045562275884791927],
    [-0.4894323993974114, -0.20613077200612534, -0.3052459440462144, -0.33590895643762064,
     0.4286021284103115, -0.04785808620776417, -0.5660414794515162, -0.07458539084563032],
    [-0.042564623945247904, -0.07789092809186508, -0.09262148698581667, 0.17655115613091504,
     0.2168535066194532, -0.20220925290611488, 0.06947162868386159, 0.9271633475503496],
]
RASTRIGIN_SHIFT = [-0.727, -2.4702, -0.6233, 0.3012, 2.0041, -0.6076, -1.772, -0.2775]
NOISY_SPHERE_CENTRE = [3.3632, 0.8862, 1.1093, 3.6206, -3.1277, 2.0257]
INTEGER_CENTRE = [6, 5, 6, -8, -8, 8, -7, 5]
MIXED_FLOAT_CENTRE = [0.8513, 0.6372, 0.8016, 0.1796]
MIXED_INT_CENTRE = [6, 6]
MIXED_CHOICE_PENALTY = {"a": 0.5, "b": 0.0, "c": 2.0}


def oscillate(v):
    """BBOB's T_osz."""
    if v == 0.0:
        return 0.0
    log_abs = math.log(abs(v))
    c1, c2 = (10.0, 7.9) if v > 0.0 else (5.5, 3.1)
    return math.copysign(math.exp(log_abs + 0.049 * (math.sin(c1 * log_abs) + math.sin(c2 * log_abs))), v)


def ellipsoid8(x):
    # BBOB f10 without its random f_opt: sum_i 10^(6 i / 7) z_i^2, z = T_osz(R (x - shift)); log10(1 + f).
    total = 0.0
    for i in range(8):
        rotated = 0.0
        for j in range(8):
            rotated += ELLIPSOID_ROTATION[i][j] * (x[j] - ELLIPSOID_SHIFT[j])
        z = oscillate(rotated)
        total += math.pow(10.0, 6.0 * i / 7.0) * z * z
    return math.log10(1.0 + total)


def rastrigin8(x):
    return rastrigin([v - s for v, s in zip(x, RASTRIGIN_SHIFT)])


def noisy_sphere6(x):
    return sum((v - c) ** 2 for v, c in zip(x, NOISY_SPHERE_CENTRE))


def integer_sphere8(trial):
    return float(sum((trial.suggest_int(f"x{i}", -10, 10) - c) ** 2 for i, c in enumerate(INTEGER_CENTRE)))


def mixed_int_cat(trial):
    x = [trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(4)]
    n = [trial.suggest_int(f"n{j}", 0, 20) for j in range(2)]
    choice = trial.suggest_categorical("choice", ["a", "b", "c"])
    return (sum((v - c) ** 2 for v, c in zip(x, MIXED_FLOAT_CENTRE))
            + sum(((v - c) / 10.0) ** 2 for v, c in zip(n, MIXED_INT_CENTRE)) + MIXED_CHOICE_PENALTY[choice])


MASK = (1 << 64) - 1


def split_mix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def noise(seed, trial):
    """The standard normal draw of (seed, trial), as noiseAt() in bench_sampler_quality.cpp."""
    key = split_mix64(split_mix64(seed ^ 0x6E6F697365) ^ trial)
    u1 = ((split_mix64(key) >> 11) + 0.5) * 2.0**-53
    u2 = ((split_mix64((key + 1) & MASK) >> 11) + 0.5) * 2.0**-53
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


# (name, set, objective, minimum), in the C++ bench's order; NOISE_SD: the noisy ones.
FUNCTIONS = [
    ("branin", "reported", box(branin, [(-5, 10), (0, 15)]), 0.397887),
    ("hartmann6", "reported", box(hartmann(HARTMANN6_A, HARTMANN6_P), [(0.0, 1.0)] * 6), -3.32237),
    ("rosenbrock4", "reported", box(rosenbrock_log1p, [(-2.0, 2.0)] * 4), 0.0),
    ("optimizer", "reported", optimizer_loss, 0.0),
    ("ackley5", "reported", box(ackley, [(-32.768, 32.768)] * 5), 0.0),
    ("levy4", "reported", box(levy, [(-10.0, 10.0)] * 4), 0.0),
    ("camel6", "dev", box(camel6, [(-3, 3), (-2, 2)]), -1.031628),
    ("goldstein", "dev", box(goldstein, [(-2, 2), (-2, 2)]), math.log(3.0)),
    ("hartmann3", "dev", box(hartmann(HARTMANN3_A, HARTMANN3_P), [(0.0, 1.0)] * 3), -3.86278),
    ("styblinski3", "dev", box(styblinski, [(-5.0, 5.0)] * 3), -117.49797),
    ("rastrigin3", "dev", box(rastrigin, [(-5.12, 5.12)] * 3), 0.0),
    ("griewank4", "dev", box(griewank, [(-600.0, 600.0)] * 4), 0.0),
    ("schwefel4", "dev", box(schwefel, [(-500.0, 500.0)] * 4), 0.0),
    ("michalewicz5", "dev", box(michalewicz, [(0.0, math.pi)] * 5), -4.687658),
    ("sphere6+cat", "dev", sphere_with_colour, 0.0),
    ("styblinski8", "dev8", box(styblinski, [(-5.0, 5.0)] * 8), -39.16617 * 8),
    ("levy8", "dev8", box(levy, [(-10.0, 10.0)] * 8), 0.0),
    ("ackley8", "dev8", box(ackley, [(-32.768, 32.768)] * 8), 0.0),
    ("michalewicz10", "dev8", box(michalewicz, [(0.0, math.pi)] * 10), -9.66015),
    ("schwefel8", "dev8", box(schwefel, [(-500.0, 500.0)] * 8), 0.0),
    ("griewank8", "dev8", box(griewank, [(-600.0, 600.0)] * 8), 0.0),
    ("alpine8", "dev8", box(alpine, [(-10.0, 10.0)] * 8), 0.0),
    ("ellipsoid8", "heldout", box(ellipsoid8, [(-5.0, 5.0)] * 8), 0.0),
    ("rosenbrock10", "heldout", box(rosenbrock_log1p, [(-2.0, 2.0)] * 10), 0.0),
    ("rastrigin8", "heldout", box(rastrigin8, [(-5.12, 5.12)] * 8), 0.0),
    ("noisy_sphere6", "heldout", box(noisy_sphere6, [(-5.0, 5.0)] * 6), 0.0),
    ("noisy_hartmann6", "heldout", box(hartmann(HARTMANN6_A, HARTMANN6_P), [(0.0, 1.0)] * 6), -3.32237),
    ("integer_sphere8", "heldout", integer_sphere8, 0.0),
    ("mixed_int_cat", "heldout", mixed_int_cat, 0.0),
]
NOISE_SD = {"noisy_sphere6": 0.5, "noisy_hartmann6": 0.1}
SETS = {"reported": "all", "dev": "dev", "dev8": "dev8", "heldout": "heldout"}  # set -> the C++ bench's function argument

# The C++ bench's default sampler set ("all"), in its order, and "auto" where the bench has it.
TUNELAB = ["random", "sobol", "tpe-independent", "tpe", "gp", "rf", "auto"]
SHORT = {"tpe-independent": "tpe-ind"}
OPTUNA = {
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "mTPE": lambda seed: optuna.samplers.TPESampler(multivariate=True, seed=seed),
    "CMA-ES": lambda seed: optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False),
}


def has_auto(path):
    """Whether the C++ bench knows the sampler "auto"."""
    command = [path, "1", "1", "auto", "heldout:integer_sphere8"]
    return subprocess.run(command, capture_output=True, text=True).returncode == 0


def run_tunelab(path, trials, seeds, sets, samplers, bests):
    """Fills bests[(function, "TL sampler")] with the per-seed bests of the C++ bench."""
    for sampler in samplers:
        for chosen in sets:
            command = [path, str(trials), str(seeds), sampler, SETS[chosen]]
            env = {**os.environ, "TUNELAB_BENCH_JSON": "1"}
            out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
            for line in out.splitlines():
                if line.startswith("{"):
                    row = json.loads(line)
                    bests[(row["function"], f"TL {row['sampler']}")] = row["bests"]


def run_optuna(objective, noise_sd, make_sampler, trials, seeds):
    """Per-seed noiseless value of the trial with the best (noisy) value."""
    bests = []
    for seed in range(seeds):
        def observed(trial):
            value = objective(trial)
            trial.set_user_attr("noiseless", value)
            return value + noise_sd * noise(seed, trial.number) if noise_sd else value
        study = optuna.create_study(sampler=make_sampler(seed), direction="minimize")
        study.optimize(observed, n_trials=trials)
        bests.append(study.best_trial.user_attrs["noiseless"])
    return bests


def check(path):
    """Compares each function and the noise stream with the C++ bench's; returns the mismatches."""
    objectives = {name: objective for name, _, objective, _ in FUNCTIONS}
    out = subprocess.run([path, "check"], check=True, capture_output=True, text=True).stdout
    points, worst, problems = 0, 0.0, []
    for line in out.splitlines():
        row = json.loads(line)
        if "noise" in row:
            what, theirs = f"noise({row['seed']}, {row['trial']})", row["noise"]
            ours = noise(row["seed"], row["trial"])
        elif row["function"] not in objectives:
            continue  # reported below
        else:
            what, theirs = f"{row['function']} at {row['params']}", row["value"]
            ours = objectives[row["function"]](optuna.trial.FixedTrial(row["params"]))
        points += 1
        error = abs(ours - theirs) / max(1.0, abs(theirs))
        worst = max(worst, error)
        if error > 1e-9:
            problems.append(f"{what}: Python {ours!r}, C++ {theirs!r}")
    names = {json.loads(line).get("function") for line in out.splitlines()} - {None}
    problems += [f"{name}: not in the C++ check" for name in objectives if name not in names]
    problems += [f"{name}: not in this suite" for name in names if name not in objectives]
    print(f"{points} values compared, largest relative difference {worst:.3g}")
    return problems


def ranks(values):
    """Rank 1 = smallest; ties share the mean of their ranks."""
    order = sorted(values)
    return [order.index(v) + 1 + (order.count(v) - 1) / 2.0 for v in values]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", nargs="?", default="/work/main/build-rf/bench/bench_sampler_quality")
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--sets", default="reported,dev,dev8,heldout", help="comma-separated, of " + ", ".join(SETS))
    parser.add_argument("--check", action="store_true", help="compare the definitions with the C++ bench's")
    args = parser.parse_args()
    if args.check:
        problems = check(args.bench)
        print("\n".join(problems) or "Python and C++ agree")
        raise SystemExit(1 if problems else 0)
    sets = [s for s in SETS if s in args.sets.split(",")]
    functions = [f for f in FUNCTIONS if f[1] in sets]
    started = time.monotonic()

    samplers = [s for s in TUNELAB if s != "auto"]
    if has_auto(args.bench):
        samplers.append("auto")
    else:
        print('(the C++ bench has no sampler "auto": left out)')
    columns = [f"TL {s}" for s in samplers] + [f"Optuna {s}" for s in OPTUNA]
    labels = [f"TL {SHORT.get(s, s)}" for s in samplers] + [f"Optuna {s}" for s in OPTUNA]

    bests = {}
    # The C++ bench runs beside Optuna, on its own thread (it waits in a subprocess). "all" runs the
    # bench's default set in one process; "auto" is asked for on its own.
    cpp_samplers = ["all"] + (["auto"] if "auto" in samplers else [])
    cpp = threading.Thread(target=run_tunelab,
                           args=(args.bench, args.trials, args.seeds, sets, cpp_samplers, bests))
    cpp.start()
    for name, _, objective, _ in functions:
        for label, make_sampler in OPTUNA.items():
            bests[(name, f"Optuna {label}")] = run_optuna(objective, NOISE_SD.get(name, 0.0), make_sampler,
                                                          args.trials, args.seeds)
    cpp.join()

    medians = {key: statistics.median(values) for key, values in bests.items()}
    print(f"{args.trials} trials, seeds 0..{args.seeds - 1}: median over seeds of the best value (lower is "
          "better); on a noisy function, the noiseless value of the trial with the best noisy value")
    header = f"{'function':<16}{'set':<9}{'minimum':>9}" + "".join(f"{c:>14}" for c in labels)
    rank_table = {c: [] for c in columns}
    for chosen in sets:
        print("\n" + header)
        for name, kind, _, minimum in functions:
            if kind != chosen:
                continue
            row = [medians[(name, c)] for c in columns]
            print(f"{name:<16}{kind:<9}{minimum:>9.4g}" + "".join(f"{v:>14.5g}" for v in row))
            for c, r in zip(columns, ranks(row)):
                rank_table[c].append(r)
    print("\nmedian rank over the functions (rank of the medians per function, 1 = best)")
    print(f"{'':<34}" + "".join(f"{c:>14}" for c in labels))
    for subset in sets + (["all"] if len(sets) > 1 else []):
        chosen = [i for i, f in enumerate(functions) if subset in (f[1], "all")]
        print(f"{f'{subset} ({len(chosen)})':<34}"
              + "".join(f"{statistics.median(rank_table[c][i] for i in chosen):>14.1f}" for c in columns))

    # Shortfall vs Optuna's mTPE, relative to the function's range that random search leaves:
    # (TuneLab median - mTPE median) / (Optuna random median - minimum); positive = TuneLab worse.
    print("\nvs Optuna mTPE, of the medians: shortfall = (TL - mTPE) / (Optuna random - minimum), > 0 = behind")
    for sampler in [s for s in ["tpe", "gp", "auto"] if s in samplers]:
        behind, worst = [], (-math.inf, "")
        for name, _, _, minimum in functions:
            ours, theirs = medians[(name, f"TL {sampler}")], medians[(name, "Optuna mTPE")]
            if ours > theirs:
                behind.append(name)
            shortfall = (ours - theirs) / max(medians[(name, "Optuna random")] - minimum, 1e-12)
            worst = max(worst, (shortfall, name))
        print(f"TL {sampler:<4} as good as mTPE on {len(functions) - len(behind)}/{len(functions)} functions "
              f"(behind on: {', '.join(behind) or 'none'}); largest shortfall {worst[0]:+.3f} ({worst[1]})")
    print(f"\n{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
