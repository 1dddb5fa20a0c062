#!/usr/bin/env bash
# CPU training with freed tensor memory kept in malloc's heap (the default,
# cw::HeapMemoryScope) against malloc's defaults (`--mapped-allocations`: every block over
# 32 MB mapped anew and unmapped each step), side by side in one run: BioFormer `small`,
# 500 HVGs, batch 32, on the sorted PBMC split (2,324 training cells), order alternated.
# Usage: bench/train/heap_memory.sh [BUILD_DIR] [EPOCHS] [REPEATS]
# Writes bench/results/heap_memory.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build}"
epochs="${2:-1}"
repeats="${3:-1}"
cli="$build/app/cellwright-cli"
data="$root/../shared/data/zheng2017_pbmc_facs_3874.h5ad"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

run() {  # name extra-flags... -> "wall_s epoch_s peak_rss_mb"
  local name="$1"; shift
  /usr/bin/time -f "%e %M" -o "$work/$name.time" "$cli" finetune --model bioformer --label cell_type \
    -o "$work/$name" --force --epochs "$epochs" --seed 2022 --preset small --device cpu \
    --config '{"n_hvg":500}' --data "$data" --split 0.6,0.2,0.2 --batch-size 32 "$@" \
    > "$work/$name.stdout" 2> "$work/$name.stderr"
  local epoch_s
  epoch_s=$(/usr/bin/python3 -c "import json,sys; h=json.load(open(sys.argv[1])); print(round(sum(e['seconds'] for e in h['epochs'])/len(h['epochs']),1))" "$work/$name/history.json")
  read -r wall rss < "$work/$name.time"
  echo "$wall $epoch_s $((rss / 1024))"
}

out="$root/bench/results/heap_memory.md"
{
  echo "# CPU training: freed memory kept in the heap vs malloc's defaults"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r); BioFormer small, 500 HVGs, batch 32, $epochs epoch(s), sorted PBMC split."
  echo
  echo "| run | order | heap (default): wall s | epoch s | peak RSS MB | mapped (--mapped-allocations): wall s | epoch s | peak RSS MB | epoch ratio mapped/heap |"
  echo "|---|---|---|---|---|---|---|---|---|"
} > "$out"
for i in $(seq 1 "$repeats"); do
  if (( i % 2 )); then
    read -r hw he hr < <(run "heap$i"); read -r mw me mr < <(run "mapped$i" --mapped-allocations); order="heap first"
  else
    read -r mw me mr < <(run "mapped$i" --mapped-allocations); read -r hw he hr < <(run "heap$i"); order="mapped first"
  fi
  ratio=$(/usr/bin/python3 -c "print(round($me / $he, 2))")
  echo "| $i | $order | $hw | $he | $hr | $mw | $me | $mr | ${ratio}x |" | tee -a "$out"
done
echo "written to $out"
