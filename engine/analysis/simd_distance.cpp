#include "simd_distance.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CW_HAVE_X86_DISPATCH 1
#endif

namespace cw::analysis::detail {
namespace {

// Portable loops over 8-float blocks (SSE2 after auto-vectorisation).
float squaredL2Portable(const void* a, const void* b, const void* dimsPtr) {
  const float* x = static_cast<const float*>(a);
  const float* y = static_cast<const float*>(b);
  const size_t dims = *static_cast<const size_t*>(dimsPtr);
  float lanes[8] = {};
  for (size_t i = 0; i < dims; i += 8)
    for (int l = 0; l < 8; ++l) {
      const float d = x[i + l] - y[i + l];
      lanes[l] += d * d;
    }
  return ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
}

float innerProductPortable(const void* a, const void* b, const void* dimsPtr) {
  const float* x = static_cast<const float*>(a);
  const float* y = static_cast<const float*>(b);
  const size_t dims = *static_cast<const size_t*>(dimsPtr);
  float lanes[8] = {};
  for (size_t i = 0; i < dims; i += 8)
    for (int l = 0; l < 8; ++l) lanes[l] += x[i + l] * y[i + l];
  return 1.0f - (((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7])));
}

#ifdef CW_HAVE_X86_DISPATCH
[[gnu::target("avx2,fma")]] inline float sum8(__m256 v) {
  const __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
  return _mm_cvtss_f32(_mm_add_ss(quarter, _mm_shuffle_ps(quarter, quarter, 1)));
}

[[gnu::target("avx2,fma")]] float squaredL2Avx2(const void* a, const void* b, const void* dimsPtr) {
  const float* x = static_cast<const float*>(a);
  const float* y = static_cast<const float*>(b);
  const size_t dims = *static_cast<const size_t*>(dimsPtr);
  __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dims; i += 16) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i));
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8));
    sum0 = _mm256_fmadd_ps(d0, d0, sum0);
    sum1 = _mm256_fmadd_ps(d1, d1, sum1);
  }
  if (i < dims) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i));
    sum0 = _mm256_fmadd_ps(d0, d0, sum0);
  }
  return sum8(_mm256_add_ps(sum0, sum1));
}

[[gnu::target("avx2,fma")]] float innerProductAvx2(const void* a, const void* b, const void* dimsPtr) {
  const float* x = static_cast<const float*>(a);
  const float* y = static_cast<const float*>(b);
  const size_t dims = *static_cast<const size_t*>(dimsPtr);
  __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dims; i += 16) {
    sum0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), sum0);
    sum1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), sum1);
  }
  if (i < dims) sum0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), sum0);
  return 1.0f - sum8(_mm256_add_ps(sum0, sum1));
}
#endif

}  // namespace

PaddedDistance paddedDistance(SpaceKind kind) {
#ifdef CW_HAVE_X86_DISPATCH
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return kind == SpaceKind::SquaredL2 ? squaredL2Avx2 : innerProductAvx2;
#endif
  return kind == SpaceKind::SquaredL2 ? squaredL2Portable : innerProductPortable;
}

}  // namespace cw::analysis::detail
