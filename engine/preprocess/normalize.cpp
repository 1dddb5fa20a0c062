#include "cellwright/preprocess/normalize.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace cw::preprocess {

NormalizeResult normalizeTotal(CsrMatrix& matrix, const NormalizeOptions& options) {
  std::vector<double> totals(matrix.rows, 0.0);
  for (int64_t r = 0; r < matrix.rows; ++r)
    for (int64_t k = matrix.indptr[r]; k < matrix.indptr[r + 1]; ++k) totals[r] += matrix.data[k];
  NormalizeResult result;
  result.targetSumUsed = options.targetSum;
  if (options.targetSum <= 0) {
    // scanpy: median over cells with a non-zero total.
    std::vector<double> nonzero;
    for (double t : totals)
      if (t > 0) nonzero.push_back(t);
    if (nonzero.empty()) {
      result.targetSumUsed = 0;
    } else {
      const size_t n = nonzero.size();
      std::nth_element(nonzero.begin(), nonzero.begin() + n / 2, nonzero.end());
      double median = nonzero[n / 2];
      if (n % 2 == 0) {
        const double lower = *std::max_element(nonzero.begin(), nonzero.begin() + n / 2);
        median = 0.5 * (median + lower);
      }
      result.targetSumUsed = median;
    }
  }
  for (int64_t r = 0; r < matrix.rows; ++r) {
    if (totals[r] <= 0) {
      ++result.emptyCells;
      continue;
    }
    const double scale = result.targetSumUsed / totals[r];
    for (int64_t k = matrix.indptr[r]; k < matrix.indptr[r + 1]; ++k)
      matrix.data[k] = static_cast<float>(matrix.data[k] * scale);
  }
  return result;
}

void log1p(CsrMatrix& matrix, LogBase base) {
  const double invLn2 = 1.0 / std::log(2.0);
  for (float& v : matrix.data) {
    const double y = std::log1p(static_cast<double>(v));
    v = static_cast<float>(base == LogBase::Natural ? y : y * invLn2);
  }
}

}  // namespace cw::preprocess
