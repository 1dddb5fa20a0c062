// The bf16 row reads of the fused LSH CUDA kernels (eight values in one 16-byte load,
// unpacked from 32-bit words), run on the CPU: the slot code built with CW_LSH_VECTOR_ROWS, in a
// namespace of its own, against the CPU loops' build of the same code, on one problem.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#define CW_LSH_VECTOR_ROWS 1
#define CW_LSH_ISA vector_rows_test
#include "lsh_fused_math.h"

namespace fused = cw::plugins::lsh::fused;

namespace {

constexpr int kD = 16;

// Two rows, three rounds, 32 positions, buckets of 8, rounds deduplicated, some padding;
// inputs for every pass (the backward ones random: both builds evaluate the same formulas).
struct Data {
  int rows = 2, rounds = 3, length = 32, bucket = 8;
  std::vector<float> q, k, v, dOut, lse, delta;
  std::vector<fused::Bf16> q16, k16, v16;
  std::vector<int32_t> slotPos, chunkOf;
  std::vector<uint8_t> padding;

  Data() {
    std::mt19937 random(3);
    std::normal_distribution<float> normal;
    const size_t values = static_cast<size_t>(rows) * length * kD;
    for (auto* x : {&q, &k, &v, &dOut}) {
      x->resize(values);
      for (auto& e : *x) e = normal(random);
    }
    for (auto* x : {&lse, &delta}) {
      x->resize(static_cast<size_t>(rows) * length);
      for (auto& e : *x) e = 4.0f + normal(random);
    }
    auto toBf16 = [](const std::vector<float>& from) {
      std::vector<fused::Bf16> to(from.size());
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
    for (int p = 26; p < length; ++p) padding[length + p] = 1;  // row 1's last 6 positions
  }

  template <typename T>
  fused::Problem<T, float> problem(const std::vector<T>& qs, const std::vector<T>& ks, const std::vector<T>& vs) const {
    fused::Problem<T, float> p{};
    p.q = qs.data(), p.k = ks.data(), p.v = vs.data();
    p.slotPos = slotPos.data(), p.chunkOf = chunkOf.data(), p.padding = padding.data();
    p.rows = rows, p.rounds = rounds, p.length = length, p.bucket = bucket;
    p.scale = 0.25f, p.paddingScore = -1e9f, p.selfScore = -5e4f;
    for (int m = 1; m <= fused::kMaxRounds; ++m) p.logOfCount[m] = std::log(static_cast<float>(m));
    p.dOut = dOut.data(), p.lse = lse.data(), p.delta = delta.data();
    return p;
  }
};

// Every output of the three passes, run slot by slot (vector rows) or by the CPU loops.
template <typename T>
std::vector<float> allPasses(fused::Problem<T, float> p, bool vectorRows) {
  const size_t perRound = static_cast<size_t>(p.rows) * p.rounds * p.length;
  std::vector<float> out(perRound * kD), lse(perRound), dq(perRound * kD), dk(perRound * kD), dv(perRound * kD);
  p.roundOut = out.data(), p.roundLse = lse.data(), p.dq = dq.data(), p.dk = dk.data(), p.dv = dv.data();
  const int64_t chunks = static_cast<int64_t>(perRound) / p.bucket;
  for (auto pass : {fused::Pass::Forward, fused::Pass::QueryGradients, fused::Pass::KeyGradients}) {
    if (!vectorRows) {
      fused::cpu_baseline::runChunks(p, kD, pass, 0, chunks);
      continue;
    }
    for (int32_t row = 0; row < p.rows; ++row)
      for (int32_t s = 0; s < p.rounds * p.length; ++s) {
        if (pass == fused::Pass::Forward) fused::vector_rows_test::forwardSlot<kD>(p, row, s);
        if (pass == fused::Pass::QueryGradients) fused::vector_rows_test::queryGradientSlot<kD>(p, row, s);
        if (pass == fused::Pass::KeyGradients) fused::vector_rows_test::keyGradientSlot<kD>(p, row, s);
      }
  }
  for (const auto* part : {&lse, &dq, &dk, &dv}) out.insert(out.end(), part->begin(), part->end());
  return out;
}

double relativeDifference(const std::vector<float>& a, const std::vector<float>& b) {
  double difference = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    norm += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(difference / norm);
}

}  // namespace

TEST(LshVectorRows, Bf16RowsUnpackAsTheCpuLoopsReadThem) {
  // A wrong half of a 32-bit word would swap neighbouring values.
  const Data data;
  const auto p = data.problem(data.q16, data.k16, data.v16);
  EXPECT_LT(relativeDifference(allPasses(p, true), allPasses(p, false)), 1e-6);
  // The bf16 problem really differs from the fp32 one (the check sees the rounding).
  EXPECT_GT(relativeDifference(allPasses(p, false), allPasses(data.problem(data.q, data.k, data.v), false)), 1e-4);
}
