#pragma once
// BioFormer configuration and the two loss pieces tests check directly.
#include <cstdint>

#include <torch/torch.h>

namespace cw::plugins {

struct BioFormerConfig {
  int64_t dim = 512;
  int64_t layers = 12;
  int64_t heads = 8;
  int64_t ff_hidden = 2048;
  double dropout = 0.1;
  int64_t n_bins = 51;           // value bins 0..50 (0 = not expressed); MASK = n_bins, PAD = n_bins + 1
  int64_t n_hvg = 1000;
  double weight_mlm = 1.0;
  double weight_continuous = 0.1;
  double weight_adversarial = 0.1;
  double weight_ecs = 0.1;
  double grl_lambda = 1.0;
  double ecs_margin = 1.0;
  int64_t classifier_hidden = 512;
  double mask_fraction = 0.15;
  bool fused_kernels = true;     // dropout + residual + LayerNorm and GELU + dropout in one pass each (fused_block.h)

  template <class Visit>
  void visitFields(Visit&& v) {
    v("dim", dim);
    v("layers", layers);
    v("heads", heads);
    v("ff_hidden", ff_hidden);
    v("dropout", dropout);
    v("n_bins", n_bins);
    v("n_hvg", n_hvg);
    v("weight_mlm", weight_mlm);
    v("weight_continuous", weight_continuous);
    v("weight_adversarial", weight_adversarial);
    v("weight_ecs", weight_ecs);
    v("grl_lambda", grl_lambda);
    v("ecs_margin", ecs_margin);
    v("classifier_hidden", classifier_hidden);
    v("mask_fraction", mask_fraction);
    v("fused_kernels", fused_kernels);
  }
};

// Gradient reversal (Ganin & Lempitsky): identity forward, -lambda * grad backward.
torch::Tensor gradientReversal(const torch::Tensor& x, double lambda);

// ECS loss on embeddings h [N, D] with labels [N] (-1 = unknown, left out):
// 1/N² Σ_ij [same type]·d_ij² + [different type]·max(0, margin − d_ij)², d = Euclidean.
// Zero (with a graph) when fewer than two labelled cells.
torch::Tensor ecsLoss(const torch::Tensor& embeddings, const torch::Tensor& labels, double margin);

}  // namespace cw::plugins
