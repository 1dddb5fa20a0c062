#!/usr/bin/env bash
# Quality table of issue 5: accuracy and macro-F1 of each model with the CLI on
#  - zheng2017_pbmc_facs_3874.h5ad, stratified 0.6/0.2/0.2 split, seed 2022;
#  - pbmc_2study_facs_pbmc3k_6512.h5ad, trained on one study and tested on the other
#    (both directions; test labels absent from training are excluded and listed).
# Usage: bench/quality/run.sh [BUILD_DIR] [OUT_DIR]   (MODELS="logreg mlp cellpatch" to choose)
# Writes OUT_DIR/<task>_<model>/ run folders and bench/results/quality.md.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build}"
out="${2:-$root/build/quality}"
cli="$build/app/cellwright-cli"
data="$root/../shared/data"
models="${MODELS:-logreg mlp cellpatch bioformer screformer}"
epochs="${EPOCHS:-20}"
mkdir -p "$out"

run() {  # task model extra-args...
  local task="$1" model="$2"; shift 2
  local dir="$out/${task}_${model}"
  echo "== $task $model" >&2
  local start=$SECONDS
  if "$cli" finetune --model "$model" --label cell_type -o "$dir" --force --epochs "$epochs" --seed 2022 \
       --preset small --device cpu "$@" > "$out/${task}_${model}.stdout" 2> "$out/${task}_${model}.stderr"; then
    echo "$((SECONDS - start))" > "$dir/seconds.txt"
  else
    echo "   failed: $(tail -1 "$out/${task}_${model}.stderr")" >&2
  fi
}

for model in $models; do
  run zheng "$model" --data "$data/zheng2017_pbmc_facs_3874.h5ad" --split 0.6,0.2,0.2
  run sorted_to_pbmc3k "$model" --data "$data/pbmc_2study_facs_pbmc3k_6512.h5ad" --batch-key batch --test-batch 10x_pbmc3k
  run pbmc3k_to_sorted "$model" --data "$data/pbmc_2study_facs_pbmc3k_6512.h5ad" --batch-key batch --test-batch zheng2017_facs
done

/usr/bin/python3 "$here/table.py" "$out" > "$root/bench/results/quality.md"
cat "$root/bench/results/quality.md"
