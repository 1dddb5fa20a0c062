#pragma once
// The optimisers training builds. AdamW on CUDA takes PyTorch's fused multi-tensor Adam
// kernel (a few launches per step for all parameters, where LibTorch's AdamW launches about
// seven per parameter: ~1,500 for BioFormer), with the weight decay applied first in one
// multi-tensor multiply: the same decoupled AdamW update, and the same state, so
// checkpoints and resuming are unchanged. Elsewhere (and in builds without Cellwright's
// CUDA kernels) it is LibTorch's AdamW.
#include <memory>
#include <vector>

#include <torch/torch.h>

namespace cw::compute {

std::unique_ptr<torch::optim::Optimizer> makeAdamW(const std::vector<torch::Tensor>& parameters,
                                                   const torch::optim::AdamWOptions& options);

// Whether makeAdamW's optimiser stepped these parameters with the fused kernel last time
// (for the benchmark's check; false before the first step).
bool steppedFused(const torch::optim::Optimizer& optimizer);

// Scales the parameters' gradients so that their joint L2 norm is at most maxNorm, as
// torch::nn::utils::clip_grad_norm_ does, with the per-tensor norms in one multi-tensor
// launch and no device-to-host copy (LibTorch's returns the norm as a double).
void clipGradientNorm(const std::vector<torch::Tensor>& parameters, double maxNorm);

}  // namespace cw::compute
