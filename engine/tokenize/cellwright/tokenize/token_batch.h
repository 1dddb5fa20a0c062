#pragma once
// The tensors a tokenizer/collator hands to a model: the one contract between
// engine/tokenize (preprocessing issue) and the model plugins. Every tensor is on the CPU
// when produced; the trainer moves the batch to the device. Fields a model does not use
// stay undefined (tensor.defined() == false).
//
// Id conventions (all tokenizers, see tokenizers.h):
//  - geneIds: 0 = padding; model gene g (0-based column of the aligned matrix / line of
//    genes.txt) has id g + 1; BioFormer's CLS token has id nGenes + 1. An embedding table
//    over gene ids therefore has nGenes + 2 rows (geneIdTableSize()).
//  - scReformer bins: 0..5 expression, 6 = MASK and padding (7 bin embeddings).
//  - BioFormer bins: 0 = zero, 1..50 quantile bins, 51 = MASK (52 bin embeddings); the CLS
//    position (0) has bin 0 and value 0 and is never masked.
//  - Masked positions (MASK bin) carry value 0 in `values`; their truth is in targetBins /
//    targetValues, which hold the original bin / value at every position.
#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace cw::tokenize {

struct TokenBatch {
  // Encoder input, [B, L]. For BioFormer, position 0 is the CLS slot (gene id = CLS id).
  torch::Tensor geneIds;      // int64: vocabulary ids (0 = padding)
  torch::Tensor values;       // float32: continuous value per token (log-normalised expression)
  torch::Tensor bins;         // int64: discrete value bin per token (model-specific bins; MASK bin when masked)
  torch::Tensor paddingMask;  // bool: true = padding (ignore)

  // Self-supervised targets, [B, L]: positions chosen for masking / reconstruction.
  torch::Tensor maskedPositions;  // bool: true = masked (loss computed here)
  torch::Tensor targetBins;       // int64: original bin at each position
  torch::Tensor targetValues;     // float32: original continuous value at each position

  // CellPatch reconstruction decoder, [B, D]: genes whose values the decoder predicts.
  torch::Tensor decoderGeneIds;      // int64 (0 = padding)
  torch::Tensor decoderTargets;      // float32
  torch::Tensor decoderPaddingMask;  // bool: true = padding

  // Per cell, [B].
  torch::Tensor labels;   // int64: class code, -1 = unknown/unlabelled
  torch::Tensor studies;  // int64: study/batch code, -1 = unknown

  // Dense per-cell expression for the baselines, [B, G] float32 (log-normalised, all genes
  // of the vocabulary in order).
  torch::Tensor dense;

  std::vector<int64_t> cellIndices;     // row of each cell in its dataset
  std::vector<int64_t> datasetIndices;  // which dataset of the corpus each cell came from (CellSource::datasetIndex)

  int64_t size() const { return static_cast<int64_t>(cellIndices.size()); }
  // Moves every defined tensor to `device` (non_blocking when pinned).
  TokenBatch to(const torch::Device& device, bool nonBlocking = false) const;
};

}  // namespace cw::tokenize
