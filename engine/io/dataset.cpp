#include "cellwright/io/dataset.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "cellwright/core/errors.h"
#include "matrix_scans.h"

namespace cw {

void CsrMatrix::validate(const std::string& what) const {
  auto fail = [&](const std::string& why) { throw Error(what + " is corrupt: " + why); };
  if (rows < 0 || cols < 0) fail("negative shape");
  if (static_cast<int64_t>(indptr.size()) != rows + 1)
    fail("indptr has " + std::to_string(indptr.size()) + " entries, expected " + std::to_string(rows + 1));
  if (indices.size() != data.size()) fail("indices and data lengths differ");
  if (indptr.front() != 0) fail("indptr does not start at 0");
  for (int64_t r = 0; r < rows; ++r)
    if (indptr[r + 1] < indptr[r]) fail("indptr decreases at row " + std::to_string(r));
  if (indptr.back() != static_cast<int64_t>(data.size()))
    fail("indptr ends at " + std::to_string(indptr.back()) + " but " + std::to_string(data.size()) +
         " values are stored");
  // Min/max in one vectorised pass, split over threads for large matrices.
  int32_t lo = 0, hi = 0;
  if (!indices.empty()) {
    const io::IndexScan range = io::indexRange(indices);
    lo = range.lo;
    hi = range.hi;
  }
  if (lo < 0 || hi >= cols)
    fail("column index " + std::to_string(lo < 0 ? lo : hi) + " outside 0.." + std::to_string(cols - 1));
}

CsrMatrix CsrMatrix::selectRows(const std::vector<int64_t>& rowIndices) const {
  CsrMatrix out;
  out.rows = static_cast<int64_t>(rowIndices.size());
  out.cols = cols;
  out.indptr.assign(1, 0);
  out.indptr.reserve(rowIndices.size() + 1);
  int64_t total = 0;
  for (int64_t r : rowIndices) total += indptr[r + 1] - indptr[r];
  out.indices.reserve(total);
  out.data.reserve(total);
  for (int64_t r : rowIndices) {
    out.indices.insert(out.indices.end(), indices.begin() + indptr[r], indices.begin() + indptr[r + 1]);
    out.data.insert(out.data.end(), data.begin() + indptr[r], data.begin() + indptr[r + 1]);
    out.indptr.push_back(static_cast<int64_t>(out.data.size()));
  }
  return out;
}

CsrMatrix CsrMatrix::selectColumns(const std::vector<int64_t>& colIndices) const {
  std::vector<int32_t> newIndex(cols, -1);
  for (size_t j = 0; j < colIndices.size(); ++j) newIndex[colIndices[j]] = static_cast<int32_t>(j);
  CsrMatrix out;
  out.rows = rows;
  out.cols = static_cast<int64_t>(colIndices.size());
  out.indptr.assign(1, 0);
  out.indptr.reserve(rows + 1);
  std::vector<std::pair<int32_t, float>> row;
  for (int64_t r = 0; r < rows; ++r) {
    row.clear();
    for (int64_t k = indptr[r]; k < indptr[r + 1]; ++k)
      if (newIndex[indices[k]] >= 0) row.emplace_back(newIndex[indices[k]], data[k]);
    std::sort(row.begin(), row.end());
    for (auto& [c, v] : row) {
      out.indices.push_back(c);
      out.data.push_back(v);
    }
    out.indptr.push_back(static_cast<int64_t>(out.data.size()));
  }
  return out;
}

size_t Column::size() const {
  switch (kind) {
    case Kind::Categorical: return codes.size();
    case Kind::Numeric: return numbers.size();
    case Kind::String: return strings.size();
    case Kind::Bool: return bools.size();
  }
  return 0;
}

Column Column::categorical(std::vector<int32_t> codes, std::vector<std::string> categories) {
  Column c;
  c.kind = Kind::Categorical;
  c.codes = std::move(codes);
  c.categories = std::move(categories);
  return c;
}

Column Column::numeric(std::vector<double> numbers, std::string dtype) {
  Column c;
  c.kind = Kind::Numeric;
  c.numbers = std::move(numbers);
  c.dtype = std::move(dtype);
  return c;
}

Column Column::text(std::vector<std::string> strings) {
  Column c;
  c.kind = Kind::String;
  c.strings = std::move(strings);
  return c;
}

std::string Column::valueAsString(size_t i) const {
  switch (kind) {
    case Kind::Categorical: return codes[i] < 0 ? std::string() : categories[codes[i]];
    case Kind::Numeric: {
      if (std::isnan(numbers[i])) return {};
      std::ostringstream ss;
      ss << numbers[i];
      return ss.str();
    }
    case Kind::String: return strings[i];
    case Kind::Bool: return bools[i] < 0 ? std::string() : (bools[i] ? "True" : "False");
  }
  return {};
}

Column Column::selectRows(const std::vector<int64_t>& rowIndices) const {
  Column out = *this;
  auto pick = [&](auto& dst, const auto& src) {
    dst.clear();
    dst.reserve(rowIndices.size());
    for (int64_t r : rowIndices) dst.push_back(src[r]);
  };
  switch (kind) {
    case Kind::Categorical: pick(out.codes, codes); break;
    case Kind::Numeric: pick(out.numbers, numbers); break;
    case Kind::String: pick(out.strings, strings); break;
    case Kind::Bool: pick(out.bools, bools); break;
  }
  return out;
}

const Column& DataFrame::at(const std::string& name) const {
  auto it = columns.find(name);
  if (it == columns.end()) {
    std::string available;
    for (const auto& n : columnOrder) available += (available.empty() ? "" : ", ") + n;
    throw Error("no column '" + name + "' (available: " + (available.empty() ? "none" : available) + ")");
  }
  return it->second;
}

void DataFrame::set(const std::string& name, Column column) {
  if (!columns.count(name)) columnOrder.push_back(name);
  columns[name] = std::move(column);
}

DataFrame DataFrame::selectRows(const std::vector<int64_t>& rowIndices) const {
  DataFrame out;
  out.columnOrder = columnOrder;
  out.index.reserve(rowIndices.size());
  for (int64_t r : rowIndices) out.index.push_back(index[r]);
  for (const auto& [name, col] : columns) out.columns[name] = col.selectRows(rowIndices);
  return out;
}

UnsDict& UnsNode::dict() {
  if (!isDict()) value = UnsDict{};
  return std::get<UnsDict>(value);
}

const UnsDict& UnsNode::dict() const { return std::get<UnsDict>(value); }

const char* countsSourceName(CountsSource source) {
  switch (source) {
    case CountsSource::X: return "X";
    case CountsSource::LayersCounts: return "layers/counts";
    case CountsSource::RawX: return "raw/X";
    case CountsSource::None: return "";
  }
  return "";
}

const CsrMatrix* Dataset::counts() const {
  switch (countsSource) {
    case CountsSource::X: return &X;
    case CountsSource::LayersCounts: return &layers.at("counts");
    case CountsSource::RawX: return raw ? &raw->X : nullptr;
    case CountsSource::None: return nullptr;
  }
  return nullptr;
}

static DenseMatrix selectDenseRows(const DenseMatrix& m, const std::vector<int64_t>& rows) {
  DenseMatrix out;
  out.rows = static_cast<int64_t>(rows.size());
  out.cols = m.cols;
  out.values.reserve(out.rows * out.cols);
  for (int64_t r : rows) out.values.insert(out.values.end(), m.values.begin() + r * m.cols, m.values.begin() + (r + 1) * m.cols);
  return out;
}

Dataset Dataset::selectObs(const std::vector<int64_t>& rowIndices) const {
  Dataset out;
  out.X = X.selectRows(rowIndices);
  out.xDtype = xDtype;
  out.obs = obs.selectRows(rowIndices);
  out.var = var;
  out.varm = varm;
  for (const auto& [k, m] : obsm) out.obsm[k] = selectDenseRows(m, rowIndices);
  for (const auto& [k, m] : layers) out.layers[k] = m.selectRows(rowIndices);
  if (raw) out.raw = Raw{raw->X.selectRows(rowIndices), raw->var};
  // obsp graphs are cell × cell: a subset would need both axes; dropped as anndata's view does not.
  for (const auto& [k, m] : obsp) {
    CsrMatrix rowsOnly = m.selectRows(rowIndices);
    out.obsp[k] = rowsOnly.selectColumns(rowIndices);
  }
  out.uns = uns;
  out.countsSource = countsSource;
  return out;
}

bool looksLikeCounts(const CsrMatrix& matrix) {
  // Branch-free blocks so the compiler vectorises (std::floor would be a libm call per value):
  // a float of 2^23 or more is always whole; below that, truncation must give it back.
  const float* v = matrix.data.data();
  const size_t n = matrix.data.size();
  constexpr float kAllWhole = 8388608.0f;
  for (size_t start = 0; start < n; start += 4096) {
    const size_t end = std::min(n, start + 4096);
    int bad = 0;
    for (size_t i = start; i < end; ++i) {
      const float x = v[i];
      const bool inRange = (x >= 0.0f) & (x < kAllWhole);
      const float small = inRange ? x : 0.0f;
      const bool whole = (x >= kAllWhole) | (static_cast<float>(static_cast<int32_t>(small)) == x);
      bad |= static_cast<int>(!((x >= 0.0f) & whole));
    }
    if (bad) return false;
  }
  return true;
}

CountsSource detectCountsSource(const Dataset& dataset) {
  auto it = dataset.layers.find("counts");
  if (it != dataset.layers.end() && looksLikeCounts(it->second)) return CountsSource::LayersCounts;
  if (dataset.X.rows > 0 && looksLikeCounts(dataset.X)) return CountsSource::X;
  if (dataset.raw && looksLikeCounts(dataset.raw->X)) return CountsSource::RawX;
  return CountsSource::None;
}

}  // namespace cw
