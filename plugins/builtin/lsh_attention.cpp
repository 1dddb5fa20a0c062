#include "lsh_attention.h"

#include "cellwright/compute/compat.h"
#include "cellwright/core/errors.h"
#include "lsh_fused.h"

namespace cw::plugins::lsh {

namespace {
// Scores and softmax in at least single precision (autocast may hand us bf16/fp16).
torch::Tensor atLeastFloat(const torch::Tensor& t) {
  return t.scalar_type() == torch::kHalf || t.scalar_type() == torch::kBFloat16 ? t.to(torch::kFloat) : t;
}
// For slot positions `pos` [N, C, k]: the chunk (within its round) each position falls in,
// in every hash round: [N, C, k, nHashes].
torch::Tensor chunksOfPositions(const torch::Tensor& undoSort, const torch::Tensor& pos, int64_t n, int64_t nHashes,
                                int64_t l, int64_t bs) {
  const int64_t chunksPerRound = l / bs;
  auto roundOffsets = (torch::arange(nHashes, undoSort.options()) * chunksPerRound).view({1, nHashes, 1});
  auto chunkOf = (undoSort.view({n, nHashes, l}).div(bs, "floor") - roundOffsets).transpose(1, 2).contiguous();
  return chunkOf.gather(1, pos.reshape({n, -1, 1}).expand({n, pos.size(1) * pos.size(2), nHashes}))
      .view({n, pos.size(1), pos.size(2), nHashes});
}

// For every (query slot, key slot) pair of the chunked scores [N, C, bs, 2bs]: in how many
// hash rounds the key falls in the query's chunk or the one before it (at least 1).
torch::Tensor roundsMet(const torch::Tensor& undoSort, const torch::Tensor& bPos, const torch::Tensor& bkPos,
                        int64_t n, int64_t nHashes, int64_t l, int64_t bs, torch::ScalarType type) {
  const int64_t chunksPerRound = l / bs;
  auto q = chunksOfPositions(undoSort, bPos, n, nHashes, l, bs), k = chunksOfPositions(undoSort, bkPos, n, nHashes, l, bs);
  auto count = torch::zeros({n, bPos.size(1), bs, 2 * bs}, torch::TensorOptions().dtype(type).device(q.device()));
  for (int64_t r = 0; r < nHashes; ++r) {
    auto qc = q.select(-1, r).unsqueeze(-1), kc = k.select(-1, r).unsqueeze(2);
    auto previous = (qc - 1 + chunksPerRound).remainder(chunksPerRound);
    count += kc.eq(qc).logical_or(kc.eq(previous)).to(type);
  }
  return count.clamp_min(1.0);
}

}  // namespace

torch::Tensor randomRotations(int64_t dim, int64_t nHashes, int64_t nBuckets, at::Generator generator,
                              const torch::Device& device, torch::ScalarType dtype) {
  auto rotations = at::randn({dim, nHashes, nBuckets / 2}, generator, torch::TensorOptions().dtype(torch::kFloat));
  return rotations.to(device, dtype);
}

torch::Tensor hashBuckets(const torch::Tensor& qk, const torch::Tensor& rotations) {
  const int64_t n = qk.size(0), l = qk.size(1), nHashes = rotations.size(1), half = rotations.size(2);
  // In fp32 with autocast off: under bf16 the argmax flips for tokens near a boundary. One
  // round at a time, and argmax([xR, −xR]) from max and min of xR: the fp32 product of all
  // rounds and its negated copy would take 4× the memory of bf16 (GiBs at 16,907 genes).
  cw::compat::AutocastOff fullPrecision(qk.device().type());
  const auto x = qk.detach().to(torch::kFloat);
  const auto r = rotations.to(torch::kFloat);
  std::vector<torch::Tensor> rounds;
  rounds.reserve(static_cast<size_t>(nHashes));
  for (int64_t h = 0; h < nHashes; ++h) {
    auto rotated = torch::matmul(x, r.select(1, h));  // [N, L, R]
    auto [maxValue, maxIndex] = rotated.max(-1);
    auto [minValue, minIndex] = rotated.min(-1);
    // Ties go to xR, as argmax over the concatenation takes the first maximum.
    auto bucket = torch::where(maxValue.ge(minValue.neg()), maxIndex, minIndex + half);
    rounds.push_back(bucket + h * 2 * half);
  }
  return torch::stack(rounds, 1).reshape({n, nHashes * l});  // [N, H, L] -> [N, H·L]
}

namespace {
thread_local BucketTape* activeTape = nullptr;
}

BucketTape::BucketTape() : outer_(activeTape) { activeTape = this; }

BucketTape::BucketTape(std::vector<torch::Tensor> tape) : tape_(std::move(tape)), replaying_(true), outer_(activeTape) {
  activeTape = this;
}

BucketTape::~BucketTape() { activeTape = outer_; }

BucketTape* BucketTape::active() { return activeTape; }

torch::Tensor BucketTape::next(const std::function<torch::Tensor()>& hash) {
  if (!replaying_) {
    tape_.push_back(hash());
    return tape_.back();
  }
  if (cursor_ >= tape_.size())
    throw cw::Error("LSH bucket replay: more attention calls than the recording holds (" +
                    std::to_string(tape_.size()) + ")");
  auto fresh = hash();  // a replay is a check, not a hot path
  const auto recorded = tape_[cursor_++].to(fresh.device());
  if (recorded.sizes() != fresh.sizes())
    throw cw::Error("LSH bucket replay: recorded buckets have another shape than this call's");
  replayed_ += fresh.numel();
  differing_ += fresh.ne(recorded).sum().item<int64_t>();
  return recorded;
}

namespace {

// The dtype autocast would run a matmul of these operands in.
torch::ScalarType matmulType(const torch::Tensor& a, const torch::Tensor& b) {
  const auto autocast = cw::compat::autocastState(a.device().type());
  return autocast.enabled ? autocast.dtype : torch::promote_types(a.scalar_type(), b.scalar_type());
}

torch::Tensor attentionRows(const torch::Tensor& qk, const torch::Tensor& v, const torch::Tensor& keyPadding,
                            const torch::Tensor& buckets, const LshOptions& options, torch::Tensor* received) {
  const int64_t n = qk.size(0), l = qk.size(1), d = qk.size(2), bs = options.bucketSize;
  const int64_t nHashes = buckets.size(1) / l;
  const int64_t nChunks = nHashes * l / bs;

  // Sort by (bucket, position): key = L * bucket + position.
  auto ticker = torch::arange(nHashes * l, buckets.options()).unsqueeze(0).expand({n, nHashes * l});
  auto sortKey = l * buckets + ticker.remainder(l);
  auto sorted = std::get<1>(sortKey.sort(-1));  // sticker: index into the (round, position) space
  // The inverse permutation by one scatter, not a second sort.
  auto undoSort = torch::empty_like(sorted).scatter_(1, sorted, ticker);
  auto positions = sorted.remainder(l);         // st: sequence position of each sorted slot

  auto gatherRows = [&](const torch::Tensor& x) {
    return x.gather(1, positions.unsqueeze(-1).expand({n, nHashes * l, x.size(2)}));
  };
  auto bq = gatherRows(qk).view({n, nChunks, bs, d});
  auto bv = gatherRows(v).view({n, nChunks, bs, v.size(2)});
  auto bPos = positions.view({n, nChunks, bs});
  auto bk = torch::nn::functional::normalize(bq, torch::nn::functional::NormalizeFuncOptions().dim(-1).p(2));
  // Look one chunk back within the same hash round (the round's first chunk wraps to its
  // last). reformer_pytorch rolls across rounds instead, so its first chunk of a round sees
  // the previous round's last chunk; within-round wrapping makes a sequence of two chunks
  // exact full attention in every round.
  const int64_t chunksPerRound = l / bs;
  auto lookBack = [&](const torch::Tensor& x) {
    auto perRound = x.view({n, nHashes, chunksPerRound, bs, -1}).roll(1, 2).view(x.sizes());
    return torch::cat({x, perRound}, 2);
  };
  const bool recompute = options.recomputeScores && !received;
  if (recompute) {  // in the dtypes autocast would pick, before the look-back doubles keys and values
    const auto qkType = matmulType(bq, bq);  // normalize keeps the dtype (or autocast picks)
    bq = bq.to(qkType);
    bk = bk.to(qkType);
    bv = bv.to(matmulType(bv, bv));
  }
  bk = lookBack(bk);
  bv = lookBack(bv);
  auto bkPos = lookBack(bPos);

  const auto keyPaddingSorted =
      keyPadding.defined() ? lookBack(keyPadding.gather(1, positions).view({n, nChunks, bs})) : torch::Tensor();
  torch::Tensor bo, lse, probs;  // [N, C, bs, dv], [N, C, bs, 1], [N, C, bs, 2bs]
  if (recompute) {
    ChunkAttentionOptions chunkOptions{kPaddingKeyScore, kSelfAttentionScore, options.scoreBlockBytes};
    if (options.dedupRounds && nHashes > 1) {
      chunkOptions.queryChunks = chunksOfPositions(undoSort, bPos, n, nHashes, l, bs)
                                     .to(chunksPerRound < 32768 ? torch::kShort : torch::kInt);
      chunkOptions.keyChunks = lookBack(chunkOptions.queryChunks);
      chunkOptions.chunksPerRound = chunksPerRound;
    }
    auto chunks = chunkAttention(bq, bk, bv, keyPaddingSorted, chunkOptions);
    bo = chunks.out;
    lse = chunks.lse;
  } else {
    auto dots = atLeastFloat(torch::matmul(bq, bk.transpose(-1, -2))) / std::sqrt(static_cast<double>(d));
    if (keyPaddingSorted.defined()) dots = dots.masked_fill(keyPaddingSorted.unsqueeze(2), kPaddingKeyScore);
    if (options.dedupRounds && nHashes > 1)
      dots = dots - torch::log(roundsMet(undoSort, bPos, bkPos, n, nHashes, l, bs, dots.scalar_type()));
    dots = dots.masked_fill(bPos.unsqueeze(-1).eq(bkPos.unsqueeze(2)), kSelfAttentionScore);
    lse = torch::logsumexp(dots, -1, true);
    probs = torch::exp(dots - lse);
    bo = torch::matmul(probs.to(bv.scalar_type()), bv);
  }

  // Back to (round, position) order and combine rounds weighted by their total mass.
  auto so = bo.reshape({n, nHashes * l, v.size(2)});
  auto slogits = lse.reshape({n, nHashes * l});
  auto o = so.gather(1, undoSort.unsqueeze(-1).expand_as(so)).view({n, nHashes, l, v.size(2)});
  auto logits = slogits.gather(1, undoSort).view({n, nHashes, l, 1});
  auto roundWeights = torch::exp(logits - torch::logsumexp(logits, 1, true));  // [N, H, L, 1]
  auto out = (o * roundWeights.to(o.scalar_type())).sum(1);

  if (received) {
    auto sortedWeights = roundWeights.reshape({n, nHashes * l}).gather(1, sorted).view({n, nChunks, bs, 1});
    auto mass = (probs * sortedWeights).reshape({n, nChunks * bs * 2 * bs});
    // Each query contributes its probabilities to its keys' positions.
    auto keysFlat = bkPos.unsqueeze(2).expand({n, nChunks, bs, 2 * bs}).reshape({n, nChunks * bs * 2 * bs});
    if (keyPadding.defined()) {
      auto queryReal = keyPadding.logical_not().gather(1, positions).view({n, nChunks, bs, 1});
      mass = mass * queryReal.expand({n, nChunks, bs, 2 * bs}).reshape_as(mass).to(mass.scalar_type());
    }
    *received = torch::zeros({n, l}, mass.options()).scatter_add_(1, keysFlat, mass.detach());
  }
  return out;
}

}  // namespace

torch::Tensor lshAttention(const torch::Tensor& qk, const torch::Tensor& v, const torch::Tensor& keyPadding,
                           const torch::Tensor& buckets, const LshOptions& options, torch::Tensor* received) {
  const int64_t n = qk.size(0), l = qk.size(1), bs = options.bucketSize;
  if (l % (2 * bs) != 0) throw cw::Error("LSH attention needs a length that is a multiple of twice the bucket size");
  if (options.fusedKernels && !received && fusedAttentionSupported(qk, buckets.size(1) / l, bs))
    return fusedLshAttention(qk, v, keyPadding, buckets, options);
  // Rows of N are independent. Without autograd nothing of one row's work is kept for
  // later, so rows run in slices whose scores fit the block size (inference at batch 32
  // would otherwise hold ~50 GB of scores, gathered keys and values at once).
  const int64_t rows = rowsPerScoreBlock(buckets.size(1) * 2 * bs, options.scoreBlockBytes);
  if (torch::GradMode::is_enabled() || rows >= n) return attentionRows(qk, v, keyPadding, buckets, options, received);
  // Each slice is written into one output: outputs kept per slice would sit between the
  // freed score blocks and split their space, so that every slice took fresh memory.
  torch::Tensor out, mass;
  auto into = [&](torch::Tensor& whole, const torch::Tensor& part, int64_t start) {
    if (!whole.defined()) {
      auto sizes = part.sizes().vec();
      sizes[0] = n;
      whole = torch::empty(sizes, part.options());
    }
    whole.narrow(0, start, part.size(0)).copy_(part);
  };
  for (int64_t start = 0; start < n; start += rows) {
    const int64_t count = std::min(rows, n - start);
    auto slice = [&](const torch::Tensor& t) { return t.defined() ? t.narrow(0, start, count) : t; };
    torch::Tensor sliceMass;
    into(out, attentionRows(slice(qk), slice(v), slice(keyPadding), slice(buckets), options,
                            received ? &sliceMass : nullptr),
         start);
    if (received) into(mass, sliceMass, start);
  }
  if (received) *received = mass;
  return out;
}

torch::Tensor fullSharedQkAttention(const torch::Tensor& qk, const torch::Tensor& v, const torch::Tensor& keyPadding) {
  const int64_t l = qk.size(1), d = qk.size(2);
  auto k = torch::nn::functional::normalize(qk, torch::nn::functional::NormalizeFuncOptions().dim(-1).p(2));
  auto dots = torch::matmul(qk, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(d));
  if (keyPadding.defined()) dots = dots.masked_fill(keyPadding.unsqueeze(1), kPaddingKeyScore);
  auto self = torch::eye(l, torch::TensorOptions().dtype(torch::kBool).device(qk.device())).unsqueeze(0);
  dots = dots.masked_fill(self, kSelfAttentionScore);
  return torch::matmul(torch::softmax(dots, -1), v);
}

}  // namespace cw::plugins::lsh
