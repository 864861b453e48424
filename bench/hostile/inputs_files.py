"""Hostile inputs read as files and options: huge numbers, deep nesting, resource bombs, overflowing
shapes and ranges, reading without limits."""

import json
import os

from inputs_common import (BOMB_LIMITS, HUGE, Case, all_keys, baselines, conv_spec, dumps,
                           iris_spec, json_cases, moons_spec, numeric_paths, path_text, race_doc, raw,
                           set_path, space_doc, study_doc)


def huge_number_cases(data_dir, full=False):
    """Every numeric key of every file kind; with full, each of the four huge numbers at each key,
    else the four rotate over the keys (each key gets one, the first key of each file all four)."""
    cases = []
    turn = 0
    for kind, name, doc in baselines(data_dir):
        keys = all_keys(doc)
        first = True
        for path in numeric_paths(doc):
            # The study's and race's inline experiments are specs: covered by the spec cases.
            if kind in ("study", "race") and path and path[0] == "experiment":
                continue
            values = HUGE if full or first else [HUGE[turn % len(HUGE)]]
            first = False
            turn += 1
            for label, token in values:
                text = dumps(set_path(doc, path, raw(token)))
                cases += json_cases("huge_numbers", kind, text, keys, "refuse", data_dir,
                                    "%s:%s=%s" % (name, path_text(path), label))
    big = HUGE[3][1]
    options = [
        ("train --epochs 1e999", ["train", "{dir}/spec.json", "--db", "{db}", "--epochs", "1e999"]),
        ("train --threads int310", ["train", "{dir}/spec.json", "--db", "{db}", "--threads", big]),
        ("runs show int310", ["runs", "show", big, "--db", "{db}"]),
        ("optimize --trials int310", ["optimize", "--space", "{dir}/space.json", "--command", "echo 1",
                                      "--trials", big, "--db", "{db}"]),
        ("optimize --timeout 1e999", ["optimize", "--space", "{dir}/space.json", "--command", "echo 1",
                                      "--trials", "1", "--timeout", "1e999", "--db", "{db}"]),
        ("lr-find --max-lr 1e999", ["lr-find", "{dir}/spec.json", "--max-lr", "1e999", "--steps", "20"]),
    ]
    for label, argv in options:
        cases.append(Case("huge_numbers/option/" + label, "huge_numbers", ["{cli}"] + argv,
                          {"spec.json": dumps(iris_spec(data_dir)), "space.json": dumps(space_doc())}, "refuse",
                          store="base"))
    return cases


def deep_cases(data_dir):
    cases = []
    depth = 100000
    arrays = "[" * depth + "]" * depth
    objects = '{"a":' * depth + "1" + "}" * depth
    unclosed = "[" * depth
    for kind, name, doc in baselines(data_dir)[0:1] + baselines(data_dir)[3:]:
        keys = all_keys(doc)
        for label, text in [("arrays", arrays), ("objects", objects), ("unclosed", unclosed)]:
            cases += json_cases("deep_nesting", kind, text, keys, "refuse", data_dir, "%s:whole=%s" % (name, label))
        first_key = "name"
        for label, text in [("arrays", arrays), ("objects", objects)]:
            body = dumps(set_path(doc, (first_key,), raw(text))) if kind != "space" else None
            if body:
                cases += json_cases("deep_nesting", kind, body, keys, "refuse", data_dir,
                                    "%s:name=%s" % (name, label))
    space = space_doc()
    for label, text in [("arrays", arrays), ("objects", objects), ("1000-arrays", "[" * 1000 + "]" * 1000)]:
        doc = set_path(space, ("parameters", 4, "choices"), [1, raw(text)])
        cases += json_cases("deep_nesting", "space", dumps(doc), all_keys(space), "refuse", data_dir,
                            "space:choice=%s" % label)
        study = study_doc(data_dir)
        study["space"]["parameters"].append({"path": "training.shuffle", "kind": "categorical",
                                             "choices": [True, raw(text)]})
        cases += json_cases("deep_nesting", "study", dumps(study), all_keys(study), "refuse", data_dir,
                            "study:choice=%s" % label)
    spec = iris_spec(data_dir)
    cases += json_cases("deep_nesting", "spec", dumps(set_path(spec, ("model", "layers"), raw(arrays))),
                        all_keys(spec), "refuse", data_dir, "iris:model.layers=arrays")
    race = race_doc(data_dir)
    cases += json_cases("deep_nesting", "race", dumps(set_path(race, ("setups",), raw(arrays))), all_keys(race),
                        "refuse", data_dir, "race:setups=arrays")
    return cases


def bomb(cid, argv, files, expect="either", long_ok=False, timeout=None, keys=()):
    return Case("resource_bombs/" + cid, "resource_bombs", argv, files, expect, limits=BOMB_LIMITS, nobody=True,
                long_ok=long_ok, timeout=timeout, keys=set(keys))


def resource_cases(data_dir):
    spec = iris_spec(data_dir)
    files = {"spec.json": dumps(spec), "space.json": dumps(space_doc()), "study.json": dumps(study_doc(data_dir)),
             "race.json": dumps(race_doc(data_dir))}
    cases = []
    for n in ["1000", "100000", "2147483647"]:
        cases.append(bomb("train --threads " + n, ["{cli}", "train", "{dir}/spec.json", "--db", "{db}",
                                                   "--threads", n], files))
        cases.append(bomb("race --threads " + n, ["{cli}", "race", "{dir}/race.json", "--db", "{db}",
                                                  "--threads", n], files))
        cases.append(bomb("study run --threads " + n, ["{cli}", "study", "run", "{dir}/study.json", "--db", "{db}",
                                                       "--threads", n, "--trials", "1"], files))
    for n in ["100000", "2147483647"]:
        for force in [[], ["--force-parallel"]]:
            label = " ".join(["--parallel", n] + force)
            cases.append(bomb("study run " + label, ["{cli}", "study", "run", "{dir}/study.json", "--db", "{db}",
                                                     "--parallel", n, "--trials", "2"] + force, files))
            cases.append(bomb("optimize " + label, ["{cli}", "optimize", "--space", "{dir}/space.json", "--command",
                                                    "echo 1", "--trials", "4", "--db", "{db}", "--parallel", n]
                              + force, files))
    for n in [100000, 2147483647, raw("1e9")]:
        study = study_doc(data_dir)
        study["parallel"] = n
        cases.append(bomb("study file parallel=%s" % n, ["{cli}", "study", "run", "{dir}/s.json", "--db", "{db}",
                                                         "--trials", "2"], {"s.json": dumps(study)},
                          keys=all_keys(study)))
    for path, value, long_ok in [
        (("training", "batch_size"), 2147483647, False),
        (("training", "batch_size"), 1000000000000, False),
        (("training", "epochs"), 2147483647, True),
        (("model", "layers", 0, "out_features"), 100000000, True),
        (("model", "layers", 0, "out_features"), 2147483647, True),
        (("data", "validation_fraction"), 0.999999, False),
    ]:
        doc = set_path(spec, path, value)
        cases.append(bomb("spec %s=%s" % (path_text(path), value), ["{cli}", "train", "{dir}/s.json", "--db",
                                                                    "{db}", "--threads", "1"],
                          {"s.json": dumps(doc)}, long_ok=long_ok, timeout=12 if path[-1] == "epochs" else None,
                          keys=all_keys(doc)))
    wide = set_path(set_path(spec, ("model", "layers", 0, "out_features"), 100000), ("model", "layers", 4),
                    {"type": "linear", "out_features": 100000})
    wide["model"]["layers"].append({"type": "linear", "out_features": 3})
    cases.append(bomb("spec two 100000-wide linears", ["{cli}", "train", "{dir}/s.json", "--db", "{db}"],
                      {"s.json": dumps(wide)}, keys=all_keys(wide)))
    conv = set_path(conv_spec(data_dir), ("model", "layers", 0, "out_channels"), 1000000000)
    cases.append(bomb("spec conv out_channels=1e9", ["{cli}", "train", "{dir}/s.json", "--db", "{db}"],
                      {"s.json": dumps(conv)}, keys=all_keys(conv)))
    for samples in [2147483647, 1000000000]:
        doc = set_path(moons_spec(), ("data", "samples"), samples)
        cases.append(bomb("spec moons samples=%d" % samples, ["{cli}", "train", "{dir}/s.json", "--db", "{db}"],
                          {"s.json": dumps(doc)}, keys=all_keys(doc)))
    cases.append(bomb("train --epochs 2147483647", ["{cli}", "train", "{dir}/spec.json", "--db", "{db}",
                                                    "--epochs", "2147483647", "--threads", "1"], files,
                      long_ok=True, timeout=12))
    cases.append(bomb("optimize --trials 2147483647", ["{cli}", "optimize", "--space", "{dir}/space.json",
                                                       "--command", "true", "--trials", "2147483647", "--db",
                                                       "{db}"], files, long_ok=True, timeout=12))
    cases.append(bomb("lr-find --steps 2147483647", ["{cli}", "lr-find", "{dir}/spec.json", "--steps", "2147483647"],
                      files, long_ok=True, timeout=12))
    race = race_doc(data_dir)
    race["setups"] = [{"name": "s%d" % i, "optimizer": {"type": "sgd", "lr": 0.01}} for i in range(300)]
    cases.append(bomb("race with 300 set-ups", ["{cli}", "race", "{dir}/r.json", "--db", "{db}"],
                      {"r.json": dumps(race)}, long_ok=True, keys=all_keys(race)))
    race = race_doc(data_dir)
    race["fair_learning_rates"] = True
    race["range_test"]["steps"] = 1000000000
    cases.append(bomb("race range_test.steps=1e9", ["{cli}", "race", "{dir}/r.json", "--db", "{db}"],
                      {"r.json": dumps(race)}, long_ok=True, timeout=12, keys=all_keys(race)))
    return cases


def overflow_cases(data_dir):
    cases = []
    spec = iris_spec(data_dir)
    keys = all_keys(spec)

    def spec_case(label, doc, expect):
        cases.append(Case("overflow/spec/" + label, "overflow", ["{cli}", "validate", "{dir}/s.json"],
                          {"s.json": dumps(doc)}, expect, keys=keys | all_keys(doc)))

    for shape in [[2 ** 62, 4], [2 ** 62], [2 ** 32, 2 ** 32, 4], [2 ** 31 - 1, 2 ** 31 - 1], [2 ** 63 - 1],
                  [0, 4], [-1, -4], [2 ** 64, 4], [1, 2 ** 62, 4, 2 ** 62]]:
        doc = set_path(spec, ("data", "input_shape"), shape)
        spec_case("input_shape=%s" % json.dumps(shape).replace(" ", ""), doc, "refuse")
    doc = set_path(spec, ("data", "input_shape"), [2, 2])
    doc["model"]["layers"].insert(0, {"type": "flatten"})
    spec_case("input_shape=[2,2] (legal)", doc, "legal")
    # 4 x (2^31 - 1) weights are 34 GB: more than this machine has, not more than every device has (the
    # engine's limit), so the check before training may pass it; training then fails to allocate.
    for width, expect in [(2 ** 31 - 1, "either"), (2 ** 40, "refuse"), (2 ** 62, "refuse")]:
        spec_case("out_features=%d" % width, set_path(spec, ("model", "layers", 0, "out_features"), width), expect)
    doc = set_path(spec, ("model", "layers", 0, "out_features"), 2 ** 31 - 1)
    doc = set_path(doc, ("model", "layers", 4, "out_features"), 2 ** 31 - 1)
    doc["model"]["layers"].append({"type": "linear", "out_features": 3})
    spec_case("two 2^31-1 linears", doc, "refuse")
    conv = conv_spec(data_dir)
    for path, value, expect in [
        (("model", "layers", 0, "kernel_size"), 2 ** 31 - 1, "refuse"),
        (("model", "layers", 0, "padding"), 2 ** 62, "refuse"),
        (("model", "layers", 0, "padding"), 2 ** 31 - 1, "refuse"),
        (("model", "layers", 0, "stride"), 2 ** 62, "either"),
        (("model", "layers", 0, "out_channels"), 2 ** 62, "refuse"),
        (("model", "layers", 2, "kernel_size"), 2 ** 63 - 1, "refuse"),
    ]:
        spec_case("conv %s=%d" % (path_text(path), value), set_path(conv, path, value), expect)
    for target, expect in [(4294967296, "refuse"), (2 ** 63 - 1, "refuse"), (2 ** 31, "refuse"),
                           (2 ** 32 + 4, "refuse"), (5, "refuse"), (-1, "refuse"), (4, "legal")]:
        spec_case("csv target=%d" % target, set_path(spec, ("data", "target"), target), expect)
    for path, value, expect in [
        (("data", "scale"), 1e308, "either"),
        (("optimizer", "lr"), 1e308, "either"),
        (("training", "grad_clip_norm"), 1e308, "either"),
        (("data", "validation_fraction"), 5e-324, "either"),
    ]:
        spec_case("%s=%r" % (path_text(path), value), set_path(spec, path, value), expect)

    def space_case(label, params, expect, sampler="random", trials="3"):
        doc = {"parameters": params}
        cases.append(Case("overflow/space/%s/%s" % (sampler, label), "overflow",
                          ["{cli}", "optimize", "--space", "{dir}/space.json", "--command", "echo 1", "--trials",
                           trials, "--sampler", sampler, "--db", "{db}"], {"space.json": dumps(doc)}, expect,
                          keys=all_keys(doc)))
        study = study_doc(data_dir)
        study["experiment"] = None
        del study["experiment"]
        del study["pruner"]
        study["space"] = doc
        study["objective"] = {"direction": "minimize"}
        study["sampler"]["type"] = sampler
        cases.append(Case("overflow/study/%s/%s" % (sampler, label), "overflow",
                          ["{cli}", "study", "create", "{dir}/study.json", "--db", "{db}"],
                          {"study.json": dumps(study)}, expect, keys=all_keys(study)))

    ranges = [
        ("float[-1e308,1e308]", [{"path": "x", "kind": "float", "low": -1e308, "high": 1e308}], "refuse"),
        ("float[-1.7e308,1.7e308]", [{"path": "x", "kind": "float", "low": -1.7e308, "high": 1.7e308}], "refuse"),
        ("float log[1e-308,1e308]", [{"path": "x", "kind": "float", "low": 1e-308, "high": 1e308, "log": True}],
         "either"),
        ("float step 1e-300 over [0,1e300]", [{"path": "x", "kind": "float", "low": 0, "high": 1e300,
                                              "step": 1e-300}], "either"),
        ("int[-2^63,2^63-1]", [{"path": "n", "kind": "int", "low": -2 ** 63, "high": 2 ** 63 - 1}], "refuse"),
        ("int[0,2^63-1] step 2^62", [{"path": "n", "kind": "int", "low": 0, "high": 2 ** 63 - 1,
                                      "step": 2 ** 62}], "refuse"),
        ("int[2^53,2^53+2]", [{"path": "n", "kind": "int", "low": 2 ** 53, "high": 2 ** 53 + 2}], "refuse"),
        ("int log[1,2^62]", [{"path": "n", "kind": "int", "low": 1, "high": 2 ** 62, "log": True}], "refuse"),
        ("int[0,10^15]", [{"path": "n", "kind": "int", "low": 0, "high": 10 ** 15}], "either"),
        ("int values [2^63-1]", [{"path": "n", "kind": "int", "values": [2 ** 63 - 1, 1]}], "refuse"),
    ]
    for label, params, expect in ranges:
        space_case(label, params, expect)
    for label, params, expect in [
        ("int[0,10^15]", [{"path": "n", "kind": "int", "low": 0, "high": 10 ** 15}], "either"),
        ("int[0,2^52] x int[0,2^52]", [{"path": "a", "kind": "int", "low": 0, "high": 2 ** 52},
                                       {"path": "b", "kind": "int", "low": 0, "high": 2 ** 52}], "either"),
        ("float values x40 params", [{"path": "p%d" % i, "kind": "float", "values": [0, 1, 2, 3]}
                                     for i in range(40)], "either"),
        ("int[-2^63,2^63-1]", [{"path": "n", "kind": "int", "low": -2 ** 63, "high": 2 ** 63 - 1}], "refuse"),
    ]:
        space_case(label, params, expect, sampler="grid")
    for sampler in ["sobol", "tpe", "gp"]:
        space_case("float[-1e308,1e308]", ranges[0][1], "refuse", sampler=sampler)
        space_case("int[-2^63,2^63-1]", ranges[4][1], "refuse", sampler=sampler)
    for label, argv, expect in [
        ("lr-find --min-lr 1e-308 --max-lr 1e308", ["--min-lr", "1e-308", "--max-lr", "1e308", "--steps", "20"],
         "either"),
        ("lr-find --min-lr 5e-324", ["--min-lr", "5e-324", "--steps", "20"], "either"),
    ]:
        cases.append(Case("overflow/option/" + label, "overflow", ["{cli}", "lr-find", "{dir}/s.json"] + argv,
                          {"s.json": dumps(spec)}, expect))
    race = race_doc(data_dir)
    race["fair_learning_rates"] = True
    race["range_test"] = {"min_lr": 5e-324, "max_lr": 1e308, "steps": 20}
    cases.append(Case("overflow/race/range_test [5e-324,1e308]", "overflow",
                      ["{cli}", "race", "{dir}/r.json", "--db", "{db}", "--threads", "1"], {"r.json": dumps(race)},
                      "either", keys=all_keys(race)))
    return cases


def make_fifo(name):
    def make(directory, ctx):
        os.mkfifo(os.path.join(directory, name))

    return make


def make_sparse(name, size):
    def make(directory, ctx):
        with open(os.path.join(directory, name), "wb") as f:
            f.truncate(size)

    return make


def unbounded_cases(data_dir):
    sources = [
        ("/dev/zero", "/dev/zero", None),
        ("fifo", "{dir}/fifo", make_fifo("fifo")),
        ("directory", "{dir}/folder", lambda d, c: os.mkdir(os.path.join(d, "folder"))),
        ("/etc/passwd", "/etc/passwd", None),
        ("sparse 100 MiB", "{dir}/big.json", make_sparse("big.json", 100 << 20)),
    ]
    cases = []
    for label, path, make in sources:
        files = {"made": make} if make else {}
        study = study_doc(data_dir)
        race = race_doc(data_dir)
        roles = [
            ("spec (validate)", ["{cli}", "validate", path], {}),
            ("spec (train)", ["{cli}", "train", path, "--db", "{db}"], {}),
            ("spec (lr-find)", ["{cli}", "lr-find", path, "--steps", "20"], {}),
            ("space (optimize)", ["{cli}", "optimize", "--space", path, "--command", "echo 1", "--trials", "1",
                                  "--db", "{db}"], {}),
            ("study file", ["{cli}", "study", "create", path, "--db", "{db}"], {}),
            ("race file", ["{cli}", "race", path, "--db", "{db}"], {}),
            ("study's experiment", ["{cli}", "study", "create", "{dir}/s.json", "--db", "{db}"],
             {"s.json": dumps(set_path(study, ("experiment",), path.replace("{dir}/", "")))}),
            ("study's space", ["{cli}", "study", "create", "{dir}/s.json", "--db", "{db}"],
             {"s.json": dumps(set_path(study, ("space",), path.replace("{dir}/", "")))}),
            ("race's experiment", ["{cli}", "race", "{dir}/r.json", "--db", "{db}"],
             {"r.json": dumps(set_path(race, ("experiment",), path.replace("{dir}/", "")))}),
        ]
        data_path = path.replace("big.json", "big.csv")
        data_make = make_sparse("big.csv", 3 << 30) if label.startswith("sparse") else make
        csv_spec = set_path(iris_spec(data_dir), ("data", "path"), data_path.replace("{dir}/", ""))
        roles.append(("CSV data (validate)", ["{cli}", "validate", "{dir}/d.json"], {"d.json": dumps(csv_spec)}))
        # Without "target" (the last column): a one-column file such as /etc/passwd reaches the header check.
        del csv_spec["data"]["target"]
        roles.append(("CSV data, default target (validate)", ["{cli}", "validate", "{dir}/d.json"],
                      {"d.json": dumps(csv_spec)}))
        for role, argv, extra in roles:
            role_files = dict(files)
            role_files.update(extra)
            if role.startswith("CSV"):
                role_files = dict(extra)
                if data_make:
                    role_files["made"] = data_make
            cases.append(Case("unbounded_reads/%s as %s" % (label, role), "unbounded_reads", argv, role_files,
                              "refuse", timeout=12, keys=all_keys(study) | all_keys(race)))
    return cases
