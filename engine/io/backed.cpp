#include "cellwright/io/backed.h"

#include <algorithm>
#include <numeric>

#include "cellwright/core/errors.h"
#include "cellwright/core/strings.h"
#include "cellwright/io/hdf5_lock.h"
#include "format_readers.h"
#include "h5ad_read_parts.h"
#include "hdf5_file.h"

namespace cw::io {

struct BackedDataset::Impl {
  h5::Handle file;
  h5::Handle data, indices, dense;
  bool wideIndices = false;
  std::vector<int64_t> indptr;  // empty for dense matrices
  int64_t rows = 0, cols = 0;   // on disk
  std::string dtype, matrixName;
  DataFrame obs, var;
  std::vector<int64_t> keepColumns;  // 10x: the Gene Expression features (empty: all)

  void openSparse(hid_t group, int64_t nRows, int64_t nCols, const std::string& what, size_t cache);
  CsrMatrix read(int64_t start, int64_t count) const;
};

void BackedDataset::Impl::openSparse(hid_t group, int64_t nRows, int64_t nCols, const std::string& what, size_t cache) {
  for (const char* part : {"data", "indices", "indptr"})
    if (!h5::isDataset(group, part)) throw Error(what + " is corrupt: its sparse matrix has no '" + part + "'");
  rows = nRows;
  cols = nCols;
  data = h5::openDatasetCached(group, "data", cache);
  indices = h5::openDatasetCached(group, "indices", cache);
  h5::Handle ptr = h5::openDataset(group, "indptr");
  const auto nData = h5::datasetShape(data.get());
  const auto nIndices = h5::datasetShape(indices.get());
  const auto nPtr = h5::datasetShape(ptr.get());
  if (nData.size() != 1 || nIndices.size() != 1 || nPtr.size() != 1 || nData[0] != nIndices[0] || nPtr[0] != rows + 1)
    throw Error(what + " is corrupt: its sparse arrays do not match its shape");
  indptr = h5::readInt64(ptr.get());
  if (indptr.front() != 0 || indptr.back() != nData[0]) throw Error(what + " is corrupt: indptr does not cover the data");
  for (int64_t r = 0; r < rows; ++r)
    if (indptr[r + 1] < indptr[r]) throw Error(what + " is corrupt: indptr decreases at row " + std::to_string(r));
  const auto type = h5::datasetType(indices.get());
  wideIndices = !(type.cls == h5::TypeInfo::Class::Integer && type.size <= 4);
  dtype = h5::datasetType(data.get()).numpyName();
}

CsrMatrix BackedDataset::Impl::read(int64_t start, int64_t count) const {
  if (start < 0 || count < 0 || start + count > rows)
    throw Error("cells " + std::to_string(start) + ".." + std::to_string(start + count) + " are outside the " +
                std::to_string(rows) + " cells of the file");
  CsrMatrix m;
  m.rows = count;
  m.cols = cols;
  Hdf5Lock lock(hdf5Mutex());
  if (dense.valid()) {
    const auto block = h5::readFloatRows(dense.get(), start, count);
    m.indptr.assign(1, 0);
    for (int64_t r = 0; r < count; ++r) {
      for (int64_t c = 0; c < cols; ++c)
        if (block[r * cols + c] != 0.0f) {
          m.indices.push_back(static_cast<int32_t>(c));
          m.data.push_back(block[r * cols + c]);
        }
      m.indptr.push_back(m.nnz());
    }
  } else {
    const int64_t first = indptr[start], last = indptr[start + count];
    m.indptr.resize(count + 1);
    for (int64_t r = 0; r <= count; ++r) m.indptr[r] = indptr[start + r] - first;
    m.data = h5::readFloatsSlab(data.get(), first, last - first);
    if (wideIndices) {
      const auto wide = h5::readInt64Slab(indices.get(), first, last - first);
      m.indices.resize(wide.size());
      for (size_t k = 0; k < wide.size(); ++k) {
        if (wide[k] < 0 || wide[k] >= cols)
          throw Error(matrixName + " is corrupt: index " + std::to_string(wide[k]) + " outside 0.." + std::to_string(cols - 1));
        m.indices[k] = static_cast<int32_t>(wide[k]);
      }
    } else {
      m.indices = h5::readInt32Slab(indices.get(), first, last - first);
    }
    validateAndCanonicalize(m, matrixName);
  }
  if (!keepColumns.empty()) m = m.selectColumns(keepColumns);
  return m;
}

BackedDataset::BackedDataset(const std::filesystem::path& path, const BackedOptions& options)
    : impl_(std::make_unique<Impl>()) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error("file not found: '" + path.string() + "'");
  const FileFormat format = detectFormat(path);
  if (format != FileFormat::H5ad && format != FileFormat::TenxH5)
    throw Error("backed reading needs an h5ad or 10x .h5 file; convert '" + path.filename().string() + "' first");
  Hdf5Lock lock(hdf5Mutex());
  Impl& d = *impl_;
  d.file = h5::openFile(path);
  const hid_t f = d.file.get();
  const size_t cache = options.chunkCacheBytes;
  if (format == FileFormat::TenxH5) {
    if (!h5::isGroup(f, "matrix")) throw Error("backed reading of 10x files needs the Cell Ranger 3+ layout");
    h5::Handle g = h5::openGroup(f, "matrix");
    h5::Handle shapeDs = h5::openDataset(g.get(), "shape");
    const auto shape = h5::readInt64(shapeDs.get());
    if (shape.size() != 2) throw Error("'" + path.filename().string() + "' is corrupt: bad 'shape'");
    d.matrixName = "matrix";
    d.openSparse(g.get(), shape[1], shape[0], "'" + path.filename().string() + "'", cache);
    auto strings = [&](const char* name) {
      h5::Handle ds = h5::openDataset(g.get(), name);
      return h5::readStrings(ds.get());
    };
    d.obs.index = strings("barcodes");
    d.var.index = strings("features/name");
    d.var.set("gene_ids", Column::text(strings("features/id")));
    if (h5::exists(g.get(), "features/feature_type")) {
      const auto types = strings("features/feature_type");
      d.var.set("feature_types", Column::text(types));
      for (size_t j = 0; j < types.size(); ++j)
        if (types[j] == "Gene Expression") d.keepColumns.push_back(static_cast<int64_t>(j));
      if (d.keepColumns.size() == types.size()) d.keepColumns.clear();
    }
    if (static_cast<int64_t>(d.obs.size()) != d.rows || static_cast<int64_t>(d.var.size()) != d.cols)
      throw Error("'" + path.filename().string() + "' is corrupt: barcode or feature lists do not match the matrix");
    if (!d.keepColumns.empty()) d.var = d.var.selectRows(d.keepColumns);
  } else {
    Warnings warnings;
    d.obs = readH5adDataFrame(f, "obs", warnings);
    d.var = readH5adDataFrame(f, "var", warnings);
    std::string name = options.matrix;
    if (name.empty()) name = h5::exists(f, "layers/counts") ? "layers/counts" : "X";
    if (!h5::exists(f, name)) throw Error("'" + path.filename().string() + "' has no matrix '" + name + "'");
    d.matrixName = name;
    if (h5::isDataset(f, name)) {
      d.dense = h5::openDatasetCached(f, name, cache);
      const auto shape = h5::datasetShape(d.dense.get());
      if (shape.size() != 2) throw Error("'" + name + "' is not a matrix");
      d.rows = shape[0];
      d.cols = shape[1];
      d.dtype = h5::datasetType(d.dense.get()).numpyName();
    } else {
      h5::Handle g = h5::openGroup(f, name);
      const std::string enc = h5::readStringAttribute(g.get(), "encoding-type").value_or("");
      if (enc == "csc_matrix")
        throw Error("'" + name + "' is stored by gene (CSC); backed reading needs cells as rows: run "
                    "'cellwright-cli convert' first");
      if (enc != "csr_matrix") throw Error("'" + name + "' has an unknown encoding '" + enc + "'");
      const auto shape = h5::readIntArrayAttribute(g.get(), "shape");
      if (shape.size() != 2) throw Error("'" + name + "' is corrupt: no valid 'shape'");
      d.openSparse(g.get(), shape[0], shape[1], name, cache);
    }
    if (d.obs.index.empty())
      for (int64_t i = 0; i < d.rows; ++i) d.obs.index.push_back(std::to_string(i));
    if (d.var.index.empty())
      for (int64_t i = 0; i < d.cols; ++i) d.var.index.push_back(std::to_string(i));
    if (static_cast<int64_t>(d.obs.size()) != d.rows)
      throw Error("inconsistent shapes: '" + name + "' has " + std::to_string(d.rows) + " cells but obs has " +
                  std::to_string(d.obs.size()));
    const bool raw = startsWith(name, "raw/");
    if (raw) {
      Warnings ignored;
      d.var = readH5adDataFrame(f, "raw/var", ignored);
    }
    if (static_cast<int64_t>(d.var.size()) != d.cols)
      throw Error("inconsistent shapes: '" + name + "' has " + std::to_string(d.cols) + " genes but var has " +
                  std::to_string(d.var.size()));
  }
}

BackedDataset::~BackedDataset() {
  Hdf5Lock lock(hdf5Mutex());
  impl_.reset();
}

int64_t BackedDataset::nObs() const { return impl_->rows; }
int64_t BackedDataset::nVars() const { return static_cast<int64_t>(impl_->var.size()); }
int64_t BackedDataset::nnz() const { return impl_->indptr.empty() ? -1 : impl_->indptr.back(); }
const std::string& BackedDataset::xDtype() const { return impl_->dtype; }
const std::string& BackedDataset::matrixName() const { return impl_->matrixName; }
const DataFrame& BackedDataset::obs() const { return impl_->obs; }
const DataFrame& BackedDataset::var() const { return impl_->var; }

CsrMatrix BackedDataset::readRows(int64_t start, int64_t count) const { return impl_->read(start, count); }

CsrMatrix BackedDataset::readRows(const std::vector<int64_t>& rows) const {
  // Read sorted runs of consecutive cells, then put the rows back in the requested order.
  std::vector<int64_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return rows[a] < rows[b]; });
  std::vector<CsrMatrix> runs;
  std::vector<std::pair<size_t, int64_t>> where(rows.size());  // run, row within run
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    while (j < order.size() && rows[order[j]] <= rows[order[j - 1]] + 1) ++j;
    const int64_t first = rows[order[i]];
    runs.push_back(impl_->read(first, rows[order[j - 1]] - first + 1));
    for (size_t k = i; k < j; ++k) where[order[k]] = {runs.size() - 1, rows[order[k]] - first};
    i = j;
  }
  CsrMatrix out;
  out.rows = static_cast<int64_t>(rows.size());
  out.cols = nVars();
  for (const auto& [run, r] : where) {
    const CsrMatrix& m = runs[run];
    out.indices.insert(out.indices.end(), m.indices.begin() + m.indptr[r], m.indices.begin() + m.indptr[r + 1]);
    out.data.insert(out.data.end(), m.data.begin() + m.indptr[r], m.data.begin() + m.indptr[r + 1]);
    out.indptr.push_back(out.nnz());
  }
  return out;
}

void BackedDataset::forEachChunk(int64_t cellsPerChunk, const std::function<void(int64_t, const CsrMatrix&)>& visit,
                                 Feedback* feedback) const {
  const int64_t step = std::max<int64_t>(1, cellsPerChunk);
  for (int64_t start = 0; start < nObs(); start += step) {
    pollCancel(feedback);
    const int64_t count = std::min(step, nObs() - start);
    visit(start, impl_->read(start, count));
    if (feedback) feedback->setProgress(double(start + count) / double(nObs()), "reading cells");
  }
}

}  // namespace cw::io
