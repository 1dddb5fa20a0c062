#include "cellwright/ui/gene_values.h"

#include <algorithm>

#include "cellwright/core/errors.h"

namespace cw::ui {

std::vector<double> geneValues(const cw::CsrMatrix& matrix, int64_t gene, cw::Feedback* feedback) {
  if (gene < 0 || gene >= matrix.cols) throw cw::Error("gene index is outside the expression matrix");
  std::vector<double> values(static_cast<size_t>(matrix.rows), 0.0);
  const auto target = static_cast<int32_t>(gene);
  for (int64_t r = 0; r < matrix.rows; ++r) {
    if (feedback && (r & 0xffff) == 0) {
      feedback->throwIfCanceled();
      feedback->setProgress(static_cast<double>(r) / static_cast<double>(std::max<int64_t>(1, matrix.rows)));
    }
    const auto begin = matrix.indices.begin() + matrix.indptr[static_cast<size_t>(r)];
    const auto end = matrix.indices.begin() + matrix.indptr[static_cast<size_t>(r) + 1];
    const auto it = std::lower_bound(begin, end, target);  // columns are sorted within a row
    if (it != end && *it == target) values[static_cast<size_t>(r)] = matrix.data[static_cast<size_t>(it - matrix.indices.begin())];
  }
  return values;
}

}  // namespace cw::ui
