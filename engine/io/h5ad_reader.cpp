// AnnData .h5ad reader: the anndata >= 0.7 "encoding-type" layout, anndata >= 0.10's
// nullable and string-array encodings, and the legacy layouts (h5sparse X, categoricals
// as codes with `__categories/<col>` or `uns/<col>_categories`).
#include <algorithm>
#include <cmath>
#include <set>

#include "cellwright/core/errors.h"
#include "cellwright/io/hdf5_lock.h"
#include "format_readers.h"
#include "h5ad_read_parts.h"
#include "hdf5_file.h"
#include "parallel_read.h"

namespace cw::io {
namespace {

using h5::Handle;

std::string encodingOf(hid_t object) { return h5::readStringAttribute(object, "encoding-type").value_or(""); }

// Path of `name` inside `parent` for messages ("obs/cell_type").
std::string join(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "/" + name;
}

// Narrows 64-bit column indices, refusing ones that do not fit the matrix.
// 32-bit ones are scanned into `scan` as they arrive (into `buffer` when it has their length).
bool fitsInt32(const h5::TypeInfo& type) { return type.cls == h5::TypeInfo::Class::Integer && type.size <= 4; }

std::vector<int32_t> readIndices(hid_t dataset, int64_t limit, const std::string& what, PiecewiseIndexScan& scan,
                                 bool& scanned, std::vector<int32_t> buffer) {
  const auto type = h5::datasetType(dataset);
  if (type.cls != h5::TypeInfo::Class::Integer && type.cls != h5::TypeInfo::Class::Unsigned)
    throw Error(what + " is corrupt: its indices are " + type.numpyName() + ", not integers");
  if (fitsInt32(type)) {
    scanned = true;
    return h5::readInt32(
        dataset,
        [&scan](const void* piece, int64_t begin, int64_t end) {
          scan.addPiece(static_cast<const int32_t*>(piece), begin, end);
        },
        std::move(buffer));
  }
  auto wide = h5::readInt64(dataset);
  std::vector<int32_t> out(wide.size());
  for (size_t i = 0; i < wide.size(); ++i) {
    if (wide[i] < 0 || wide[i] >= limit)
      throw Error(what + " is corrupt: index " + std::to_string(wide[i]) + " outside 0.." + std::to_string(limit - 1));
    out[i] = static_cast<int32_t>(wide[i]);
  }
  return out;
}

struct MatrixRead {
  CsrMatrix matrix;
  std::string dtype;
  bool valuesScanned = false;  // the PiecewiseValueScan passed in describes matrix.data
};

// With `valueScan`, the values are scanned (ValueScan) as they are read.
MatrixRead readSparseGroup(hid_t group, bool csc, std::vector<int64_t> shape, const std::string& what,
                           PiecewiseValueScan* valueScan) {
  if (shape.size() != 2 || shape[0] < 0 || shape[1] < 0)
    throw Error(what + " is corrupt: its sparse matrix has no valid 'shape'");
  for (const char* part : {"data", "indices", "indptr"})
    if (!h5::isDataset(group, part)) throw Error(what + " is corrupt: its sparse matrix has no '" + part + "'");
  Handle data = h5::openDataset(group, "data");
  Handle indices = h5::openDataset(group, "indices");
  Handle indptr = h5::openDataset(group, "indptr");
  // Sizes first, so a forged length never drives an allocation or a read.
  const auto nData = h5::datasetShape(data.get());
  const auto nIndices = h5::datasetShape(indices.get());
  const auto nIndptr = h5::datasetShape(indptr.get());
  const int64_t major = csc ? shape[1] : shape[0];
  const int64_t minor = csc ? shape[0] : shape[1];
  if (nData.size() != 1 || nIndices.size() != 1 || nIndptr.size() != 1)
    throw Error(what + " is corrupt: sparse arrays must be one-dimensional");
  if (nIndptr[0] != major + 1)
    throw Error(what + " is corrupt: indptr has " + std::to_string(nIndptr[0]) + " entries for " +
                std::to_string(major) + (csc ? " columns" : " rows"));
  if (nData[0] != nIndices[0]) throw Error(what + " is corrupt: data and indices lengths differ");
  if (minor > INT32_MAX) throw Error(what + " has more than 2^31 columns, which Cellwright does not support");

  MatrixRead out;
  const auto dataType = h5::datasetType(data.get());
  if (dataType.cls == h5::TypeInfo::Class::String || dataType.cls == h5::TypeInfo::Class::Other)
    throw Error(what + " is corrupt: its values are " + dataType.numpyName() + ", not numbers");
  out.dtype = dataType.numpyName();
  CsrMatrix m;
  m.rows = major;
  m.cols = minor;
  m.indptr = h5::readInt64(indptr.get());
  // The two big buffers get their memory at once (see resizeForOverwrite).
  std::vector<int32_t> indexBuffer;
  std::vector<float> valueBuffer;
  if (fitsInt32(h5::datasetType(indices.get())))
    h5::resizeForOverwrite(indexBuffer, static_cast<size_t>(nIndices[0]), valueBuffer, static_cast<size_t>(nData[0]));
  PiecewiseIndexScan indexScan;
  bool indicesScanned = false;
  m.indices = readIndices(indices.get(), minor, what, indexScan, indicesScanned, std::move(indexBuffer));
  h5::PieceVisitor scanValues;
  if (valueScan)
    scanValues = [valueScan](const void* piece, int64_t begin, int64_t end) {
      valueScan->addPiece(static_cast<const float*>(piece), end - begin);
    };
  m.data = h5::readFloats(data.get(), scanValues, std::move(valueBuffer));
  out.valuesScanned = valueScan != nullptr;
  if (csc) {
    m.validate(what);
    out.matrix = transposeCsr(m);
  } else {
    // Summed duplicates would make the value scan stale.
    if (validateAndCanonicalize(m, what, indicesScanned ? &indexScan : nullptr)) out.valuesScanned = false;
    out.matrix = std::move(m);
  }
  return out;
}

MatrixRead readDense(hid_t dataset, const std::string& what) {
  const auto shape = h5::datasetShape(dataset);
  const auto type = h5::datasetType(dataset);
  if (type.cls == h5::TypeInfo::Class::String || type.cls == h5::TypeInfo::Class::Other)
    throw Error(what + " holds " + type.numpyName() + ", not numbers");
  MatrixRead out;
  out.dtype = type.numpyName();
  CsrMatrix& m = out.matrix;
  if (shape.size() == 1) {
    m.rows = shape[0];
    m.cols = 1;
  } else if (shape.size() == 2) {
    m.rows = shape[0];
    m.cols = shape[1];
  } else {
    throw Error(what + " is a " + std::to_string(shape.size()) + "-D array, expected a matrix");
  }
  m.indptr.assign(1, 0);
  m.indptr.reserve(m.rows + 1);
  // Row blocks keep peak memory near one block plus the sparse result.
  const int64_t rowsPerBlock = std::max<int64_t>(1, (int64_t(1) << 22) / std::max<int64_t>(1, m.cols));
  for (int64_t start = 0; start < m.rows; start += rowsPerBlock) {
    const int64_t count = std::min(rowsPerBlock, m.rows - start);
    std::vector<float> block = shape.size() == 2 ? h5::readFloatRows(dataset, start, count)
                                                 : h5::readFloatsSlab(dataset, start, count);
    for (int64_t r = 0; r < count; ++r) {
      for (int64_t c = 0; c < m.cols; ++c) {
        const float v = block[r * m.cols + c];
        if (v != 0.0f) {
          m.indices.push_back(static_cast<int32_t>(c));
          m.data.push_back(v);
        }
      }
      m.indptr.push_back(static_cast<int64_t>(m.data.size()));
    }
  }
  return out;
}

// X, a layer, a graph or raw/X: sparse group (any layout) or dense dataset.
MatrixRead readMatrix(hid_t parent, const std::string& path, PiecewiseValueScan* valueScan = nullptr) {
  if (h5::isDataset(parent, path)) {
    Handle ds = h5::openDataset(parent, path);
    return readDense(ds.get(), path);
  }
  if (!h5::isGroup(parent, path)) throw Error("the file has no matrix '" + path + "'");
  Handle g = h5::openGroup(parent, path);
  std::string enc = encodingOf(g.get());
  std::vector<int64_t> shape = h5::readIntArrayAttribute(g.get(), "shape");
  if (enc.empty()) {
    // Legacy anndata (< 0.7) used h5sparse's attributes.
    enc = h5::readStringAttribute(g.get(), "h5sparse_format").value_or("");
    if (!enc.empty()) enc += "_matrix";
    shape = h5::readIntArrayAttribute(g.get(), "h5sparse_shape");
  }
  if (enc == "csr_matrix") return readSparseGroup(g.get(), false, shape, path, valueScan);
  if (enc == "csc_matrix") return readSparseGroup(g.get(), true, shape, path, valueScan);
  throw Error("'" + path + "' has an unknown encoding '" + enc + "' (expected a sparse or dense matrix)");
}

std::string formatNumber(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Categories are usually strings; numeric ones are shown as text.
std::vector<std::string> readCategoryValues(hid_t dataset) {
  const auto type = h5::datasetType(dataset);
  if (type.cls == h5::TypeInfo::Class::String) return h5::readStrings(dataset);
  if (type.cls == h5::TypeInfo::Class::Bool) {
    std::vector<std::string> out;
    for (int8_t b : h5::readBools(dataset)) out.push_back(b ? "True" : "False");
    return out;
  }
  std::vector<std::string> out;
  for (double v : h5::readDoubles(dataset)) out.push_back(formatNumber(v));
  return out;
}

Column categoricalFrom(std::vector<int32_t> codes, std::vector<std::string> categories, const std::string& what) {
  const auto n = static_cast<int32_t>(categories.size());
  for (int32_t c : codes)
    if (c < -1 || c >= n)
      throw Error(what + " is corrupt: category code " + std::to_string(c) + " but only " + std::to_string(n) +
                  " categories");
  return Column::categorical(std::move(codes), std::move(categories));
}

Column readDatasetColumn(hid_t dataset, const std::string& what) {
  const auto shape = h5::datasetShape(dataset);
  if (shape.size() != 1) throw Error(what + " should be one value per row");
  const auto type = h5::datasetType(dataset);
  switch (type.cls) {
    case h5::TypeInfo::Class::String: return Column::text(h5::readStrings(dataset));
    case h5::TypeInfo::Class::Bool: {
      Column c;
      c.kind = Column::Kind::Bool;
      c.bools = h5::readBools(dataset);
      c.dtype = "bool";
      return c;
    }
    case h5::TypeInfo::Class::Integer:
    case h5::TypeInfo::Class::Unsigned:
    case h5::TypeInfo::Class::Float: return Column::numeric(h5::readDoubles(dataset), type.numpyName());
    case h5::TypeInfo::Class::Other: break;
  }
  throw Error(what + " has an unsupported type");
}

// A column stored as a group: categorical, nullable-integer/-boolean, nullable string-array.
std::optional<Column> readGroupColumn(hid_t group, const std::string& what, Warnings& warnings) {
  const std::string enc = encodingOf(group);
  if (enc == "categorical") {
    Handle codes = h5::openDataset(group, "codes");
    Handle cats = h5::openDataset(group, "categories");
    Column c = categoricalFrom(h5::readInt32(codes.get()), readCategoryValues(cats.get()), what);
    c.ordered = h5::readBoolAttribute(group, "ordered").value_or(false);
    return c;
  }
  if (enc == "nullable-integer" || enc == "nullable-boolean" || enc == "nullable-string-array") {
    Handle values = h5::openDataset(group, "values");
    Handle maskDs = h5::openDataset(group, "mask");
    const auto mask = h5::readBools(maskDs.get());
    Column c;
    if (enc == "nullable-integer") {
      c = Column::numeric(h5::readDoubles(values.get()), h5::datasetType(values.get()).numpyName());
      if (mask.size() != c.numbers.size()) throw Error(what + " is corrupt: values and mask lengths differ");
      for (size_t i = 0; i < mask.size(); ++i)
        if (mask[i]) c.numbers[i] = std::nan("");
    } else if (enc == "nullable-boolean") {
      c.kind = Column::Kind::Bool;
      c.dtype = "bool";
      c.bools = h5::readBools(values.get());
      if (mask.size() != c.bools.size()) throw Error(what + " is corrupt: values and mask lengths differ");
      for (size_t i = 0; i < mask.size(); ++i)
        if (mask[i]) c.bools[i] = -1;
    } else {
      c = Column::text(h5::readStrings(values.get()));
      if (mask.size() != c.strings.size()) throw Error(what + " is corrupt: values and mask lengths differ");
      for (size_t i = 0; i < mask.size(); ++i)
        if (mask[i]) c.strings[i].clear();
    }
    return c;
  }
  warnings.push_back("skipped column '" + what + "': unsupported encoding '" + enc + "'");
  return std::nullopt;
}

// anndata < 0.7: the table is one compound dataset, a field 'index' with the names and one
// field per column (categoricals as integer codes, their categories in uns['<col>_categories'],
// applied later by applyUnsCategories).
DataFrame readRecordFrame(hid_t dataset, const std::string& path, Warnings& warnings) {
  const auto members = h5::compoundMembers(dataset);
  if (members.empty() || h5::datasetShape(dataset).size() != 1)
    throw Error("'" + path + "' is neither a table group nor a table of records (corrupt file?)");
  DataFrame df;
  using C = h5::TypeInfo::Class;
  for (const auto& member : members) {
    const std::string what = join(path, member.name);
    std::optional<Column> column;
    if (member.type.cls == C::String && !member.type.variableString) {
      auto text = h5::readCompoundStrings(dataset, member.name);
      if (member.name == "index") {
        df.index = std::move(text);
        continue;
      }
      column = Column::text(std::move(text));
    } else if (member.type.cls == C::Integer || member.type.cls == C::Unsigned || member.type.cls == C::Float) {
      column = Column::numeric(h5::readCompoundNumbers(dataset, member.name), member.type.numpyName());
    } else if (member.type.cls == C::Bool) {
      Column c;
      c.kind = Column::Kind::Bool;
      c.dtype = "bool";
      for (double v : h5::readCompoundNumbers(dataset, member.name)) c.bools.push_back(v != 0 ? 1 : 0);
      column = std::move(c);
    } else {
      warnings.push_back("skipped column '" + what + "': its type is not supported in this old layout");
      continue;
    }
    df.set(member.name, std::move(*column));
  }
  if (df.index.empty() && !df.columns.empty()) df.index.resize(df.columns.begin()->second.size());
  for (auto& [name, column] : df.columns)
    if (column.size() != df.index.size()) throw Error("'" + join(path, name) + "' does not have one value per row");
  return df;
}

DataFrame readDataFrame(hid_t file, const std::string& path, Warnings& warnings) {
  DataFrame df;
  if (!h5::isGroup(file, path)) {
    if (h5::isDataset(file, path)) {
      Handle ds = h5::openDataset(file, path);
      return readRecordFrame(ds.get(), path, warnings);
    }
    return df;
  }
  Handle g = h5::openGroup(file, path);
  const std::string indexName = h5::readStringAttribute(g.get(), "_index").value_or("_index");
  if (h5::isDataset(g.get(), indexName)) {
    Handle idx = h5::openDataset(g.get(), indexName);
    const auto type = h5::datasetType(idx.get());
    if (type.cls == h5::TypeInfo::Class::String) {
      df.index = h5::readStrings(idx.get());
    } else {
      for (double v : h5::readDoubles(idx.get())) df.index.push_back(formatNumber(v));
    }
  }
  std::vector<std::string> order = h5::readStringArrayAttribute(g.get(), "column-order");
  if (!h5::hasAttribute(g.get(), "column-order")) {
    for (const auto& name : h5::childNames(g.get()))
      if (name != indexName && name != "__categories") order.push_back(name);
  }
  for (const auto& name : order) {
    const std::string what = join(path, name);
    std::optional<Column> column;
    if (h5::isGroup(g.get(), name)) {
      Handle cg = h5::openGroup(g.get(), name);
      column = readGroupColumn(cg.get(), what, warnings);
    } else if (h5::isDataset(g.get(), name)) {
      Handle ds = h5::openDataset(g.get(), name);
      column = readDatasetColumn(ds.get(), what);
      const std::string legacyCats = "__categories/" + name;
      if (h5::isDataset(g.get(), legacyCats)) {
        Handle cats = h5::openDataset(g.get(), legacyCats);
        std::vector<int32_t> codes;
        for (double v : column->numbers) codes.push_back(static_cast<int32_t>(v));
        column = categoricalFrom(std::move(codes), readCategoryValues(cats.get()), what);
      }
    } else {
      throw Error("'" + path + "' lists a column '" + name + "' that is not in the file (corrupt file?)");
    }
    if (!column) continue;
    if (df.index.empty() && df.columns.empty()) df.index.resize(column->size());
    if (column->size() != df.index.size())
      throw Error("'" + what + "' has " + std::to_string(column->size()) + " rows but the table has " +
                  std::to_string(df.index.size()));
    df.set(name, std::move(*column));
  }
  return df;
}

// Very old files kept categories of column <col> in uns['<col>_categories'].
void applyUnsCategories(DataFrame& df, UnsDict& uns) {
  for (auto& name : df.columnOrder) {
    auto it = uns.find(name + "_categories");
    if (it == uns.end()) continue;
    Column& col = df.columns[name];
    auto* cats = std::get_if<std::vector<std::string>>(&it->second.value);
    if (!cats || col.kind != Column::Kind::Numeric) continue;
    std::vector<int32_t> codes;
    for (double v : col.numbers) codes.push_back(std::isnan(v) ? -1 : static_cast<int32_t>(v));
    col = categoricalFrom(std::move(codes), *cats, name);
    uns.erase(it);
  }
}

UnsNode readUnsNode(hid_t parent, const std::string& name, const std::string& what, Warnings& warnings, int depth);

UnsDict readUnsGroup(hid_t group, const std::string& what, Warnings& warnings, int depth) {
  if (depth > 32) throw Error("'" + what + "' nests too deeply (corrupt file?)");
  UnsDict dict;
  for (const auto& child : h5::childNames(group)) {
    UnsNode node = readUnsNode(group, child, join(what, child), warnings, depth + 1);
    if (!std::holds_alternative<std::monostate>(node.value)) dict.emplace(child, std::move(node));
  }
  return dict;
}

UnsNode readUnsNode(hid_t parent, const std::string& name, const std::string& what, Warnings& warnings, int depth) {
  UnsNode node;
  if (h5::isGroup(parent, name)) {
    Handle g = h5::openGroup(parent, name);
    const std::string enc = encodingOf(g.get());
    if (enc == "csr_matrix" || enc == "csc_matrix") {
      node.value = readMatrix(parent, name).matrix;
    } else if (enc.empty() || enc == "dict") {
      node.value = readUnsGroup(g.get(), what, warnings, depth);
    } else {
      warnings.push_back("skipped '" + what + "': encoding '" + enc + "' is not kept in uns");
    }
    return node;
  }
  if (!h5::isDataset(parent, name)) return node;
  Handle ds = h5::openDataset(parent, name);
  const auto shape = h5::datasetShape(ds.get());
  const auto type = h5::datasetType(ds.get());
  using C = h5::TypeInfo::Class;
  if (type.cls == C::Other) {
    warnings.push_back("skipped '" + what + "': record arrays are not kept in uns");
    return node;
  }
  if (shape.empty()) {
    if (type.cls == C::String) node.value = h5::readStrings(ds.get()).at(0);
    else if (type.cls == C::Bool) node.value = h5::readBools(ds.get()).at(0) != 0;
    else if (type.cls == C::Float) node.value = h5::readDoubles(ds.get()).at(0);
    else node.value = h5::readInt64(ds.get()).at(0);
    return node;
  }
  if (shape.size() == 1) {
    if (type.cls == C::String) node.value = h5::readStrings(ds.get());
    else if (type.cls == C::Float) node.value = h5::readDoubles(ds.get());
    else node.value = h5::readInt64(ds.get());
    return node;
  }
  if (shape.size() == 2 && type.cls != C::String) {
    DenseMatrix m;
    m.rows = shape[0];
    m.cols = shape[1];
    m.values = h5::readDoubles(ds.get());
    node.value = std::move(m);
    return node;
  }
  warnings.push_back("skipped '" + what + "': arrays of this shape are not kept in uns");
  return node;
}

std::map<std::string, DenseMatrix> readDenseDict(hid_t file, const std::string& path, int64_t rows,
                                                 Warnings& warnings) {
  std::map<std::string, DenseMatrix> out;
  if (!h5::isGroup(file, path)) return out;
  Handle g = h5::openGroup(file, path);
  for (const auto& key : h5::childNames(g.get())) {
    const std::string what = join(path, key);
    if (!h5::isDataset(g.get(), key)) {
      warnings.push_back("skipped '" + what + "': only dense arrays are kept there");
      continue;
    }
    Handle ds = h5::openDataset(g.get(), key);
    const auto shape = h5::datasetShape(ds.get());
    const auto type = h5::datasetType(ds.get());
    if (shape.empty() || shape.size() > 2 || type.cls == h5::TypeInfo::Class::String ||
        type.cls == h5::TypeInfo::Class::Other) {
      warnings.push_back("skipped '" + what + "': not a numeric matrix");
      continue;
    }
    if (shape[0] != rows)
      throw Error("'" + what + "' has " + std::to_string(shape[0]) + " rows but the data has " + std::to_string(rows));
    DenseMatrix m;
    m.rows = shape[0];
    m.cols = shape.size() == 2 ? shape[1] : 1;
    m.values = h5::readDoubles(ds.get());
    out.emplace(key, std::move(m));
  }
  return out;
}

std::map<std::string, CsrMatrix> readMatrixDict(hid_t file, const std::string& path, int64_t rows, int64_t cols) {
  std::map<std::string, CsrMatrix> out;
  if (!h5::isGroup(file, path)) return out;
  Handle g = h5::openGroup(file, path);
  for (const auto& key : h5::childNames(g.get())) {
    const std::string what = join(path, key);
    MatrixRead m = readMatrix(file, what);
    if (m.matrix.rows != rows || m.matrix.cols != cols)
      throw Error("'" + what + "' is " + std::to_string(m.matrix.rows) + " x " + std::to_string(m.matrix.cols) +
                  " but should be " + std::to_string(rows) + " x " + std::to_string(cols));
    out.emplace(key, std::move(m.matrix));
  }
  return out;
}

}  // namespace

Dataset readH5adFile(const std::filesystem::path& path, const ReadOptions& options, Warnings& warnings,
                     Feedback* feedback, std::optional<ValueScan>* xScan) {
  Hdf5Lock lock(hdf5Mutex());
  Handle file = h5::openFile(path);
  const hid_t f = file.get();
  Dataset d;
  if (feedback) feedback->setProgress(0.0, "reading tables");
  d.obs = readDataFrame(f, "obs", warnings);
  d.var = readDataFrame(f, "var", warnings);
  pollCancel(feedback);
  if (feedback) feedback->setProgress(0.1, "reading X");
  if (h5::exists(f, "X")) {
    PiecewiseValueScan valueScan;
    MatrixRead x = readMatrix(f, "X", xScan ? &valueScan : nullptr);
    if (xScan && x.valuesScanned) *xScan = valueScan.result();
    d.X = std::move(x.matrix);
    d.xDtype = x.dtype;
  } else {
    // anndata allows X = None: an empty matrix of the tables' shape.
    d.X.rows = static_cast<int64_t>(d.obs.size());
    d.X.cols = static_cast<int64_t>(d.var.size());
    d.X.indptr.assign(d.X.rows + 1, 0);
  }
  if (d.obs.index.empty() && d.X.rows > 0)
    for (int64_t i = 0; i < d.X.rows; ++i) d.obs.index.push_back(std::to_string(i));
  if (d.var.index.empty() && d.X.cols > 0)
    for (int64_t i = 0; i < d.X.cols; ++i) d.var.index.push_back(std::to_string(i));
  if (static_cast<int64_t>(d.obs.size()) != d.X.rows || static_cast<int64_t>(d.var.size()) != d.X.cols)
    throw Error("inconsistent shapes: X is " + std::to_string(d.X.rows) + " cells x " + std::to_string(d.X.cols) +
                " genes but obs has " + std::to_string(d.obs.size()) + " and var has " +
                std::to_string(d.var.size()) + " rows");
  pollCancel(feedback);
  if (feedback) feedback->setProgress(0.6, "reading embeddings and layers");
  d.obsm = readDenseDict(f, "obsm", d.nObs(), warnings);
  d.varm = readDenseDict(f, "varm", d.nVars(), warnings);
  if (options.readObsp) d.obsp = readMatrixDict(f, "obsp", d.nObs(), d.nObs());
  if (options.readLayers) d.layers = readMatrixDict(f, "layers", d.nObs(), d.nVars());
  pollCancel(feedback);
  if (options.readRaw && h5::exists(f, "raw/X")) {
    if (feedback) feedback->setProgress(0.75, "reading raw");
    Dataset::Raw raw;
    raw.X = readMatrix(f, "raw/X").matrix;
    raw.var = readDataFrame(f, "raw/var", warnings);
    if (raw.var.index.empty())
      for (int64_t i = 0; i < raw.X.cols; ++i) raw.var.index.push_back(std::to_string(i));
    if (raw.X.rows != d.nObs() || static_cast<int64_t>(raw.var.size()) != raw.X.cols)
      throw Error("inconsistent shapes: raw/X is " + std::to_string(raw.X.rows) + " x " + std::to_string(raw.X.cols) +
                  " for " + std::to_string(d.nObs()) + " cells and " + std::to_string(raw.var.size()) + " raw genes");
    d.raw = std::move(raw);
  }
  if (h5::isGroup(f, "uns")) {
    Handle uns = h5::openGroup(f, "uns");
    UnsDict tree = readUnsGroup(uns.get(), "uns", warnings, 0);
    applyUnsCategories(d.obs, tree);
    applyUnsCategories(d.var, tree);
    if (options.readUns) d.uns = std::move(tree);
  }
  if (feedback) feedback->setProgress(1.0, "read");
  return d;
}

DataFrame readH5adDataFrame(hid_t file, const std::string& path, Warnings& warnings) {
  return readDataFrame(file, path, warnings);
}

}  // namespace cw::io
