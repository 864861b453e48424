#!/usr/bin/env bash
# One command for a GPU machine (docs/gpu.md): builds the engine and tunelab-cli against the LibTorch of
# the machine's Python (no Qt, no window, no Qt tests), runs the GPU checks and benchmarks of
# scripts/gpu_checks.py on the device, and writes logs and results.json into OUT.
#
# Needs: CMake, Ninja, a C++17 compiler, a Python whose torch has its CMake files (and CUDA, for
# cuda), and the folder scripts/gpu-deps.sh gathers on a Debian machine (.gpu-deps/ beside this
# checkout, or TUNELAB_GPU_DEPS). On a machine without a GPU, --device cpu runs the same checks on the
# CPU (the out-of-memory check is skipped there).
#
# Usage: scripts/gpu-check.sh OUT [--device cuda] [--rounds 3] [--epochs 20] [--only check,check]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ $# -ge 1 ]] || {
    echo "usage: scripts/gpu-check.sh OUT [--device cuda] [--rounds 3] [--epochs 20] [--only check,...]" >&2
    exit 2
}
out="$(mkdir -p "$1" && cd "$1" && pwd)"
shift
device=cuda
checks=()
while [[ $# -gt 0 ]]; do
    case $1 in
    --device) device=$2; shift 2 ;;
    --rounds | --epochs | --only) checks+=("$1" "$2"); shift 2 ;;
    *) echo "error: unknown option $1" >&2; exit 2 ;;
    esac
done
deps="${TUNELAB_GPU_DEPS:-$root/.gpu-deps}"
build="${TUNELAB_GPU_BUILD_DIR:-$root/build-gpu}"
[[ -d $deps/include ]] || {
    echo "error: $deps is missing: run scripts/gpu-deps.sh on a Debian machine and bring the folder along" >&2
    exit 1
}

# The first Python that has torch: the machine's own, else Debian's.
python=""
for candidate in "${PYTHON:-}" python3 /usr/bin/python3; do
    if [[ -n $candidate ]] && "$candidate" -c 'import torch' 2>/dev/null; then
        python=$candidate
        break
    fi
done
[[ -n $python ]] || { echo "error: no Python with torch found (set PYTHON)" >&2; exit 1; }
# Its LibTorch where it ships CMake files (pip's torch does); Debian's python3-torch does not, and the
# system's LibTorch (libtorch-dev) is found without help.
prefix="$deps"
torch_cmake="$("$python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')"
if [[ -f $torch_cmake/Torch/TorchConfig.cmake ]]; then
    prefix="$deps;$torch_cmake"
fi
cuda_options=()
if command -v nvcc >/dev/null; then
    cuda_options+=(-DCMAKE_CUDA_COMPILER="$(command -v nvcc)")
    # The GPU's own architecture, so that LibTorch's CMake files do not probe for one.
    arch="$("$python" -c 'import torch; print("%d.%d" % torch.cuda.get_device_capability())' 2>/dev/null || true)"
    if [[ -n $arch ]]; then
        export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-$arch}"
    fi
fi

{
    date -u +%FT%TZ
    uname -a
    nproc
    command -v nvidia-smi >/dev/null && nvidia-smi -L
    "$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())'
    echo "prefix: $prefix"
} >"$out/environment.txt" 2>&1

build_cli() {
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTUNELAB_GUI=OFF -DTUNELAB_TESTS=OFF \
        -DTUNELAB_BENCH=OFF -DCMAKE_PREFIX_PATH="$prefix" "${cuda_options[@]}" "$@" &&
        ninja -C "$build" -j "$(nproc)" tunelab-cli
}

started=$SECONDS
echo "==> configuring and building tunelab-cli in $build (log: $out/build.log)"
if ! build_cli >"$out/build.log" 2>&1; then
    # Data parallel training (c10d) and the steps recorded as CUDA graphs are the parts most tied to
    # LibTorch's CUDA internals: the rest is still worth checking without them. The first build's log
    # stays for the fix.
    mv "$out/build.log" "$out/build-with-data-parallel.log"
    echo "==> the build failed (see $out/build-with-data-parallel.log); building without data parallel training and CUDA graphs"
    if ! build_cli -DTUNELAB_TORCH_HAS_GLOO=OFF -DTUNELAB_TORCH_HAS_NCCL=OFF -DTUNELAB_CUDA_GRAPHS=OFF \
        >"$out/build.log" 2>&1; then
        tail -n 30 "$out/build.log" >&2
        printf '{"build": {"status": "failed", "seconds": %d}}\n' $((SECONDS - started)) >"$out/results.json"
        echo "error: the build failed; see $out/build.log" >&2
        exit 1
    fi
fi
echo "==> built in $((SECONDS - started)) s; running the checks on $device"
"$python" "$root/scripts/gpu_checks.py" --cli "$build/app/tunelab-cli" --out "$out" --device "$device" \
    --data "$deps/data" "${checks[@]}"
