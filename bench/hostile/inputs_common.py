"""Shared by the probe's case generators: baseline inputs, JSON helpers and the Case record."""

import copy
import json
import os
import re

SEED = 12
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
NOBODY = 65534
BOMB_LIMITS = ["--as=6442450944", "--nproc=512"]
OUTCOMES = ["clear", "unclear", "accepted", "wrong", "leaked", "crash", "hang", "lost"]
CATEGORIES = [
    "huge_numbers",
    "deep_nesting",
    "resource_bombs",
    "overflow",
    "unbounded_reads",
    "damaged_store",
    "names",
    "mutated_files",
    "full_disk",
]
HUGE = [("1e999", "1e999"), ("-1e999", "-1e999"), ("1E+400", "1E+400"), ("int310", "1" + "0" * 309)]
MARK = "@@RAW@@"
CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")


def passwd_first_line():
    try:
        with open("/etc/passwd", encoding="utf-8", errors="replace") as f:
            return f.readline().strip()
    except OSError:
        return ""


PASSWD_LINE = passwd_first_line()


# ---------------------------------------------------------------------------------------------------
# Baseline inputs


def iris_spec(data_dir, epochs=1):
    return {
        "name": "iris",
        "seed": 1,
        "device": "cpu",
        "data": {
            "kind": "csv",
            "path": os.path.join(data_dir, "iris.csv"),
            "target": 4,
            "validation_fraction": 0.2,
            "standardize": True,
            "scale": 1,
        },
        "model": {
            "layers": [
                {"type": "linear", "out_features": 8},
                {"type": "leaky_relu", "negative_slope": 0.01},
                {"type": "dropout", "p": 0.1},
                {"type": "batchnorm", "eps": 1e-5, "momentum": 0.1},
                {"type": "linear", "out_features": 3},
            ]
        },
        "loss": {"type": "cross_entropy"},
        "optimizer": {"type": "adam", "lr": 0.01, "weight_decay": 0, "eps": 1e-8, "betas": [0.9, 0.999]},
        "schedule": {"type": "step", "step_size": 10, "gamma": 0.5, "warmup_epochs": 0},
        "training": {
            "epochs": epochs,
            "batch_size": 16,
            "grad_clip_norm": 1,
            "early_stopping": {"metric": "val_loss", "patience": 5, "min_delta": 0},
        },
    }


def conv_spec(data_dir):
    spec = iris_spec(data_dir)
    spec["name"] = "iris-conv"
    spec["data"]["input_shape"] = [1, 2, 2]
    spec["model"]["layers"] = [
        {"type": "conv2d", "out_channels": 2, "kernel_size": 1, "stride": 1, "padding": 0},
        {"type": "elu", "alpha": 1.0},
        {"type": "maxpool2d", "kernel_size": 2, "stride": 2, "padding": 0},
        {"type": "flatten"},
        {"type": "linear", "out_features": 3},
    ]
    spec["optimizer"] = {"type": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0}
    spec["schedule"] = {"type": "reduce_on_plateau", "factor": 0.1, "patience": 5, "threshold": 1e-4, "min_lr": 0}
    return spec


def moons_spec():
    return {
        "name": "moons",
        "seed": 3,
        "device": "cpu",
        "data": {"kind": "moons", "samples": 200, "noise": 0.15},
        "model": {"layers": [{"type": "linear", "out_features": 8}, {"type": "tanh"},
                             {"type": "linear", "out_features": 2}]},
        "optimizer": {"type": "rmsprop", "lr": 0.003, "alpha": 0.99, "momentum": 0},
        "training": {"epochs": 1, "batch_size": 32},
    }


def space_doc():
    return {
        "parameters": [
            {"path": "x", "kind": "float", "low": -5, "high": 5},
            {"path": "lr", "kind": "float", "low": 1e-4, "high": 0.1, "log": True},
            {"path": "n", "kind": "int", "low": 1, "high": 64, "step": 1},
            {"path": "w", "kind": "float", "values": [0, 0.001, 0.01]},
            {"path": "c", "kind": "categorical", "choices": [1, 2.5, "a"]},
            {"path": "f", "kind": "fixed", "value": 3},
        ]
    }


def study_doc(data_dir):
    return {
        "name": "probe-study",
        "experiment": iris_spec(data_dir),
        "space": {
            "parameters": [
                {"path": "optimizer.lr", "kind": "float", "low": 1e-3, "high": 0.1, "log": True},
                {"path": "model.layers[0].out_features", "kind": "int", "low": 4, "high": 16, "step": 4},
            ]
        },
        "sampler": {"type": "random", "seed": 1, "startup_trials": 2},
        "pruner": {"type": "median", "startup_trials": 1, "warmup_epochs": 1},
        "objective": {"metric": "val_loss", "direction": "minimize", "at": "best"},
        "budget": {"trials": 2, "seconds": 0},
        "parallel": 1,
    }


def race_doc(data_dir):
    experiment = iris_spec(data_dir)
    del experiment["optimizer"]
    return {
        "name": "probe-race",
        "experiment": experiment,
        "setups": [
            {"name": "SGD", "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.5}},
            {"name": "Adam", "optimizer": {"type": "adam", "lr": 0.003}},
        ],
        "fair_learning_rates": False,
        "range_test": {"min_lr": 1e-5, "max_lr": 3, "steps": 50},
        "target_loss": 0.15,
    }


def dumps(doc):
    """JSON text; the string MARK + token + MARK becomes the raw token (a number JSON cannot hold)."""
    text = json.dumps(doc, indent=1)
    return re.sub('"' + MARK + "(.*?)" + MARK + '"', lambda m: m.group(1), text)


def raw(token):
    return MARK + token + MARK


def numeric_paths(doc, prefix=()):
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from numeric_paths(value, prefix + (key,))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from numeric_paths(value, prefix + (index,))
    elif isinstance(doc, (int, float)) and not isinstance(doc, bool):
        yield prefix


def set_path(doc, path, value):
    doc = copy.deepcopy(doc)
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


def path_text(path):
    out = ""
    for step in path:
        out += "[%d]" % step if isinstance(step, int) else ("." if out else "") + step
    return out


def all_keys(doc, keys=None):
    keys = set() if keys is None else keys
    if isinstance(doc, dict):
        for key, value in doc.items():
            keys.add(key)
            all_keys(value, keys)
    elif isinstance(doc, list):
        for value in doc:
            all_keys(value, keys)
    return keys


# ---------------------------------------------------------------------------------------------------
# Cases


class Case:
    def __init__(self, cid, category, argv, files=None, expect="either", note="", **kw):
        self.id = cid
        self.category = category
        self.argv = argv  # {cli}, {dir}, {db} are replaced
        self.files = files or {}  # name -> bytes/str, or callable(dir, ctx)
        self.expect = expect  # "refuse", "legal" or "either"
        self.note = note
        self.store = kw.get("store")  # None, "base" (copy the baseline store) or callable(dir, ctx)
        self.limits = kw.get("limits", [])  # prlimit options
        self.nobody = kw.get("nobody", False)
        self.long_ok = kw.get("long_ok", False)  # a time-out that Ctrl-C ends is a legal long run
        self.post = kw.get("post")  # callable(runner, dir, result) -> (outcome or None, note)
        self.keys = kw.get("keys", set())
        self.needs = kw.get("needs")  # a subcommand the binary must have
        self.timeout = kw.get("timeout")


def json_cases(category, kind, doc_text, keys, expect, data_dir, label):
    """One case per command that reads a file of this kind, the file holding doc_text."""
    if kind == "spec":
        return [Case("%s/spec/%s" % (category, label), category, ["{cli}", "validate", "{dir}/spec.json"],
                     {"spec.json": doc_text}, expect, keys=keys)]
    if kind == "study":
        return [Case("%s/study/%s" % (category, label), category,
                     ["{cli}", "study", "create", "{dir}/study.json", "--db", "{db}"], {"study.json": doc_text}, expect,
                     keys=keys)]
    if kind == "race":
        return [Case("%s/race/%s" % (category, label), category,
                     ["{cli}", "race", "{dir}/race.json", "--db", "{db}", "--threads", "1"], {"race.json": doc_text},
                     expect, keys=keys)]
    if kind == "space":
        return [Case("%s/space/%s" % (category, label), category,
                     ["{cli}", "optimize", "--space", "{dir}/space.json", "--command", "echo 1", "--trials", "2",
                      "--sampler", "random", "--db", "{db}"], {"space.json": doc_text}, expect, keys=keys)]
    raise ValueError(kind)


def baselines(data_dir):
    return [
        ("spec", "iris", iris_spec(data_dir)),
        ("spec", "conv", conv_spec(data_dir)),
        ("spec", "moons", moons_spec()),
        ("study", "study", study_doc(data_dir)),
        ("race", "race", race_doc(data_dir)),
        ("space", "space", space_doc()),
    ]
