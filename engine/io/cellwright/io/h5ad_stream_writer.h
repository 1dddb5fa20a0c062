#pragma once
// Writes an h5ad whose X is appended in chunks of cells, so a matrix larger than memory can be
// written (the simulator, corpus conversion). Tables come last, when every row is known.
// Atomic: everything goes to a temporary sibling, renamed over the target by finish().
#include <filesystem>
#include <memory>

#include "cellwright/io/dataset.h"

namespace cw::io {

class StreamingH5adWriter {
 public:
  struct Options {
    int64_t nVars = 0;          // columns of X (required)
    bool compress = false;      // gzip X's arrays
    int64_t chunkElements = 1 << 18;  // HDF5 chunk of X's data/indices
  };
  StreamingH5adWriter(const std::filesystem::path& target, const Options& options);
  ~StreamingH5adWriter();  // abandons (removes) the temporary file unless finish() ran
  StreamingH5adWriter(const StreamingH5adWriter&) = delete;
  StreamingH5adWriter& operator=(const StreamingH5adWriter&) = delete;

  // Appends rows (cells). `rows.cols` must equal nVars.
  void appendRows(const CsrMatrix& rows);
  int64_t rowsWritten() const;
  int64_t nnzWritten() const;

  // Writes obs (one row per appended cell), var (nVars rows), obsm and uns, then renames.
  void finish(const DataFrame& obs, const DataFrame& var, const std::map<std::string, DenseMatrix>& obsm = {},
              const UnsDict& uns = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cw::io
