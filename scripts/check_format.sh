#!/usr/bin/env bash
# Checks that C++ files follow the project's .clang-format; prints the first differences of each
# file that does not and exits 1.
#
#   scripts/check_format.sh                 the files changed since the last commit of origin/main
#                                           (every tracked C++ file when there is no such commit)
#   scripts/check_format.sh --since REV     the files changed between REV and the working tree
#   scripts/check_format.sh --all           every tracked C++ file
#   scripts/check_format.sh --fix [...]     format those files in place instead
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

since=""
all=0
fix=0
while (($# > 0)); do
    case "$1" in
    --since)
        since="$2"
        shift
        ;;
    --all) all=1 ;;
    --fix) fix=1 ;;
    *)
        echo "usage: scripts/check_format.sh [--since REV | --all] [--fix]" >&2
        exit 2
        ;;
    esac
    shift
done
command -v clang-format >/dev/null 2>&1 || {
    echo "error: clang-format is missing (apt-get install clang-format)" >&2
    exit 1
}

if [[ -z $since && $all -eq 0 ]] && git rev-parse -q --verify origin/main >/dev/null; then
    since="$(git merge-base HEAD origin/main)"
fi
files=()
if [[ -n $since && $all -eq 0 ]]; then
    mapfile -t files < <(git diff --name-only --diff-filter=d "$since" -- '*.h' '*.cpp')
    mapfile -t -O "${#files[@]}" files < <(git ls-files --others --exclude-standard -- '*.h' '*.cpp')
else
    mapfile -t files < <(git ls-files -- '*.h' '*.cpp')
fi
if ((${#files[@]} == 0)); then
    echo "format: no C++ files to check"
    exit 0
fi
if ((fix)); then
    clang-format -i "${files[@]}"
    echo "format: formatted ${#files[@]} file(s)"
    exit 0
fi
# One clang-format process for all files; it names each place that differs.
if ! report="$(clang-format --dry-run --Werror "${files[@]}" 2>&1)"; then
    printf '%s\n' "$report" | head -40
    bad="$(printf '%s\n' "$report" | grep -c 'error: code should be clang-formatted' || true)"
    echo "format: ${#files[@]} file(s) checked, $bad place(s) differ from .clang-format;" \
        "fix with scripts/check_format.sh --fix" >&2
    exit 1
fi
echo "format: ${#files[@]} file(s) follow .clang-format"
