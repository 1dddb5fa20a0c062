#!/usr/bin/env bash
# CPU training and inference with freed heap memory kept however big the freed top of the
# heap is (cw::HeapMemoryScope: trim threshold -1, the default) against the scope as it was
# before (trim threshold INT_MAX, reproduced with glibc tunables and the scope off), side by
# side: CellPatch paper preset, 2,000 tokens, train batch 256 and inference batch 1,024 as in
# ../shared/docs/seed-models.md. Its inference scores (1,024 × 4 heads × 64 × 2,000 floats,
# 2.1 GB) leave a freed top over 2 GiB, which INT_MAX still handed back every batch. Each run
# in its own process, order alternated; minor page faults from /usr/bin/time.
# Usage: bench/models/heap_trim.sh [BUILD_DIR] [REPEATS] [STEPS]
# Writes bench/results/heap_trim.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build}"
repeats="${2:-1}"
steps="${3:-3}"
bench="$build/bench/models/cellwright_bench_models"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

run() {  # label -> "train_cells_s infer_cells_s minor_faults wall_s"
  local label="$1" extra=() env=()
  if [[ "$label" == int-max ]]; then
    extra=(--mapped-allocations)
    env=(GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647)
  fi
  env "${env[@]}" /usr/bin/time -f "%R %e" -o "$work/$label.time" \
    "$bench" --device cpu --models cellpatch --steps "$steps" "${extra[@]}" --out "$work" > "$work/$label.log"
  # | model | tokens | precision | train batch | train cells/s | train peak | infer batch | infer cells/s | ...
  local speeds
  speeds=$(awk -F'|' '$2 ~ "^ cellpatch $" {gsub(/ /,""); print $6, $9}' "$work/$label.log")
  echo "$speeds $(cat "$work/$label.time")"
}

out="$root/bench/results/heap_trim.md"
{
  echo "# CPU heap: freed blocks of 2 GiB and more kept (trim off) vs trim threshold INT_MAX"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r); CellPatch paper preset, 2,000 tokens, train batch 256, inference batch 1,024, $steps timed steps (after one warm-up) each."
  echo "Page faults and wall time cover the whole process (warm-up, bf16 check and start-up included)."
  echo
  echo "| run | order | kept: train cells/s | infer cells/s | page faults | wall s | INT_MAX: train cells/s | infer cells/s | page faults | wall s | train ratio | infer ratio |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
} > "$out"
for i in $(seq 1 "$repeats"); do
  if (( i % 2 )); then
    read -r kt ki kf kw < <(run kept); read -r ot oi of ow < <(run int-max); order="kept first"
  else
    read -r ot oi of ow < <(run int-max); read -r kt ki kf kw < <(run kept); order="INT_MAX first"
  fi
  ratios=$(/usr/bin/python3 -c "print(f'{$kt / $ot:.2f}x | {$ki / $oi:.2f}x')")
  echo "| $i | $order | $kt | $ki | $kf | $kw | $ot | $oi | $of | $ow | $ratios |" | tee -a "$out"
done
echo "written to $out"
