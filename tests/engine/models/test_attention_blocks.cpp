// Attention in blocks of bounded score memory (cw::compute::blockedAttention), the no-grad
// path of compat::scaledDotProductAttention on LibTorch 1.13, against the formula itself.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "cellwright/compute/compat.h"
#include "cellwright/compute/heap_memory.h"
#include "cellwright/compute/score_blocks.h"
#include "model_test_support.h"

namespace {

using cw::compute::blockedAttention;

// softmax(q·kᵀ/√d + mask)·v written out with exp and sums, in double.
torch::Tensor byTheFormula(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                           const torch::Tensor& additiveMask) {
  auto scores = q.matmul(k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(-1))) + additiveMask;
  auto shifted = (scores - std::get<0>(scores.max(-1, true))).exp();
  return (shifted / shifted.sum(-1, true)).matmul(v);
}

struct Inputs {
  torch::Tensor q, k, v;
};

Inputs inputs(int64_t lq = 37, int64_t lk = 53) {
  torch::manual_seed(7);
  const auto options = torch::TensorOptions().dtype(torch::kDouble);
  return {torch::randn({2, 3, lq, 8}, options), torch::randn({2, 3, lk, 8}, options),
          torch::randn({2, 3, lk, 5}, options)};
}

// Block sizes: one query row per block, a ragged split (4 rows: 37 = 9·4 + 1), everything at once.
const int64_t kBlockSizes[] = {1, 4 * 2 * 3 * 53 * 4, int64_t{1} << 30};

}  // namespace

TEST(BlockedAttention, EqualsTheFormulaForEveryMaskAndBlockSize) {
  torch::NoGradGuard noGrad;
  const auto [q, k, v] = inputs();
  const double inf = std::numeric_limits<double>::infinity();
  // Keys 50.. of cell 1 are padding (bool mask, true = attend, broadcast over heads and rows).
  auto attend = torch::ones({2, 1, 1, 53}, torch::kBool);
  attend[1].narrow(-1, 50, 3).fill_(false);
  const auto paddingAsAdditive = torch::zeros({2, 1, 1, 53}, torch::kDouble).masked_fill(attend.logical_not(), -inf);
  const auto additive = torch::randn({2, 3, 37, 53}, torch::kDouble);  // one value per query row and key
  const auto causalAsAdditive =
      torch::zeros({37, 53}, torch::kDouble).masked_fill(torch::ones({37, 53}, torch::kBool).tril().logical_not(), -inf);
  for (const int64_t blockBytes : kBlockSizes) {
    SCOPED_TRACE("block bytes " + std::to_string(blockBytes));
    EXPECT_LT(cw::test::relativeError(blockedAttention(q, k, v, std::nullopt, 0.0, false, blockBytes),
                                      byTheFormula(q, k, v, torch::zeros({1}, torch::kDouble))),
              1e-12);
    EXPECT_LT(cw::test::relativeError(blockedAttention(q, k, v, attend, 0.0, false, blockBytes),
                                      byTheFormula(q, k, v, paddingAsAdditive)),
              1e-12);
    EXPECT_LT(cw::test::relativeError(blockedAttention(q, k, v, additive, 0.0, false, blockBytes),
                                      byTheFormula(q, k, v, additive)),
              1e-12);
    EXPECT_LT(cw::test::relativeError(blockedAttention(q, k, v, std::nullopt, 0.0, true, blockBytes),
                                      byTheFormula(q, k, v, causalAsAdditive)),
              1e-12);
  }
}

TEST(BlockedAttention, CompatTakesItWithoutAutogradAndAgreesWithTheGraphPath) {
  const auto [q, k, v] = inputs();
  auto attend = torch::rand({2, 1, 1, 53}).gt(0.2);
  attend.narrow(-1, 0, 1).fill_(true);  // every query keeps a key
  const auto withGraph = cw::compat::scaledDotProductAttention(q.requires_grad_(), k, v, attend);
  ASSERT_TRUE(withGraph.requires_grad());
  torch::NoGradGuard noGrad;
  const auto without = cw::compat::scaledDotProductAttention(q, k, v, attend);
  EXPECT_LT(cw::test::relativeError(without, withGraph.detach()), 1e-12);
  EXPECT_THROW(
      {
        torch::AutoGradMode gradOn(true);
        blockedAttention(q, k, v);
      },
      c10::Error)
      << "with autograd on, nothing would keep the scores backward needs";
}

#if defined(__GLIBC__)
// The point of the blocks: the heap grows by about one block, not by the whole score
// tensor and its softmax. In a heap-memory scope the heap never shrinks, so its size after
// the call is the call's peak.
TEST(BlockedAttention, HoldsOneBlockOfScoresAtATime) {
  torch::NoGradGuard noGrad;
  torch::manual_seed(3);
  const auto q = torch::randn({4, 2, 512, 16}), k = torch::randn({4, 2, 2048, 16}), v = torch::randn({4, 2, 2048, 16});
  const double wholeScores = 4.0 * 2 * 512 * 2048 * sizeof(float);  // 33.5 MB
  const int64_t block = int64_t{2} << 20;
  cw::HeapMemoryScope scope;
  // A small problem first: LibTorch's and the BLAS's first calls set up buffers of their own.
  blockedAttention(q.narrow(2, 0, 8), k.narrow(2, 0, 64), v.narrow(2, 0, 64), std::nullopt, 0.0, false, block);
  const double before = static_cast<double>(mallinfo2().arena);
  const auto blocked = blockedAttention(q, k, v, std::nullopt, 0.0, false, block);
  const double blockedGrowth = static_cast<double>(mallinfo2().arena) - before;
  const auto plain = torch::softmax(q.matmul(k.transpose(-2, -1)) / 4.0, -1).matmul(v);  // √16 = 4
  const double plainGrowth = static_cast<double>(mallinfo2().arena) - before;
  EXPECT_LT(cw::test::relativeError(blocked, plain), 1e-5);
  EXPECT_LT(blockedGrowth, 8.0 * block) << "blocks of " << block << " bytes";
  EXPECT_GT(plainGrowth, 1.5 * wholeScores) << "the plain formulation holds scores and softmax";
}
#endif
