#!/usr/bin/env bash
# Shared by scripts/run.sh, scripts/test.sh and scripts/screenshot.sh: source it, don't run it.
# Provides TUNELAB_ROOT, TUNELAB_BUILD_DIR and the functions below.
set -euo pipefail
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    echo "scripts/common.sh is a library: source it from another script" >&2
    exit 1
fi

TUNELAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TUNELAB_BUILD_DIR="${TUNELAB_BUILD_DIR:-$TUNELAB_ROOT/build}"

# Debian 12 packages to build and run TuneLab. libgl-dev: Qt6Gui's CMake package needs the
# OpenGL headers; libqt6opengl6-dev: Qt6Charts' CMake package needs Qt6OpenGL (only a
# recommendation of qt6-base-dev, so --no-install-recommends leaves it out). fonts-dejavu-core:
# readable text in screenshots. xvfb and xauth: a real X window without a display (xvfb-run).
# libonnx-dev writes ONNX exports (its protobuf headers come with libtorch-dev's libprotobuf-dev)
# and libopencv-dev's DNN module reads them back to check them; python3-onnx checks them in
# tests/export_reference/check_export.py (docs/export.md). libgloo-dev: the Gloo headers that
# LibTorch's c10d process groups need, for one run trained by several processes (docs/data-parallel.md).
# libstb-dev decodes and resizes the images of image folders.
# shellcheck disable=SC2034 # used by the scripts that source this file
TUNELAB_PACKAGES=(
    build-essential cmake ninja-build ccache pkg-config
    libtorch-dev libgloo-dev libopenblas0-pthread libonnx-dev libopencv-dev python3-onnx
    nlohmann-json3-dev libcli11-dev libsqlite3-dev zlib1g-dev libpq-dev postgresql libstb-dev
    qt6-base-dev qt6-charts-dev libqt6opengl6-dev libgl-dev fonts-dejavu-core
    xvfb xauth
)

# A one-node Slurm for the test of scripts/slurm/tunelab-workers.sbatch: tests/slurm/slurm_cluster.sh starts
# munged, slurmctld and slurmd with a key, a configuration and ports of its own, and leaves the system's
# services alone. Part of TUNELAB_PACKAGES, so that scripts/test.sh installs them.
# shellcheck disable=SC2034 # used by the scripts that source this file
TUNELAB_CLUSTER_PACKAGES=(slurmctld slurmd slurm-client munge)
TUNELAB_PACKAGES+=("${TUNELAB_CLUSTER_PACKAGES[@]}")

# clang with its sanitizer and libFuzzer runtimes (libclang-rt-14-dev is only a recommendation of
# clang), and llvm-symbolizer for readable sanitizer reports: scripts/sanitize.sh and fuzz.sh.
# shellcheck disable=SC2034 # used by the scripts that source this file
TUNELAB_SANITIZER_PACKAGES=(clang libclang-rt-14-dev llvm-14)

# The compiler cache lives in the checkout unless the caller chose another place. The sloppiness
# lets ccache serve translation units built with precompiled headers (engine: <torch/torch.h>).
export CCACHE_DIR="${CCACHE_DIR:-$TUNELAB_ROOT/.cache/ccache}"
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
# Relative paths in the cache keys, so another checkout location still hits the cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$TUNELAB_ROOT}"

tunelab_log() {
    printf '\033[1m==> %s\033[0m\n' "$*" >&2
}

tunelab_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Runs a command as root: directly when we are root, through sudo otherwise.
tunelab_as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        tunelab_die "need root (or sudo) to run: $*"
    fi
}

tunelab_package_installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

# Installs whichever of the given Debian packages are missing; does nothing when all are there.
tunelab_install_packages() {
    local missing=() package
    for package in "$@"; do
        tunelab_package_installed "$package" || missing+=("$package")
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 || tunelab_die "missing packages and no apt-get: ${missing[*]}"
    tunelab_log "Installing ${missing[*]}"
    if [[ -z ${TUNELAB_APT_UPDATED:-} ]]; then
        tunelab_as_root apt-get update
        TUNELAB_APT_UPDATED=1
    fi
    tunelab_as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
}

# Configures the build folder (Ninja, Release) with any extra CMake arguments.
tunelab_configure() {
    tunelab_log "Configuring $TUNELAB_BUILD_DIR"
    cmake -S "$TUNELAB_ROOT" -B "$TUNELAB_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
}

# Builds the given targets, or everything when none are given.
# shellcheck disable=SC2120 # callers pass targets, or none for all
tunelab_build_targets() {
    local jobs="${TUNELAB_JOBS:-$(nproc)}"
    local targets=()
    if (($# > 0)); then
        targets=(--target "$@")
    fi
    tunelab_log "Building ${*:-all targets} with $jobs jobs"
    cmake --build "$TUNELAB_BUILD_DIR" -j "$jobs" "${targets[@]}"
}

# Configure with extra CMake arguments, then build everything.
tunelab_build() {
    tunelab_configure "$@"
    # shellcheck disable=SC2119 # no targets: all of them
    tunelab_build_targets
}

# Sanitizer settings for the programs of a sanitizer build (scripts/sanitize.sh, scripts/fuzz.sh):
# reports with symbols, undefined behaviour fails the program, and leaks fail it where TuneLab's own
# code is all there is (LibTorch, OpenBLAS and Qt keep memory until exit, so `all` builds skip leaks).
tunelab_sanitizer_env() {
    local leaks="${1:-1}" symbolizer
    symbolizer="$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || true)"
    if [[ -n $symbolizer ]]; then
        export ASAN_SYMBOLIZER_PATH="$symbolizer" UBSAN_SYMBOLIZER_PATH="$symbolizer"
    fi
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=$leaks:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
    export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$TUNELAB_ROOT/scripts/lsan.supp:print_suppressions=0}"
}
