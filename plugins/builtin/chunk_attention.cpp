#include "chunk_attention.h"

#include <algorithm>
#include <cmath>

#include "cellwright/compute/compat.h"

namespace cw::plugins::lsh {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

torch::ScalarType softmaxType(torch::ScalarType t) { return t == torch::kDouble ? torch::kDouble : torch::kFloat; }

int64_t rowsPerBlock(const torch::Tensor& q, const torch::Tensor& k, int64_t blockBytes) {
  return rowsPerScoreBlock(q.size(1) * q.size(2) * k.size(2), blockBytes);
}

struct Constants {
  double scale, paddingScore, selfScore;
  int64_t chunksPerRound;
};

// For every pair of the block [n, C, bs, 2·bs]: log of the number of rounds in which the
// key lies in the query's chunk or the one before it (counted as at least 1). One-byte
// counts and flags keep the passes over the block cheap.
torch::Tensor logRoundsMet(const torch::Tensor& queryChunks, const torch::Tensor& keyChunks, int64_t chunksPerRound,
                           torch::ScalarType type) {
  const auto sizes = std::vector<int64_t>{queryChunks.size(0), queryChunks.size(1), queryChunks.size(2),
                                          keyChunks.size(2)};
  auto count = torch::zeros(sizes, queryChunks.options().dtype(torch::kByte));
  for (int64_t r = 0; r < queryChunks.size(3); ++r) {
    auto own = queryChunks.select(3, r).unsqueeze(3);
    auto before = (own + (chunksPerRound - 1)).remainder_(chunksPerRound);  // the round's first looks to its last
    auto key = keyChunks.select(3, r).unsqueeze(2);
    count.add_(key.eq(own).logical_or_(key.eq(before)));
  }
  return count.clamp_min_(1).to(type).log_();
}

// The masked, scaled scores of one block of rows, in softmax precision.
torch::Tensor blockScores(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& keyPadding,
                          const torch::Tensor& queryChunks, const torch::Tensor& keyChunks, const Constants& c) {
  // The scale on q, half the size of the scores (and exact in bf16 for a power-of-4 width).
  auto scores = torch::matmul(q / c.scale, k.transpose(-1, -2));
  scores = scores.scalar_type() == softmaxType(scores.scalar_type()) ? scores : scores.to(softmaxType(q.scalar_type()));
  if (keyPadding.defined()) scores.masked_fill_(keyPadding.unsqueeze(2), c.paddingScore);
  if (queryChunks.defined()) scores.sub_(logRoundsMet(queryChunks, keyChunks, c.chunksPerRound, scores.scalar_type()));
  // Slot i of the own chunk is query i itself: each position occurs once per round and a
  // chunk never straddles rounds.
  scores.diagonal(0, -2, -1).fill_(c.selfScore);
  return scores;
}

struct ChunkAttentionFunction : public torch::autograd::Function<ChunkAttentionFunction> {
  // Optional tensors travel as empty ones.
  static tensor_list forward(AutogradContext* ctx, const torch::Tensor& q, const torch::Tensor& k,
                             const torch::Tensor& v, const torch::Tensor& keyPadding, const torch::Tensor& queryChunks,
                             const torch::Tensor& keyChunks, double paddingScore, double selfScore,
                             int64_t blockBytes, int64_t chunksPerRound) {
    cw::compat::AutocastOff exactTypes(q.device().type());  // the caller chose the dtypes
    const Constants c{std::sqrt(static_cast<double>(q.size(-1))), paddingScore, selfScore, chunksPerRound};
    const bool padded = keyPadding.numel() > 0, dedup = queryChunks.numel() > 0;
    const int64_t n = q.size(0), rows = rowsPerBlock(q, k, blockBytes);
    auto out = torch::empty({n, q.size(1), q.size(2), v.size(3)}, v.options());
    auto lse = torch::empty({n, q.size(1), q.size(2), 1}, q.options().dtype(softmaxType(q.scalar_type())));
    for (int64_t start = 0; start < n; start += rows) {
      const int64_t count = std::min(rows, n - start);
      auto block = [&](const torch::Tensor& t) { return t.narrow(0, start, count); };
      auto probs = blockScores(block(q), block(k), padded ? block(keyPadding) : torch::Tensor(),
                               dedup ? block(queryChunks) : torch::Tensor(), dedup ? block(keyChunks) : torch::Tensor(), c);
      auto blockLse = block(lse);
      torch::logsumexp_out(blockLse, probs, {-1}, true);
      probs.sub_(blockLse).exp_();
      auto blockOut = block(out);
      torch::matmul_out(blockOut, probs.to(v.scalar_type()), block(v));
    }
    ctx->save_for_backward({q, k, v, keyPadding, queryChunks, keyChunks, out, lse});
    ctx->saved_data["padding_score"] = paddingScore;
    ctx->saved_data["self_score"] = selfScore;
    ctx->saved_data["block_bytes"] = blockBytes;
    ctx->saved_data["chunks_per_round"] = chunksPerRound;
    return {out, lse};
  }

  // With P = softmax(S) and lse = logsumexp(S): dS = P ∘ (dP − rowsum(dOut ∘ out) + dLse),
  // dP = dOut·vᵀ; the constant (padding and self) scores get none (see below).
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto &q = saved[0], &k = saved[1], &v = saved[2], &keyPadding = saved[3];
    const auto &queryChunks = saved[4], &keyChunks = saved[5], &out = saved[6], &lse = saved[7];
    cw::compat::AutocastOff exactTypes(q.device().type());
    const Constants c{std::sqrt(static_cast<double>(q.size(-1))), ctx->saved_data["padding_score"].toDouble(),
                      ctx->saved_data["self_score"].toDouble(), ctx->saved_data["chunks_per_round"].toInt()};
    const bool padded = keyPadding.numel() > 0, dedup = queryChunks.numel() > 0;
    const int64_t n = q.size(0), rows = rowsPerBlock(q, k, ctx->saved_data["block_bytes"].toInt());
    const auto softmax = lse.scalar_type();
    const torch::Tensor dOut = grads[0].defined() ? grads[0].to(v.scalar_type()) : torch::zeros_like(out);
    const torch::Tensor& dLse = grads[1];
    auto dq = torch::empty_like(q), dk = torch::empty_like(k), dv = torch::empty_like(v);
    for (int64_t start = 0; start < n; start += rows) {
      const int64_t count = std::min(rows, n - start);
      auto block = [&](const torch::Tensor& t) { return t.narrow(0, start, count); };
      const auto blockPadding = padded ? block(keyPadding) : torch::Tensor();
      auto probs = blockScores(block(q), block(k), blockPadding, dedup ? block(queryChunks) : torch::Tensor(),
                               dedup ? block(keyChunks) : torch::Tensor(), c)
                       .sub_(block(lse))
                       .exp_();
      auto blockDOut = block(dOut);
      auto blockDv = block(dv), blockDq = block(dq), blockDk = block(dk);
      torch::matmul_out(blockDv, probs.to(v.scalar_type()).transpose(-1, -2), blockDOut);
      auto shift = (blockDOut.to(softmax) * block(out).to(softmax)).sum(-1, true);
      if (dLse.defined()) shift = shift - block(dLse).to(softmax);
      auto dScores = torch::matmul(blockDOut, block(v).transpose(-1, -2)).to(softmax);
      // The constant scores need no masking here. A padding key's probability is exactly 0
      // (exp(−1e9 − lse), lse ≥ the self score). The own slot weighs only for a query alone
      // with padding in a round: then dP − rowsum(dOut ∘ out) = 0 there, and that round's
      // lse (≈ the self score) either gives it no weight against the query's other rounds or
      // every round is alone and alike, so dLse = 0 too.
      dScores.sub_(shift).mul_(probs);
      const auto dScoresInput = dScores.to(q.scalar_type());
      torch::matmul_out(blockDq, dScoresInput, block(k)).div_(c.scale);  // scores were (q/scale)·kᵀ
      torch::matmul_out(blockDk, dScoresInput.transpose(-1, -2), block(q)).div_(c.scale);
    }
    return {dq, dk, dv, {}, {}, {}, {}, {}, {}, {}};
  }
};

}  // namespace

ChunkAttentionResult chunkAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                    const torch::Tensor& keyPadding, const ChunkAttentionOptions& options) {
  auto orEmpty = [&](const torch::Tensor& t, torch::ScalarType type) {
    return t.defined() ? t : torch::empty({0}, q.options().dtype(type));
  };
  auto outs = ChunkAttentionFunction::apply(q, k, v, orEmpty(keyPadding, torch::kBool),
                                            orEmpty(options.queryChunks, torch::kShort),
                                            orEmpty(options.keyChunks, torch::kShort), options.paddingScore,
                                            options.selfScore, options.blockBytes, options.chunksPerRound);
  return {outs[0], outs[1]};
}

}  // namespace cw::plugins::lsh
