// The CPU loops of the fused transformer-block steps (fused_block_math.h) over a range of
// elements or rows. Built twice, like lsh_fused_cpu.cpp: as is for the baseline x86-64, and
// by fused_block_cpu_avx2.cpp with -mavx2 -mfma (fused_block.cpp picks at run time), both
// with -fopenmp-simd so the row sums run in vector lanes. No torch here.
#ifndef CW_FUSED_CPU
#define CW_FUSED_CPU cpu_baseline
#endif
#include "cpu_vector_math.h"

#include <algorithm>

#include "fused_block_math.h"

namespace cw::plugins::fused::CW_FUSED_CPU {

template <typename T, typename Acc>
void geluDropoutRange(const GeluDropoutProblem<T, Acc>& p, bool backward, int64_t begin, int64_t end) {
  // Restricted local views, and blocks counted by an int: GCC 12 vectorises neither a loop
  // that reads through the problem it writes beside nor one with a 64-bit counter here.
  const Dropout<Acc> dropout = p.dropout;
  constexpr int64_t kBlock = 1 << 16;
  for (int64_t start = begin; start < end; start += kBlock) {
    const int count = static_cast<int>(std::min(kBlock, end - start));
    const T* __restrict__ h = p.h + start;
    if (backward) {
      const T* __restrict__ dy = p.dy + start;
      T* __restrict__ dh = p.dh + start;
      CW_FUSED_VECTOR_LOOP
      for (int j = 0; j < count; ++j)
        dh[j] = geluDropoutGradientOf(dropout, h[j], dy[j], static_cast<uint64_t>(start + j));
    } else {
      T* __restrict__ y = p.y + start;
      CW_FUSED_VECTOR_LOOP
      for (int j = 0; j < count; ++j) y[j] = geluDropoutOf(dropout, h[j], static_cast<uint64_t>(start + j));
    }
  }
}

template <typename X, typename Y>
void residualNormRows(const ResidualNormProblem<X, Y>& p, bool backward, int64_t begin, int64_t end, int worker) {
  const auto oneLane = [](X v) { return v; };
  const bool withLow = backward ? p.dOutLow != nullptr : p.outLow != nullptr;
  for (int64_t row = begin; row < end; ++row) {
    if (backward && withLow)
      residualNormBackwardRow<1, true>(p, row, worker, 0, oneLane);
    else if (backward)
      residualNormBackwardRow<1, false>(p, row, worker, 0, oneLane);
    else if (withLow)
      residualNormForwardRow<1, true>(p, row, 0, oneLane);
    else
      residualNormForwardRow<1, false>(p, row, 0, oneLane);
  }
}

template void geluDropoutRange(const GeluDropoutProblem<float, float>&, bool, int64_t, int64_t);
template void geluDropoutRange(const GeluDropoutProblem<double, double>&, bool, int64_t, int64_t);
template void geluDropoutRange(const GeluDropoutProblem<Bf16, float>&, bool, int64_t, int64_t);
template void residualNormRows(const ResidualNormProblem<float, float>&, bool, int64_t, int64_t, int);
template void residualNormRows(const ResidualNormProblem<float, Bf16>&, bool, int64_t, int64_t, int);
template void residualNormRows(const ResidualNormProblem<double, double>&, bool, int64_t, int64_t, int);

}  // namespace cw::plugins::fused::CW_FUSED_CPU
