#pragma once
// Entry points of the fused transformer-block CUDA kernels (cuda/fused_block.cu), for
// fused_block.cpp. Each returns null, or the CUDA error of its launch.
#include "fused_block_math.h"

namespace cw::plugins::fused {

// Warps the residual-norm kernels run at most: enough to fill an H100 several times over.
inline constexpr int64_t kCudaResidualNormWarps = 4096;

// Workers (warps) of residualNormOnCuda for `rows` rows: its backward adds into that many
// partial rows of dγ and dβ, which the caller allocates zeroed.
int64_t residualNormWorkersOnCuda(int64_t rows);

template <typename T>
const char* geluDropoutOnCuda(const GeluDropoutProblem<T, float>& p, bool backward, void* stream);

template <typename Y>
const char* residualNormOnCuda(const ResidualNormProblem<float, Y>& p, bool backward, void* stream);

}  // namespace cw::plugins::fused
