#pragma once
// Per-cell normalisation and log transforms on CSR, as scanpy's normalize_total / log1p.
#include "cellwright/io/dataset.h"

namespace cw::preprocess {

struct NormalizeOptions {
  // Each cell's counts are scaled to sum to this. <= 0: the median of the cells' totals
  // (scanpy's default when target_sum is None). Cellwright's default is 1e4.
  double targetSum = 1e4;
};
struct NormalizeResult {
  double targetSumUsed = 0.0;
  int64_t emptyCells = 0;  // cells with zero counts, left at zero
};
// In place. Cells with a zero total stay zero (scanpy does the same).
NormalizeResult normalizeTotal(CsrMatrix& matrix, const NormalizeOptions& options = {});

enum class LogBase { Natural, Two };
// In place: x -> log(1 + x) (natural, scanpy) or log2(1 + x) (scBERT).
void log1p(CsrMatrix& matrix, LogBase base = LogBase::Natural);

}  // namespace cw::preprocess
