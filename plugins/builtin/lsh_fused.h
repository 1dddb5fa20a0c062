#pragma once
// LSH attention with the sort-and-chunk steps fused into per-slot loops (CPU) or kernels
// (CUDA): the same result as lshAttention's torch formulation, without its gathered copies
// of q, k, v, its look-back concatenations and its score tensors. Rounds are combined by
// their log-sum-exp, which makes the whole a softmax over the union of a query's windows;
// backward recomputes the scores from q, k, v and the combined log-sum-exp.
#include <torch/torch.h>

#include "lsh_attention.h"

namespace cw::plugins::lsh {

// Whether the fused path takes this input: a head width the kernels are compiled for, at
// most 16 hash rounds, buckets of a multiple of 4, on the CPU, or on CUDA where this build
// has the kernels.
bool fusedAttentionSupported(const torch::Tensor& qk, int64_t rounds, int64_t bucketSize);

// Whether bf16 input on CUDA may take the tile kernels (lsh_tile_math.h: tensor-core tile
// products per chunk) where they are compiled for its shape (default true); off, the slot
// kernels run. Process-wide; the GPU check compares both.
void allowTileKernels(bool allowed);
bool tileKernelsAllowed();
// How many forward or backward passes the tile kernels have run in this process.
int64_t tileKernelCalls();

// lshAttention's semantics (bucketSize, dedupRounds, scoreBlockBytes of `options`), fused.
// qk, v [N, L, d]; keyPadding [N, L] bool or undefined; buckets from hashBuckets.
torch::Tensor fusedLshAttention(const torch::Tensor& qk, const torch::Tensor& v, const torch::Tensor& keyPadding,
                                const torch::Tensor& buckets, const LshOptions& options);

}  // namespace cw::plugins::lsh
