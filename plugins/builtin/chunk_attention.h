#pragma once
// The chunk step of LSH attention with its scores recomputed in backward (the flash
// attention recipe): autograd keeps q, k, v, the output and the log-sum-exp, never the
// [N, C, bs, 2·bs] scores or probabilities, and both passes walk the rows of N in blocks
// of bounded size. At 16,907 genes and batch 32 those two tensors are ~11 GB each per layer.
#include <torch/torch.h>

#include "cellwright/compute/score_blocks.h"

namespace cw::plugins::lsh {

using compute::kScoreBlockBytes;
using compute::rowsPerScoreBlock;

struct ChunkAttentionResult {
  torch::Tensor out;  // [N, C, bs, dv], v's dtype
  torch::Tensor lse;  // [N, C, bs, 1], log-sum-exp of each query's scores, fp32 (fp64 for fp64 input)
};

struct ChunkAttentionOptions {
  double paddingScore = -1e9;  // score of a key flagged as padding
  double selfScore = -5e4;     // score of a query's own slot
  int64_t blockBytes = kScoreBlockBytes;  // largest fp32 score block evaluated at once
  // Duplicate rounds counted once: with the chunk (within its round) of every query slot's
  // and key slot's position in every round, queryChunks [N, C, bs, rounds] and keyChunks
  // [N, C, 2·bs, rounds] (int16, or int32 past 32,767 chunks), a pair's score gets −log(number of rounds in which the key
  // lies in the query's chunk or the one before it). Undefined: off.
  torch::Tensor queryChunks, keyChunks;
  int64_t chunksPerRound = 0;
};

// Queries q [N, C, bs, d] against keys k [N, C, 2·bs, d] (its own chunk, then the one looked
// back to) with values v [N, C, 2·bs, dv]; q and k of one dtype, the GEMMs run in q's and
// v's (scores and softmax in at least fp32). Scores are q·kᵀ/√d; keys flagged in keyPadding
// [N, C, 2·bs] (bool, or undefined) and query i's own slot (key i of its own chunk) get
// constant scores, without gradient.
ChunkAttentionResult chunkAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                    const torch::Tensor& keyPadding, const ChunkAttentionOptions& options);

}  // namespace cw::plugins::lsh
