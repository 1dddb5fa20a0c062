#pragma once
// Row and column subsets of a Dataset without copying its matrix: a view holds the shared
// dataset plus index maps. Subsetting a view composes the maps; materialize() copies out a
// standalone Dataset only when one is needed (for writing, say).
#include <memory>
#include <vector>

#include "cellwright/io/dataset.h"

namespace cw::io {

class DatasetView {
 public:
  explicit DatasetView(std::shared_ptr<const Dataset> base);

  int64_t nObs() const;
  int64_t nVars() const;
  const Dataset& base() const { return *base_; }
  int64_t baseRow(int64_t row) const { return allRows_ ? row : rows_[row]; }
  int64_t baseColumn(int64_t col) const { return allCols_ ? col : cols_[col]; }
  const std::string& obsName(int64_t row) const { return base_->obs.index[baseRow(row)]; }
  const std::string& varName(int64_t col) const { return base_->var.index[baseColumn(col)]; }

  // Subsets, in the order given; indices are positions in this view. Throws cw::Error when one
  // is out of range.
  DatasetView selectObs(const std::vector<int64_t>& rows) const;
  DatasetView selectVars(const std::vector<int64_t>& cols) const;

  // Calls f(column, value) for the stored entries of one row of X, columns in this view's
  // numbering, in the base matrix's order (increasing when columns were selected in order).
  template <typename F>
  void forEachInRow(int64_t row, F&& f) const {
    const CsrMatrix& x = base_->X;
    const int64_t r = baseRow(row);
    for (int64_t k = x.indptr[r]; k < x.indptr[r + 1]; ++k) {
      const int32_t c = allCols_ ? x.indices[k] : columnMap_[x.indices[k]];
      if (c >= 0) f(c, x.data[k]);
    }
  }

  // A standalone copy: X, obs, var, obsm and layers of the selected cells and genes.
  Dataset materialize() const;

 private:
  std::shared_ptr<const Dataset> base_;
  bool allRows_ = true, allCols_ = true;
  std::vector<int64_t> rows_;        // base rows, when !allRows_
  std::vector<int64_t> cols_;        // base columns, when !allCols_
  std::vector<int32_t> columnMap_;   // base column -> view column, -1 dropped, when !allCols_
};

}  // namespace cw::io
