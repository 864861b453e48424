#!/usr/bin/env bash
# Gathers what a machine without Debian's packages needs to build the engine and tunelab-cli against
# its own LibTorch (scripts/gpu-check.sh): the header-only libraries (nlohmann-json, CLI11) with their
# CMake packages, SQLite and zlib as headers and static libraries, and the digits data of the checks.
# Everything goes into one folder (default .gpu-deps/, ignored by git) laid out as an install prefix,
# so that CMAKE_PREFIX_PATH finds it; copy or carry that folder along with the checkout.
#
# Usage: scripts/gpu-deps.sh [FOLDER]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
folder="${1:-$root/.gpu-deps}"
data="$root/../shared/data"

need() {
    for path in "$@"; do
        [[ -e $path ]] || {
            echo "error: $path is missing: install nlohmann-json3-dev libcli11-dev libsqlite3-dev" \
                "zlib1g-dev (scripts/test.sh does), and keep the shared data beside the checkout" >&2
            exit 1
        }
    done
}
need /usr/include/nlohmann/json.hpp /usr/share/cmake/nlohmann_json /usr/include/CLI/CLI.hpp \
    /usr/share/cmake/CLI11 /usr/include/sqlite3.h /usr/lib/x86_64-linux-gnu/libsqlite3.a /usr/include/zlib.h \
    /usr/include/zconf.h /usr/lib/x86_64-linux-gnu/libz.a "$data/digits.csv"

rm -rf "$folder"
mkdir -p "$folder/include" "$folder/lib" "$folder/share/cmake" "$folder/data"
cp -r /usr/include/nlohmann /usr/include/CLI "$folder/include/"
cp -r /usr/share/cmake/nlohmann_json /usr/share/cmake/CLI11 "$folder/share/cmake/"
cp /usr/include/sqlite3.h /usr/include/sqlite3ext.h /usr/include/zlib.h /usr/include/zconf.h "$folder/include/"
cp /usr/lib/x86_64-linux-gnu/libsqlite3.a /usr/lib/x86_64-linux-gnu/libz.a "$folder/lib/"
cp "$data/digits.csv" "$folder/data/"
echo "$(du -sh "$folder" | cut -f1) in $folder"
