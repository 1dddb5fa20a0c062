#pragma once
// Building blocks shared by the built-in transformer models.
#include <optional>

#include <torch/torch.h>

namespace cw::plugins::layers {

// Multi-head attention with separate query and key/value inputs. `keyPadding` [B, Lk] bool,
// true = padding: masked out exactly (weight 0). Uses the fused kernel unless the weights
// are asked for. Every query needs at least one non-padding key.
class MultiHeadAttentionImpl : public torch::nn::Module {
 public:
  MultiHeadAttentionImpl(int64_t dim, int64_t heads, double dropout = 0.0);
  // Returns the output [B, Lq, dim]; when `weights` is given, fills it with the attention
  // probabilities [B, heads, Lq, Lk].
  torch::Tensor forward(const torch::Tensor& query, const torch::Tensor& keyValue,
                        const torch::Tensor& keyPadding = {}, torch::Tensor* weights = nullptr);
  int64_t heads() const { return heads_; }

 private:
  int64_t dim_, heads_;
  double dropout_;
  torch::nn::Linear q_{nullptr}, k_{nullptr}, v_{nullptr}, out_{nullptr};
};
TORCH_MODULE(MultiHeadAttention);

// Position-wise feed-forward: Linear(dim->hidden), GELU, dropout, Linear(hidden->dim).
// `fusedSteps`: GELU and dropout in one pass (fused_block.h) where it takes the input.
class FeedForwardImpl : public torch::nn::Module {
 public:
  FeedForwardImpl(int64_t dim, int64_t hidden, double dropout = 0.0, bool fusedSteps = false);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  double dropout_;
  bool fusedSteps_;
  torch::nn::Linear in_{nullptr}, out_{nullptr};
};
TORCH_MODULE(FeedForward);

// The residual stream between blocks: its value and, after a fused step under bf16
// autocast, the same rounded to bf16, which the next linear reads (autocast's cast, made
// in the step's pass).
struct Residual {
  torch::Tensor value, low;
  const torch::Tensor& input() const { return low.defined() ? low : value; }
};

// Post-norm transformer block (PyTorch's TransformerEncoderLayer default, norm_first=false):
//   x = LN(x + Drop(Attn(x, context)));  x = LN(x + Drop(FF(x)))
// `context` undefined = self-attention. `fusedSteps`: each "LN(x + Drop(·))" in one pass
// and GELU + dropout in one (fused_block.h), where they take the input; the same result.
class TransformerBlockImpl : public torch::nn::Module {
 public:
  TransformerBlockImpl(int64_t dim, int64_t heads, int64_t hidden, double dropout, bool fusedSteps = false);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context = {},
                        const torch::Tensor& contextPadding = {}, torch::Tensor* weights = nullptr);
  Residual forwardResidual(const Residual& x, const torch::Tensor& context = {},
                           const torch::Tensor& contextPadding = {}, torch::Tensor* weights = nullptr);

 private:
  Residual addAndNorm(const torch::Tensor& x, const torch::Tensor& sublayer, torch::nn::LayerNorm& norm);

  double dropout_;
  bool fusedSteps_;
  MultiHeadAttention attention_{nullptr};
  FeedForward feedForward_{nullptr};
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
};
TORCH_MODULE(TransformerBlock);

// Parameter count of one TransformerBlock, for tests and docs.
inline int64_t transformerBlockParameters(int64_t dim, int64_t hidden) {
  return 4 * (dim * dim + dim) + (dim * hidden + hidden) + (hidden * dim + dim) + 2 * 2 * dim;
}

// Mean over the non-padding positions of x [B, L, D] (padding [B, L] bool, may be undefined).
torch::Tensor maskedMean(const torch::Tensor& x, const torch::Tensor& padding);

}  // namespace cw::plugins::layers
