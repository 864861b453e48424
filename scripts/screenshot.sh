#!/usr/bin/env bash
# Starts the workbench in a virtual X server (Xvfb), trains the current experiment for a few
# seconds, and saves a PNG of the window; the window grabs itself (tunelab --screenshot).
#
#   scripts/screenshot.sh [--binary PATH] [--output PNG] [--run-seconds S] [--min-bytes N]
#                         [--screen WxH] [-- TUNELAB ARGS...]
#
# --screen sizes the virtual screen (default 1280x800); give the window the same size with
# -- --window-size WxH.
#
# Fails unless the PNG exists and has at least --min-bytes (default 10240: an empty or black
# window compresses to less). Exits 77 (CTest's "skipped") when xvfb-run is not installed.
# Without --binary it builds build/app/gui/tunelab first when that is missing.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

binary=""
output="$TUNELAB_BUILD_DIR/screenshot.png"
seconds=3
min_bytes=10240
screen=1280x800
extra=()
while (($# > 0)); do
    case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --output) output="$2"; shift 2 ;;
    --run-seconds) seconds="$2"; shift 2 ;;
    --min-bytes) min_bytes="$2"; shift 2 ;;
    --screen) screen="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) tunelab_die "unknown argument: $1 (see --help)" ;;
    esac
done

if ! command -v xvfb-run >/dev/null 2>&1; then
    echo "xvfb-run not found (apt-get install xvfb xauth): skipping the screenshot" >&2
    exit 77
fi
if [[ -z $binary ]]; then
    binary="$TUNELAB_BUILD_DIR/app/gui/tunelab"
    if [[ ! -x $binary ]]; then
        tunelab_configure
        tunelab_build_targets tunelab
    fi
fi
[[ -x $binary ]] || tunelab_die "not an executable: $binary"

mkdir -p "$(dirname "$output")"
rm -f "$output"
# xcb, not offscreen: this checks that a real X11 window comes up and paints.
status=0
QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 ${screen}x24 -nolisten tcp" \
    "$binary" --screenshot "$output" --run-seconds "$seconds" "${extra[@]}" || status=$?
if ((status != 0)); then
    tunelab_die "tunelab --screenshot exited with $status"
fi
[[ -f $output ]] || tunelab_die "no screenshot at $output"
size=$(stat -c %s "$output")
if ((size < min_bytes)); then
    tunelab_die "screenshot $output has only $size bytes (expected at least $min_bytes)"
fi
echo "screenshot: $output ($size bytes)"
