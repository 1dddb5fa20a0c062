#pragma once
// Backed mode: the tables of an h5ad (or 10x v3 .h5) in memory, the matrix left on disk and
// read in chunks of cells. Memory: the obs/var tables, 8 bytes per cell (indptr) and one
// chunk, whatever the file size. Pre-training iterates over corpora larger than RAM this way.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"

namespace cw::io {

struct BackedOptions {
  // Which matrix to stream: "X", "layers/<name>" or "raw/X" (h5ad); "" = the raw counts as
  // detectCountsSource would pick them from names alone: layers/counts, else X.
  std::string matrix = "X";
  size_t chunkCacheBytes = 32u << 20;  // HDF5 chunk cache per dataset (compressed files)
};

class BackedDataset {
 public:
  explicit BackedDataset(const std::filesystem::path& path, const BackedOptions& options = {});
  ~BackedDataset();
  BackedDataset(const BackedDataset&) = delete;
  BackedDataset& operator=(const BackedDataset&) = delete;

  int64_t nObs() const;
  int64_t nVars() const;
  int64_t nnz() const;
  const std::string& xDtype() const;
  const std::string& matrixName() const;  // the matrix being streamed ("X", "layers/counts" ...)
  const DataFrame& obs() const;
  const DataFrame& var() const;

  // Cells [start, start + count), all genes. Validated like a full read.
  CsrMatrix readRows(int64_t start, int64_t count) const;
  // Any cells, in the order given (read in sorted runs, then reordered).
  CsrMatrix readRows(const std::vector<int64_t>& rows) const;
  // Calls `visit(firstCell, chunk)` for consecutive chunks; polls cancel and reports progress.
  void forEachChunk(int64_t cellsPerChunk, const std::function<void(int64_t, const CsrMatrix&)>& visit,
                    Feedback* feedback = nullptr) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cw::io
