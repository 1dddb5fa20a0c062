// CUDA kernels of the fused transformer-block steps (fused_block_math.h, the code the CPU
// loops run and the tests check): GELU + dropout element-wise, and the post-norm residual
// step with one warp per row (its sums by shuffles).
#include <cuda_runtime.h>

#include "fused_block_kernels.h"

namespace cw::plugins::fused {

namespace {

constexpr int kThreads = 256;
constexpr int kWarpsPerBlock = kThreads / 32;

struct WarpTotal {
  __device__ float operator()(float v) const {
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
  }
};

template <typename T>
__global__ void __launch_bounds__(kThreads) geluDropoutKernel(const GeluDropoutProblem<T, float> p, bool backward) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < p.count; i += stride) {
    if (backward)
      p.dh[i] = geluDropoutGradientOf(p.dropout, p.h[i], p.dy[i], static_cast<uint64_t>(i));
    else
      p.y[i] = geluDropoutOf(p.dropout, p.h[i], static_cast<uint64_t>(i));
  }
}

// Warp w of the grid takes rows w, w + warps, …; in backward it adds into partial row w.
template <bool Backward, bool WithLow, typename Y>
__global__ void __launch_bounds__(kThreads) residualNormKernel(const ResidualNormProblem<float, Y> p) {
  const int64_t warp = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  const int lane = static_cast<int>(threadIdx.x % 32);
  for (int64_t row = warp; row < p.rows; row += warps) {
    if constexpr (Backward)
      residualNormBackwardRow<32, WithLow>(p, row, warp, lane, WarpTotal{});
    else
      residualNormForwardRow<32, WithLow>(p, row, lane, WarpTotal{});
  }
}

const char* launched() {
  const cudaError_t error = cudaGetLastError();
  return error == cudaSuccess ? nullptr : cudaGetErrorString(error);
}

}  // namespace

int64_t residualNormWorkersOnCuda(int64_t rows) {
  const int64_t warps = rows < kCudaResidualNormWarps ? rows : kCudaResidualNormWarps;
  return (warps + kWarpsPerBlock - 1) / kWarpsPerBlock * kWarpsPerBlock;  // whole blocks
}

template <typename T>
const char* geluDropoutOnCuda(const GeluDropoutProblem<T, float>& p, bool backward, void* stream) {
  if (p.count == 0) return nullptr;
  const int64_t blocks = (p.count + kThreads - 1) / kThreads;
  const unsigned grid = static_cast<unsigned>(blocks < 65536 ? blocks : 65536);
  geluDropoutKernel<T><<<grid, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(p, backward);
  return launched();
}

template <typename Y>
const char* residualNormOnCuda(const ResidualNormProblem<float, Y>& p, bool backward, void* stream) {
  if (p.rows == 0) return nullptr;
  const auto grid = static_cast<unsigned>(residualNormWorkersOnCuda(p.rows) / kWarpsPerBlock);
  const auto s = static_cast<cudaStream_t>(stream);
  const bool withLow = backward ? p.dOutLow != nullptr : p.outLow != nullptr;
  if (backward && withLow)
    residualNormKernel<true, true, Y><<<grid, kThreads, 0, s>>>(p);
  else if (backward)
    residualNormKernel<true, false, Y><<<grid, kThreads, 0, s>>>(p);
  else if (withLow)
    residualNormKernel<false, true, Y><<<grid, kThreads, 0, s>>>(p);
  else
    residualNormKernel<false, false, Y><<<grid, kThreads, 0, s>>>(p);
  return launched();
}

template const char* geluDropoutOnCuda<float>(const GeluDropoutProblem<float, float>&, bool, void*);
template const char* geluDropoutOnCuda<Bf16>(const GeluDropoutProblem<Bf16, float>&, bool, void*);
template const char* residualNormOnCuda<float>(const ResidualNormProblem<float, float>&, bool, void*);
template const char* residualNormOnCuda<Bf16>(const ResidualNormProblem<float, Bf16>&, bool, void*);

}  // namespace cw::plugins::fused
