#pragma once
// Per-gene scaling to zero mean and unit variance, as scanpy's pp.scale. The result is
// dense (centring destroys sparsity), so callers usually scale a gene subset (HVGs).
#include <cstdint>
#include <vector>

#include "cellwright/io/dataset.h"

namespace cw::preprocess {

struct ScaleOptions {
  bool zeroCenter = true;   // subtract each gene's mean
  double maxValue = 10.0;   // clip to [-maxValue, maxValue] (upper only without centring); <= 0: no clip
  // Columns to scale, in output order; empty = every column.
  std::vector<int64_t> columns;
};

struct ScaleResult {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> values;  // row-major rows × cols
  std::vector<double> means;  // per output column
  std::vector<double> stds;   // per output column: unbiased (ddof 1) as scanpy; 0 is replaced by 1
};

ScaleResult scale(const CsrMatrix& matrix, const ScaleOptions& options = {});

}  // namespace cw::preprocess
