#pragma once
// Entry points for reading and writing datasets. Format-specific readers live beside this
// header; readDataset() picks one by looking at the file.
#include <filesystem>
#include <string>
#include <vector>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"

namespace cw::io {

enum class FileFormat { Unknown, H5ad, TenxH5, MatrixMarketDir, DelimitedText };

struct ReadOptions {
  bool readLayers = true;      // layers/*
  bool readRaw = true;         // raw/X and raw/var
  bool readObsp = true;        // obsp/* graphs
  bool readUns = true;         // uns tree
  bool geneExpressionOnly = true;  // 10x: keep only "Gene Expression" features
  enum class Orientation { Auto, CellsAsRows, GenesAsRows } textOrientation = Orientation::Auto;  // CSV/TSV
};

struct ReadResult {
  Dataset dataset;
  FileFormat format = FileFormat::Unknown;
  std::vector<std::string> warnings;  // non-fatal findings a user should see (made-unique names ...)
};

FileFormat detectFormat(const std::filesystem::path& path);
// Reads any supported format. Throws cw::Error with a one-line message on bad input.
ReadResult readDataset(const std::filesystem::path& path, const ReadOptions& options = {},
                       Feedback* feedback = nullptr);

struct WriteOptions {
  bool compress = false;  // gzip the matrices (anndata writes uncompressed by default)
};
// Writes an h5ad file anndata >= 0.8 reads, atomically.
void writeH5ad(const Dataset& dataset, const std::filesystem::path& path, const WriteOptions& options = {},
               Feedback* feedback = nullptr);

}  // namespace cw::io
