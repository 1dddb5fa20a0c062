#include "cellwright/tokenize/token_batch.h"

namespace cw::tokenize {

TokenBatch TokenBatch::to(const torch::Device& device, bool nonBlocking) const {
  auto move = [&](const torch::Tensor& t) { return t.defined() ? t.to(device, nonBlocking) : t; };
  TokenBatch out;
  out.geneIds = move(geneIds);
  out.values = move(values);
  out.bins = move(bins);
  out.paddingMask = move(paddingMask);
  out.maskedPositions = move(maskedPositions);
  out.targetBins = move(targetBins);
  out.targetValues = move(targetValues);
  out.decoderGeneIds = move(decoderGeneIds);
  out.decoderTargets = move(decoderTargets);
  out.decoderPaddingMask = move(decoderPaddingMask);
  out.labels = move(labels);
  out.studies = move(studies);
  out.dense = move(dense);
  out.cellIndices = cellIndices;
  out.datasetIndices = datasetIndices;
  return out;
}

}  // namespace cw::tokenize
