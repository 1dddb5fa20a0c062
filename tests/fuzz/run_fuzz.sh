#!/bin/bash
# Builds the libFuzzer harnesses (Debian clang-14 + libfuzzer) over engine/io and runs each
# reader for SECONDS (default 600), in parallel. Seeds: the committed fixtures. New crashes land
# in tests/fuzz/crashes/<reader>/; move the fixed ones to tests/fuzz/regressions/ (checked by
# test_engine_io). A summary of the logs goes to bench/results/fuzz_summary.md.
#   tests/fuzz/run_fuzz.sh [SECONDS] [READERS...]   readers: h5ad tenx mtx csv
set -uo pipefail
SECONDS_PER_READER=${1:-600}
shift || true
READERS=${*:-h5ad tenx mtx csv}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${FUZZ_WORK:-/tmp/cw_fuzz_build}
mkdir -p "$OUT"
SRC="$ROOT/engine/io/dataset.cpp $ROOT/engine/io/hdf5_lock.cpp $ROOT/engine/io/hdf5_file.cpp $ROOT/engine/io/hdf5_vlen_check.cpp $ROOT/engine/io/h5ad_reader.cpp
     $ROOT/engine/io/tenx_reader.cpp $ROOT/engine/io/readers.cpp $ROOT/engine/io/line_reader.cpp $ROOT/engine/io/mtx_reader.cpp
     $ROOT/engine/io/text_reader.cpp $ROOT/engine/io/parallel_read.cpp $ROOT/engine/io/matrix_scans.cpp
     $ROOT/engine/io/chunk_index.cpp $ROOT/engine/io/object_header.cpp $ROOT/engine/core/errors.cpp $ROOT/engine/core/strings.cpp $ROOT/engine/core/feedback.cpp"
declare -A FORMAT=([h5ad]=1 [tenx]=2 [mtx]=3 [csv]=4)
declare -A SEEDS=([h5ad]="$ROOT/tests/data/io/formats $ROOT/tests/data/io/malformed"
                  [tenx]="$ROOT/tests/data/io/tenx/tenx_v3.h5 $ROOT/tests/data/io/tenx/tenx_v2.h5"
                  [mtx]="$ROOT/tests/data/io/tenx/mtx_v2/matrix.mtx"
                  [csv]="$ROOT/tests/data/io/tenx/cells_by_genes.csv $ROOT/tests/data/io/malformed/ragged.csv")
# The readers are compiled once (sanitizers + coverage); each harness only picks the format.
FLAGS="-std=c++20 -O1 -g -fsanitize=fuzzer-no-link,address,undefined -I$ROOT/engine/io -I$ROOT/engine/core
       -I/usr/include/hdf5/serial -DH5_USE_110_API"
mkdir -p "$OUT/obj"
objs=()
for src in $SRC; do
  obj="$OUT/obj/$(basename "$src" .cpp).o"
  clang++-14 $FLAGS -c "$src" -o "$obj" 2>> "$OUT/build.log" || { echo "build failed: $OUT/build.log"; exit 1; } &
  objs+=("$obj")
done
wait
for reader in $READERS; do
  bin="$OUT/fuzz_$reader"
  clang++-14 $FLAGS -fsanitize=fuzzer -DFUZZ_FORMAT=${FORMAT[$reader]} "$ROOT/tests/fuzz/fuzz_readers.cpp" "${objs[@]}" \
    -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -lz -lpthread -o "$bin" 2>> "$OUT/build.log" ||
    { echo "build of $reader failed: $OUT/build.log"; exit 1; }
  corpus="$OUT/corpus_$reader"
  mkdir -p "$corpus" "$ROOT/tests/fuzz/crashes/$reader"
  for s in ${SEEDS[$reader]}; do
    if [ -d "$s" ]; then find "$s" -maxdepth 1 -type f ! -name '*.json' -exec cp {} "$corpus/" \; ; else cp "$s" "$corpus/"; fi
  done
  # The reader's own tests seed names ending in .json are not inputs.
  # Fork mode keeps fuzzing after a finding (each is saved under crashes/) until the time is up.
  # Huge mallocs driven by corrupt metadata return NULL (libhdf5 then reports an error), as
  # they do outside the sanitizer, instead of aborting the run.
  ( ASAN_OPTIONS=allocator_may_return_null=1 "$bin" "$corpus" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
      -max_total_time="$SECONDS_PER_READER" -max_len=65536 -rss_limit_mb=2048 -timeout=20 \
      -artifact_prefix="$ROOT/tests/fuzz/crashes/$reader/" -print_final_stats=1 > "$OUT/run_$reader.log" 2>&1 ) &
done
wait
SUMMARY="$ROOT/bench/results/fuzz_summary.md"
{
  echo "# libFuzzer runs ($(date -u +%Y-%m-%dT%H:%MZ), ${SECONDS_PER_READER}s per reader, clang-14, ASan+UBSan)"
  echo
  echo "| reader | executions | corpus units | crashes/leaks/timeouts saved |"
  echo "|---|---|---|---|"
  for reader in $READERS; do
    log="$OUT/run_$reader.log"
    execs=$(grep -oE '^#[0-9]+' "$log" | tail -1)
    units=$(ls "$OUT/corpus_$reader" | wc -l)
    crashes=$(ls "$ROOT/tests/fuzz/crashes/$reader" 2>/dev/null | wc -l)
    echo "| $reader | ${execs:-?} | $units | $crashes |"
  done
} > "$SUMMARY"
cat "$SUMMARY"
