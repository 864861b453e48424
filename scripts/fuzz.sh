#!/usr/bin/env bash
# Runs each libFuzzer target of tests/fuzz/ for a bounded time in the sanitizer build
# (scripts/sanitize.sh builds it), one per core at a time (docs/testing.md).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default: 30 seconds each, every target
#
# Each target starts from its seeds (tests/fuzz/corpus/<target>/) and the inputs it found before in
# build-sanitize/fuzz/corpus/<target>/. A crash, hang, leak, memory blow-up or sanitizer report
# stops that target and leaves the input in build-sanitize/fuzz/artifacts/<target>/; the script
# then fails. Copy the input into tests/fuzz/regressions/<target>/ with the fix, so CTest replays it.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

seconds="${1:-30}"
shift || true
build="$TUNELAB_ROOT/build-sanitize"
TUNELAB_BUILD_DIR="$build"
fuzz="$TUNELAB_ROOT/tests/fuzz"
targets=("$@")
if ((${#targets[@]} == 0)); then
    targets=(spec study race search_space csv idx cifar store optuna compress image_folder zip)
fi
if ! grep -qs '^TUNELAB_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
    tunelab_die "no fuzzing build in $build: run scripts/sanitize.sh first"
fi
tunelab_build_targets "${targets[@]/#/fuzz_}"
tunelab_sanitizer_env 1

# Each fuzzer runs on one core: TUNELAB_FUZZ_JOBS of them (default: one per core) run at once, each
# for the full time, so the wall time shrinks and the fuzzing done does not.
jobs="${TUNELAB_FUZZ_JOBS:-$(nproc)}"
fuzz_target() {
    local target="$1"
    local corpus="$build/fuzz/corpus/$target" artifacts="$build/fuzz/artifacts/$target/"
    mkdir -p "$corpus" "$artifacts"
    local max_len=8192
    [[ $target == cifar ]] && max_len=16384 # room for a few 3073-byte records
    local options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024
        -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$artifacts")
    case "$target" in
    spec | study | race | search_space) options+=(-dict="$fuzz/dictionaries/json.dict") ;;
    esac
    "$build/tests/fuzz/fuzz_$target" "${options[@]}" "$corpus" "$fuzz/corpus/$target" 2>"$build/fuzz/$target.log"
}

declare -A running=()
failed=()
finish_one() {
    local pid
    wait -n -p pid "${!running[@]}" && status=0 || status=$?
    local target="${running[$pid]}"
    unset "running[$pid]"
    if ((status != 0)); then
        tail -n 60 "$build/fuzz/$target.log" >&2
        failed+=("$target")
    fi
    echo "$target: $(grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$build/fuzz/$target.log" | tr '\n' ' ')" >&2
}
for target in "${targets[@]}"; do
    while ((${#running[@]} >= jobs)); do
        finish_one
    done
    tunelab_log "Fuzzing $target for $seconds s"
    fuzz_target "$target" &
    running[$!]="$target"
done
while ((${#running[@]} > 0)); do
    finish_one
done
if ((${#failed[@]} > 0)); then
    tunelab_die "fuzzing found a failure in: ${failed[*]} (inputs in $build/fuzz/artifacts/)"
fi
tunelab_log "No fuzz target failed"
