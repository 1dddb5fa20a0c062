#pragma once
// Attention in blocks of bounded score memory: LibTorch 1.13 has no fused attention, and its
// plain formulation builds the whole [..., Lq, Lk] score tensor, 2.1 GB per CellPatch
// inference batch and far more than a laptop has for full attention over 16,907 genes.
#include <torch/torch.h>

#include <algorithm>
#include <optional>

namespace cw::compute {

// Default bound on the fp32 score block evaluated at once.
inline constexpr int64_t kScoreBlockBytes = int64_t{512} << 20;

// Rows per block so that one block's fp32 scores, `scoresPerRow` each, stay within
// `blockBytes` (at least one row).
inline int64_t rowsPerScoreBlock(int64_t scoresPerRow, int64_t blockBytes) {
  return std::max<int64_t>(1, blockBytes / std::max<int64_t>(1, scoresPerRow * static_cast<int64_t>(sizeof(float))));
}

// softmax(q·kᵀ/√d + mask)·v over the last two dims, as compat::scaledDotProductAttention
// defines it, evaluated over blocks of query rows so that at most `blockBytes` of scores
// exist at once. No autograd graph: for inference and other no-grad forwards. A query whose
// keys are all masked gets NaN, as in the plain formulation.
torch::Tensor blockedAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const std::optional<torch::Tensor>& attnMask = std::nullopt,
                               double dropout = 0.0, bool isCausal = false,
                               int64_t blockBytes = kScoreBlockBytes);

// Whether compat::scaledDotProductAttention's no-grad fallback uses blockedAttention (default
// true). Process-wide; benchmarks turn it off to time the plain formulation beside it.
void setAttentionBlocking(bool enabled);
bool attentionBlocking();

}  // namespace cw::compute
