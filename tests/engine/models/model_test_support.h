#pragma once
// Tiny synthetic TokenBatches and comparisons for the model tests.
#include "cellwright/plugins/builtin.h"
#include "cellwright/tokenize/token_batch.h"

namespace cw::test {

// B cells, L tokens with gene ids 1..vocab-1, the last `padTail[b]` tokens of cell b padded.
inline cw::tokenize::TokenBatch tokenBatch(int64_t b, int64_t l, int64_t vocab, int64_t nBins,
                                           const std::vector<int64_t>& padTail = {}) {
  cw::tokenize::TokenBatch batch;
  batch.geneIds = torch::randint(1, vocab, {b, l}, torch::kLong);
  batch.values = torch::rand({b, l}) * 4;
  batch.bins = torch::randint(0, nBins, {b, l}, torch::kLong);
  batch.paddingMask = torch::zeros({b, l}, torch::kBool);
  for (int64_t i = 0; i < static_cast<int64_t>(padTail.size()); ++i)
    if (padTail[i] > 0) {
      batch.paddingMask[i].narrow(0, l - padTail[i], padTail[i]).fill_(true);
      batch.geneIds[i].narrow(0, l - padTail[i], padTail[i]).fill_(0);
      batch.values[i].narrow(0, l - padTail[i], padTail[i]).fill_(0);
    }
  batch.labels = torch::arange(b, torch::kLong).remainder(2);
  batch.studies = torch::arange(b, torch::kLong).remainder(3);
  batch.cellIndices.resize(b);
  for (int64_t i = 0; i < b; ++i) batch.cellIndices[i] = i;
  return batch;
}

// Appends `extra` padding columns to every token field.
inline cw::tokenize::TokenBatch withExtraPadding(const cw::tokenize::TokenBatch& in, int64_t extra) {
  auto pad = [&](const torch::Tensor& t, double value) {
    return torch::constant_pad_nd(t, {0, extra}, value);
  };
  cw::tokenize::TokenBatch out = in;
  out.geneIds = pad(in.geneIds, 0);
  out.values = pad(in.values, 0);
  out.bins = pad(in.bins, 0);
  out.paddingMask = pad(in.paddingMask, 1);
  return out;
}

// ‖a − b‖ / ‖b‖ over all elements.
inline double relativeError(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).norm() / b.norm()).item<double>();
}

inline bool allParametersEqual(torch::nn::Module& a, torch::nn::Module& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  if (pa.size() != pb.size()) return false;
  for (const auto& item : pa)
    if (!torch::equal(item.value(), pb[item.key()])) return false;
  return true;
}

}  // namespace cw::test
