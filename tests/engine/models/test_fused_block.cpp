// The fused transformer-block steps (fused_block.h) against the torch ops they replace:
// dropout(GELU(h)), and LayerNorm(x + dropout(y)) with its bf16 copy, values and gradients,
// with the dropout mask the steps draw (dropoutKeepMask) applied by hand.
#include <gtest/gtest.h>

#include "cellwright/compute/compat.h"
#include "cellwright/core/errors.h"
#include "fused_block.h"
#include "fused_dispatch.h"
#include "layers.h"
#include "model_test_support.h"

namespace {

namespace fused = cw::plugins::fused;
namespace F = torch::nn::functional;
using cw::test::relativeError;

// The mask the next fused call draws after torch::manual_seed(seed), shaped like `like`.
torch::Tensor nextMask(uint64_t seed, const torch::Tensor& like, double p) {
  torch::manual_seed(seed);
  auto mask = fused::dropoutKeepMask(fused::drawDropoutSeed(), like.numel(), p).view(like.sizes());
  torch::manual_seed(seed);
  return mask.to(like.scalar_type());
}

// Gradients of sum(out · weight) with respect to `inputs`.
std::vector<torch::Tensor> gradientsOf(const torch::Tensor& out, const torch::Tensor& weight,
                                       const std::vector<torch::Tensor>& inputs) {
  return torch::autograd::grad({(out * weight).sum()}, inputs);
}

TEST(FusedBlock, GeluDropoutIsGeluTimesItsKeepMask) {
  torch::manual_seed(1);
  auto h = (torch::randn({7, 33}, torch::kDouble) * 2).requires_grad_(true);
  auto weight = torch::randn({7, 33}, torch::kDouble);
  for (double p : {0.0, 0.3}) {
    const auto mask = nextMask(5, h, p);
    auto y = fused::geluDropout(h, p);
    auto expected = torch::gelu(h) * mask / (1 - p);
    EXPECT_LT(relativeError(y, expected), 1e-14) << p;
    if (p > 0) {
      EXPECT_GT((mask == 0).sum().item<int64_t>(), 0);  // something was dropped
    }
    EXPECT_LT(relativeError(gradientsOf(y, weight, {h})[0], gradientsOf(expected, weight, {h})[0]), 1e-13) << p;
  }
}

TEST(FusedBlock, GeluDropoutReadsBf16AndComputesInFp32) {
  torch::manual_seed(2);
  auto h = (torch::randn({5, 64}) * 2).to(torch::kBFloat16);
  auto y = fused::geluDropout(h, 0.0);
  EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  // GELU in fp32 of the bf16 values, rounded once: what torch's bf16 GELU gives.
  EXPECT_TRUE(torch::equal(y, torch::gelu(h.to(torch::kFloat)).to(torch::kBFloat16)));
}

TEST(FusedBlock, DropoutKeepsOneMinusPIndependentlyPerElementAndSeed) {
  const int64_t n = 200000;
  const auto a = fused::dropoutKeepMask(17, n, 0.1).to(torch::kDouble);
  const auto b = fused::dropoutKeepMask(18, n, 0.1).to(torch::kDouble);
  // Kept share 0.9 (σ ≈ 0.0007); neighbours and other seeds agree as independent draws
  // would: 0.9² + 0.1² = 0.82.
  EXPECT_NEAR(a.mean().item<double>(), 0.9, 0.004);
  EXPECT_NEAR((a.narrow(0, 0, n - 1) == a.narrow(0, 1, n - 1)).to(torch::kDouble).mean().item<double>(), 0.82, 0.005);
  EXPECT_NEAR((a == b).to(torch::kDouble).mean().item<double>(), 0.82, 0.005);
  EXPECT_TRUE(fused::dropoutKeepMask(17, n, 0.0).all().item<bool>());
  EXPECT_NEAR(fused::dropoutKeepMask(19, n, 0.5).to(torch::kDouble).mean().item<double>(), 0.5, 0.005);
}

struct NormInputs {
  torch::Tensor x, y, gamma, beta;
};

NormInputs normInputs(std::vector<int64_t> shape, torch::ScalarType yType, uint64_t seed) {
  torch::manual_seed(seed);
  const int64_t dim = shape.back();
  NormInputs in;
  const auto type = yType == torch::kDouble ? torch::kDouble : torch::kFloat;
  in.x = (torch::randn(shape, type) * 3 + 1).requires_grad_(true);
  in.y = torch::randn(shape, type).to(yType).requires_grad_(true);
  in.gamma = (torch::rand({dim}, type) + 0.5).requires_grad_(true);
  in.beta = torch::randn({dim}, type).requires_grad_(true);
  return in;
}

TEST(FusedBlock, ResidualNormIsLayerNormOfTheDroppedSum) {
  // Few rows (one worker) and many (one partial dγ, dβ row per thread).
  const int previousThreads = at::get_num_threads();
  at::set_num_threads(3);
  for (std::vector<int64_t> shape : {std::vector<int64_t>{3, 5, 16}, std::vector<int64_t>{20000, 24}}) {
    const auto in = normInputs(shape, torch::kDouble, 3);
    const auto weight = torch::randn(in.x.sizes(), torch::kDouble);
    for (double p : {0.0, 0.25}) {
      const auto mask = nextMask(7, in.x, p);
      auto out = fused::residualNorm(in.x, in.y, in.gamma, in.beta, 1e-5, p, false);
      EXPECT_FALSE(out.low.defined());
      auto expected = F::layer_norm(in.x + in.y * mask / (1 - p),
                                    F::LayerNormFuncOptions({shape.back()}).weight(in.gamma).bias(in.beta).eps(1e-5));
      EXPECT_LT(relativeError(out.value, expected), 1e-13) << shape[0] << " p " << p;
      const std::vector<torch::Tensor> inputs{in.x, in.y, in.gamma, in.beta};
      const auto got = gradientsOf(out.value, weight, inputs), want = gradientsOf(expected, weight, inputs);
      for (size_t i = 0; i < got.size(); ++i)
        EXPECT_LT(relativeError(got[i], want[i]), 1e-11) << "input " << i << ", " << shape[0] << " rows, p " << p;
    }
  }
  at::set_num_threads(previousThreads);
}

TEST(FusedBlock, ResidualNormWritesTheBf16CopyAndTakesBothGradients) {
  // fp32 residual, bf16 sublayer output (what autocast's linear hands over).
  const auto in = normInputs({6, 40}, torch::kBFloat16, 4);
  const auto w = torch::randn({6, 40}), wLow = torch::randn({6, 40});
  auto out = fused::residualNorm(in.x, in.y, in.gamma, in.beta, 1e-5, 0.0, true);
  ASSERT_TRUE(out.low.defined());
  EXPECT_EQ(out.value.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(out.low, out.value.to(torch::kBFloat16)));  // rounded as autocast rounds
  auto y32 = in.y.detach().to(torch::kFloat).requires_grad_(true);
  auto expected = F::layer_norm(in.x + y32, F::LayerNormFuncOptions({40}).weight(in.gamma).bias(in.beta));
  EXPECT_LT(relativeError(out.value, expected), 1e-6);

  // Both outputs used, and the bf16 one alone (as the last block's is not).
  auto gradients = [&](const torch::Tensor& value, const torch::Tensor& low, const torch::Tensor& y, bool both) {
    auto loss = (low.to(torch::kFloat) * wLow).sum();
    if (both) loss = loss + (value * w).sum();
    return torch::autograd::grad({loss}, {in.x, y, in.gamma, in.beta}, {}, /*retain_graph=*/true);
  };
  for (bool both : {true, false}) {
    const auto got = gradients(out.value, out.low, in.y, both);
    const auto want = gradients(expected, expected.to(torch::kBFloat16), y32, both);
    EXPECT_EQ(got[1].scalar_type(), torch::kBFloat16);
    EXPECT_LT(relativeError(got[0], want[0]), 1e-5) << both;
    EXPECT_LT(relativeError(got[1].to(torch::kFloat), want[1]), 1e-2) << both;  // dy rounded to bf16
    EXPECT_LT(relativeError(got[2], want[2]), 1e-5) << both;
    EXPECT_LT(relativeError(got[3], want[3]), 1e-5) << both;
  }
}

TEST(FusedBlock, ResidualNormRefusesABetaOfAnotherType) {
  // The kernels read beta as gamma's type and size: a bf16 or shorter beta beside fp32 gamma
  // would be read as garbage, so residualNormSupported says no (the layer then takes torch's
  // ops) and residualNorm refuses it with a clear error.
  const auto in = normInputs({4, 16}, torch::kFloat, 5);
  EXPECT_TRUE(fused::residualNormSupported(in.x, in.y, in.gamma, in.beta));
  EXPECT_FALSE(fused::residualNormSupported(in.x, in.y, in.gamma, in.beta.to(torch::kBFloat16)));
  EXPECT_NO_THROW(fused::residualNorm(in.x, in.y, in.gamma, in.beta, 1e-5, 0.0, false));
  EXPECT_THROW(fused::residualNorm(in.x, in.y, in.gamma, in.beta.to(torch::kBFloat16), 1e-5, 0.0, false), cw::Error);
  EXPECT_THROW(fused::residualNorm(in.x, in.y, in.gamma, in.beta.narrow(0, 0, 8), 1e-5, 0.0, false), cw::Error);
}

TEST(FusedBlock, BaselineAndAvx2LoopsAgreeWithTorchInFp32) {
  // The row loops built for x86-64 and for AVX2 with FMA (where this processor has it), both
  // with their sums in vector lanes: fp32 against torch's ops, on a width with vector tails.
  const auto in = normInputs({37, 517}, torch::kFloat, 11);
  const auto weight = torch::randn({37, 517});
  const double p = 0.2;
  const auto mask = nextMask(12, in.x, p);
  auto expected = F::layer_norm(in.x + in.y * mask / (1 - p),
                                F::LayerNormFuncOptions({517}).weight(in.gamma).bias(in.beta).eps(1e-5));
  auto expectedGelu = torch::gelu(in.y) * mask / (1 - p);
  const std::vector<torch::Tensor> inputs{in.x, in.y, in.gamma, in.beta};
  const auto want = gradientsOf(expected, weight, inputs);
  const auto wantGelu = gradientsOf(expectedGelu, weight, {in.y})[0];
  for (bool avx2 : {true, false}) {
    fused::allowAvx2Loops(avx2);
    torch::manual_seed(12);
    auto out = fused::residualNorm(in.x, in.y, in.gamma, in.beta, 1e-5, p, false).value;
    EXPECT_LT(relativeError(out, expected), 1e-6) << avx2;
    const auto got = gradientsOf(out, weight, inputs);
    for (size_t i = 0; i < got.size(); ++i) EXPECT_LT(relativeError(got[i], want[i]), 1e-5) << i << " " << avx2;
    torch::manual_seed(12);
    auto gelu = fused::geluDropout(in.y, p);
    EXPECT_LT(relativeError(gelu, expectedGelu), 1e-6) << avx2;
    EXPECT_LT(relativeError(gradientsOf(gelu, weight, {in.y})[0], wantGelu), 1e-6) << avx2;
  }
  fused::allowAvx2Loops(true);
}

TEST(FusedBlock, TransformerBlockGivesTheSameResultFusedOrNot) {
  torch::manual_seed(8);
  cw::plugins::layers::TransformerBlock plain(32, 4, 64, 0.1, false), fusedBlock(32, 4, 64, 0.1, true);
  {
    torch::NoGradGuard noGrad;
    auto from = plain->named_parameters();
    for (auto& item : fusedBlock->named_parameters()) item.value().copy_(from[item.key()]);
  }
  plain->to(torch::kDouble);
  fusedBlock->to(torch::kDouble);
  plain->eval();  // dropout off: the two draw different masks
  fusedBlock->eval();
  auto x = torch::randn({3, 9, 32}, torch::kDouble);
  auto w = torch::randn({3, 9, 32}, torch::kDouble);
  auto outPlain = plain(x), outFused = fusedBlock(x);
  EXPECT_LT(relativeError(outFused, outPlain), 1e-13);
  (outPlain * w).sum().backward();
  (outFused * w).sum().backward();
  auto fusedParams = fusedBlock->named_parameters();
  for (auto& item : plain->named_parameters()) {  // (the keys' bias gets 0 up to rounding: softmax ignores it)
    const auto& want = item.value().grad();
    EXPECT_LT((fusedParams[item.key()].grad() - want).norm().item<double>(), 1e-11 * (1 + want.norm().item<double>()))
        << item.key();
  }

  // Training: the fused steps' dropout, repeatable under a seed and different across seeds.
  fusedBlock->train();
  torch::manual_seed(3);
  auto first = fusedBlock(x);
  torch::manual_seed(3);
  EXPECT_TRUE(torch::equal(fusedBlock(x), first));
  EXPECT_GT(relativeError(fusedBlock(x), first), 1e-3);
}

TEST(FusedBlock, UnderBf16AutocastTheNextLinearGetsTheBf16Copy) {
  torch::manual_seed(9);
  cw::plugins::layers::TransformerBlock block(32, 4, 64, 0.0, true);
  block->eval();
  auto x = torch::randn({2, 7, 32});
  cw::plugins::layers::Residual out;
  torch::Tensor reference;
  {
    cw::compat::AutocastGuard autocast(torch::kCPU, torch::kBFloat16, true);
    out = block->forwardResidual({x, {}});
  }
  reference = block(x);  // fp32 throughout
  ASSERT_TRUE(out.low.defined());
  EXPECT_EQ(out.value.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(out.low, out.value.to(torch::kBFloat16)));
  EXPECT_LT(relativeError(out.value, reference), 0.05);  // bf16 matmuls
}

}  // namespace
