#!/usr/bin/env python3
"""Hostile-input probe for tunelab-cli (issue 12).

Generates hostile inputs deterministically (fixed seed), runs `tunelab-cli` on each in a fresh temporary
folder with a time limit, and classifies every outcome:

  clear       non-zero exit (not a signal) with a message that names a place (file, JSON path, option, line)
  unclear     non-zero exit, but the message names no place (or is empty)
  accepted    exit 0 where the input is legal (or may legitimately be accepted)
  wrong       exit 0 where the input must be refused ("silently wrong"), or raw control bytes reached the
              terminal, or an exported file is incomplete although the command said it succeeded
  leaked      an error that quotes the first line of /etc/passwd
  crash       killed by a signal (SIGABRT, SIGSEGV, ...) or a sanitizer report
  hang        the time limit ran out
  lost        a run the command reported as completed is not completed in the store afterwards, or runs
              that were in the store before are gone

Standard library only. Usage:

  python3 bench/hostile/probe.py build/app/tunelab-cli bench/hostile/after.json
  python3 bench/hostile/probe.py --table bench/hostile/before.json bench/hostile/after.json

Options: --jobs N (parallel cases, default 2), --timeout S (default 20), --only CATEGORY[,CATEGORY]
(or case id prefixes), --update EARLIER.json (merge: keep its cases not run now), --keep (keep the
temporary folders), --data-dir (default /work/shared/data or $TUNELAB_DATA), --resources (default: the
checkout's resources/ folder), --label (stored in the JSON), --full (about 830 cases).

The cases come from inputs_files.py (huge numbers, deep nesting, resource bombs, overflow, unbounded
reads) and inputs_stores.py (damaged stores, names, mutated files, full disk); inputs_common.py holds
the baseline inputs. This file runs and classifies them.

Resource bombs run as uid 65534 under prlimit (address space 6 GiB, 512 processes) so that a thread or
memory bomb cannot take the shared machine down; the read-only store case also runs as uid 65534.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

from inputs_common import CATEGORIES, NOBODY, OUTCOMES, PASSWD_LINE, REPO, SEED, dumps, iris_spec, study_doc
from inputs_files import (deep_cases, huge_number_cases, overflow_cases, resource_cases,
                          unbounded_cases)
from inputs_stores import (checkpoint, full_disk_cases, mutated_cases, names_cases, store_cases,
                           store_runs)


# ---------------------------------------------------------------------------------------------------
# Running


class Runner:
    def __init__(self, cli, timeout, keep, root):
        self.cli = os.path.abspath(cli)
        self.timeout = timeout
        self.keep = keep
        self.root = root
        self.ctx = {}
        self.commands = set()

    def expand(self, argv, directory):
        db = os.path.join(directory, "runs.sqlite")
        return [a.replace("{cli}", self.cli).replace("{dir}", directory).replace("{db}", db) for a in argv]

    def run(self, argv, directory, limits=(), nobody=False, timeout=None, long_ok=False):
        argv = self.expand(argv, directory)
        prefix = []
        if limits:
            resolved = []
            for limit in limits:
                if limit.startswith("--fsize=+"):
                    db = os.path.join(directory, "runs.sqlite")
                    size = os.path.getsize(db) if os.path.exists(db) else 0
                    limit = "--fsize=%d" % (size + int(limit[len("--fsize=+"):]))
                resolved.append(limit)
            prefix += ["prlimit"] + resolved + ["--"]
        if nobody:
            prefix += ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]
        env = dict(os.environ)
        env.update({"HOME": directory, "XDG_DATA_HOME": directory, "TUNELAB_DB": os.path.join(directory, "runs.sqlite"),
                    "OMP_NUM_THREADS": "1", "LC_ALL": "C.UTF-8"})
        env.pop("TERM", None)
        start = time.monotonic()
        # SIGXFSZ is ignored in this process; restore_signals=False passes that on, so a full "disk"
        # (RLIMIT_FSIZE) shows as EFBIG from write() rather than killing the child.
        proc = subprocess.Popen(prefix + argv, cwd=directory, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                                restore_signals=False)
        hung = False
        stopped = False
        try:
            out, err = proc.communicate(timeout=timeout or self.timeout)
        except subprocess.TimeoutExpired:
            hung = True
            if long_ok:
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    out, err = proc.communicate(timeout=10)
                    stopped = True
                except subprocess.TimeoutExpired:
                    pass
            if not stopped:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                out, err = proc.communicate()
        finally:
            # Commands a study runs belong to the process group: leave nothing behind.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        return {
            "rc": proc.returncode,
            "hung": hung,
            "stopped": stopped,
            "seconds": round(time.monotonic() - start, 2),
            "stdout_bytes": out,
            "stderr_bytes": err,
            "stdout": out.decode("utf-8", "backslashreplace"),
            "stderr": err.decode("utf-8", "backslashreplace"),
        }

    def prepare(self, case):
        directory = tempfile.mkdtemp(prefix="case-", dir=self.root)
        os.chmod(directory, 0o777)
        for name, content in case.files.items():
            if callable(content):
                content(directory, self.ctx)
            else:
                with open(os.path.join(directory, name), "wb") as f:
                    f.write(content.encode() if isinstance(content, str) else content)
        if case.store == "base":
            shutil.copy(self.ctx["base_store"], os.path.join(directory, "runs.sqlite"))
        elif callable(case.store):
            case.store(directory, self.ctx)
        if case.nobody:
            for entry in os.listdir(directory):
                path = os.path.join(directory, entry)
                if not stat.S_ISFIFO(os.lstat(path).st_mode):
                    os.chown(path, NOBODY, NOBODY)
        return directory

    def execute(self, case):
        if case.needs and case.needs not in self.commands:
            return None
        directory = self.prepare(case)
        try:
            db = os.path.join(directory, "runs.sqlite")
            earlier = []
            if os.path.isfile(db) and case.store:
                # Read a copy: opening the store itself (as root) would make its -wal and -shm files
                # in a folder the command may not be allowed to write.
                copy_path = tempfile.mktemp(suffix=".sqlite", dir=self.root)
                shutil.copy(db, copy_path)
                earlier = list(store_runs(copy_path) or {})
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(copy_path + suffix):
                        os.remove(copy_path + suffix)
            result = self.run(case.argv, directory, case.limits, case.nobody, case.timeout, case.long_ok)
            result["earlier"] = earlier
            outcome, note = classify(case, result, directory)
            if case.post and outcome in ("accepted", "wrong", "clear", "unclear"):
                extra, extra_note = case.post(self, directory, result)
                if extra:
                    outcome, note = extra, extra_note
            argv = [a.replace(self.cli, "tunelab-cli") for a in self.expand(case.argv, "$TMP")]
            return {
                "id": case.id,
                "category": case.category,
                "expect": case.expect,
                "argv": argv,
                "outcome": outcome,
                "note": note,
                "rc": result["rc"],
                "seconds": result["seconds"],
                "stderr": shorten(result["stderr"].replace(directory, "$TMP")),
            }
        finally:
            if not self.keep:
                os.chmod(directory, 0o755)
                shutil.rmtree(directory, ignore_errors=True)


def shorten(text, limit=240):
    lines = [line for line in text.splitlines() if line.strip()]
    # The first lines usually hold the error; progress lines come before it for training commands.
    errors = [line for line in lines if re.search(r"error|invalid|cannot|refus|expected|not |must|fail|abort|"
                                                  r"terminate|what\(\)|exception|runtime error", line, re.I)]
    text = " | ".join((errors or lines)[:3])
    return text[:limit]


SANITIZER = re.compile(r"AddressSanitizer|UndefinedBehaviorSanitizer|ThreadSanitizer|LeakSanitizer|"
                       r"runtime error:|terminate called|Segmentation fault|core dumped")


def names_place(case, stderr, directory):
    if not stderr.strip():
        return False
    if re.search(r"\bline \d+|:\d+(:\d+)?[: ]|column \d+|\bat offset \d+", stderr):
        return True
    if re.search(r"(^|\s)--[a-z][a-z-]+", stderr):
        return True
    if re.search(r"\b[a-z_]+(\[\d+\]|\.[a-z_]+)+", stderr):
        return True  # a JSON path: model.layers[0].out_features, parameters[2]
    if re.search(r"\b(layer|run|trial|set-up|study|parameter) ('|\d)", stderr):
        return True  # layer 0 (conv2d), study 'name'
    for arg in case.argv:
        if arg.startswith("--") and re.search(r"\b%s\b" % re.escape(arg[2:].replace("-", " ")), stderr):
            return True  # "threads 1000 is more than ...": the setting, named without its dashes
        is_path = arg.startswith(("{dir}", "{db}", "/")) or "." in arg
        name = os.path.basename(arg.replace("{db}", "runs.sqlite"))
        if is_path and len(name) > 2 and name in stderr:
            return True
    for key in case.keys:
        if re.search(r"(^|[\s\"'`(])%s[\"'`]?[:\s]" % re.escape(key), stderr):
            return True
    return False


def classify(case, result, directory):
    stderr = result["stderr"]
    if result["hung"]:
        if case.long_ok and result["stopped"]:
            return "accepted", "ran until the time limit; Ctrl-C stopped it"
        return "hang", "no exit within the time limit"
    rc = result["rc"]
    if rc < 0:
        return "crash", "killed by %s" % signal.Signals(-rc).name
    if SANITIZER.search(stderr):
        return "crash", "sanitizer or terminate report"
    if rc >= 128 and rc != 130:
        return "crash", "exit %d (a signal through a shell?)" % rc
    if PASSWD_LINE and PASSWD_LINE[:20] in stderr + result["stdout"]:
        return "leaked", "quotes the first line of /etc/passwd"
    if rc == 0:
        if case.expect == "refuse":
            return "wrong", "exit 0 on an input that must be refused"
        return "accepted", ""
    note = "legal input refused" if case.expect == "legal" else ""
    if names_place(case, stderr, directory):
        return "clear", note
    return "unclear", note or "the message names no place"


def prepare_base_store(runner, data_dir):
    directory = os.path.join(runner.root, "base")
    os.mkdir(directory)
    with open(os.path.join(directory, "spec.json"), "w") as f:
        f.write(dumps(iris_spec(data_dir)))
    with open(os.path.join(directory, "study.json"), "w") as f:
        f.write(dumps(study_doc(data_dir)))
    for argv in [["{cli}", "train", "{dir}/spec.json", "--db", "{db}", "--threads", "1"],
                 ["{cli}", "study", "run", "{dir}/study.json", "--db", "{db}", "--trials", "1", "--threads", "1"]]:
        r = runner.run(argv, directory, timeout=120)
        if r["rc"] != 0:
            sys.exit("could not make the baseline store: %s\n%s" % (" ".join(argv), r["stderr"]))
    db = os.path.join(directory, "runs.sqlite")
    checkpoint(db)
    runs = store_runs(db)
    if not runs:
        sys.exit("the baseline store holds no runs")
    runner.ctx["base_store"] = db


def all_cases(data_dir, resources, full=False):
    return (huge_number_cases(data_dir, full) + deep_cases(data_dir) + resource_cases(data_dir)
            + overflow_cases(data_dir) + unbounded_cases(data_dir) + store_cases(data_dir, full) + names_cases(data_dir)
            + mutated_cases(data_dir, resources, full) + full_disk_cases(data_dir))


def summarize(results):
    table = {}
    for r in results:
        row = table.setdefault(r["category"], {k: 0 for k in ["inputs"] + OUTCOMES})
        row["inputs"] += 1
        row[r["outcome"]] += 1
    return table


def probe(args):
    if os.geteuid() != 0:
        print("note: not root: the cases that run as uid 65534 will fail to start", file=sys.stderr)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    data_dir = os.path.abspath(args.data_dir)
    resources = os.path.abspath(args.resources)
    cases = all_cases(data_dir, resources, args.full)
    if args.only:
        wanted = set(args.only.split(","))
        cases = [c for c in cases if c.category in wanted or any(c.id.startswith(w) for w in wanted)]
    root = tempfile.mkdtemp(prefix="tunelab-probe-")
    os.chmod(root, 0o755)
    runner = Runner(args.cli, args.timeout, args.keep, root)
    helptext = subprocess.run([runner.cli, "--help"], capture_output=True, text=True).stdout
    runner.commands = set(re.findall(r"^  ([a-z-]+)\s", helptext, re.M))
    start = time.monotonic()
    prepare_base_store(runner, data_dir)
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(runner.execute, case): case for case in cases}
        done = 0
        for future in concurrent.futures.as_completed(futures):
            done += 1
            r = future.result()
            if r is None:
                continue
            results.append(r)
            if args.verbose or r["outcome"] in ("crash", "hang", "lost", "wrong", "leaked", "unclear"):
                print("[%d/%d] %-8s %s  %s" % (done, len(cases), r["outcome"], r["id"], r["note"]), file=sys.stderr)
    skipped = len(cases) - len(results)
    if args.update:
        # Replace the cases run now in an earlier result file (e.g. after --only), keep the others.
        with open(args.update) as f:
            earlier = json.load(f)
        fresh = {r["id"] for r in results}
        results += [r for r in earlier["cases"] if r["id"] not in fresh]
    results.sort(key=lambda r: (CATEGORIES.index(r["category"]), r["id"]))
    doc = {
        "binary": args.label or args.cli,
        "seed": SEED,
        "timeout_s": args.timeout,
        "full": args.full,
        "seconds": round(time.monotonic() - start, 1),
        "skipped_missing_command": skipped,
        "summary": summarize(results),
        "cases": results,
    }
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=0, ensure_ascii=True)
        f.write("\n")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    print(render_table([doc]))
    print("%d cases in %.0f s (%d skipped: command missing); results in %s" % (len(results), doc["seconds"],
                                                                               skipped, args.out))


def render_table(docs):
    labels = ["inputs", "clear errors", "unclear errors", "accepted (legal)", "silently wrong", "quotes the file",
              "crashes", "hangs", "lost"]
    keys = ["inputs"] + OUTCOMES
    lines = []
    if len(docs) == 1:
        lines.append("| category | " + " | ".join(labels) + " |")
        lines.append("|---" * (len(labels) + 1) + "|")
        for cat in CATEGORIES + ["total"]:
            row = total_row(docs[0]) if cat == "total" else docs[0]["summary"].get(cat)
            if row:
                lines.append("| %s | " % cat + " | ".join(str(row[k]) for k in keys) + " |")
        return "\n".join(lines)
    lines.append("| category | " + " | ".join(labels) + " |")
    lines.append("|---" * (len(labels) + 1) + "|")
    for cat in CATEGORIES + ["total"]:
        rows = [total_row(d) if cat == "total" else d["summary"].get(cat) for d in docs]
        if not any(rows):
            continue
        cells = []
        for k in keys:
            cells.append(" → ".join(str(r[k]) if r else "-" for r in rows))
        name = "**total**" if cat == "total" else cat
        lines.append("| %s | " % name + " | ".join(cells) + " |")
    return "\n".join(lines)


def total_row(doc):
    row = {k: 0 for k in ["inputs"] + OUTCOMES}
    for r in doc["summary"].values():
        for k in row:
            row[k] += r[k]
    return row


def failures(doc):
    bad = [c for c in doc["cases"] if c["outcome"] in ("unclear", "wrong", "leaked", "crash", "hang", "lost")
           or c["note"] == "legal input refused"]
    lines = []
    for c in bad:
        lines.append("- `%s` **%s** (exit %s): %s; `%s`" % (c["id"], c["outcome"], c["rc"], c["note"] or "-",
                                                        c["stderr"] or "no message"))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cli", nargs="?", help="the tunelab-cli binary")
    parser.add_argument("out", nargs="?", help="the JSON results file")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=20)
    parser.add_argument("--only", help="categories or case id prefixes, comma separated")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--full", action="store_true", help="every huge number at every key, more store and "
                        "mutation cases (about 830 cases in all)")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--label")
    parser.add_argument("--update", metavar="JSON", help="merge into this earlier result file: its cases that "
                        "were not run now are kept")
    parser.add_argument("--data-dir", default=os.environ.get("TUNELAB_DATA", "/work/shared/data"))
    parser.add_argument("--resources", default=os.path.join(REPO, "resources"))
    parser.add_argument("--table", nargs="+", metavar="JSON", help="print the before/after table of result files")
    parser.add_argument("--failures", metavar="JSON", help="print the failing cases of a result file")
    args = parser.parse_args()
    if args.table:
        docs = [json.load(open(p)) for p in args.table]
        print(render_table(docs))
        return
    if args.failures:
        print(failures(json.load(open(args.failures))))
        return
    if not args.cli or not args.out:
        parser.error("give the tunelab-cli binary and the output JSON path")
    probe(args)


if __name__ == "__main__":
    main()
