// CUDA kernels of fused LSH attention: one thread per sorted slot, each running the slot
// code the CPU loops run and the tests check (lsh_fused_math.h). Consecutive slots share a
// chunk, so a warp's threads read the same key and value rows (one broadcast load each).
#include <cuda_runtime.h>

#include "lsh_fused_math.h"

namespace cw::plugins::lsh::fused {

namespace {

constexpr int kThreads = 128;

template <Pass P, int D, typename T, typename Acc>
__global__ void __launch_bounds__(kThreads) slotKernel(const Problem<T, Acc> p) {
  const int64_t perRow = static_cast<int64_t>(p.rounds) * p.length;
  const int64_t slot = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (slot >= perRow * p.rows) return;
  const auto row = static_cast<int32_t>(slot / perRow), s = static_cast<int32_t>(slot % perRow);
  if constexpr (P == Pass::Forward)
    forwardSlot<D>(p, row, s);
  else if constexpr (P == Pass::QueryGradients)
    queryGradientSlot<D>(p, row, s);
  else
    keyGradientSlot<D>(p, row, s);
}

template <Pass P, int D, typename T, typename Acc>
const char* launch(const Problem<T, Acc>& p, cudaStream_t stream) {
  const int64_t slots = static_cast<int64_t>(p.rows) * p.rounds * p.length;
  const int64_t blocks = (slots + kThreads - 1) / kThreads;
  if (blocks > 0x7fffffff) return "too many slots for one launch";
  if (blocks == 0) return nullptr;
  slotKernel<P, D, T, Acc><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(p);
  const cudaError_t error = cudaGetLastError();
  return error == cudaSuccess ? nullptr : cudaGetErrorString(error);
}

template <int D, typename T, typename Acc>
const char* launchPass(const Problem<T, Acc>& p, Pass pass, cudaStream_t stream) {
  switch (pass) {
    case Pass::Forward: return launch<Pass::Forward, D>(p, stream);
    case Pass::QueryGradients: return launch<Pass::QueryGradients, D>(p, stream);
    case Pass::KeyGradients: return launch<Pass::KeyGradients, D>(p, stream);
  }
  return "unknown pass";
}

template <typename T, typename Acc>
__global__ void __launch_bounds__(kThreads) combineKernel(const Problem<T, Acc> p, int64_t d, Acc* out, Acc* lse) {
  const int64_t element = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (element >= static_cast<int64_t>(p.rows) * p.length * d) return;
  const int64_t at = element / d, c = element % d;  // consecutive threads: one position's values
  const auto row = static_cast<int32_t>(at / p.length), position = static_cast<int32_t>(at % p.length);
  const Acc combined = combinedLse(p, row, position);
  out[element] = combinedValue(p, d, row, position, c, combined);
  if (c == 0) lse[at] = combined;
}

}  // namespace

template <typename T, typename Acc>
const char* combineOnCuda(const Problem<T, Acc>& p, int64_t d, Acc* out, Acc* lse, void* stream) {
  const int64_t blocks = (static_cast<int64_t>(p.rows) * p.length * d + kThreads - 1) / kThreads;
  if (blocks > 0x7fffffff) return "too many elements for one launch";
  if (blocks == 0) return nullptr;
  combineKernel<<<static_cast<unsigned>(blocks), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(p, d, out, lse);
  const cudaError_t error = cudaGetLastError();
  return error == cudaSuccess ? nullptr : cudaGetErrorString(error);
}

template const char* combineOnCuda<float, float>(const Problem<float, float>&, int64_t, float*, float*, void*);
template const char* combineOnCuda<Bf16, float>(const Problem<Bf16, float>&, int64_t, float*, float*, void*);

template <typename T, typename Acc>
const char* runOnCuda(const Problem<T, Acc>& p, int64_t d, Pass pass, void* stream) {
  const auto s = static_cast<cudaStream_t>(stream);
  switch (d) {
    case 4: return launchPass<4>(p, pass, s);
    case 8: return launchPass<8>(p, pass, s);
    case 16: return launchPass<16>(p, pass, s);
    case 32: return launchPass<32>(p, pass, s);
    case 64: return launchPass<64>(p, pass, s);
    case 128: return launchPass<128>(p, pass, s);
  }
  return "head width not compiled";
}

template const char* runOnCuda<float, float>(const Problem<float, float>&, int64_t, Pass, void*);
template const char* runOnCuda<Bf16, float>(const Problem<Bf16, float>&, int64_t, Pass, void*);

}  // namespace cw::plugins::lsh::fused
