#pragma once
// LSH attention (Kitaev, Kaiser & Levskaya 2020, "Reformer"), as scReformer-BERT uses it:
// shared query/key, L2-normalised keys, per hash round a random rotation R and bucket =
// argmax([xR, −xR]); tokens sorted by (bucket, position) and cut into chunks of
// `bucketSize` that attend to themselves and the previous chunk; a token never attends to
// itself (score −5e4) unless it has nothing else; rounds combined by their log-sum-exp.
#include <torch/torch.h>

#include <functional>
#include <vector>

#include "chunk_attention.h"

namespace cw::plugins::lsh {

inline constexpr double kSelfAttentionScore = -5e4;
// Padding keys get a score far below the self-mask, so a token alone with padding still
// attends to itself.
inline constexpr double kPaddingKeyScore = -1e9;

struct LshOptions {
  int64_t bucketSize = 64;
  int64_t nHashes = 4;
  // Count a key seen by a query in several rounds once (Reformer paper; reformer_pytorch's
  // allow_duplicate_attention=False): scores get −log(number of rounds the pair meets), so
  // the combination is a softmax over the union of the rounds' keys. Costs one comparison
  // pass per round over the score tensor.
  bool dedupRounds = false;
  // Evaluate the chunks' attention block by block and recompute the scores in backward
  // (as flash attention does), saving q, k, v and the log-sum-exp instead of the
  // [N, rounds·L/bucket, bucket, 2·bucket] scores and probabilities. Off: the plain autograd
  // formulation, kept as the reference (and used for dedupRounds and attention scores).
  bool recomputeScores = true;
  // Largest fp32 score block evaluated at once, in bytes; without autograd the whole
  // attention (sort, gathers, scores) runs in slices of batch×heads rows of this size.
  int64_t scoreBlockBytes = kScoreBlockBytes;
  // The fused per-slot loops and CUDA kernels of lsh_fused.h instead of the torch
  // formulation (where they take the input: fusedAttentionSupported), which then serves
  // only the attention-mass output and checks.
  bool fusedKernels = false;
};

// Random rotations [dim, nHashes, nBuckets / 2] from `generator` (a CPU generator; the
// tensor is then moved to `device`).
torch::Tensor randomRotations(int64_t dim, int64_t nHashes, int64_t nBuckets, at::Generator generator,
                              const torch::Device& device, torch::ScalarType dtype);

// Bucket of every token in every round, offset by round: [N, nHashes * L] int64 with
// values in [0, nHashes * nBuckets). Computed in fp32 with autocast off.
torch::Tensor hashBuckets(const torch::Tensor& qk, const torch::Tensor& rotations);

// qk, v: [N, L, d] (N = batch × heads); L a multiple of 2 × bucketSize. keyPadding [N, L]
// bool (true = padding) or undefined. `buckets` from hashBuckets. When `received` is given
// it gets, per key position, the attention mass all real queries put on it [N, L].
torch::Tensor lshAttention(const torch::Tensor& qk, const torch::Tensor& v, const torch::Tensor& keyPadding,
                           const torch::Tensor& buckets, const LshOptions& options,
                           torch::Tensor* received = nullptr);

// The bucket assignments of every LSH attention call on this thread, recorded in call
// order, or replayed from such a recording. A bf16 run checked against an fp32 run must
// make the same discrete choices: a token that changes bucket changes its attention
// partners, which no tolerance absorbs. For checks and tests; training never sets one.
class BucketTape {
 public:
  BucketTape();                                         // records
  explicit BucketTape(std::vector<torch::Tensor> tape);  // replays `tape`
  ~BucketTape();
  BucketTape(const BucketTape&) = delete;
  BucketTape& operator=(const BucketTape&) = delete;

  // The buckets of the next call: when replaying, the next recorded ones (cw::Error when the
  // tape has run out or their shape differs from what `hash` gives); else hash(), recorded.
  torch::Tensor next(const std::function<torch::Tensor()>& hash);
  const std::vector<torch::Tensor>& tape() const { return tape_; }
  // When replaying: of the (token, round) assignments replayed so far, how many this run's
  // own hashing would have put in another bucket.
  int64_t replayedAssignments() const { return replayed_; }
  int64_t differingAssignments() const { return differing_; }
  // The innermost tape alive on this thread, or nullptr.
  static BucketTape* active();

 private:
  std::vector<torch::Tensor> tape_;
  bool replaying_ = false;
  size_t cursor_ = 0;
  int64_t replayed_ = 0, differing_ = 0;
  BucketTape* outer_ = nullptr;
};

// Exact reference with the same semantics (shared QK, normalised keys, self-mask) over the
// whole sequence.
torch::Tensor fullSharedQkAttention(const torch::Tensor& qk, const torch::Tensor& v, const torch::Tensor& keyPadding);

}  // namespace cw::plugins::lsh
