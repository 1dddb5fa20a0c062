// The bf16 row reads of the fused LSH CUDA kernels (eight values in one 16-byte load,
// unpacked from 32-bit words), run on the CPU: the slot code built with CW_LSH_VECTOR_ROWS, in a
// namespace of its own, against the CPU loops' build of the same code, on one problem.
#include <gtest/gtest.h>

#include <vector>

#define CW_LSH_VECTOR_ROWS 1
#define CW_LSH_ISA vector_rows_test
#include "lsh_fused_math.h"
#include "lsh_slot_problem.h"

namespace fused = cw::plugins::lsh::fused;
using cw::test::relativeDifference;

namespace {

constexpr int kD = 16;

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

}  // namespace

TEST(LshVectorRows, Bf16RowsUnpackAsTheCpuLoopsReadThem) {
  // A wrong half of a 32-bit word would swap neighbouring values. Two rows, three rounds,
  // 32 positions, buckets of 8, rounds deduplicated, some padding.
  const cw::test::LshSlotProblem data(2, 3, 32, 8, kD);
  const auto p = data.problem(data.q16, data.k16, data.v16);
  EXPECT_LT(relativeDifference(allPasses(p, true), allPasses(p, false)), 1e-6);
  // The bf16 problem really differs from the fp32 one (the check sees the rounding).
  EXPECT_GT(relativeDifference(allPasses(p, false), allPasses(data.problem(data.q, data.k, data.v), false)), 1e-4);
}
