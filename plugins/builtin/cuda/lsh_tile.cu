// CUDA kernels of fused LSH attention by chunk tiles (lsh_tile_math.h): one block of
// kThreads per (row, round, chunk), its tile products on the tensor cores through wmma
// (bf16 16×16×16, fp32 sums), each warp taking every (warps)-th 16×16 output tile.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include <type_traits>

#include "lsh_tile_math.h"

namespace cw::plugins::lsh::tile {

namespace {

struct DeviceExec {
  template <typename F>
  __device__ void each(F&& f) const {
    f(static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x));
  }
  __device__ void sync() const { __syncthreads(); }
  __device__ void add(float* at, float x) const { atomicAdd(at, x); }

  template <int M, int N, int K, bool TransA, bool TransB>
  __device__ void product(const Bf16* a, int lda, const Bf16* b, int ldb, float* c, int ldc) const {
    namespace wmma = nvcuda::wmma;
    using LayoutA = std::conditional_t<TransA, wmma::col_major, wmma::row_major>;
    using LayoutB = std::conditional_t<TransB, wmma::col_major, wmma::row_major>;
    const auto* a16 = reinterpret_cast<const __nv_bfloat16*>(a);
    const auto* b16 = reinterpret_cast<const __nv_bfloat16*>(b);
    const int warp = static_cast<int>(threadIdx.x) / 32, warps = static_cast<int>(blockDim.x) / 32;
    constexpr int kColumnTiles = N / 16;
    for (int tile = warp; tile < (M / 16) * kColumnTiles; tile += warps) {
      const int i0 = (tile / kColumnTiles) * 16, j0 = (tile % kColumnTiles) * 16;
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> sum;
      wmma::fill_fragment(sum, 0.0f);
#pragma unroll 4
      for (int k0 = 0; k0 < K; k0 += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, LayoutA> fa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, LayoutB> fb;
        // Element (i, k) of A's tile at a[(i0 + i)·lda + k0 + k], or transposed at
        // a[(k0 + k)·lda + i0 + i] (col_major); likewise B's (k, j).
        wmma::load_matrix_sync(fa, TransA ? a16 + k0 * lda + i0 : a16 + i0 * lda + k0, lda);
        wmma::load_matrix_sync(fb, TransB ? b16 + j0 * ldb + k0 : b16 + k0 * ldb + j0, ldb);
        wmma::mma_sync(sum, fa, fb, sum);
      }
      wmma::store_matrix_sync(c + i0 * ldc + j0, sum, ldc, wmma::mem_row_major);
    }
  }
};

template <int B, int D, bool Backward>
__global__ void __launch_bounds__(kThreads) tileKernel(const Problem p) {
  extern __shared__ __align__(128) char shared[];
  const DeviceExec e;
  if constexpr (Backward)
    backwardTile<B, D>(e, p, blockIdx.x, shared);
  else
    forwardTile<B, D>(e, p, blockIdx.x, shared);
}

// The opt-in shared memory per block of the current device (227 KiB on an H100), or the error
// of asking (reported, not taken for "too small": the runtime would keep it as its last error
// and blame the next launch).
cudaError_t sharedBytesAvailable(int& bytes) {
  int device = 0;
  cudaError_t error = cudaGetDevice(&device);
  if (error == cudaSuccess) error = cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
  if (error != cudaSuccess) cudaGetLastError();
  return error;
}

template <int B, int D, bool Backward>
const char* launch(const Problem& p, cudaStream_t stream, bool& taken) {
  const size_t bytes = carve<B, D>(nullptr, p.rounds, Backward).bytes;
  int available = 0;
  if (const cudaError_t error = sharedBytesAvailable(available); error != cudaSuccess) return cudaGetErrorString(error);
  if (static_cast<int64_t>(bytes) > available) return nullptr;  // taken stays false
  taken = true;
  auto* kernel = tileKernel<B, D, Backward>;
  cudaError_t error = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
  // All of L1 that can be shared memory: two blocks of ~112 KiB per SM at the reference shape.
  if (error == cudaSuccess)
    error = cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared);
  if (error != cudaSuccess) return cudaGetErrorString(error);
  const int64_t tiles = static_cast<int64_t>(p.rows) * p.rounds * (p.length / B);
  if (tiles > 0x7fffffff) return "too many tiles for one launch";
  if (tiles == 0) return nullptr;
  if constexpr (Backward) {
    const size_t perRound = static_cast<size_t>(p.rows) * p.rounds * p.length * D * sizeof(float);
    for (float* zeroed : {p.dk, p.dv})
      if ((error = cudaMemsetAsync(zeroed, 0, perRound, stream)) != cudaSuccess) return cudaGetErrorString(error);
  }
  kernel<<<static_cast<unsigned>(tiles), kThreads, bytes, stream>>>(p);
  error = cudaGetLastError();
  return error == cudaSuccess ? nullptr : cudaGetErrorString(error);
}

template <int B, bool Backward>
const char* launchWidth(const Problem& p, int64_t d, cudaStream_t stream, bool& taken) {
  switch (d) {
    case 16: return launch<B, 16, Backward>(p, stream, taken);
    case 32: return launch<B, 32, Backward>(p, stream, taken);
    case 64: return launch<B, 64, Backward>(p, stream, taken);
  }
  return nullptr;
}

template <bool Backward>
const char* launchShape(const Problem& p, int64_t d, cudaStream_t stream, bool& taken) {
  switch (p.bucket) {
    case 16: return launchWidth<16, Backward>(p, d, stream, taken);
    case 32: return launchWidth<32, Backward>(p, d, stream, taken);
    case 64: return launchWidth<64, Backward>(p, d, stream, taken);
  }
  return nullptr;
}

}  // namespace

const char* runOnCuda(const Problem& p, int64_t d, bool backward, void* stream, bool& taken) {
  taken = false;
  if (!shapeCompiled(p.bucket, d)) return nullptr;
  const auto s = static_cast<cudaStream_t>(stream);
  return backward ? launchShape<true>(p, d, s, taken) : launchShape<false>(p, d, s, taken);
}

}  // namespace cw::plugins::lsh::tile
