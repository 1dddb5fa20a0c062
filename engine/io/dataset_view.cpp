#include "cellwright/io/dataset_view.h"

#include "cellwright/core/errors.h"

namespace cw::io {

DatasetView::DatasetView(std::shared_ptr<const Dataset> base) : base_(std::move(base)) {
  if (!base_) throw Error("a dataset view needs a dataset");
}

int64_t DatasetView::nObs() const { return allRows_ ? base_->nObs() : static_cast<int64_t>(rows_.size()); }
int64_t DatasetView::nVars() const { return allCols_ ? base_->nVars() : static_cast<int64_t>(cols_.size()); }

DatasetView DatasetView::selectObs(const std::vector<int64_t>& rows) const {
  DatasetView out = *this;
  std::vector<int64_t> mapped;
  mapped.reserve(rows.size());
  for (int64_t r : rows) {
    if (r < 0 || r >= nObs()) throw Error("cell " + std::to_string(r) + " is outside the " + std::to_string(nObs()) + " cells");
    mapped.push_back(baseRow(r));
  }
  out.rows_ = std::move(mapped);
  out.allRows_ = false;
  return out;
}

DatasetView DatasetView::selectVars(const std::vector<int64_t>& cols) const {
  DatasetView out = *this;
  std::vector<int64_t> mapped;
  mapped.reserve(cols.size());
  out.columnMap_.assign(base_->nVars(), -1);
  for (size_t j = 0; j < cols.size(); ++j) {
    const int64_t c = cols[j];
    if (c < 0 || c >= nVars()) throw Error("gene " + std::to_string(c) + " is outside the " + std::to_string(nVars()) + " genes");
    const int64_t b = baseColumn(c);
    if (out.columnMap_[b] >= 0) throw Error("gene '" + base_->var.index[b] + "' is selected twice");
    out.columnMap_[b] = static_cast<int32_t>(j);
    mapped.push_back(b);
  }
  out.cols_ = std::move(mapped);
  out.allCols_ = false;
  return out;
}

Dataset DatasetView::materialize() const {
  std::vector<int64_t> rows(nObs());
  for (int64_t i = 0; i < nObs(); ++i) rows[i] = baseRow(i);
  Dataset out = base_->selectObs(rows);
  if (!allCols_) {
    out.X = out.X.selectColumns(cols_);
    out.var = base_->var.selectRows(cols_);
    for (auto& [k, m] : out.layers) m = m.selectColumns(cols_);
    out.varm.clear();
    for (const auto& [k, m] : base_->varm) {
      DenseMatrix sub;
      sub.rows = static_cast<int64_t>(cols_.size());
      sub.cols = m.cols;
      for (int64_t c : cols_) sub.values.insert(sub.values.end(), m.values.begin() + c * m.cols, m.values.begin() + (c + 1) * m.cols);
      out.varm[k] = std::move(sub);
    }
  }
  out.countsSource = detectCountsSource(out);
  return out;
}

}  // namespace cw::io
