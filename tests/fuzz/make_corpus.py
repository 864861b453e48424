#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets into tests/fuzz/corpus/<target>/.

The seeds are small real inputs: the example experiments, studies, races and search spaces of
resources/ and docs/, a few lines of each CSV dataset in ../shared/data, and tiny valid idx
(MNIST, plain and gzipped) and CIFAR-10 files and ZIP archives made here. The store seed (corpus/store/) is a real
store written by tunelab-cli; pass --store FILE to shrink a new one into place (see
docs/testing.md). Run from anywhere; the output is deterministic.
"""

import argparse
import gzip
import json
import os
import re
import shutil
import sqlite3
import struct
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def strip_comments(text):
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as file:
        return file.read()


def doc_blocks(path):
    return re.findall(r"```json\n(.*?)```", read(path), re.S)


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as file:
        file.write(data)


def json_seeds():
    experiments = {name: read("resources/experiments/" + name)
                   for name in sorted(os.listdir(os.path.join(ROOT, "resources/experiments")))
                   if name.endswith(".json")}
    for name, text in experiments.items():
        write("spec", name, text)
    experiment_doc = doc_blocks("docs/experiment-format.md")[0]
    write("spec", "experiment-format.json", experiment_doc)
    inline_experiment = json.loads(strip_comments(experiments["moons-sgd-nesterov.json"]))

    space_doc = doc_blocks("docs/search-space.md")[0]
    write("search_space", "search-space-doc.json", space_doc)
    for name in ("digits-space.json", "quadratic-space.json"):
        write("search_space", name, read("resources/examples/" + name))

    study = json.loads(strip_comments(doc_blocks("docs/studies.md")[0]))
    study["experiment"] = inline_experiment
    write("study", "study-inline.json", json.dumps(study, indent=1))
    study_ask = json.loads(strip_comments(read("resources/examples/study-digits.json")))
    study_ask.pop("experiment", None)
    study_ask["objective"] = {"metric": "value", "direction": "maximize"}
    write("study", "study-ask-tell.json", json.dumps(study_ask, indent=1))
    write("study", "study-digits.json", read("resources/examples/study-digits.json"))
    write("study", "study-digits-pbt.json", read("resources/examples/study-digits-pbt.json"))
    fine_tune = dict(inline_experiment)
    fine_tune["init"] = {"file": "source.pth", "freeze_layers": 1, "freeze_batch_norm": False}
    write("spec", "fine-tune.json", json.dumps(fine_tune, indent=1))

    race = json.loads(strip_comments(read("resources/examples/race-moons.json")))
    write("race", "race-moons.json", json.dumps(race, indent=1))
    race_doc = json.loads(doc_blocks("docs/race.md")[0])
    race_doc["experiment"] = inline_experiment
    race_doc["fair_learning_rates"] = True
    write("race", "race-doc-fair.json", json.dumps(race_doc, indent=1))
    del race["setups"]
    write("race", "race-default-setups.json", json.dumps(race))

    write("compress", "compress-digits.json", read("resources/examples/compress-digits.json"))
    plan_doc = json.loads(doc_blocks("docs/compression.md")[0])
    write("compress", "compress-doc-run.json", json.dumps(plan_doc, indent=1))
    plan_doc["source"] = {"experiment": inline_experiment}
    plan_doc["variants"][0]["layers"] = [0]
    write("compress", "compress-doc-inline.json", json.dumps(plan_doc, indent=1))


def csv_seeds():
    shared = os.path.join(ROOT, "..", "shared", "data")
    # The first byte is the fuzz target's settings: 0 = ',' classification, last column.
    for name in ("iris.csv", "wine.csv", "breast_cancer.csv"):
        path = os.path.join(shared, name)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as file:
            lines = file.readlines()[:6]
        write("csv", name, b"\x00" + "".join(lines).encode())
    write("csv", "regression-semicolon.csv", b"\x05x;y;target\n1,5;2;3.25\n\"4\";5;-6e2\n")
    write("csv", "labels-by-name.csv", b"\x80a,label,b\n1,cat,2\n3,\"dog\",4\n5,cat,6\n")
    write("csv", "quoted-index.csv", b"\x18\"a\",\"b\nc\",t\n1,2,0\n\n3,4,1\r\n")


def idx_file(magic, sizes, payload):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", size) for size in sizes) + payload


def image_seeds():
    count, height, width = 3, 4, 5
    labels = idx_file(2049, [count], bytes([0, 7, 9]))
    images = idx_file(2051, [count, height, width], bytes(range(count * height * width)))
    # The fuzz target's input: a 2-byte length, the labels file, the images file.
    write("idx", "plain", struct.pack(">H", len(labels)) + labels + images)
    zipped_labels = gzip.compress(labels, mtime=0)
    write("idx", "gzipped", struct.pack(">H", len(zipped_labels)) + zipped_labels +
          gzip.compress(images, mtime=0))
    record = bytes([3]) + bytes(i % 251 for i in range(3 * 32 * 32))
    write("cifar", "one-record.bin", record)
    write("cifar", "two-records.bin", record + bytes([9]) + bytes(3 * 32 * 32))


def zip_seeds():
    """Archives laid out as LibTorch saves a state dict: stored entries under archive/."""
    entries = [("archive/data.pkl", b"\x80\x02}q\x00X\x01\x00\x00\x00wq\x01s."),
               ("archive/data/0", struct.pack("<8f", *range(8))), ("archive/version", b"3\n")]
    for name, force_zip64 in [("state-dict.zip", False), ("zip64-headers.zip", True)]:
        with tempfile.TemporaryFile() as file:
            with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
                for entry, data in entries:
                    info = zipfile.ZipInfo(entry, date_time=(1980, 1, 1, 0, 0, 0))
                    with archive.open(info, "w", force_zip64=force_zip64) as member:
                        member.write(data)
            file.seek(0)
            write("zip", name, file.read())


def shrink_store(source):
    """Copies a store, shrinks it to 512-byte pages, and writes it as corpus/store/store.db."""
    with tempfile.TemporaryDirectory() as folder:
        copy = os.path.join(folder, "store.sqlite")
        shutil.copyfile(source, copy)
        db = sqlite3.connect(copy)
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("DELETE FROM step_metrics WHERE step % 10 != 0")
        db.execute("UPDATE runs SET model = zeroblob(16) WHERE model IS NOT NULL")
        db.commit()
        db.execute("PRAGMA page_size=512")
        db.execute("VACUUM")
        db.execute("PRAGMA journal_mode=WAL")
        db.close()
        with open(copy, "rb") as file:
            write("store", "store.db", file.read())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="a store written by tunelab-cli, to shrink into corpus/store/")
    args = parser.parse_args()
    json_seeds()
    csv_seeds()
    image_seeds()
    zip_seeds()
    if args.store:
        shrink_store(args.store)
    return 0


if __name__ == "__main__":
    sys.exit(main())
