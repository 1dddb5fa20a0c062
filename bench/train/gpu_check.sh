#!/usr/bin/env bash
# GPU checks of the training engine, for the lead to run on the CUDA machine (PyTorch 2.x):
#   bench/train/gpu_check.sh [BUILD_DIR]
# Builds the engine against PyTorch's LibTorch, runs the trainer tests, then fine-tunes the
# seed models on CUDA in fp32, bf16 and fp16 (loss scaling) and a two-process NCCL run, and
# fakes an out-of-memory error to see the micro-batch halving on the device.
set -eu
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build-gpu}"
prefix="$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')"
cmake -S "$root" -B "$build" -G Ninja -DCELLWRIGHT_GUI=OFF -DCMAKE_PREFIX_PATH="$prefix" > /dev/null
ninja -C "$build" cellwright-cli test_engine_trainer test_engine_train_distributed test_engine_finetune
ctest --test-dir "$build" -R "Trainer|Distributed|FineTune|Predict" --output-on-failure
cli="$build/app/cellwright-cli"
data="$root/../shared/data/zheng2017_pbmc_facs_3874.h5ad"
out="$build/gpu_check"
mkdir -p "$out"
"$cli" doctor
for model in cellpatch bioformer screformer; do
  for precision in fp32 bf16 fp16; do
    "$cli" finetune --model "$model" --data "$data" --label cell_type -o "$out/${model}_${precision}" --force \
      --device cuda --preset small --precision "$precision" --epochs 2 --batch-size 32 \
      || echo "FAILED: $model $precision"
  done
done
# Out-of-memory recovery on the device: the log must say the micro-batch was halved.
"$cli" finetune --model cellpatch --data "$data" --label cell_type -o "$out/oom" --force --device cuda \
  --preset small --epochs 1 --batch-size 64 --debug-oom-at-step 3
grep "micro-batch halved" "$out/oom/log.txt"
# Two processes over NCCL, one GPU each (torchrun-style variables; needs at least 2 GPUs).
if [ "$(nvidia-smi -L | wc -l)" -ge 2 ]; then
  for rank in 0 1; do
    RANK=$rank WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29611 LOCAL_RANK=$rank \
      "$cli" finetune --model mlp --data "$data" --label cell_type -o "$out/ddp" --force --device cuda --epochs 2 &
  done
  wait
  head -3 "$out/ddp/metrics.json"
fi
