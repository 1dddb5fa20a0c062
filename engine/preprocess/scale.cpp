#include "cellwright/preprocess/scale.h"

#include <algorithm>
#include <cmath>

#include "cellwright/core/errors.h"

namespace cw::preprocess {

ScaleResult scale(const CsrMatrix& matrix, const ScaleOptions& options) {
  std::vector<int64_t> columns = options.columns;
  if (columns.empty()) {
    columns.resize(matrix.cols);
    for (int64_t c = 0; c < matrix.cols; ++c) columns[c] = c;
  }
  std::vector<int64_t> outColumn(matrix.cols, -1);
  for (size_t j = 0; j < columns.size(); ++j) {
    if (columns[j] < 0 || columns[j] >= matrix.cols) throw Error("scale: gene index out of range");
    outColumn[columns[j]] = static_cast<int64_t>(j);
  }
  ScaleResult result;
  result.rows = matrix.rows;
  result.cols = static_cast<int64_t>(columns.size());
  const auto n = static_cast<double>(matrix.rows);
  std::vector<double> sum(result.cols, 0.0), sumSq(result.cols, 0.0);
  for (int64_t r = 0; r < matrix.rows; ++r)
    for (int64_t k = matrix.indptr[r]; k < matrix.indptr[r + 1]; ++k) {
      const int64_t j = outColumn[matrix.indices[k]];
      if (j < 0) continue;
      const double v = matrix.data[k];
      sum[j] += v;
      sumSq[j] += v * v;
    }
  result.means.resize(result.cols);
  result.stds.resize(result.cols);
  for (int64_t j = 0; j < result.cols; ++j) {
    const double mean = n > 0 ? sum[j] / n : 0.0;
    double var = n > 1 ? (sumSq[j] / n - mean * mean) * n / (n - 1) : 0.0;
    var = std::max(var, 0.0);
    result.means[j] = mean;
    const double sd = std::sqrt(var);
    result.stds[j] = sd > 0 ? sd : 1.0;
  }
  const double clip = options.maxValue;
  auto finish = [&](double z) {
    if (clip > 0) {
      z = std::min(z, clip);
      if (options.zeroCenter) z = std::max(z, -clip);
    }
    return static_cast<float>(z);
  };
  result.values.assign(static_cast<size_t>(result.rows * result.cols), 0.0f);
  for (int64_t r = 0; r < matrix.rows; ++r) {
    float* row = result.values.data() + r * result.cols;
    for (int64_t j = 0; j < result.cols; ++j)
      row[j] = finish(options.zeroCenter ? -result.means[j] / result.stds[j] : 0.0);
    for (int64_t k = matrix.indptr[r]; k < matrix.indptr[r + 1]; ++k) {
      const int64_t j = outColumn[matrix.indices[k]];
      if (j < 0) continue;
      const double centred = options.zeroCenter ? matrix.data[k] - result.means[j] : matrix.data[k];
      row[j] = finish(centred / result.stds[j]);
    }
  }
  return result;
}

}  // namespace cw::preprocess
