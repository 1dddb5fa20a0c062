#pragma once
// The three seed models' tokenizers and the dense collation of the baselines. Each turns a
// list of cells (aligned to the model's genes, see cell_source.h) into a TokenBatch.
// Deterministic: the masking of a cell depends only on (seed, epoch, dataset, row).
//
//  - scReformer-BERT: every model gene in order, one token each; bins = log-normalised
//    value clipped at 5 and truncated (0..5); sequence padded to a multiple of
//    2 × bucketSize with id 0 / bin 6 / paddingMask true.
//  - BioFormer: position 0 = CLS (id nGenes + 1), then every model gene (the HVGs) in
//    order; bins = per-cell quantile bins of raw counts (0 zero, 1..50); study id per cell.
//  - CellPatch: only the cell's non-zero genes (at most maxGenes, the lowest dropped), in
//    gene order, padded per batch; values = log-normalised, clipped at 5 (rounded when
//    roundValues, for the lookup-embedding variant).
//  - Dense: [B, nGenes] log-normalised values for logistic regression / MLP.
// Masking (pre-training):
//  - scReformer / BioFormer: 15% of non-zero genes (>= 1); 90% of those -> MASK bin, 10% kept.
//  - CellPatch: 30% of non-zero genes leave the encoder and become decoder targets, plus half
//    as many zero genes (target 0); at most maxDecoderGenes decoder genes.
// From the plugin API's TokenizerSpec: "scbert" -> ScReformerOptions (bucketSize =
// padToMultipleOf / 2, masking.keepFraction = 1 - maskReplaceFraction, values.logBase Two
// when log2); "bioformer" -> BioFormerOptions; "cellpatch" -> CellPatchOptions (maxGenes =
// maxTokens, maxValue = clipValue, roundValues for ClipRound); "dense" -> DenseOptions.
#include <cstdint>
#include <functional>
#include <vector>

#include "cellwright/tokenize/cell_source.h"
#include "cellwright/tokenize/token_batch.h"

namespace cw::tokenize {

constexpr int64_t kPadId = 0;
inline int64_t geneTokenId(int64_t gene) { return gene + 1; }
inline int64_t clsTokenId(int64_t nGenes) { return nGenes + 1; }
inline int64_t geneIdTableSize(int64_t nGenes) { return nGenes + 2; }

constexpr int64_t kScReformerMaxBin = 5;
constexpr int64_t kScReformerMaskBin = 6;  // also the padding bin
constexpr int64_t kBioFormerQuantileBins = 50;
constexpr int64_t kBioFormerMaskBin = 51;

struct MaskingOptions {
  bool enabled = false;
  uint64_t seed = 0;
  double fraction = 0.15;     // scReformer/BioFormer: share of non-zero genes masked
  double keepFraction = 0.1;  // of the masked, share left unchanged
};

struct ScReformerOptions {
  int64_t nGenes = 0;  // model genes (columns of the aligned matrix)
  int64_t bucketSize = 64;
  ValueOptions values;
  MaskingOptions masking;
};
struct BioFormerOptions {
  int64_t nGenes = 0;
  ValueOptions values;
  MaskingOptions masking;
};
struct CellPatchOptions {
  int64_t nGenes = 0;
  int64_t maxGenes = 3000;
  double maxValue = 5.0;
  bool roundValues = false;
  ValueOptions values;
  bool masking = false;  // hold out genes for the reconstruction decoder
  uint64_t seed = 0;
  double heldOutFraction = 0.3;
  double zeroTargetRatio = 0.5;  // zero genes added as decoder targets, per held-out gene
  int64_t maxDecoderGenes = 1000;
};
struct DenseOptions {
  int64_t nGenes = 0;
  ValueOptions values;
};

TokenBatch tokenizeScReformer(const std::vector<CellRef>& cells, const ScReformerOptions& options, uint64_t epoch = 0);
TokenBatch tokenizeBioFormer(const std::vector<CellRef>& cells, const BioFormerOptions& options, uint64_t epoch = 0);
TokenBatch tokenizeCellPatch(const std::vector<CellRef>& cells, const CellPatchOptions& options, uint64_t epoch = 0);
TokenBatch collateDense(const std::vector<CellRef>& cells, const DenseOptions& options);

// A tokenizer as the loader calls it.
using BatchTokenizer = std::function<TokenBatch(const std::vector<CellRef>& cells, uint64_t epoch)>;

}  // namespace cw::tokenize
