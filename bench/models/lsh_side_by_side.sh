#!/usr/bin/env bash
# Two scReformer LSH variants (rows of cellwright_bench_models) side by side: paper preset
# (6 layers, 10 heads × 64, 4 rounds counted once), train batch 8 and inference batch 32 as
# in ../shared/docs/seed-models.md, at TOKENS genes. Each variant runs in its own process
# (peak RSS per variant), order alternated; a last process times one attention call of
# each formulation (--check-fused-kernels). On a GPU machine `bench/gpu.sh` runs all rows at
# 16,907 genes.
#   fused kernels vs the torch formulation: lsh_side_by_side.sh screformer-lsh screformer-lsh-torch
#   torch: scores recomputed vs stored:     lsh_side_by_side.sh screformer-lsh-torch screformer-lsh-stored
# Usage: bench/models/lsh_side_by_side.sh A B [BUILD_DIR] [TOKENS] [REPEATS] [STEPS]
# Writes bench/results/lsh_A_vs_B.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
a="$1"
b="$2"
build="${3:-$root/build}"
tokens="${4:-1024}"
repeats="${5:-2}"
steps="${6:-2}"
bench="$build/bench/models/cellwright_bench_models"
device="${DEVICE:-cpu}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

run() {  # model label -> "train_cells_s train_peak_gib infer_cells_s infer_peak_gib"
  "$bench" --device "$device" --models "$1" --tokens "$tokens" --steps "$steps" --out "$work" > "$work/$1.log"
  # | model | tokens | precision | train batch | train cells/s | train peak | infer batch | infer cells/s | infer peak | ...
  awk -F'|' -v m="$1" '$2 ~ "^ "m" $" {gsub(/ /,""); print $6, $7, $9, $10}' "$work/$1.log"
}

out="$root/bench/results/lsh_${a}_vs_${b}.md"
{
  echo "# scReformer LSH: $a vs $b"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $device, $(nproc) cores; paper preset, $tokens genes, train batch 8, inference batch 32, $steps timed steps."
  echo "Peak: process max RSS on the CPU (inference column includes training's), CUDA allocator peak on a GPU."
  echo
  echo "| run | order | $a: train cells/s | train peak GiB | infer cells/s | infer peak GiB | $b: train cells/s | train peak GiB | infer cells/s | infer peak GiB | train speed ratio | infer speed ratio | train peak ratio $b/$a |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
} > "$out"
for i in $(seq 1 "$repeats"); do
  if (( i % 2 )); then
    read -r at ap ai aip < <(run "$a"); read -r bt bp bi bip < <(run "$b"); order="$a first"
  else
    read -r bt bp bi bip < <(run "$b"); read -r at ap ai aip < <(run "$a"); order="$b first"
  fi
  ratios=$(/usr/bin/python3 -c "print(f'{$at / $bt:.2f}x | {$ai / $bi:.2f}x | {$bp / $ap:.2f}x')")
  echo "| $i | $order | $at | $ap | $ai | $aip | $bt | $bp | $bi | $bip | $ratios |" | tee -a "$out"
done
mkdir "$work/check"
"$bench" --device "$device" --check-fused-kernels --models none --out "$work/check" > /dev/null
{ echo; grep -ho "Fused LSH kernels.*" "$work"/check/models-*.md; } | tee -a "$out"
echo "written to $out"
