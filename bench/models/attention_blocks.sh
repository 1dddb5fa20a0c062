#!/usr/bin/env bash
# CPU inference with LibTorch 1.13's attention evaluated in blocks of at most 512 MiB of
# scores (cw::compute::blockedAttention, the default without autograd) against the whole
# score tensor at once (`--plain-attention`), side by side: CellPatch paper preset (2,000
# genes, inference batch 1,024: 2.1 GB of cross-attention scores) and scReformer's full
# attention encoder at TOKENS genes (inference batch 32, 10 heads). Each run in its own
# process, order alternated. Peak: process max RSS (training's included, which is the same
# in both).
# Usage: bench/models/attention_blocks.sh [BUILD_DIR] [REPEATS] [TOKENS]
# Writes bench/results/attention_blocks.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build}"
repeats="${2:-1}"
tokens="${3:-1024}"
bench="$build/bench/models/cellwright_bench_models"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

run() {  # model extra-flags... -> "infer_cells_s infer_peak_gib"
  local model="$1"; shift
  local length=()
  [[ "$model" == screformer-full ]] && length=(--tokens "$tokens")
  "$bench" --device cpu --models "$model" --steps 2 "${length[@]}" "$@" --out "$work" > "$work/run.log"
  # | model | tokens | precision | train batch | train cells/s | train peak | infer batch | infer cells/s | infer peak | ...
  awk -F'|' -v m="$model" '$2 ~ "^ "m" $" {gsub(/ /,""); print $9, $10}' "$work/run.log"
}

out="$root/bench/results/attention_blocks.md"
{
  echo "# CPU inference: attention in score blocks vs the whole score tensor"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, LibTorch 1.13; CellPatch paper preset (2,000 genes, batch 1,024); scReformer full attention, paper preset at $tokens genes (batch 32); 2 timed steps."
  echo
  echo "| model | run | order | blocks: infer cells/s | peak GiB | whole: infer cells/s | peak GiB | speed ratio | peak ratio whole/blocks |"
  echo "|---|---|---|---|---|---|---|---|---|"
} > "$out"
for model in cellpatch screformer-full; do
  for i in $(seq 1 "$repeats"); do
    if (( i % 2 )); then
      read -r bs bp < <(run "$model"); read -r ws wp < <(run "$model" --plain-attention); order="blocks first"
    else
      read -r ws wp < <(run "$model" --plain-attention); read -r bs bp < <(run "$model"); order="whole first"
    fi
    ratios=$(/usr/bin/python3 -c "print(f'{$bs / $ws:.2f}x | {$wp / $bp:.2f}x')")
    echo "| $model | $i | $order | $bs | $bp | $ws | $wp | $ratios |" | tee -a "$out"
  done
done
echo "written to $out"
