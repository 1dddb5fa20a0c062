#pragma once
// scReformer-BERT configuration and the reversible encoder (exposed for tests).
#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "lsh_attention.h"

namespace cw::plugins {

struct ScReformerConfig {
  int64_t dim = 200;
  int64_t layers = 6;
  int64_t heads = 10;
  int64_t dim_head = 64;
  int64_t ff_mult = 4;
  int64_t ff_chunks = 10;
  std::string encoder = "lsh";  // "lsh" or "full"
  int64_t bucket_size = 64;
  int64_t n_hashes = 4;
  bool dedup_rounds = true;     // count a key met in several hash rounds once
  bool recompute_scores = true; // LSH chunk scores recomputed in backward, not stored
  bool fused_kernels = true;    // LSH attention in fused per-slot loops / CUDA kernels (lsh_fused.h)
  int64_t hash_seed = 2022;
  bool reversible = true;
  double dropout = 0.0;
  int64_t n_bins = 7;           // bins 0..5 from the clipped log value, 6 = MASK/PAD
  double clip_value = 5.0;
  bool log2 = false;
  int64_t head_hidden1 = 512;
  int64_t head_hidden2 = 128;
  double head_dropout = 0.1;
  double mask_fraction = 0.15;
  double mask_replace_fraction = 0.9;
  int64_t n_hvg = 0;            // 0 = every gene (paper); N = only N highly variable genes (paper's HVG ablation)

  template <class Visit>
  void visitFields(Visit&& v) {
    v("dim", dim);
    v("layers", layers);
    v("heads", heads);
    v("dim_head", dim_head);
    v("ff_mult", ff_mult);
    v("ff_chunks", ff_chunks);
    v("encoder", encoder);
    v("bucket_size", bucket_size);
    v("n_hashes", n_hashes);
    v("dedup_rounds", dedup_rounds);
    v("recompute_scores", recompute_scores);
    v("fused_kernels", fused_kernels);
    v("hash_seed", hash_seed);
    v("reversible", reversible);
    v("dropout", dropout);
    v("n_bins", n_bins);
    v("clip_value", clip_value);
    v("log2", log2);
    v("head_hidden1", head_hidden1);
    v("head_hidden2", head_hidden2);
    v("head_dropout", head_dropout);
    v("mask_fraction", mask_fraction);
    v("mask_replace_fraction", mask_replace_fraction);
    v("n_hvg", n_hvg);
  }
};

// Self-attention sub-layer f: pre-norm, then LSH (shared QK) or full attention.
class ReformerAttentionImpl : public torch::nn::Module {
 public:
  ReformerAttentionImpl(const ScReformerConfig& config, int64_t layerIndex);
  // x [B, L, dim]; padding [B, L]. `buckets`: reused when defined, else computed and
  // returned through it (LSH only). `received`: attention mass per key [B, L] (mean over heads).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& padding, torch::Tensor& buckets,
                        torch::Tensor* received = nullptr);

 private:
  torch::Tensor rotations(const torch::Device& device, torch::ScalarType dtype, int64_t nBuckets);
  ScReformerConfig c_;
  int64_t layerIndex_;
  at::Generator trainingHashes_;
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear qk_{nullptr}, q_{nullptr}, k_{nullptr}, v_{nullptr}, out_{nullptr};
};
TORCH_MODULE(ReformerAttention);

// Feed-forward sub-layer g: pre-norm, then the FF evaluated in `ff_chunks` sequence chunks.
class ChunkedFeedForwardImpl : public torch::nn::Module {
 public:
  explicit ChunkedFeedForwardImpl(const ScReformerConfig& config);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  ScReformerConfig c_;
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear in_{nullptr}, out_{nullptr};
};
TORCH_MODULE(ChunkedFeedForward);

// y1 = x1 + f(x2), y2 = x2 + g(y1) per layer. With `reversible`, a custom autograd function
// keeps only the stack's output and recomputes each layer's activations in backward (same
// RNG state, same bucket assignments); otherwise ordinary autograd stores everything.
class ReversibleStackImpl : public torch::nn::Module {
 public:
  explicit ReversibleStackImpl(const ScReformerConfig& config);
  // x [B, L, dim] -> mean of the two streams [B, L, dim]. `lastReceived`: attention mass of
  // the last layer per key (ordinary path only).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& padding, bool reversible,
                        torch::Tensor* lastReceived = nullptr);
  size_t size() const { return f_.size(); }
  ReformerAttention& f(size_t i) { return f_[i]; }
  ChunkedFeedForward& g(size_t i) { return g_[i]; }

 private:
  std::vector<ReformerAttention> f_;
  std::vector<ChunkedFeedForward> g_;
};
TORCH_MODULE(ReversibleStack);

}  // namespace cw::plugins
