#include "umap_sgd.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <utility>

// Vectors pass between always-inlined helpers only: the AVX argument ABI note does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace cw::analysis::detail {
namespace {

#define CW_ALWAYS_INLINE [[gnu::always_inline]] inline

// Eight floats at a time through GCC/Clang vector extensions: SSE2 pairs by default, one AVX2
// register in the AVX2 build of the kernel below.
using Floats = float __attribute__((vector_size(32)));
using Ints = int32_t __attribute__((vector_size(32)));
using Uints = uint32_t __attribute__((vector_size(32)));
using Wides = uint64_t __attribute__((vector_size(64)));
constexpr int kLanes = 8;

// log2 and exp2 by exponent bits and minimax polynomials (log2 error 6e-5, exp2 relative error
// 4e-6): d^2b without powf and without divisions, accurate well beyond what the SGD needs.
template <typename F>
CW_ALWAYS_INLINE F polyLog2(F x) {  // log2 x for x in [1, 2)
  const F t = x - 1.0f;
  F q = 5.994558686e-02f * t - 2.277126433e-01f;
  q = q * t + 4.422741787e-01f;
  q = q * t - 7.170639319e-01f;
  q = q * t + 1.442615683e+00f;
  return q * t;
}
template <typename F>
CW_ALWAYS_INLINE F polyExp2Fraction(F f) {  // 2^f for f in [0, 1)
  F p = 1.368398289e-02f * f + 5.171773546e-02f;
  p = p * f + 2.416213227e-01f;
  p = p * f + 6.929695509e-01f;
  return p * f + 1.000003597e+00f;
}

CW_ALWAYS_INLINE Floats fastPow(Floats x, float power) {
  const Ints bits = (Ints)x;
  const Ints exponent = ((bits >> 23) & 0xff) - 127;
  const Ints mantissaBits = (bits & 0x007FFFFF) | 0x3f800000;
  const Floats mantissa = (Floats)mantissaBits;
  Floats y = power * (__builtin_convertvector(exponent, Floats) + polyLog2(mantissa));
  y = y < -126.0f ? Floats{} - 126.0f : y;
  y = y > 126.0f ? Floats{} + 126.0f : y;
  Ints whole = __builtin_convertvector(y, Ints);
  whole += __builtin_convertvector(whole, Floats) > y;  // -1 where truncation rounded up: floor
  const Floats scaled = polyExp2Fraction(y - __builtin_convertvector(whole, Floats));
  const Ints result = (Ints)scaled + (whole << 23);
  return (Floats)result;
}

CW_ALWAYS_INLINE Floats clip4(Floats v) {
  v = v < -4.0f ? Floats{} - 4.0f : v;
  return v > 4.0f ? Floats{} + 4.0f : v;
}

// Relaxed atomic access: threads update shared coordinates lock-free (Hogwild), as umap-learn.
CW_ALWAYS_INLINE float load(float& x) { return std::atomic_ref<float>(x).load(std::memory_order_relaxed); }
CW_ALWAYS_INLINE void add(float& x, float delta) {
  std::atomic_ref<float> ref(x);
  ref.store(ref.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

// Eight uniform draws in [0, n) from the lane generators (multiply-shift, no division).
struct LaneRandom {
  Uints x, y, z, w;
  explicit LaneRandom(const UmapRandom& r) {
    for (int l = 0; l < kLanes; ++l) {
      x[l] = r.state[0][l];
      y[l] = r.state[1][l];
      z[l] = r.state[2][l];
      w[l] = r.state[3][l];
    }
  }
  void save(UmapRandom& r) const {
    for (int l = 0; l < kLanes; ++l) {
      r.state[0][l] = x[l];
      r.state[1][l] = y[l];
      r.state[2][l] = z[l];
      r.state[3][l] = w[l];
    }
  }
  CW_ALWAYS_INLINE Ints below(uint32_t n) {
    const Uints t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = w ^ (w >> 19) ^ (t ^ (t >> 8));
    const Wides scaled = __builtin_convertvector(w, Wides) * n;
    return __builtin_convertvector(scaled >> 32, Ints);
  }
};

// Coordinate d of the eight rows in `rows`, built in registers (element stores into a vector
// in memory would stall on store forwarding).
template <int Dim>
CW_ALWAYS_INLINE Floats gather(float* emb, const int32_t* rows, int d) {
  float* base = emb + d;
  return Floats{load(base[static_cast<int64_t>(rows[0]) * Dim]), load(base[static_cast<int64_t>(rows[1]) * Dim]),
                load(base[static_cast<int64_t>(rows[2]) * Dim]), load(base[static_cast<int64_t>(rows[3]) * Dim]),
                load(base[static_cast<int64_t>(rows[4]) * Dim]), load(base[static_cast<int64_t>(rows[5]) * Dim]),
                load(base[static_cast<int64_t>(rows[6]) * Dim]), load(base[static_cast<int64_t>(rows[7]) * Dim])};
}

CW_ALWAYS_INLINE float sumLanes(Floats v) {
  float sum = 0;
  for (int l = 0; l < kLanes; ++l) sum += v[l];
  return sum;
}

// The attractions of up to eight sampled edges of one head, from the same head position: the
// tails move at once, the head's total move is added to `current`. Unused lanes (tail 0, but
// masked by `count`) contribute nothing.
template <int Dim>
CW_ALWAYS_INLINE void attract(float* emb, const int32_t* tails, int count, float* current, float alpha,
                              const UmapCurve& c) {
  const Ints laneIndex = {0, 1, 2, 3, 4, 5, 6, 7};
  const Ints used = laneIndex < count;
  Floats diff[Dim], dist2{};
  for (int d = 0; d < Dim; ++d) {
    diff[d] = used ? current[d] - gather<Dim>(emb, tails, d) : Floats{};
    dist2 += diff[d] * diff[d];
  }
  // d^(2b - 2) = d^2b / d^2 saves a second pow; lanes at distance 0 get 0.
  const Floats powered = fastPow(dist2 + 1e-30f, c.b);
  const Floats coeff = dist2 > 0.0f ? (-2.0f * c.a * c.b) * (powered / (dist2 + 1e-30f)) / (c.a * powered + 1.0f)
                                    : Floats{};
  for (int d = 0; d < Dim; ++d) {
    const Floats grad = clip4(coeff * diff[d]) * alpha;
    for (int l = 0; l < count; ++l) add(emb[static_cast<int64_t>(tails[l]) * Dim + d], -grad[l]);
    current[d] += sumLanes(grad);
  }
}

// One epoch for the heads [row0, row1). For each head, the attractions of its sampled edges
// (eight at a time) and then all their negative samples (eight at a time) are computed from
// the same head position and summed, instead of umap-learn's one sample after another: the
// samples no longer wait for each other, which lets them fill vector lanes, and with steps
// this small the layout does not change. The head's position is written back as a delta so
// that concurrent moves of it as a tail (by other threads, lock-free as umap-learn) survive.
template <int Dim>
CW_ALWAYS_INLINE void epochBody(float* emb, uint32_t n, UmapSchedule& s, int64_t row0, int64_t row1, float now,
                                float alpha, const UmapCurve& c, UmapRandom& state) {
  const Ints laneIndex = {0, 1, 2, 3, 4, 5, 6, 7};
  LaneRandom random(state);
  for (int64_t i = row0; i < row1; ++i) {
    const int64_t p0 = s.rowStart[i], p1 = s.rowStart[i + 1];
    float* headPos = emb + i * Dim;
    float start[Dim], current[Dim];
    bool loaded = false;
    int32_t tails[kLanes] = {};
    int nBatch = 0, nNegative = 0;

    for (int64_t p = p0; p < p1; ++p) {
      if (s.nextSample[p] > now) continue;
      if (!loaded) {
        for (int d = 0; d < Dim; ++d) start[d] = current[d] = load(headPos[d]);
        loaded = true;
      }
      tails[nBatch++] = s.tail[p];
      s.nextSample[p] += s.epochsPerSample[p];
      const float epochsPerNegative = s.epochsPerSample[p] / c.negativeRate;
      const int drawn = static_cast<int>((now - s.nextNegative[p]) / epochsPerNegative);
      s.nextNegative[p] += static_cast<float>(drawn) * epochsPerNegative;
      nNegative += drawn;
      if (nBatch == kLanes) {
        attract<Dim>(emb, tails, nBatch, current, alpha, c);
        nBatch = 0;
      }
    }
    if (!loaded) continue;
    if (nBatch > 0) attract<Dim>(emb, tails, nBatch, current, alpha, c);

    // Negative samples: pushed away as umap-learn; a sample that coincides with the head is
    // pushed by 4 in every direction, except the head itself, which is skipped.
    Floats push[Dim];
    for (int d = 0; d < Dim; ++d) push[d] = Floats{};
    for (int q0 = 0; q0 < nNegative; q0 += kLanes) {
      const Ints k = random.below(n);
      const Ints used = (laneIndex < (nNegative - q0)) & (k != static_cast<int32_t>(i));
      int32_t rows[kLanes];
      for (int l = 0; l < kLanes; ++l) rows[l] = k[l];
      Floats negDiff[Dim], negDist2{};
      for (int d = 0; d < Dim; ++d) {
        negDiff[d] = current[d] - gather<Dim>(emb, rows, d);
        negDist2 += negDiff[d] * negDiff[d];
      }
      const Ints apart = negDist2 > 0.0f;
      const Floats repel = c.twoGammaB / ((0.001f + negDist2) * (c.a * fastPow(negDist2 + 1e-30f, c.b) + 1.0f));
      for (int d = 0; d < Dim; ++d) {
        const Floats grad = apart ? clip4(repel * negDiff[d]) : Floats{} + 4.0f;
        push[d] += used ? grad : Floats{};
      }
    }
    for (int d = 0; d < Dim; ++d) current[d] += sumLanes(push[d]) * alpha;
    for (int d = 0; d < Dim; ++d) add(headPos[d], current[d] - start[d]);
  }
  random.save(state);
}

template <int Dim>
void epochPortable(float* emb, uint32_t n, UmapSchedule& s, int64_t row0, int64_t row1, float now, float alpha,
                   const UmapCurve& c, UmapRandom& random) {
  epochBody<Dim>(emb, n, s, row0, row1, now, alpha, c, random);
}

#if defined(__x86_64__) && defined(__GNUC__)
template <int Dim>
[[gnu::target("avx2,fma")]] void epochAvx2(float* emb, uint32_t n, UmapSchedule& s, int64_t row0, int64_t row1,
                                           float now, float alpha, const UmapCurve& c, UmapRandom& random) {
  epochBody<Dim>(emb, n, s, row0, row1, now, alpha, c, random);
}
#endif

template <int... Dims>
UmapEpochKernel kernelFor(int dim, bool avx2, std::integer_sequence<int, Dims...>) {
  UmapEpochKernel chosen = nullptr;
#if defined(__x86_64__) && defined(__GNUC__)
  ((dim == Dims + 1 ? (chosen = avx2 ? &epochAvx2<Dims + 1> : &epochPortable<Dims + 1>, 0) : 0), ...);
#else
  (void)avx2;
  ((dim == Dims + 1 ? (chosen = &epochPortable<Dims + 1>, 0) : 0), ...);
#endif
  return chosen;
}

}  // namespace

UmapEpochKernel umapEpochKernel(int dim, bool allowAvx2) {
#if defined(__x86_64__) && defined(__GNUC__)
  const bool avx2 = allowAvx2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  const bool avx2 = false;
  (void)allowAvx2;
#endif
  return kernelFor(dim, avx2, std::make_integer_sequence<int, 8>{});
}

}  // namespace cw::analysis::detail
