#pragma once
// The element and row arithmetic of the fused transformer-block steps, written once for
// the CPU loops (fused_block.cpp) and the CUDA kernels (cuda/fused_block.cu): no torch.
//
//  - GELU + dropout after the feed-forward's first linear: one pass where torch makes two
//    (and a stored mask); backward recomputes GELU's slope from the saved input.
//  - dropout + residual add + LayerNorm of a post-norm block, also writing the bf16 copy
//    the next linear reads under autocast (one pass where torch makes four: dropout, add,
//    LayerNorm in fp32, autocast's cast); backward sums the gradients of both outputs.
//
// Dropout keeps an element by a counter-based hash of (seed, element index), so forward and
// backward, CPU and GPU, draw the same mask and no mask is stored.
#include <math.h>
#include <stdint.h>

#include <type_traits>

#include "fused_scalar.h"

namespace cw::plugins::fused {

// Every function here is always inlined (CW_FUSED_HD): fused_block_cpu.cpp builds them once
// per instruction set, and no AVX2 copy may be the one the linker keeps for baseline code.

// A 32-bit integer hash with full avalanche (Wellons' "lowbias32"): 32-bit multiplies,
// which the CPU loops vectorise and the GPU issues at full rate.
CW_FUSED_HD uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

// Whether dropout keeps element `index` of the call seeded `seed`: two rounds of the hash,
// each a bijection, over the index and the seed's halves; its value against
// `dropThreshold` = p·2³² (0 keeps everything).
CW_FUSED_HD bool keeps(uint64_t seed, uint64_t index, uint32_t dropThreshold) {
  const uint32_t first = mix32(static_cast<uint32_t>(index) ^ static_cast<uint32_t>(seed));
  const uint32_t high = static_cast<uint32_t>(seed >> 32) + static_cast<uint32_t>(index >> 32) * 0x9E3779B9u;
  return mix32(first + high) >= dropThreshold;
}

// Dropout of one call: which elements it keeps, and the factor 1 / (1 − p) of the kept.
template <typename Acc>
struct Dropout {
  uint64_t seed = 0;
  uint32_t dropThreshold = 0;
  Acc keepScale = 1;
  // The value times a selected factor (p = 0 keeps all, times 1), as torch's value · mask ·
  // scale: no branch, and no multiply under a condition, which GCC would not vectorise.
  CW_FUSED_HD Acc apply(Acc value, uint64_t index) const {
    return value * (keeps(seed, index, dropThreshold) ? keepScale : Acc(0));
  }
};

// Values are read as Acc (bf16 through its float) and written back rounded to T.
template <typename Acc, typename T>
CW_FUSED_HD Acc load(const T& value) {
  return static_cast<Acc>(value);
}
template <typename T, typename Acc>
CW_FUSED_HD T stored(Acc value) {
  if constexpr (std::is_same_v<T, Bf16>)
    return Bf16::of(static_cast<float>(value));
  else
    return static_cast<T>(value);
}

template <typename X>
CW_FUSED_HD X inverseSqrtOf(X x) {
  return X(1) / sqrt(x);
}
template <>
CW_FUSED_HD float inverseSqrtOf<float>(float x) {
  return 1.0f / sqrtf(x);
}

// Exact GELU, x·Φ(x), and its slope Φ(x) + x·φ(x).
template <typename Acc>
CW_FUSED_HD Acc geluOf(Acc x) {
  return Acc(0.5) * x * (Acc(1) + erf(x * Acc(0.70710678118654752440)));
}
template <typename Acc>
CW_FUSED_HD Acc geluSlopeOf(Acc x) {
  return Acc(0.5) * (Acc(1) + erf(x * Acc(0.70710678118654752440))) +
         x * Acc(0.39894228040143267794) * exp(Acc(-0.5) * x * x);
}
template <>
CW_FUSED_HD float geluOf<float>(float x) {
  return 0.5f * x * (1.0f + erff(x * 0.70710678118654752440f));
}
template <>
CW_FUSED_HD float geluSlopeOf<float>(float x) {
  return 0.5f * (1.0f + erff(x * 0.70710678118654752440f)) + x * 0.39894228040143267794f * expf(-0.5f * x * x);
}

// y = dropout(GELU(h)) and its backward, dh = dy · keep / (1 − p) · GELU'(h), element-wise.
// T: the tensors' type (bf16 under autocast); Acc: float, or double for double input.
template <typename T, typename Acc>
struct GeluDropoutProblem {
  const T* h;       // [count] the first linear's output
  T* y;             // forward output
  const T* dy;      // backward: upstream gradient
  T* dh;            // backward output
  int64_t count;
  Dropout<Acc> dropout;
};

// Element `index`'s y from its h, and its dh from h and dy.
template <typename T, typename Acc>
CW_FUSED_HD T geluDropoutOf(const Dropout<Acc>& dropout, T h, uint64_t index) {
  return stored<T>(dropout.apply(geluOf(load<Acc>(h)), index));
}
template <typename T, typename Acc>
CW_FUSED_HD T geluDropoutGradientOf(const Dropout<Acc>& dropout, T h, T dy, uint64_t index) {
  return stored<T>(dropout.apply(load<Acc>(dy) * geluSlopeOf(load<Acc>(h)), index));
}

// Post-norm residual step over rows of `dim` values:
//   s = x + dropout(y);  out = LayerNorm(s)·γ + β  (in X's precision, fp32 under autocast)
// and, where outLow is given, out rounded to bf16 for the next linear. Backward takes the
// gradients of both outputs and gives dx, dy and per-worker partial sums of dγ and dβ.
// X: float or double (the residual stream and the LayerNorm's parameters); Y: X or Bf16.
template <typename X, typename Y>
struct ResidualNormProblem {
  const X* x;              // [rows, dim] residual input
  const Y* y;              // [rows, dim] sublayer output
  const X *gamma, *beta;   // [dim]
  X* out;                  // [rows, dim]
  Bf16* outLow;            // [rows, dim] or null
  X* sum;                  // [rows, dim] s, kept for backward
  X *mean, *rstd;          // [rows]
  const X* dOut;           // backward: gradient of out (zeros where out was unused)
  const Bf16* dOutLow;     // gradient of outLow, where it was written
  X* dx;                   // [rows, dim]
  Y* dy;                   // [rows, dim]
  X *dGammaPartial, *dBetaPartial;  // [workers, dim], each worker adds into its own row
  int64_t rows;
  int32_t dim;
  X eps;
  Dropout<X> dropout;
};

// One row's forward, its values split over `Lanes` workers (lane = this one's index; a
// compile-time stride, so the CPU's one-lane loops vectorise): `total(v)` returns the sum
// of v over the lanes (the identity for one lane, warp shuffles on the GPU). Every lane
// returns with the whole row done. WithLow: outLow is written (and, in backward, its
// gradient read); a template flag, not a branch per value.
template <int Lanes, bool WithLow, typename X, typename Y, typename Total>
CW_FUSED_HD void residualNormForwardRow(const ResidualNormProblem<X, Y>& p, int64_t row, int lane, Total total) {
  const int64_t base = row * p.dim;
  const X* __restrict__ x = p.x + base;
  const Y* __restrict__ y = p.y + base;
  X* __restrict__ sum = p.sum + base;
  X* __restrict__ out = p.out + base;
  X partial = 0;
  CW_FUSED_SUM_LOOP(partial)
  for (int j = lane; j < p.dim; j += Lanes) {
    const X s = load<X>(x[j]) + p.dropout.apply(load<X>(y[j]), static_cast<uint64_t>(base + j));
    sum[j] = s;
    partial += s;
  }
  const X mean = total(partial) / static_cast<X>(p.dim);
  partial = 0;
  CW_FUSED_SUM_LOOP(partial)
  for (int j = lane; j < p.dim; j += Lanes) {
    const X centred = sum[j] - mean;
    partial += centred * centred;
  }
  const X rstd = inverseSqrtOf(total(partial) / static_cast<X>(p.dim) + p.eps);
  const X* __restrict__ gamma = p.gamma;
  const X* __restrict__ beta = p.beta;
  for (int j = lane; j < p.dim; j += Lanes) {
    const X value = (sum[j] - mean) * rstd * gamma[j] + beta[j];
    out[j] = value;
    if constexpr (WithLow) p.outLow[base + j] = Bf16::of(static_cast<float>(value));
  }
  if (lane == 0) {
    p.mean[row] = mean;
    p.rstd[row] = rstd;
  }
}

// The gradient reaching out[j] of a row: out's own, plus its bf16 copy's where written.
template <bool WithLow, typename X>
CW_FUSED_HD X upstreamOf(const X* __restrict__ dOut, const Bf16* __restrict__ dOutLow, int j) {
  if constexpr (WithLow)
    return dOut[j] + load<X>(dOutLow[j]);
  else
    return dOut[j];
}

// One row's backward (lanes as in forward), adding its dγ, dβ terms to `worker`'s partials:
//   ds = rstd·(gγ − mean(gγ) − ŝ·mean(gγ·ŝ)),  dx = ds,  dy = dropout(ds)
template <int Lanes, bool WithLow, typename X, typename Y, typename Total>
CW_FUSED_HD void residualNormBackwardRow(const ResidualNormProblem<X, Y>& p, int64_t row, int64_t worker, int lane,
                                         Total total) {
  const int64_t base = row * p.dim;
  const X mean = p.mean[row], rstd = p.rstd[row];
  // Restricted views: the CPU build vectorises the loops only when told they never overlap.
  const X* __restrict__ dOut = p.dOut + base;
  const Bf16* __restrict__ dOutLow = WithLow ? p.dOutLow + base : nullptr;
  const X* __restrict__ sum = p.sum + base;
  const X* __restrict__ gamma = p.gamma;
  X partialG = 0, partialGs = 0;
  CW_FUSED_SUM_LOOP(partialG, partialGs)
  for (int j = lane; j < p.dim; j += Lanes) {
    const X g = upstreamOf<WithLow>(dOut, dOutLow, j) * gamma[j];
    partialG += g;
    partialGs += g * (sum[j] - mean) * rstd;
  }
  const X meanG = total(partialG) / static_cast<X>(p.dim), meanGs = total(partialGs) / static_cast<X>(p.dim);
  X* __restrict__ dGamma = p.dGammaPartial + worker * p.dim;
  X* __restrict__ dBeta = p.dBetaPartial + worker * p.dim;
  X* __restrict__ dx = p.dx + base;
  Y* __restrict__ dy = p.dy + base;
  CW_FUSED_VECTOR_LOOP
  for (int j = lane; j < p.dim; j += Lanes) {
    const X upstream = upstreamOf<WithLow>(dOut, dOutLow, j);
    const X normalised = (sum[j] - mean) * rstd;
    const X ds = rstd * (upstream * gamma[j] - meanG - normalised * meanGs);
    dx[j] = ds;
    dy[j] = stored<Y>(p.dropout.apply(ds, static_cast<uint64_t>(base + j)));
    dGamma[j] += upstream * normalised;
    dBeta[j] += upstream;
  }
}

// The CPU loops over elements [begin, end) or rows [begin, end) (backward adding into
// partial row `worker`), on this thread: fused_block_cpu.cpp, built for the baseline
// x86-64 and for AVX2 with FMA.
namespace cpu_baseline {
template <typename T, typename Acc>
void geluDropoutRange(const GeluDropoutProblem<T, Acc>& p, bool backward, int64_t begin, int64_t end);
template <typename X, typename Y>
void residualNormRows(const ResidualNormProblem<X, Y>& p, bool backward, int64_t begin, int64_t end, int worker);
}  // namespace cpu_baseline
namespace cpu_avx2 {
template <typename T, typename Acc>
void geluDropoutRange(const GeluDropoutProblem<T, Acc>& p, bool backward, int64_t begin, int64_t end);
template <typename X, typename Y>
void residualNormRows(const ResidualNormProblem<X, Y>& p, bool backward, int64_t begin, int64_t end, int worker);
}  // namespace cpu_avx2

}  // namespace cw::plugins::fused
