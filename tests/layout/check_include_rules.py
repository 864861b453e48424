#!/usr/bin/env python3
"""Walks every #include of TuneLab's sources and checks it against the allowed directions that
docs/architecture.md writes down (the fenced block after "Include rules").

    check_include_rules.py SOURCE_DIR      check the tree; exit 1 and name each wrong include
    check_include_rules.py --self-test     check that the checker catches what it must

The rules block has one line per folder: `<library>/<folder> -> <folder> <folder> ...` for folders
inside one library, and `<library> -> <library> ...` for whole libraries. A library's folders may
include their own files, files of the folders listed for them, and the libraries listed for it.
"""
import os
import re
import sys
import tempfile

from layout_check import run_check

# Library -> its folder (the library's include root). Folders of a library are its sub-folders.
LIBRARIES = {
    'core': 'engine/core',
    'torch': 'engine/torch',
    'widgets': 'widgets',
    'gui': 'app/gui',
    'cli': 'app/cli',
}
# Headers that pull in LibTorch: only tunelab_engine's own .cpp files may include them.
TORCH_SYSTEM_PREFIXES = ('torch/', 'ATen/', 'c10/', 'caffe2/')
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def read_rules(architecture_md):
    text = open(architecture_md, encoding='utf-8').read()
    marker = text.find('Include rules')
    if marker < 0:
        raise SystemExit(f'{architecture_md}: no "Include rules" section')
    start = text.find('```', marker)
    end = text.find('```', start + 3)
    library_rules, folder_rules = {}, {}
    for line in text[start + 3:end].splitlines()[1:]:
        line = line.split('#')[0].strip()
        if not line:
            continue
        left, _, right = line.partition('->')
        left, targets = left.strip(), set(right.split())
        if '/' in left:
            folder_rules[left] = targets
        else:
            library_rules[left] = targets
    return library_rules, folder_rules


def sources(root):
    for library, folder in LIBRARIES.items():
        base = os.path.join(root, folder)
        for dirpath, _, files in os.walk(base):
            for name in sorted(files):
                if name.endswith(('.h', '.cpp')):
                    path = os.path.join(dirpath, name)
                    yield library, os.path.relpath(path, base), path


def check(root):
    library_rules, folder_rules = read_rules(os.path.join(root, 'docs', 'architecture.md'))
    problems = []
    # Every header once across all include roots, so that an include names one file.
    seen = {}
    for library, relative, _ in sources(root):
        if relative.endswith('.h'):
            if relative in seen and seen[relative] != library:
                problems.append(f'{relative}: exists in both {seen[relative]} and {library}')
            seen[relative] = library
    for library in LIBRARIES:
        if library not in library_rules:
            problems.append(f'docs/architecture.md: no include rule for the library {library}')
    for library, relative, path in sources(root):
        folder = os.path.dirname(relative)
        key = f'{library}/{folder}' if folder else library
        where = os.path.relpath(path, root)
        if library in ('core', 'torch') and folder and key not in folder_rules:
            problems.append(f'{where}: the folder {key} has no include rule in docs/architecture.md')
        text = open(path, encoding='utf-8').read()
        for match in INCLUDE.finditer(text):
            kind, name = match.groups()
            line = text.count('\n', 0, match.start()) + 1
            place = f'{where}:{line}: #include {kind}{name}{">" if kind == "<" else kind}'
            if kind == '<':
                if name.startswith(TORCH_SYSTEM_PREFIXES) and not (library == 'torch' and (
                        path.endswith('.cpp') or relative in PRIVATE_TORCH_HEADERS)):
                    problems.append(f'{place}: LibTorch is included only by engine/torch .cpp files and '
                                    'its private headers')
                if name.startswith('Q') and library in ('core', 'torch'):
                    problems.append(f'{place}: the engine never includes Qt')
                continue
            if os.path.exists(os.path.join(os.path.dirname(path), name)):
                target_library, target = library, os.path.normpath(os.path.join(folder, name))
            elif name in seen:
                target_library, target = seen[name], name
            else:
                cpp_owner = [lib for lib, rel, _ in sources(root) if rel == name]
                if not cpp_owner:
                    problems.append(f'{place}: no such header in any include root')
                    continue
                target_library, target = cpp_owner[0], name
            target_folder = os.path.dirname(target)
            if target_library != library:
                if target_library not in library_rules.get(library, set()):
                    problems.append(f'{place}: {library} may not include {target_library}')
                if target_library == 'torch' and target in PRIVATE_TORCH_HEADERS:
                    problems.append(f'{place}: {target} is private to engine/torch')
                continue
            if target_folder == folder or library not in ('core', 'torch'):
                continue
            if target_folder not in folder_rules.get(key, set()):
                problems.append(f'{place}: {key} may not include {library}/{target_folder}')
    return problems


# LibTorch's own headers appear in these (and .cpp files) only; nothing outside engine/torch may
# include them.
PRIVATE_TORCH_HEADERS = {
    'training/network.h', 'training/losses.h', 'training/optimizers.h', 'training/layer_health.h',
    'training/fused_kernels.h', 'training/distillation.h', 'training/training_tensors.h',
    'training/augmentation.h', 'training/data_parallel_run.h', 'training/mixed_precision.h',
    'training/training_step.h', 'training/trainer_run.h', 'compress/model_measurement.h',
}


def self_test():
    with tempfile.TemporaryDirectory() as root:
        def write(path, text):
            full = os.path.join(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            open(full, 'w', encoding='utf-8').write(text)
        write('docs/architecture.md', 'Include rules\n```text\ncore ->\ntorch -> core\nwidgets -> core\n'
              'gui -> core torch widgets\ncli -> core torch\ncore/spec ->\ncore/data -> spec\n'
              'torch/training ->\n```\n')
        write('engine/core/spec/spec.h', '#pragma once\n')
        write('engine/core/data/dataset.h', '#include "spec/spec.h"\n')
        write('engine/torch/training/trainer.h', '#include "data/dataset.h"\n')
        write('widgets/charts/view.h', '#include <QWidget>\n#include "spec/spec.h"\n')
        assert check(root) == [], check(root)
        write('engine/core/spec/spec.cpp', '#include "data/dataset.h"\n')  # spec may not see data
        write('widgets/charts/bad.cpp', '#include "training/trainer.h"\n')  # widgets never see LibTorch
        write('engine/core/data/qt.cpp', '#include <QString>\n')  # no Qt in the engine
        write('engine/core/data/torch_leak.h', '#include <torch/torch.h>\n')
        found = check(root)
        expected = ['core/spec may not include core/data', 'widgets may not include torch',
                    'the engine never includes Qt', 'LibTorch is included only']
        for needle in expected:
            assert any(needle in problem for problem in found), (needle, found)
        assert len(found) == len(expected), found
    print('self-test: the checker catches wrong includes')


def main():
    return run_check(__doc__, check, self_test,
                     lambda count: f'{count} include(s) break the rules in docs/architecture.md',
                     'every include follows docs/architecture.md')


if __name__ == '__main__':
    sys.exit(main())
