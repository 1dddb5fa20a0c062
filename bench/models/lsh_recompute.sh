#!/usr/bin/env bash
# scReformer LSH attention with the chunk scores recomputed in backward (the default,
# `recompute_scores`) against plain autograd storing scores and probabilities
# (`screformer-lsh-stored`), side by side: paper preset (6 layers, 10 heads × 64, 4 rounds,
# dedup), train batch 8 and inference batch 32 as in ../shared/docs/seed-models.md, at
# TOKENS genes. Each variant runs in its own process (peak RSS per variant), order
# alternated. On a GPU machine `bench/gpu.sh` runs both rows at 16,907 genes.
# Usage: bench/models/lsh_recompute.sh [BUILD_DIR] [TOKENS] [REPEATS] [STEPS]
# Writes bench/results/lsh_recompute.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build}"
tokens="${2:-2048}"
repeats="${3:-1}"
steps="${4:-2}"
bench="$build/bench/models/cellwright_bench_models"
device="${DEVICE:-cpu}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

run() {  # model label -> "train_cells_s train_peak_gib infer_cells_s infer_peak_gib"
  "$bench" --device "$device" --models "$1" --tokens "$tokens" --steps "$steps" --out "$work" > "$work/$1.log"
  # | model | tokens | precision | train batch | train cells/s | train peak | infer batch | infer cells/s | infer peak | ...
  awk -F'|' -v m="$1" '$2 ~ "^ "m" $" {gsub(/ /,""); print $6, $7, $9, $10}' "$work/$1.log"
}

out="$root/bench/results/lsh_recompute.md"
{
  echo "# scReformer LSH: chunk scores recomputed in backward vs stored"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $device, $(nproc) cores; paper preset, $tokens genes, train batch 8, inference batch 32, $steps timed steps."
  echo "Peak: process max RSS on the CPU (inference column includes training's), CUDA allocator peak on a GPU."
  echo
  echo "| run | order | recomputed: train cells/s | train peak GiB | infer cells/s | infer peak GiB | stored: train cells/s | train peak GiB | infer cells/s | infer peak GiB | train speed ratio | train peak ratio stored/recomputed |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
} > "$out"
for i in $(seq 1 "$repeats"); do
  if (( i % 2 )); then
    read -r rt rp ri rip < <(run screformer-lsh); read -r st sp si sip < <(run screformer-lsh-stored); order="recomputed first"
  else
    read -r st sp si sip < <(run screformer-lsh-stored); read -r rt rp ri rip < <(run screformer-lsh); order="stored first"
  fi
  speed=$(/usr/bin/python3 -c "print(round($rt / $st, 2))")
  peak=$(/usr/bin/python3 -c "print(round($sp / $rp, 2))")
  echo "| $i | $order | $rt | $rp | $ri | $rip | $st | $sp | $si | $sip | ${speed}x | ${peak}x |" | tee -a "$out"
done
echo "written to $out"
