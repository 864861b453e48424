"""Hostile stores and outputs: damaged stores, names that drive the terminal, mutated real files,
a full disk."""

import json
import os
import random
import re
import shutil
import sqlite3

from inputs_common import (CONTROL, SEED, Case, dumps, iris_spec, race_doc, set_path, space_doc,
                           study_doc)
from inputs_files import make_fifo


def checkpoint(db):
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def store_runs(db):
    """{id: status} of the store, or None when it cannot be read."""
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        rows = con.execute("SELECT id, status FROM runs").fetchall()
        con.close()
        return {r[0]: r[1] for r in rows}
    except sqlite3.Error:
        return None


def damage(kind, seed):
    rng = random.Random(SEED * 1000 + seed)

    def apply(directory, ctx):
        db = os.path.join(directory, "runs.sqlite")
        base = ctx["base_store"]
        data = open(base, "rb").read()
        if kind == "empty":
            out = b""
        elif kind == "random-4k":
            out = bytes(rng.getrandbits(8) for _ in range(4096))
        elif kind == "random-64k":
            out = bytes(rng.getrandbits(8) for _ in range(65536))
        elif kind == "header-only":
            out = data[:100]
        elif kind.startswith("truncated-"):
            out = data[: len(data) * int(kind.split("-")[1]) // 100]
        elif kind == "flipped-16":
            out = bytearray(data)
            for _ in range(16):
                i = rng.randrange(4096, len(out))
                out[i] ^= 1 << rng.randrange(8)
            out = bytes(out)
        elif kind == "flipped-header":
            out = bytearray(data)
            for i in rng.sample(range(16, 100), 8):
                out[i] ^= 0xFF
            out = bytes(out)
        elif kind == "zeroed-page-2":
            out = data[:4096] + b"\0" * 4096 + data[8192:]
        else:
            out = data
        with open(db, "wb") as f:
            f.write(out)
        if kind.startswith("drop-"):
            con = sqlite3.connect(db)
            con.execute("PRAGMA foreign_keys=OFF")
            con.execute("DROP TABLE %s" % kind[5:])
            con.commit()
            con.close()
            checkpoint(db)
        elif kind == "schema-999":
            con = sqlite3.connect(db)
            con.execute("UPDATE schema_meta SET value = 999")
            con.commit()
            con.close()
            checkpoint(db)

    return apply


def lost_check(earlier=True):
    """After a command that wrote runs: completed runs it reported are completed in the store, and the
    baseline's runs are still there."""

    def post(runner, directory, result):
        db = os.path.join(directory, "runs.sqlite")
        runs = store_runs(db)
        reported = []
        if result["rc"] == 0:
            for line in reversed(result["stdout"].splitlines()):
                line = line.strip()
                if line.startswith("{"):
                    try:
                        doc = json.loads(line)
                    except ValueError:
                        break
                    if "run_id" in doc and doc.get("status") == "completed":
                        reported.append(doc["run_id"])
                    for r in doc.get("results", []) or []:
                        if r.get("status") == "completed" and r.get("run_id"):
                            reported.append(r["run_id"])
                    break
        missing = [rid for rid in reported if runs is None or runs.get(rid) != "completed"]
        if missing:
            return "lost", "reported completed but not completed in the store: runs %s" % missing
        if earlier and result.get("earlier"):
            gone = [rid for rid in result["earlier"] if runs is None or rid not in runs]
            if gone:
                return "lost", "runs in the store before are gone: %s" % gone
        return None, ""

    return post


def store_cases(data_dir, full=False):
    cases = []
    spec = dumps(iris_spec(data_dir))
    commands = [
        ("runs list", ["{cli}", "runs", "list", "--db", "{db}"], None),
        ("runs show 1", ["{cli}", "runs", "show", "1", "--db", "{db}"], None),
        ("study list", ["{cli}", "study", "list", "--db", "{db}"], None),
        ("train", ["{cli}", "train", "{dir}/spec.json", "--db", "{db}", "--json", "--threads", "1"], lost_check()),
        ("optimize", ["{cli}", "optimize", "--space", "{dir}/space.json", "--command", "echo 1", "--trials", "1",
                      "--db", "{db}"], None),
        ("store check", ["{cli}", "store", "check", "--db", "{db}"], None),
    ]
    kinds = ["empty", "random-4k", "random-64k", "header-only", "truncated-10", "truncated-50", "flipped-16",
             "flipped-header", "zeroed-page-2", "drop-runs", "drop-studies", "drop-schema_meta", "schema-999"]
    if full:
        kinds += ["truncated-90", "drop-step_metrics", "drop-trials"]
    for seed, kind in enumerate(kinds):
        for label, argv, post in commands:
            if not full and label in ("runs show 1", "optimize"):
                continue
            expect = "either"
            if label == "store check" and kind not in ("empty",):
                expect = "refuse"
            cases.append(Case("damaged_store/%s/%s" % (kind, label), "damaged_store", argv,
                              {"spec.json": spec, "space.json": dumps(space_doc())}, expect, store=damage(kind, seed),
                              post=post, needs="store" if label == "store check" else None))
    for label, make in [("directory", lambda d, c: os.mkdir(os.path.join(d, "runs.sqlite"))),
                        ("fifo", make_fifo("runs.sqlite"))]:
        for cmd, argv, post in commands[:4]:
            cases.append(Case("damaged_store/%s as store/%s" % (label, cmd), "damaged_store", argv,
                              {"spec.json": spec, "made": make}, "refuse", timeout=12))

    def read_only(directory, ctx):
        shutil.copy(ctx["base_store"], os.path.join(directory, "runs.sqlite"))
        os.chmod(directory, 0o555)

    for label, argv, post in commands[:4]:
        expect = "refuse" if label == "train" else "legal"
        cases.append(Case("damaged_store/read-only folder/%s" % label, "damaged_store", argv, {"spec.json": spec},
                          expect, store=read_only, nobody=True, post=lost_check() if post else None))
    return cases


# ---------------------------------------------------------------------------------------------------
# Names


NAMES = [
    ("ESC[2J", "\x1b[2J\x1b[Hcleared"),
    ("OSC title", "\x1b]0;owned\x07t"),
    ("NUL", "a\u0000b"),
    ("C1 CSI", "a\u009b31mred"),
    ("CR", "real\rfake"),
    ("BS+DEL", "a\b\x7fb"),
]


def no_control_output(commands):
    """After an accepted name: these commands' output holds no raw control bytes."""

    def post(runner, directory, result):
        found = []
        for argv in commands:
            r = runner.run(argv, directory)
            for stream in ("stdout_bytes", "stderr_bytes"):
                if CONTROL.search(r[stream]):
                    found.append(" ".join(argv[1:3]))
                    break
        if CONTROL.search(result["stdout_bytes"]) or CONTROL.search(result["stderr_bytes"]):
            found.insert(0, "the command itself")
        if found:
            return "wrong", "raw control bytes in the output of: " + ", ".join(found)
        return None, ""

    return post


def names_cases(data_dir):
    cases = []
    listing = [["{cli}", "runs", "list", "--db", "{db}"], ["{cli}", "study", "list", "--db", "{db}"]]
    for label, name in NAMES:
        spec = set_path(iris_spec(data_dir), ("name",), name)
        cases.append(Case("names/experiment name %s" % label, "names",
                          ["{cli}", "train", "{dir}/s.json", "--db", "{db}", "--threads", "1"], {"s.json": dumps(spec)},
                          "either", post=no_control_output(listing), keys={"name"}))
        race = race_doc(data_dir)
        race["name"] = name
        cases.append(Case("names/race name %s" % label, "names",
                          ["{cli}", "race", "{dir}/r.json", "--db", "{db}", "--threads", "1"], {"r.json": dumps(race)},
                          "either", post=no_control_output(listing), keys={"name"}))
        race = race_doc(data_dir)
        race["setups"][0]["name"] = name
        cases.append(Case("names/race set-up name %s" % label, "names",
                          ["{cli}", "race", "{dir}/r.json", "--db", "{db}", "--threads", "1"], {"r.json": dumps(race)},
                          "either", post=no_control_output(listing), keys={"name", "setups"}))
        study = study_doc(data_dir)
        study["name"] = name
        status = ["{cli}", "study", "status", name.replace("\0", ""), "--db", "{db}"]
        cases.append(Case("names/study file name %s" % label, "names",
                          ["{cli}", "study", "create", "{dir}/s.json", "--db", "{db}"], {"s.json": dumps(study)},
                          "either", post=no_control_output(listing + [status]), keys={"name"}))
        if "\0" not in name:
            cases.append(Case("names/study --name %s" % label, "names",
                              ["{cli}", "study", "create", "{dir}/s.json", "--name", name, "--db", "{db}"],
                              {"s.json": dumps(study_doc(data_dir))}, "either",
                              post=no_control_output(listing + [status]), keys={"name"}))
            cases.append(Case("names/optimize --name %s" % label, "names",
                              ["{cli}", "optimize", "--space", "{dir}/space.json", "--command", "echo 1", "--trials",
                               "1", "--name", name, "--db", "{db}"], {"space.json": dumps(space_doc())}, "either",
                              post=no_control_output(listing + [status]), keys={"name"}))

    def stored(name):
        def apply(directory, ctx):
            db = os.path.join(directory, "runs.sqlite")
            shutil.copy(ctx["base_store"], db)
            con = sqlite3.connect(db)
            con.execute("UPDATE runs SET name = ?", (name,))
            con.execute("UPDATE studies SET name = ?", (name,))
            try:
                con.execute("UPDATE trials SET message = ?", (name,))
            except sqlite3.Error:
                pass
            con.commit()
            con.close()
            checkpoint(db)

        return apply

    for label, name in NAMES:
        visible = name.replace("\0", "")
        for cmd, argv in [
            ("runs list", ["{cli}", "runs", "list", "--db", "{db}"]),
            ("study list", ["{cli}", "study", "list", "--db", "{db}"]),
            ("study status", ["{cli}", "study", "status", visible, "--db", "{db}"]),
            ("study best --format text", ["{cli}", "study", "best", visible, "--format", "text", "--db", "{db}"]),
        ]:
            cases.append(Case("names/stored %s/%s" % (label, cmd), "names", argv, {}, "either", store=stored(name),
                              post=no_control_output([])))
    return cases


# ---------------------------------------------------------------------------------------------------
# Mutated files


def mutate(data, rng, kind):
    data = bytearray(data)
    if kind.startswith("flip"):
        for _ in range(int(kind[4:])):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        data = data[: rng.randrange(len(data))]
    elif kind == "delete":
        i = rng.randrange(len(data))
        del data[i: i + rng.randrange(1, 64)]
    elif kind == "duplicate":
        i = rng.randrange(len(data))
        j = min(len(data), i + rng.randrange(1, 200))
        data[j:j] = data[i:j]
    elif kind == "insert":
        i = rng.randrange(len(data))
        data[i:i] = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 16)))
    elif kind == "digits":
        spots = [m.start() for m in re.finditer(rb"\d", bytes(data))]
        for i in rng.sample(spots, min(3, len(spots))):
            data[i: i + 1] = b"999999999999"[: rng.randrange(1, 12)]
    elif kind == "quote":
        spots = [m.start() for m in re.finditer(rb'["\[\]{}:,]', bytes(data))]
        i = rng.choice(spots)
        del data[i]
    return bytes(data)


def mutated_cases(data_dir, resources, full=False):
    rng = random.Random(SEED)
    kinds = ["flip1", "flip4", "truncate", "delete", "digits", "quote"]
    if full:
        kinds += ["flip16", "duplicate", "insert", "flip2"]
    cases = []
    entries = []
    for name in sorted(os.listdir(os.path.join(resources, "experiments"))):
        if name.endswith(".json"):
            entries.append(("experiments/" + name, "spec"))
    entries += [("examples/study-digits.json", "study"), ("examples/race-moons.json", "race"),
                ("examples/digits-space.json", "space"), ("examples/quadratic-space.json", "space")]
    space_file = open(os.path.join(resources, "examples", "digits-space.json"), "rb").read()
    for rel, kind in entries:
        text = open(os.path.join(resources, rel), "rb").read()
        # Relative data paths point at the checkout's shared/ folder: make them absolute first.
        text = re.sub(rb'"(\.\./)+shared/data/', b'"' + data_dir.encode() + b"/", text)
        if kind == "race":
            text = text.replace(b'"epochs": 15', b'"epochs": 2')
        for mutation in kinds:
            data = mutate(text, rng, mutation)
            base = os.path.basename(rel)
            if kind == "spec":
                argv = ["{cli}", "validate", "{dir}/" + base]
            elif kind == "study":
                argv = ["{cli}", "study", "create", "{dir}/" + base, "--db", "{db}"]
            elif kind == "race":
                argv = ["{cli}", "race", "{dir}/" + base, "--db", "{db}", "--threads", "1"]
            else:
                argv = ["{cli}", "optimize", "--space", "{dir}/" + base, "--command", "echo 1", "--trials", "2",
                        "--sampler", "random", "--db", "{db}"]
            files = {base: data}
            if kind == "study":
                files["digits-space.json"] = space_file
            cases.append(Case("mutated_files/%s/%s" % (rel, mutation), "mutated_files", argv, files, "either",
                              keys={"parameters", "setups", "layers", "data", "model"}))
    return cases


# ---------------------------------------------------------------------------------------------------
# Full disk


def csv_complete(name, rows):
    def post(runner, directory, result):
        outcome, note = lost_check()(runner, directory, result)
        if outcome:
            return outcome, note
        if result["rc"] != 0:
            return None, ""
        path = os.path.join(directory, name)
        try:
            lines = [line for line in open(path, encoding="utf-8", errors="replace").read().splitlines() if line]
        except OSError:
            lines = []
        if len(lines) < rows:
            return "lost", "exit 0 but %s holds %d of %d lines" % (name, len(lines), rows)
        return None, ""

    return post


def full_disk_cases(data_dir):
    cases = []
    spec = dumps(iris_spec(data_dir, epochs=2))
    race = dumps(race_doc(data_dir))
    train = ["{cli}", "train", "{dir}/spec.json", "--db", "{db}", "--json", "--threads", "1"]
    for limit in [0, 4096, 16384, 32768, 65536, 131072, 262144]:
        cases.append(Case("full_disk/train new store fsize=%d" % limit, "full_disk", train, {"spec.json": spec},
                          "either", limits=["--fsize=%d" % limit], post=lost_check()))
    # RLIMIT_FSIZE holds for every file: an existing store past the limit cannot be written at all, and
    # one of the limit's size leaves the WAL room for as many bytes as the store holds.
    for limit in [0, 16384, 65536, "+0"]:
        cases.append(Case("full_disk/train existing store fsize=%s" % limit, "full_disk", train,
                          {"spec.json": spec}, "either", store="base", limits=["--fsize=%s" % limit],
                          post=lost_check()))
    race_cmd = ["{cli}", "race", "{dir}/race.json", "--db", "{db}", "--json", "--threads", "1", "--csv",
                "{dir}/out.csv"]
    for limit in [0, 8192, 65536, 262144]:
        cases.append(Case("full_disk/race --csv new store fsize=%d" % limit, "full_disk", race_cmd,
                          {"race.json": race}, "either", limits=["--fsize=%d" % limit],
                          post=csv_complete("out.csv", 3)))
    for limit in [16384, "+0", "+65536"]:
        cases.append(Case("full_disk/race --csv existing store fsize=%s" % limit, "full_disk", race_cmd,
                          {"race.json": race}, "either", store="base", limits=["--fsize=%s" % limit],
                          post=csv_complete("out.csv", 3)))
    cases.append(Case("full_disk/race --csv /dev/full", "full_disk",
                      race_cmd[:-1] + ["/dev/full"], {"race.json": race}, "refuse", post=lost_check()))
    export = ["{cli}", "runs", "export", "1", "--format", "csv", "--db", "{db}", "-o"]
    cases.append(Case("full_disk/runs export -o /dev/full", "full_disk", export + ["/dev/full"], {}, "refuse",
                      store="base"))
    # A limit small enough for the export is too small for the store's shared-memory file (32 KiB), so
    # the export is tested against a full device and a folder that does not exist.
    cases.append(Case("full_disk/runs export -o missing folder", "full_disk", export + ["{dir}/none/e.csv"], {},
                      "refuse", store="base"))
    return cases
