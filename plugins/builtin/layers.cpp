#include "layers.h"

#include "cellwright/compute/compat.h"
#include "fused_block.h"

namespace cw::plugins::layers {

MultiHeadAttentionImpl::MultiHeadAttentionImpl(int64_t dim, int64_t heads, double dropout)
    : dim_(dim), heads_(heads), dropout_(dropout) {
  TORCH_CHECK(dim % heads == 0, "attention width must be divisible by the number of heads");
  q_ = register_module("q", torch::nn::Linear(dim, dim));
  k_ = register_module("k", torch::nn::Linear(dim, dim));
  v_ = register_module("v", torch::nn::Linear(dim, dim));
  out_ = register_module("out", torch::nn::Linear(dim, dim));
}

torch::Tensor MultiHeadAttentionImpl::forward(const torch::Tensor& query, const torch::Tensor& keyValue,
                                              const torch::Tensor& keyPadding, torch::Tensor* weights) {
  const int64_t b = query.size(0), lq = query.size(1), lk = keyValue.size(1), hd = dim_ / heads_;
  auto split = [&](const torch::Tensor& t, int64_t l) { return t.reshape({b, l, heads_, hd}).transpose(1, 2); };
  torch::Tensor q, k, v;
  if (query.is_same(keyValue)) {
    // Self-attention: one GEMM for the three projections.
    auto qkv = torch::linear(query, torch::cat({q_->weight, k_->weight, v_->weight}),
                             torch::cat({q_->bias, k_->bias, v_->bias}))
                   .chunk(3, -1);
    q = split(qkv[0], lq);
    k = split(qkv[1], lk);
    v = split(qkv[2], lk);
  } else {
    q = split(q_(query), lq);
    k = split(k_(keyValue), lk);
    v = split(v_(keyValue), lk);
  }
  const double dropout = is_training() ? dropout_ : 0.0;
  torch::Tensor context;
  if (weights) {
    auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(hd));
    if (keyPadding.defined())
      scores = scores.masked_fill(keyPadding.view({b, 1, 1, lk}), -std::numeric_limits<float>::infinity());
    auto probs = torch::softmax(
        scores.scalar_type() == torch::kHalf || scores.scalar_type() == torch::kBFloat16 ? scores.to(torch::kFloat) : scores, -1);
    *weights = probs;
    context = torch::matmul(torch::dropout(probs, dropout, is_training()).to(v.scalar_type()), v);
  } else if (keyPadding.defined()) {
    context = cw::compat::scaledDotProductAttention(q, k, v, keyPadding.logical_not().view({b, 1, 1, lk}), dropout);
  } else {
    context = cw::compat::scaledDotProductAttention(q, k, v, std::nullopt, dropout);
  }
  return out_(context.transpose(1, 2).reshape({b, lq, dim_}));
}

FeedForwardImpl::FeedForwardImpl(int64_t dim, int64_t hidden, double dropout, bool fusedSteps)
    : dropout_(dropout), fusedSteps_(fusedSteps) {
  in_ = register_module("in", torch::nn::Linear(dim, hidden));
  out_ = register_module("out", torch::nn::Linear(hidden, dim));
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x) {
  auto h = in_(x);
  if (fusedSteps_ && fused::geluDropoutSupported(h)) return out_(fused::geluDropout(h, is_training() ? dropout_ : 0.0));
  return out_(torch::dropout(torch::gelu(h), dropout_, is_training()));
}

TransformerBlockImpl::TransformerBlockImpl(int64_t dim, int64_t heads, int64_t hidden, double dropout,
                                           bool fusedSteps)
    : dropout_(dropout), fusedSteps_(fusedSteps) {
  attention_ = register_module("attention", MultiHeadAttention(dim, heads, dropout));
  feedForward_ = register_module("feed_forward", FeedForward(dim, hidden, dropout, fusedSteps));
  norm1_ = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
  norm2_ = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& context,
                                            const torch::Tensor& contextPadding, torch::Tensor* weights) {
  return forwardResidual({x, {}}, context, contextPadding, weights).value;
}

Residual TransformerBlockImpl::forwardResidual(const Residual& x, const torch::Tensor& context,
                                               const torch::Tensor& contextPadding, torch::Tensor* weights) {
  const torch::Tensor& kv = context.defined() ? context : x.input();
  auto h = addAndNorm(x.value, attention_(x.input(), kv, contextPadding, weights), norm1_);
  return addAndNorm(h.value, feedForward_(h.input()), norm2_);
}

Residual TransformerBlockImpl::addAndNorm(const torch::Tensor& x, const torch::Tensor& sublayer,
                                          torch::nn::LayerNorm& norm) {
  const double p = is_training() ? dropout_ : 0.0;
  if (!fusedSteps_ || !fused::residualNormSupported(x, sublayer, norm->weight, norm->bias))
    return {norm(x + torch::dropout(sublayer, p, is_training())), {}};
  const auto autocast = compat::autocastState(x.device().type());
  const bool lowCopy = autocast.enabled && autocast.dtype == torch::kBFloat16 && x.scalar_type() == torch::kFloat;
  auto out = fused::residualNorm(x, sublayer, norm->weight, norm->bias, norm->options.eps(), p, lowCopy);
  return {out.value, out.low};
}

torch::Tensor maskedMean(const torch::Tensor& x, const torch::Tensor& padding) {
  if (!padding.defined()) return x.mean(1);
  auto keep = padding.logical_not().unsqueeze(-1).to(x.scalar_type());
  return (x * keep).sum(1) / keep.sum(1).clamp_min(1.0);
}

}  // namespace cw::plugins::layers
