#!/bin/sh
# Embedding-view smoothness on software rendering (Xvfb + Mesa llvmpipe).
# Usage (from the repository root, after building bench_gui_smoothness):
#   bench/gui/run.sh [build-dir] [--cells 100000,1000000] [--frames 60]
BUILD=${1:-build}
[ $# -gt 0 ] && shift
LIBGL_ALWAYS_SOFTWARE=1 QT_QPA_PLATFORM=xcb exec xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$BUILD/bench/gui/bench_gui_smoothness" "$@"
