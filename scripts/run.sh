#!/usr/bin/env bash
# Installs what is missing, builds, and starts TuneLab: the workbench window when there is a
# display, otherwise the command line trainer on the built-in default experiment.
#
#   scripts/run.sh [--headless] [ARGS...]
#
# ARGS go to the program: an experiment JSON for the window (tunelab), further options for
# `tunelab-cli train --default` when headless. Environment: TUNELAB_BUILD_DIR, TUNELAB_JOBS,
# CCACHE_DIR.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

headless=0
args=()
for arg in "$@"; do
    case "$arg" in
    --headless) headless=1 ;;
    *) args+=("$arg") ;;
    esac
done
if [[ -z ${DISPLAY:-} && -z ${WAYLAND_DISPLAY:-} ]]; then
    headless=1
fi

tunelab_install_packages "${TUNELAB_PACKAGES[@]}"
tunelab_configure
cd "$TUNELAB_ROOT"
if ((headless)); then
    tunelab_build_targets tunelab-cli
    exec "$TUNELAB_BUILD_DIR/app/tunelab-cli" train --default "${args[@]}"
else
    tunelab_build_targets tunelab
    exec "$TUNELAB_BUILD_DIR/app/gui/tunelab" "${args[@]}"
fi
