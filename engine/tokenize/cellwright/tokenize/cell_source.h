#pragma once
// Torch-free building blocks of the tokenizers: where cells come from, one cell's values,
// the value binnings, and the seeded random streams that make masking reproducible.
#include <cstdint>
#include <vector>

#include "cellwright/io/dataset.h"
#include "cellwright/preprocess/normalize.h"

namespace cw::tokenize {

// The cells of one dataset, already aligned to the model's genes (preprocess::alignMatrix):
// column g is the model's gene g.
struct CellSource {
  const CsrMatrix* matrix = nullptr;
  // false: `matrix` holds raw counts (normalised per cell on the fly);
  // true: it already holds log-normalised values (BioFormer's quantiles then use them).
  bool valuesAreLogNormalized = false;
  std::vector<int64_t> labels;   // per matrix row class code (-1 unknown); empty = all unknown
  std::vector<int64_t> studies;  // per matrix row study/batch code (-1 unknown); empty = all unknown
  int64_t datasetIndex = 0;      // reported in TokenBatch::datasetIndices
  // Matrix row 0 is the dataset's cell `firstRow`: a chunk of a file streamed from disk holds
  // only some of its cells, while cells keep their dataset-wide row (masking seeds, cellIndices).
  int64_t firstRow = 0;
};

// One cell of a batch.
struct CellRef {
  const CellSource* source = nullptr;
  int64_t row = 0;  // the cell's row in its dataset (matrix row + source->firstRow)
};

struct ValueOptions {
  double targetSum = 1e4;  // per-cell normalisation target
  preprocess::LogBase logBase = preprocess::LogBase::Natural;
};

// A cell's non-zero genes in gene order, with raw and log-normalised values.
struct CellValues {
  std::vector<int32_t> genes;
  std::vector<float> counts;     // raw counts (or the stored values when already normalised)
  std::vector<float> logValues;  // log1p(count * targetSum / total), or the stored values
};
void readCell(const CellRef& cell, const ValueOptions& options, CellValues& out);

// scBERT: log-normalised value clipped at `maxBin` and truncated -> 0..maxBin.
int64_t truncatedBin(float logValue, int64_t maxBin = 5);

// BioFormer: per-cell quantile bins of the non-zero values. Edges q_k (k = 1..nBins) are
// the cell's (k / nBins) quantiles of its non-zero values (numpy's linear interpolation);
// a value v gets the smallest k with v <= q_k. Zeros (not passed here) are bin 0.
std::vector<int64_t> quantileBins(const std::vector<float>& nonZeroValues, int64_t nBins = 50);

// SplitMix64: a small, fast, portable generator (same stream on every platform).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  uint64_t below(uint64_t n);  // uniform in [0, n), n > 0
  double uniform();            // [0, 1)
 private:
  uint64_t state_;
};
// The stream for one cell in one epoch: independent of batch composition and thread.
Rng cellRng(uint64_t seed, uint64_t epoch, int64_t datasetIndex, int64_t row);

// k distinct indices of 0..n-1 (partial Fisher-Yates), in the order drawn.
std::vector<int64_t> sampleWithoutReplacement(Rng& rng, int64_t n, int64_t k);

// BERT-style masking plan over a cell's non-zero genes: round(fraction * n) of them (at
// least one when n > 0); of those, round(keepFraction * masked) keep their value, the
// rest are replaced by MASK. Indices refer to the non-zero list.
struct MaskPlan {
  std::vector<int64_t> replaced;   // -> MASK bin
  std::vector<int64_t> unchanged;  // masked for the loss, input left as is
};
MaskPlan planMasking(Rng& rng, int64_t nonZero, double fraction = 0.15, double keepFraction = 0.1);

}  // namespace cw::tokenize
