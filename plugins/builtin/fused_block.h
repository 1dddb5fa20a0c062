#pragma once
// Fused steps of the post-norm transformer block (fused_block_math.h): GELU + dropout, and
// dropout + residual add + LayerNorm with the bf16 copy autocast's next linear reads. CPU
// loops everywhere, CUDA kernels where this build has them; torch ops give the same result
// in more passes (layers.cpp falls back to them where these do not apply).
#include <torch/torch.h>

namespace cw::plugins::fused {

// Whether geluDropout takes h: float, bf16 or double, on the CPU or on CUDA with kernels.
bool geluDropoutSupported(const torch::Tensor& h);

// dropout(GELU(h), p) (exact GELU; p = 0: none), with its backward.
torch::Tensor geluDropout(const torch::Tensor& h, double p);

struct ResidualNormOutput {
  torch::Tensor value;  // LayerNorm(x + dropout(y)), x's dtype
  torch::Tensor low;    // value rounded to bf16, where asked for (else undefined)
};

// Whether residualNorm takes these: x float or double with y of x's dtype or bf16, gamma
// and beta of x's dtype and shape [last dim], all on x's device, the CPU or CUDA with kernels.
bool residualNormSupported(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& gamma,
                           const torch::Tensor& beta);

// LayerNorm(x + dropout(y, p)) over the last dim with weight gamma, bias beta and `eps`,
// with its backward; `lowCopy` also returns the result in bf16 (one pass, both outputs
// differentiable).
ResidualNormOutput residualNorm(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& gamma,
                                const torch::Tensor& beta, double eps, double p, bool lowCopy);

// The keep mask that geluDropout and residualNorm draw for `count` elements under `seed`,
// as a bool tensor (for tests), and the seed the next call on this thread would draw after
// torch::manual_seed (both draw from the default CPU generator).
torch::Tensor dropoutKeepMask(uint64_t seed, int64_t count, double p);
uint64_t drawDropoutSeed();

}  // namespace cw::plugins::fused
