#!/usr/bin/env bash
# Builds the engine, plugins and cellwright-cli against PyTorch's CUDA LibTorch on the GPU
# machine (Ubuntu, no Qt/VTK/igraph), runs `doctor --json` and the engine's unit tests.
# Header-only Debian packages it lacks travel as .debs in .debs/ (nlohmann-json, googletest
# sources, hnswlib) and are unpacked under /tmp/cwdeps.
#   bench/gpu-build.sh [extra cmake args]
set -euo pipefail
cd "$(dirname "$0")/.."
results="${OUT:-bench/results}"
mkdir -p "$results"
deps=/tmp/cwdeps
if compgen -G ".debs/*.deb" >/dev/null; then
  for f in .debs/*.deb; do dpkg -x "$f" "$deps"; done
fi
torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
python3 -c 'import torch;print("python torch", torch.__version__, "cuda", torch.version.cuda, "cxx11abi", torch._C._GLIBCXX_USE_CXX11_ABI)'
gtest_src=""
[ -d "$deps/usr/src/googletest" ] && gtest_src="-DCELLWRIGHT_GTEST_SOURCE_DIR=$deps/usr/src/googletest"
hnsw=""
[ -d "$deps/usr/include/hnswlib" ] && hnsw="-DHNSWLIB_INCLUDE_DIR=$deps/usr/include"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCELLWRIGHT_GUI=OFF -DCELLWRIGHT_WERROR=ON \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$deps/usr" -Dnlohmann_json_DIR="$deps/usr/share/cmake/nlohmann_json" \
  -DCMAKE_CUDA_ARCHITECTURES=90 $gtest_src $hnsw "$@" 2>&1 | tee "$results/gpu-configure.log" | tail -5
time cmake --build build-gpu -j"$(nproc)" -- -k 0 2>&1 | { grep -v "^\[" || true; } | tail -60
# PyTorch's wheels export their own copy of std::filesystem (libtorch_cpu.so of torch 2.11:
# 142 symbols, filesystem_error's vtable among them). Loaded ahead of libstdc++, it captures
# even libstdc++'s own references and fs::remove_all on a non-empty folder jumps to address 0.
# Putting the system libstdc++ first in the lookup scope avoids it (verified on the H100).
export LD_PRELOAD="$(g++ -print-file-name=libstdc++.so.6)${LD_PRELOAD:+:$LD_PRELOAD}"
build-gpu/app/cellwright-cli doctor --json | tee "$results/doctor-gpu.json"
ctest --test-dir build-gpu -L unit -j8 --output-on-failure 2>&1 | tail -25 | tee "$results/gpu-ctest.log"
