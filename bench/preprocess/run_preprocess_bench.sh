#!/bin/sh
# Side-by-side: Cellwright vs the numpy/scipy pipeline on the same simulated data.
# Usage: bench/preprocess/run_preprocess_bench.sh BUILD_DIR [CELLS] [GENES]
set -e
build=${1:-build}
cells=${2:-200000}
genes=${3:-20000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/bench/preprocess/bench_preprocess_pipeline" "$cells" "$genes" "$tmp/counts.h5ad"
/usr/bin/python3 "$(dirname "$0")/preprocess_numpy.py" "$tmp/counts.h5ad"
