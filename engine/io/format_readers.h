#pragma once
// Private to engine_io: one reader per file format, called by readDataset(), plus the
// matrix helpers they share. Each reader validates structure before trusting it and throws
// cw::Error with a one-line message; non-fatal findings go to `warnings`.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cellwright/io/readers.h"
#include "matrix_scans.h"

namespace cw::io {

using Warnings = std::vector<std::string>;

// With `xScan`, X's values are scanned while they are read and the result left there.
Dataset readH5adFile(const std::filesystem::path& path, const ReadOptions& options, Warnings& warnings,
                     Feedback* feedback, std::optional<ValueScan>* xScan = nullptr);
Dataset readTenxH5File(const std::filesystem::path& path, const ReadOptions& options, Warnings& warnings,
                       Feedback* feedback);
Dataset readMatrixMarketFolder(const std::filesystem::path& path, const ReadOptions& options,
                               Warnings& warnings, Feedback* feedback);
Dataset readDelimitedTextFile(const std::filesystem::path& path, const ReadOptions& options,
                              Warnings& warnings, Feedback* feedback);

// CSC arrays (or CSR of the transposed matrix) -> CSR of shape rows x cols. Stable:
// indices stay sorted within each output row.
CsrMatrix transposeCsr(const CsrMatrix& m);

// CsrMatrix::validate() and canonicalizeRows() in one pass over the indices (the reader's hot
// path), or none when the reader `scanned` them already; throws cw::Error naming `what`.
// Returns true when rows had to be sorted (and duplicates summed).
bool validateAndCanonicalize(CsrMatrix& m, const std::string& what, const PiecewiseIndexScan* scanned = nullptr);

// 10x feature types (`features/feature_type`, the 3rd column of features.tsv): stored in
// var['feature_types']; with `geneExpressionOnly`, only "Gene Expression" features are kept
// (scanpy's read_10x_h5 default), with a warning saying how many.
void applyFeatureTypes(Dataset& d, const std::vector<std::string>& types, bool geneExpressionOnly,
                       Warnings& warnings);

// Sorts column indices within each row (files written by other tools may not) and sums
// duplicates; returns true when anything changed.
bool canonicalizeRows(CsrMatrix& m);

}  // namespace cw::io
