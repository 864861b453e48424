#!/usr/bin/env bash
# Installs what is missing, checks the formatting of every C++ file, builds everything with
# warnings as errors and runs the whole test suite with CTest: the engine and CLI tests, the widget
# tests offscreen, the include rules, and one real window under Xvfb (tunelab_xvfb_screenshot, which
# leaves build/screenshot.png behind). Then the core suites again under AddressSanitizer and
# UndefinedBehaviorSanitizer (scripts/sanitize.sh, build-sanitize/) and each fuzz target for
# TUNELAB_FUZZ_SECONDS (default 10; 0 skips fuzzing) with scripts/fuzz.sh.
#
#   scripts/test.sh [CTEST ARGS...]      e.g. scripts/test.sh -R loss_chart
#
# Environment: TUNELAB_BUILD_DIR, TUNELAB_JOBS, TUNELAB_TEST_JOBS (default 2), CCACHE_DIR,
# TUNELAB_WERROR (default ON: warnings fail the build).
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Peers for the benchmark and interop tests: PyTorch and Optuna from Python; clang-format for the
# format check.
TEST_PACKAGES=(python3-torch python3-optuna clang-format)

tunelab_install_packages "${TUNELAB_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${TUNELAB_SANITIZER_PACKAGES[@]}"
tunelab_log "Checking the format of every C++ file"
"$TUNELAB_ROOT/scripts/check_format.sh" --all
tunelab_build -DTUNELAB_GUI=ON -DTUNELAB_TESTS=ON -DTUNELAB_WARNINGS_AS_ERRORS="${TUNELAB_WERROR:-ON}"
tunelab_log "Testing"
ctest --test-dir "$TUNELAB_BUILD_DIR" --output-on-failure -j "${TUNELAB_TEST_JOBS:-2}" "$@"
"$TUNELAB_ROOT/scripts/sanitize.sh"
if [[ ${TUNELAB_FUZZ_SECONDS:-10} != 0 ]]; then
    "$TUNELAB_ROOT/scripts/fuzz.sh" "${TUNELAB_FUZZ_SECONDS:-10}"
fi
