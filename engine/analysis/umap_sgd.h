#pragma once
// The inner loop of the UMAP layout: one epoch of umap-learn's SGD with negative sampling over
// a range of heads. Internal to engine/analysis (umap.cpp drives epochs and threads).
#include <cstdint>
#include <random>
#include <vector>

namespace cw::analysis::detail {

// The edges grouped by head (CSR order) with umap-learn's sampling schedule: an edge of weight
// w is sampled every max / w epochs and then draws negativeRate negative samples per sampling.
struct UmapSchedule {
  std::vector<int64_t> rowStart;  // n + 1
  std::vector<int32_t> tail;
  std::vector<float> epochsPerSample, nextSample, nextNegative;
};

// The curve 1 / (1 + a d^2b) and the repulsion constant 2 gamma b.
struct UmapCurve {
  float a, b, twoGammaB, negativeRate;
};

// Eight interleaved 32-bit xorshift128 generators per thread, one per vector lane, for the
// negative samples (umap-learn uses a Tausworthe generator; any fast uniform one does).
struct UmapRandom {
  uint32_t state[4][8];
  explicit UmapRandom(uint64_t seed) {
    std::mt19937_64 init(seed);
    for (auto& word : state)
      for (uint32_t& lane : word) lane = static_cast<uint32_t>(init() >> 16) | 1u;
  }
};

// One epoch over heads [row0, row1) of an n × dim embedding (row-major).
using UmapEpochKernel = void (*)(float* embedding, uint32_t n, UmapSchedule& schedule, int64_t row0, int64_t row1,
                                 float epoch, float alpha, const UmapCurve& curve, UmapRandom& random);

// The kernel for 1 <= dim <= 8, built for the widest vector unit this CPU has (AVX2 or SSE2;
// allowAvx2 = false forces the portable one, for tests).
UmapEpochKernel umapEpochKernel(int dim, bool allowAvx2 = true);

}  // namespace cw::analysis::detail
