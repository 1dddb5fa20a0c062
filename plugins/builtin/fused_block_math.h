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
  CW_FUSED_HD Acc apply(Acc value, uint64_t index) const {
    if (dropThreshold == 0) return value;  // p = 0: evaluation
    return keeps(seed, index, dropThreshold) ? value * keepScale : Acc(0);
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

template <typename T, typename Acc>
CW_FUSED_HD void geluDropoutForward(const GeluDropoutProblem<T, Acc>& p, int64_t i) {
  p.y[i] = stored<T>(p.dropout.apply(geluOf(load<Acc>(p.h[i])), static_cast<uint64_t>(i)));
}
template <typename T, typename Acc>
CW_FUSED_HD void geluDropoutBackward(const GeluDropoutProblem<T, Acc>& p, int64_t i) {
  const Acc upstream = p.dropout.apply(load<Acc>(p.dy[i]), static_cast<uint64_t>(i));
  p.dh[i] = stored<T>(upstream * geluSlopeOf(load<Acc>(p.h[i])));
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
  const X* dOut;           // backward: gradient of out, or null (out unused)
  const Bf16* dOutLow;     // gradient of outLow, or null
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
// returns with the whole row done.
template <int Lanes, typename X, typename Y, typename Total>
CW_FUSED_HD void residualNormForwardRow(const ResidualNormProblem<X, Y>& p, int64_t row, int lane, Total total) {
  const int64_t base = row * p.dim;
  X partial = 0;
  for (int j = lane; j < p.dim; j += Lanes) {
    const X s = load<X>(p.x[base + j]) + p.dropout.apply(load<X>(p.y[base + j]), static_cast<uint64_t>(base + j));
    p.sum[base + j] = s;
    partial += s;
  }
  const X mean = total(partial) / static_cast<X>(p.dim);
  partial = 0;
  for (int j = lane; j < p.dim; j += Lanes) {
    const X centred = p.sum[base + j] - mean;
    partial += centred * centred;
  }
  const X rstd = inverseSqrtOf(total(partial) / static_cast<X>(p.dim) + p.eps);
  for (int j = lane; j < p.dim; j += Lanes) {
    const X value = (p.sum[base + j] - mean) * rstd * p.gamma[j] + p.beta[j];
    p.out[base + j] = value;
    if (p.outLow) p.outLow[base + j] = Bf16::of(static_cast<float>(value));
  }
  if (lane == 0) {
    p.mean[row] = mean;
    p.rstd[row] = rstd;
  }
}

template <typename X, typename Y>
CW_FUSED_HD X upstreamOf(const ResidualNormProblem<X, Y>& p, int64_t at) {
  X g = p.dOut ? p.dOut[at] : X(0);
  if (p.dOutLow) g += load<X>(p.dOutLow[at]);
  return g;
}

// One row's backward (lanes as in forward), adding its dγ, dβ terms to `worker`'s partials:
//   ds = rstd·(gγ − mean(gγ) − ŝ·mean(gγ·ŝ)),  dx = ds,  dy = dropout(ds)
template <int Lanes, typename X, typename Y, typename Total>
CW_FUSED_HD void residualNormBackwardRow(const ResidualNormProblem<X, Y>& p, int64_t row, int64_t worker, int lane,
                                         Total total) {
  const int64_t base = row * p.dim;
  const X mean = p.mean[row], rstd = p.rstd[row];
  X partialG = 0, partialGs = 0;
  for (int j = lane; j < p.dim; j += Lanes) {
    const X g = upstreamOf(p, base + j) * p.gamma[j];
    partialG += g;
    partialGs += g * (p.sum[base + j] - mean) * rstd;
  }
  const X meanG = total(partialG) / static_cast<X>(p.dim), meanGs = total(partialGs) / static_cast<X>(p.dim);
  // Restricted views: the CPU build vectorises the loop only when told they never overlap.
  X* __restrict__ dGamma = p.dGammaPartial + worker * p.dim;
  X* __restrict__ dBeta = p.dBetaPartial + worker * p.dim;
  X* __restrict__ dx = p.dx + base;
  Y* __restrict__ dy = p.dy + base;
  const X* __restrict__ sum = p.sum + base;
  const X* __restrict__ gamma = p.gamma;
  for (int j = lane; j < p.dim; j += Lanes) {
    const X upstream = upstreamOf(p, base + j);
    const X normalised = (sum[j] - mean) * rstd;
    const X ds = rstd * (upstream * gamma[j] - meanG - normalised * meanGs);
    dx[j] = ds;
    dy[j] = stored<Y>(p.dropout.apply(ds, static_cast<uint64_t>(base + j)));
    dGamma[j] += upstream * normalised;
    dBeta[j] += upstream;
  }
}

}  // namespace cw::plugins::fused
