#!/usr/bin/env bash
# Builds TuneLab with clang's AddressSanitizer and UndefinedBehaviorSanitizer and runs the tests
# under them (docs/testing.md).
#
#   scripts/sanitize.sh [CTEST ARGS...]        the core: tunelab_core, its suites and the fuzz targets
#                                              (no LibTorch), in build-sanitize/; CI runs this
#   scripts/sanitize.sh --all [CTEST ARGS...]  everything (engine, CLI, window, all suites), in
#                                              build-sanitize-all/; LibTorch and Qt are not instrumented
#   scripts/sanitize.sh --thread [...]         ThreadSanitizer instead, core only, in build-tsan/
#   scripts/sanitize.sh --thread-all [...]     ThreadSanitizer over the engine suites too (the run manager,
#                                              trained studies, races, the store), in build-tsan-all/;
#                                              suites that start processes are left out (see below)
#
# The core build also links the fuzz targets with libFuzzer, for scripts/fuzz.sh. Environment:
# TUNELAB_JOBS, TUNELAB_TEST_JOBS (default 2), TUNELAB_WERROR (default ON), CCACHE_DIR, and
# ASAN_OPTIONS / UBSAN_OPTIONS / TSAN_OPTIONS to override the defaults of scripts/common.sh.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

mode=core
if (($# > 0)); then
    case "$1" in
    --all) mode=all && shift ;;
    --thread) mode=thread && shift ;;
    --thread-all) mode=thread-all && shift ;;
    esac
fi

tunelab_install_packages "${TUNELAB_PACKAGES[@]}" "${TUNELAB_SANITIZER_PACKAGES[@]}"
# -O1 keeps the instrumented build quick to compile and the reports' stacks close to the source.
common=(-DCMAKE_CXX_COMPILER=clang++ "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG" -DTUNELAB_TESTS=ON
    -DTUNELAB_WARNINGS_AS_ERRORS="${TUNELAB_WERROR:-ON}")
# Forked children that only exec are fine; the suppressions name the uninstrumented libraries.
tsan_options="halt_on_error=1:second_deadlock_stack=1:die_after_fork=0"
tsan_options+=":suppressions=$TUNELAB_ROOT/scripts/tsan.supp"
case "$mode" in
core)
    TUNELAB_BUILD_DIR="$TUNELAB_ROOT/build-sanitize"
    tunelab_configure "${common[@]}" -DTUNELAB_TORCH=OFF -DTUNELAB_GUI=OFF -DTUNELAB_BENCH=OFF \
        -DTUNELAB_SANITIZE=address,undefined -DTUNELAB_FUZZ=ON
    tunelab_sanitizer_env 1
    ;;
all)
    TUNELAB_BUILD_DIR="$TUNELAB_ROOT/build-sanitize-all"
    tunelab_configure "${common[@]}" -DTUNELAB_TORCH=ON -DTUNELAB_GUI=ON -DTUNELAB_BENCH=OFF \
        -DTUNELAB_SANITIZE=address,undefined -DTUNELAB_FUZZ=OFF
    tunelab_sanitizer_env 0
    ;;
thread)
    TUNELAB_BUILD_DIR="$TUNELAB_ROOT/build-tsan"
    tunelab_configure "${common[@]}" -DTUNELAB_TORCH=OFF -DTUNELAB_GUI=OFF -DTUNELAB_BENCH=OFF \
        -DTUNELAB_SANITIZE=thread -DTUNELAB_FUZZ=OFF
    export TSAN_OPTIONS="${TSAN_OPTIONS:-$tsan_options}"
    ;;
thread-all)
    # LibTorch is not instrumented: its tests run with one intra-op thread (tests/CMakeLists.txt),
    # so what ThreadSanitizer sees is TuneLab's own threads.
    TUNELAB_BUILD_DIR="$TUNELAB_ROOT/build-tsan-all"
    tunelab_configure "${common[@]}" -DTUNELAB_TORCH=ON -DTUNELAB_GUI=OFF -DTUNELAB_BENCH=OFF \
        -DTUNELAB_SANITIZE=thread -DTUNELAB_FUZZ=OFF
    export TSAN_OPTIONS="${TSAN_OPTIONS:-$tsan_options}"
    # Qt starts a QProcess with a raw clone() ThreadSanitizer cannot follow: the suites that run
    # tunelab-cli or helper processes are left out by default, and test functions that start one
    # skip (tests/thread_sanitizer_test_support.h).
    export TUNELAB_THREAD_SANITIZER=1
    if (($# == 0)); then
        set -- -E '_cli$|hostile_input|fault_injection|full_disk|store_recovery|goldens_fresh'
    fi
    ;;
esac
# shellcheck disable=SC2119 # no targets: all of them
tunelab_build_targets
tunelab_log "Testing under the sanitizers ($mode)"
ctest --test-dir "$TUNELAB_BUILD_DIR" --output-on-failure -j "${TUNELAB_TEST_JOBS:-2}" "$@"
