#!/usr/bin/env bash
# Where the GPU time goes, for the GPU machine after bench/gpu.sh (whose build it reuses, with
# LibTorch's profiler built in): one training step and one inference batch of each model under
# Kineto, its CUDA kernels by total time and the share of the step the GPU was busy. The tables
# go into the usual log (bench/results/models-cuda-<time>.md, and $OUT when set).
#
#   bench/gpu-profile.sh [models, default bioformer,screformer-lsh] [extra arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
models=${1:-bioformer,screformer-lsh}
shift || true
TORCH_PREFIX=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
GENERATOR=()
if command -v ninja >/dev/null; then GENERATOR=(-G Ninja); fi
BUILD_DIR=${BUILD_DIR:-build-gpu}
kernels=ON  # as bench/gpu.sh built, unless that build had to leave them out
if [ -f "$BUILD_DIR/CMakeCache.txt" ]; then
  kernels=$(sed -n 's/^CELLWRIGHT_CUDA_KERNELS:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
fi
cmake -S . -B "$BUILD_DIR" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" \
  -DCELLWRIGHT_GUI=OFF -DCELLWRIGHT_BUILD_TESTS=OFF -DCELLWRIGHT_BUILD_BENCH=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DCELLWRIGHT_CUDA_KERNELS="${kernels:-ON}" -DCELLWRIGHT_BENCH_PROFILE=ON
cmake --build "$BUILD_DIR" --target cellwright_bench_models -j "$(nproc)"
echo "== built in ${SECONDS} s (kernels ${kernels:-ON})"
# Kineto records CUDA kernels through CUPTI, which PyTorch's wheels bring as a separate
# package: put every libcupti found (wheel, toolkit) on the library path.
SITE=$(python3 -c 'import site;print(site.getsitepackages()[0])')
CUPTI_DIRS=$(find "$SITE/nvidia" /usr/local/cuda/extras/CUPTI/lib64 -name 'libcupti.so*' -printf '%h\n' 2>/dev/null |
             sort -u | paste -sd: || true)
echo "CUPTI: ${CUPTI_DIRS:-not found (the tables may list no kernels)}"
export LD_LIBRARY_PATH="${CUPTI_DIRS}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
"$BUILD_DIR/bench/models/cellwright_bench_models" --device cuda --out bench/results --models "$models" --steps 3 \
  --profile "$@"
echo "== done at ${SECONDS} s"
