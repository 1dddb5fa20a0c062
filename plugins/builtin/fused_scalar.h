#pragma once
// Scalars shared by the fused kernels' host/device code (lsh_fused_math.h,
// fused_block_math.h): no torch, so the same text builds for GCC and nvcc.
#include <stdint.h>

// Always inlined on the CPU too: the AVX2 build's copy of a shared helper (Bf16's
// conversion, say) must never be the one the linker keeps for the baseline build.
#if defined(__CUDACC__)
#define CW_FUSED_HD __host__ __device__ __forceinline__
#else
#define CW_FUSED_HD inline __attribute__((always_inline))
#endif

// Loops run in vector lanes where the CPU loops build with -fopenmp-simd (CW_FUSED_SIMD): a
// sum into `var` may add in any order (GCC keeps a float sum in order otherwise, one lane
// wide), and no iteration depends on another (GCC 12 gives up on some loops' dependence
// analysis otherwise). Nothing on the GPU, nor in code built without the flag.
#if defined(CW_FUSED_SIMD) && !defined(__CUDACC__)
#define CW_FUSED_PRAGMA(text) _Pragma(#text)
#define CW_FUSED_SUM_LOOP(...) CW_FUSED_PRAGMA(omp simd reduction(+ : __VA_ARGS__))
#define CW_FUSED_VECTOR_LOOP CW_FUSED_PRAGMA(omp simd)
#else
#define CW_FUSED_SUM_LOOP(...)
#define CW_FUSED_VECTOR_LOOP
#endif

namespace cw::plugins::fused {

CW_FUSED_HD float floatOfBits(uint32_t bits) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(bits);
#else
  float value;
  __builtin_memcpy(&value, &bits, sizeof value);
  return value;
#endif
}

CW_FUSED_HD uint32_t bitsOfFloat(float value) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(value);
#else
  uint32_t bits;
  __builtin_memcpy(&bits, &value, sizeof bits);
  return bits;
#endif
}

// bf16 as its bits, one type for the CPU code (c10::BFloat16) and the kernels
// (__nv_bfloat16): the upper half of an fp32.
struct Bf16 {
  uint16_t bits;
  CW_FUSED_HD operator float() const { return floatOfBits(static_cast<uint32_t>(bits) << 16); }
  // Rounded to nearest, ties to even, as autocast's casts round; NaN stays NaN.
  CW_FUSED_HD static Bf16 of(float value) {
    const uint32_t bits = bitsOfFloat(value);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return Bf16{static_cast<uint16_t>((bits >> 16) | 0x40u)};
    const uint32_t rounded = bits + 0x7fffu + ((bits >> 16) & 1u);
    return Bf16{static_cast<uint16_t>(rounded >> 16)};
  }
};

}  // namespace cw::plugins::fused
