#include "cellwright/compute/score_blocks.h"

#include <atomic>
#include <cmath>
#include <limits>

namespace cw::compute {

namespace {
std::atomic<bool> blockingEnabled{true};
}

void setAttentionBlocking(bool enabled) { blockingEnabled = enabled; }
bool attentionBlocking() { return blockingEnabled; }

torch::Tensor blockedAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const std::optional<torch::Tensor>& attnMask, double dropout, bool isCausal,
                               int64_t blockBytes) {
  TORCH_CHECK(!torch::GradMode::is_enabled(), "blockedAttention keeps no graph: call it under torch::NoGradGuard");
  TORCH_CHECK(q.dim() >= 2 && q.dim() == k.dim() && k.dim() == v.dim(), "q, k and v need the same rank (>= 2)");
  const int64_t lq = q.size(-2), lk = k.size(-2);
  // Leading (batch, head) dims broadcast as matmul broadcasts them.
  auto sizes = at::infer_size(q.sizes().slice(0, q.dim() - 2), k.sizes().slice(0, k.dim() - 2));
  sizes = at::infer_size(sizes, v.sizes().slice(0, v.dim() - 2));
  int64_t leading = 1;
  for (const int64_t size : sizes) leading *= size;
  const int64_t rows = rowsPerScoreBlock(leading * lk, blockBytes);
  // Scaling q rather than the scores: the same products, on the smaller tensor.
  const auto scaled = q * (1.0 / std::sqrt(static_cast<double>(q.size(-1))));
  const auto keysT = k.transpose(-2, -1);
  const auto minusInf = -std::numeric_limits<double>::infinity();
  // One output written block by block: outputs kept per block would sit between the freed
  // score blocks and split their space, so that every block took fresh memory.
  sizes.push_back(lq);
  sizes.push_back(v.size(-1));
  auto out = torch::empty(sizes, v.options());
  for (int64_t r0 = 0; r0 < lq; r0 += rows) {
    const int64_t n = std::min(rows, lq - r0);
    auto scores = torch::matmul(scaled.narrow(-2, r0, n), keysT);
    if (isCausal) {
      auto queryIndex = torch::arange(r0, r0 + n, q.options().dtype(torch::kLong)).unsqueeze(1);
      scores.masked_fill_(torch::arange(lk, queryIndex.options()).unsqueeze(0) > queryIndex, minusInf);
    }
    if (attnMask) {
      const auto& mask = *attnMask;
      const auto rowsOfMask = mask.dim() >= 2 && mask.size(-2) == lq ? mask.narrow(-2, r0, n) : mask;
      if (mask.scalar_type() == torch::kBool)
        scores.masked_fill_(rowsOfMask.logical_not(), minusInf);
      else
        scores.add_(rowsOfMask);
    }
    auto weights = torch::softmax(scores, -1);
    scores.reset();  // the next block reuses its memory
    if (dropout > 0.0) weights = torch::dropout(weights, dropout, /*train=*/true);
    out.narrow(-2, r0, n).copy_(torch::matmul(weights, v));
  }
  return out;
}

}  // namespace cw::compute
