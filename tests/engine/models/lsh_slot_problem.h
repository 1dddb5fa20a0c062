#pragma once
// A small fused-LSH problem for the tests that run the kernels' code on the CPU
// (test_lsh_vector_rows.cpp, test_lsh_tiles.cpp): random q, k, v (fp32 and bf16), shuffled
// slot orders per round with their chunk indices (rounds deduplicated), padding at the end
// of the last row, and random inputs for the backward passes (the code under test and the
// slot code evaluate the same formulas, so they need not come from a forward pass).
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "lsh_fused_math.h"

namespace cw::test {

struct LshSlotProblem {
  using Bf16 = cw::plugins::lsh::fused::Bf16;
  int rows, rounds, length, bucket, width;
  std::vector<float> q, k, v, dOut, lse, delta;
  std::vector<Bf16> q16, k16, v16;
  std::vector<int32_t> slotPos, chunkOf;
  std::vector<uint8_t> padding;

  LshSlotProblem(int rows_, int rounds_, int length_, int bucket_, int width_, unsigned seed = 3)
      : rows(rows_), rounds(rounds_), length(length_), bucket(bucket_), width(width_) {
    std::mt19937 random(seed);
    std::normal_distribution<float> normal;
    const size_t values = static_cast<size_t>(rows) * length * width;
    for (auto* x : {&q, &k, &v, &dOut}) {
      x->resize(values);
      for (auto& e : *x) e = normal(random);
    }
    for (auto* x : {&lse, &delta}) {
      x->resize(static_cast<size_t>(rows) * length);
      for (auto& e : *x) e = 4.0f + normal(random);
    }
    auto toBf16 = [](const std::vector<float>& from) {  // truncated: exact, whichever rounding
      std::vector<Bf16> to(from.size());
      for (size_t i = 0; i < from.size(); ++i) {
        uint32_t bits;
        std::memcpy(&bits, &from[i], sizeof bits);
        to[i].bits = static_cast<uint16_t>(bits >> 16);
      }
      return to;
    };
    q16 = toBf16(q), k16 = toBf16(k), v16 = toBf16(v);
    slotPos.resize(static_cast<size_t>(rows) * rounds * length);
    chunkOf.resize(static_cast<size_t>(rows) * length * rounds);
    for (int n = 0; n < rows; ++n)
      for (int r = 0; r < rounds; ++r) {
        int32_t* order = slotPos.data() + (static_cast<size_t>(n) * rounds + r) * length;
        std::iota(order, order + length, 0);
        std::shuffle(order, order + length, random);
        for (int slot = 0; slot < length; ++slot)
          chunkOf[(static_cast<size_t>(n) * length + order[slot]) * rounds + r] = slot / bucket;
      }
    padding.assign(static_cast<size_t>(rows) * length, 0);
    for (int p = length - length / 5; p < length; ++p) padding[static_cast<size_t>(rows - 1) * length + p] = 1;
  }

  // The problem over these inputs (qs, ks, vs: the fp32 or the bf16 ones); outputs unset.
  template <typename T>
  cw::plugins::lsh::fused::Problem<T, float> problem(const std::vector<T>& qs, const std::vector<T>& ks,
                                                      const std::vector<T>& vs) const {
    namespace fused = cw::plugins::lsh::fused;
    fused::Problem<T, float> p{};
    p.q = qs.data(), p.k = ks.data(), p.v = vs.data();
    p.slotPos = slotPos.data(), p.chunkOf = chunkOf.data(), p.padding = padding.data();
    p.rows = rows, p.rounds = rounds, p.length = length, p.bucket = bucket;
    p.scale = 1.0f / std::sqrt(static_cast<float>(width)), p.paddingScore = -1e9f, p.selfScore = -5e4f;
    for (int m = 1; m <= fused::kMaxRounds; ++m) p.logOfCount[m] = std::log(static_cast<float>(m));
    p.dOut = dOut.data(), p.lse = lse.data(), p.delta = delta.data();
    return p;
  }
};

// ‖a − b‖ / ‖b‖.
inline double relativeDifference(const std::vector<float>& a, const std::vector<float>& b) {
  double difference = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    norm += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(difference / norm);
}

}  // namespace cw::test
