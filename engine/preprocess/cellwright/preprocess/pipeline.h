#pragma once
// The standard preprocessing run on a whole dataset, as `cellwright-cli preprocess` and the
// GUI do it: QC metrics, optional filters, normalise + log1p (raw counts kept in
// layers['counts']), optional highly variable genes flagged in var (genes are not subset).
#include <cstdint>
#include <string>
#include <vector>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"
#include "cellwright/preprocess/hvg.h"
#include "cellwright/preprocess/qc.h"

namespace cw::preprocess {

struct PreprocessOptions {
  double targetSum = 1e4;        // <= 0: median of the cells' totals (scanpy's default)
  bool log1p = true;
  bool assumeNormalized = false; // X is already normalised: skip normalisation and log1p
  FilterOptions filters;         // off by default
  int64_t nTopHvg = 0;           // 0 = no HVG selection
  HvgFlavor hvgFlavor = HvgFlavor::Seurat;
  std::string batchKey;          // obs column for per-batch HVG selection ("" = none)
};

struct PreprocessResult {
  int64_t cellsBefore = 0, genesBefore = 0;
  int64_t cellsAfter = 0, genesAfter = 0;
  FilterResult filter;
  double targetSumUsed = 0;
  int64_t nHighlyVariable = 0;
  std::vector<std::string> warnings;
  std::string summary() const;  // one line
};

// In place. Throws cw::Error when there are no raw counts (unless assumeNormalized), the
// batch column is missing, or the filters leave nothing.
PreprocessResult preprocessDataset(Dataset& dataset, const PreprocessOptions& options, Feedback* feedback = nullptr);

// Genes subset (every per-gene table follows: var, varm, layers' columns). raw stays.
void selectVars(Dataset& dataset, const std::vector<int64_t>& geneIndices);

// Per-cell integer codes of an obs column (categorical codes, or distinct values of a
// string/numeric/bool column in sorted order); -1 for missing.
std::vector<int32_t> obsCodes(const Dataset& dataset, const std::string& column, int32_t* nCodes = nullptr);

}  // namespace cw::preprocess
