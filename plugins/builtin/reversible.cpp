// scReformer-BERT's encoder parts: the attention and feed-forward sub-layers and the
// reversible stack with its memory-saving custom autograd function.
#include <ATen/CPUGeneratorImpl.h>

#include <optional>

#include "cellwright/compute/compat.h"
#include "cellwright/core/errors.h"
#include "screformer.h"

namespace cw::plugins {

namespace {

// ---- RNG state, so the backward recomputation repeats the forward exactly (the autocast
// state is saved with it, through compat.h).
struct RngSnapshot {
  torch::Tensor cpu, device;
  torch::Device where{torch::kCPU};
};

RngSnapshot captureRng(const torch::Device& device) {
  RngSnapshot s;
  s.where = device;
  s.cpu = at::detail::getDefaultCPUGenerator().get_state();
  if (!device.is_cpu()) s.device = at::globalContext().defaultGenerator(device).get_state();
  return s;
}

void restoreRng(const RngSnapshot& s) {
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(s.cpu);
  }
  if (s.device.defined()) {
    auto gen = at::globalContext().defaultGenerator(s.where);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(s.device);
  }
}

// Saved tensors per layer: buckets, f's RNG snapshot (cpu, device), g's (cpu, device).
constexpr size_t kSavedPerLayer = 5;
constexpr size_t kSavedHeader = 3;  // y1, y2, padding

struct ReversibleFunction : public torch::autograd::Function<ReversibleFunction> {
  // `stackAddress`: the ReversibleStackImpl, which outlives the graph (it owns the weights).
  static torch::autograd::tensor_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x1,
                                              const torch::Tensor& x2, const torch::Tensor& padding,
                                              int64_t stackAddress) {
    auto* stack = reinterpret_cast<ReversibleStackImpl*>(stackAddress);
    const bool keepRng = stack->is_training();
    const torch::Tensor mask = padding.numel() > 0 ? padding : torch::Tensor();
    std::vector<torch::Tensor> saved(kSavedHeader + kSavedPerLayer * stack->size());
    torch::Tensor y1 = x1, y2 = x2;
    for (size_t i = 0; i < stack->size(); ++i) {
      const size_t base = kSavedHeader + kSavedPerLayer * i;
      if (keepRng) {
        auto s = captureRng(x1.device());
        saved[base + 1] = s.cpu;
        saved[base + 2] = s.device;
      }
      torch::Tensor buckets;
      y1 = y1 + stack->f(i)->forward(y2, mask, buckets);
      saved[base] = buckets;
      if (keepRng) {
        auto s = captureRng(x1.device());
        saved[base + 3] = s.cpu;
        saved[base + 4] = s.device;
      }
      y2 = y2 + stack->g(i)->forward(y1);
    }
    saved[0] = y1;
    saved[1] = y2;
    saved[2] = padding;
    ctx->save_for_backward(saved);
    ctx->saved_data["stack"] = stackAddress;
    ctx->saved_data["keep_rng"] = keepRng;
    const auto autocast = cw::compat::autocastState(x1.device().type());
    ctx->saved_data["autocast"] = autocast.enabled;
    ctx->saved_data["autocast_dtype"] = static_cast<int64_t>(autocast.dtype);
    return {y1, y2};
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    auto* stack = reinterpret_cast<ReversibleStackImpl*>(ctx->saved_data["stack"].toInt());
    const bool keepRng = ctx->saved_data["keep_rng"].toBool();
    auto saved = ctx->get_saved_variables();
    // The recomputation runs under the forward's autocast state, on or off, whatever the
    // caller of backward() has set.
    const bool autocastOn = ctx->saved_data["autocast"].toBool();
    const auto deviceType = saved[0].device().type();
    std::optional<cw::compat::AutocastGuard> autocast;
    std::optional<cw::compat::AutocastOff> autocastOff;
    if (autocastOn)
      autocast.emplace(deviceType, static_cast<torch::ScalarType>(ctx->saved_data["autocast_dtype"].toInt()), true);
    else
      autocastOff.emplace(deviceType);
    torch::Tensor y1 = saved[0].detach(), y2 = saved[1].detach();
    const torch::Tensor padding = saved[2].numel() > 0 ? saved[2] : torch::Tensor();
    torch::Tensor dy1 = grads[0].defined() ? grads[0] : torch::zeros_like(y1);
    torch::Tensor dy2 = grads[1].defined() ? grads[1] : torch::zeros_like(y2);
    const RngSnapshot current = keepRng ? captureRng(y1.device()) : RngSnapshot{};

    for (size_t i = stack->size(); i-- > 0;) {
      const size_t base = kSavedHeader + kSavedPerLayer * i;
      // g: y2 = x2 + g(y1)
      torch::Tensor leafY1 = y1.detach().requires_grad_(true);
      torch::Tensor gy1;
      {
        torch::AutoGradMode enable(true);
        if (keepRng) restoreRng({saved[base + 3], saved[base + 4], y1.device()});
        gy1 = stack->g(i)->forward(leafY1);
        torch::autograd::backward({gy1}, {dy2.to(gy1.scalar_type())});  // bf16 under autocast
      }
      torch::Tensor x2, dx1;
      {
        torch::NoGradGuard noGrad;
        x2 = y2 - gy1.detach();
        dx1 = dy1 + leafY1.grad();
      }
      // f: y1 = x1 + f(x2), with the forward's buckets.
      torch::Tensor leafX2 = x2.detach().requires_grad_(true);
      torch::Tensor fx2;
      {
        torch::AutoGradMode enable(true);
        if (keepRng) restoreRng({saved[base + 1], saved[base + 2], y1.device()});
        torch::Tensor buckets = saved[base];
        fx2 = stack->f(i)->forward(leafX2, padding, buckets);
        torch::autograd::backward({fx2}, {dx1.to(fx2.scalar_type())});
      }
      {
        torch::NoGradGuard noGrad;
        torch::Tensor x1 = y1 - fx2.detach();
        torch::Tensor dx2 = dy2 + leafX2.grad();
        y1 = x1;
        y2 = x2;
        dy1 = dx1;
        dy2 = dx2;
      }
    }
    if (keepRng) restoreRng(current);
    return {dy1, dy2, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

// ---- f: attention sub-layer.
ReformerAttentionImpl::ReformerAttentionImpl(const ScReformerConfig& config, int64_t layerIndex)
    : c_(config), layerIndex_(layerIndex),
      trainingHashes_(at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(config.hash_seed) * 1000003ULL +
                                                               static_cast<uint64_t>(layerIndex) + 7919ULL)) {
  const int64_t inner = c_.heads * c_.dim_head;
  norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c_.dim})));
  auto noBias = [&](const char* name) {
    return register_module(name, torch::nn::Linear(torch::nn::LinearOptions(c_.dim, inner).bias(false)));
  };
  if (c_.encoder == "lsh") {
    qk_ = noBias("qk");
  } else {
    q_ = noBias("q");
    k_ = noBias("k");
  }
  v_ = noBias("v");
  out_ = register_module("out", torch::nn::Linear(inner, c_.dim));
}

// Inference hashes with a fixed seed per layer (deterministic predictions); training draws
// fresh rotations each step from the layer's own generator (seeded, so runs repeat).
torch::Tensor ReformerAttentionImpl::rotations(const torch::Device& device, torch::ScalarType dtype, int64_t nBuckets) {
  if (is_training()) {
    // (at::randn takes the generator's own lock.)
    return lsh::randomRotations(c_.dim_head, c_.n_hashes, nBuckets, trainingHashes_, device, dtype);
  }
  auto fixed = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(c_.hash_seed) + 1000ULL *
                                                        static_cast<uint64_t>(layerIndex_));
  return lsh::randomRotations(c_.dim_head, c_.n_hashes, nBuckets, fixed, device, dtype);
}

torch::Tensor ReformerAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& padding,
                                             torch::Tensor& buckets, torch::Tensor* received) {
  const int64_t b = x.size(0), l = x.size(1), h = c_.heads, dh = c_.dim_head;
  auto xn = norm_(x);
  auto heads = [&](const torch::Tensor& t) { return t.view({b, l, h, dh}).transpose(1, 2); };  // [B, h, L, dh]
  auto v = heads(v_(xn));
  torch::Tensor context;
  if (c_.encoder == "lsh") {
    auto qk = heads(qk_(xn)).reshape({b * h, l, dh});
    auto vv = v.reshape({b * h, l, dh});
    auto pad = padding.defined() ? padding.unsqueeze(1).expand({b, h, l}).reshape({b * h, l}) : torch::Tensor();
    if (!buckets.defined()) {
      torch::NoGradGuard noGrad;
      // Rotations and hashing in fp32 (hashBuckets turns autocast off): bf16 rounding would
      // move tokens near a bucket boundary to other buckets than an fp32 run picks.
      auto hash = [&] { return lsh::hashBuckets(qk, rotations(x.device(), torch::kFloat, l / c_.bucket_size)); };
      auto* tape = lsh::BucketTape::active();
      buckets = tape ? tape->next(hash) : hash();
    }
    torch::Tensor mass;
    lsh::LshOptions options{c_.bucket_size, c_.n_hashes, c_.dedup_rounds};
    options.recomputeScores = c_.recompute_scores;
    options.fusedKernels = c_.fused_kernels;
    context = lsh::lshAttention(qk, vv, pad, buckets, options, received ? &mass : nullptr).view({b, h, l, dh});
    if (received) *received = mass.view({b, h, l}).mean(1);
  } else {
    auto q = heads(q_(xn)), k = heads(k_(xn));
    if (received) {
      auto scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(dh));
      if (padding.defined()) scores = scores.masked_fill(padding.view({b, 1, 1, l}), -1e9);
      auto probs = torch::softmax(scores.to(torch::kFloat), -1);
      if (padding.defined()) probs = probs * padding.logical_not().view({b, 1, l, 1}).to(probs.scalar_type());
      *received = probs.sum(2).mean(1).detach();
      context = torch::matmul(probs.to(v.scalar_type()), v);
    } else if (padding.defined()) {
      context = cw::compat::scaledDotProductAttention(q, k, v, padding.logical_not().view({b, 1, 1, l}));
    } else {
      context = cw::compat::scaledDotProductAttention(q, k, v);
    }
  }
  auto out = out_(context.transpose(1, 2).reshape({b, l, h * dh}));
  return torch::dropout(out, c_.dropout, is_training());
}

// ---- g: chunked feed-forward sub-layer.
ChunkedFeedForwardImpl::ChunkedFeedForwardImpl(const ScReformerConfig& config) : c_(config) {
  norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c_.dim})));
  in_ = register_module("in", torch::nn::Linear(c_.dim, c_.dim * c_.ff_mult));
  out_ = register_module("out", torch::nn::Linear(c_.dim * c_.ff_mult, c_.dim));
}

torch::Tensor ChunkedFeedForwardImpl::forward(const torch::Tensor& x) {
  auto xn = norm_(x);
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(c_.ff_chunks, x.size(1)));
  std::vector<torch::Tensor> parts;
  for (const auto& part : xn.chunk(chunks, 1))
    parts.push_back(out_(torch::dropout(torch::gelu(in_(part)), c_.dropout, is_training())));
  return torch::dropout(torch::cat(parts, 1), c_.dropout, is_training());
}

// ---- The stack.
ReversibleStackImpl::ReversibleStackImpl(const ScReformerConfig& config) {
  for (int64_t i = 0; i < config.layers; ++i) {
    f_.push_back(register_module("attention" + std::to_string(i), ReformerAttention(config, i)));
    g_.push_back(register_module("feed_forward" + std::to_string(i), ChunkedFeedForward(config)));
  }
}

torch::Tensor ReversibleStackImpl::forward(const torch::Tensor& x, const torch::Tensor& padding, bool reversible,
                                           torch::Tensor* lastReceived) {
  // No padding: undefined mask (fused kernels); the autograd function carries it as an
  // empty tensor.
  const torch::Tensor pad = padding;
  if (reversible && !lastReceived && torch::GradMode::is_enabled()) {
    const torch::Tensor carried = pad.defined() ? pad : torch::empty({0}, x.options().dtype(torch::kBool));
    // With frozen embeddings the input needs no gradient, but the layers' weights do: a
    // graph node is only recorded when an input requires grad.
    const torch::Tensor input = x.requires_grad() ? x : x.detach().requires_grad_(true);
    auto outs = ReversibleFunction::apply(input, input, carried, reinterpret_cast<int64_t>(this));
    return (outs[0] + outs[1]) * 0.5;
  }
  torch::Tensor y1 = x, y2 = x;
  for (size_t i = 0; i < f_.size(); ++i) {
    torch::Tensor buckets;
    y1 = y1 + f_[i]->forward(y2, pad, buckets, i + 1 == f_.size() ? lastReceived : nullptr);
    y2 = y2 + g_[i]->forward(y1);
  }
  return (y1 + y2) * 0.5;
}

}  // namespace cw::plugins
