#!/usr/bin/env python3
"""Fails on a source file that has grown past the house limit (STYLE.md: a file past ~600 lines
usually hides two ideas; split it along them).

    check_file_sizes.py SOURCE_DIR      check the tree; exit 1 and name each file over the limit
    check_file_sizes.py --self-test     check that the checker catches what it must

Every .h and .cpp under engine/, widgets/, app/, tests/ and bench/ counts, generated files in a
build folder do not.
"""
import os
import sys
import tempfile

from layout_check import run_check

MAX_LINES = 600
FOLDERS = ('engine', 'widgets', 'app', 'tests', 'bench')
EXTENSIONS = ('.h', '.cpp')


def line_count(path):
    with open(path, 'rb') as file:
        return sum(1 for _ in file)


def check(root):
    problems = []
    for folder in FOLDERS:
        for dirpath, dirnames, files in os.walk(os.path.join(root, folder)):
            dirnames[:] = sorted(name for name in dirnames if not name.startswith(('build', '.')))
            for name in sorted(files):
                if not name.endswith(EXTENSIONS):
                    continue
                path = os.path.join(dirpath, name)
                lines = line_count(path)
                if lines > MAX_LINES:
                    problems.append(f'{os.path.relpath(path, root)}: {lines} lines, over {MAX_LINES}')
    return problems


def self_test():
    with tempfile.TemporaryDirectory() as root:
        def write(path, lines):
            full = os.path.join(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, 'w', encoding='utf-8') as file:
                file.write(''.join(f'// line {i}\n' for i in range(lines)))
        write('engine/core/spec/spec.cpp', MAX_LINES)
        write('widgets/charts/view.h', 10)
        write('tests/tst_long_but_text.txt', MAX_LINES + 50)  # not a source file
        write('docs/long.cpp', MAX_LINES + 50)  # outside the checked folders
        assert check(root) == [], check(root)
        write('engine/core/spec/spec.cpp', MAX_LINES + 1)
        write('app/gui/window/main_window.h', MAX_LINES + 200)
        write('tests/tst_big.cpp', MAX_LINES + 2)
        write('bench/bench_big.cpp', 2 * MAX_LINES)
        found = check(root)
        expected = [os.path.join('engine', 'core', 'spec', 'spec.cpp') + f': {MAX_LINES + 1} lines',
                    os.path.join('app', 'gui', 'window', 'main_window.h') + f': {MAX_LINES + 200} lines',
                    os.path.join('tests', 'tst_big.cpp') + f': {MAX_LINES + 2} lines',
                    os.path.join('bench', 'bench_big.cpp') + f': {2 * MAX_LINES} lines']
        for needle in expected:
            assert any(problem.startswith(needle) for problem in found), (needle, found)
        assert len(found) == len(expected), found
    print('self-test: the checker catches files over the limit')


def main():
    return run_check(__doc__, check, self_test,
                     lambda count: f'{count} file(s) over {MAX_LINES} lines: split each along its ideas',
                     f'every source file has at most {MAX_LINES} lines')


if __name__ == '__main__':
    sys.exit(main())
