// The optimiser helpers training uses (cellwright/compute/optimizers.h) against LibTorch's
// own: gradient clipping, and makeAdamW's updates and state (the fused CUDA step itself is
// checked on the GPU machine by bench/gpu.sh).
#include <gtest/gtest.h>

#include "cellwright/compute/optimizers.h"

namespace {

std::vector<torch::Tensor> parametersWithGradients(double gradientScale) {
  torch::manual_seed(21);
  std::vector<torch::Tensor> params;
  for (int64_t n : {3, 17, 64}) {
    auto p = torch::randn({n}).requires_grad_(true);
    p.mutable_grad() = torch::randn({n}) * gradientScale;
    params.push_back(p);
  }
  params.push_back(torch::randn({5}).requires_grad_(true));  // no gradient: left alone
  return params;
}

TEST(Optimizers, ClippingMatchesLibTorchAboveAndBelowTheLimit) {
  for (double scale : {10.0, 0.01}) {
    auto ours = parametersWithGradients(scale), reference = parametersWithGradients(scale);
    double norm = 0;
    for (const auto& p : ours)
      if (p.grad().defined()) norm += p.grad().pow(2).sum().item<double>();
    norm = std::sqrt(norm);
    cw::compute::clipGradientNorm(ours, 1.0);
    torch::nn::utils::clip_grad_norm_(reference, 1.0);
    double clipped = 0;
    for (size_t i = 0; i + 1 < ours.size(); ++i) {
      EXPECT_TRUE(torch::allclose(ours[i].grad(), reference[i].grad(), 1e-6, 1e-9)) << scale;
      clipped += ours[i].grad().pow(2).sum().item<double>();
    }
    // Hand check: the joint norm becomes the limit when above it, and stays when below.
    EXPECT_NEAR(std::sqrt(clipped), std::min(norm, 1.0), 1e-5) << scale;
    EXPECT_FALSE(ours.back().grad().defined());
  }
}

TEST(Optimizers, AdamWOnTheCpuStepsAsLibTorchsAndKeepsItsState) {
  auto ours = parametersWithGradients(1.0), reference = parametersWithGradients(1.0);
  const auto options = torch::optim::AdamWOptions(1e-2).weight_decay(0.1);
  auto optimizer = cw::compute::makeAdamW(ours, options);
  torch::optim::AdamW libtorch(reference, options);
  for (int step = 0; step < 3; ++step) {
    optimizer->step();
    libtorch.step();
  }
  EXPECT_FALSE(cw::compute::steppedFused(*optimizer));  // CPU tensors: LibTorch's step
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_TRUE(torch::equal(ours[i], reference[i])) << i;
  // Checkpoints read AdamW's own state type.
  const auto& state = optimizer->state();
  ASSERT_EQ(state.size(), 3u);
  for (const auto& item : state) {
    const auto* adamw = dynamic_cast<const torch::optim::AdamWParamState*>(item.second.get());
    ASSERT_NE(adamw, nullptr);
    EXPECT_EQ(adamw->step(), 3);
  }
}

}  // namespace
