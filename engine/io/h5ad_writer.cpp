// h5ad writer: the anndata 0.8 on-disk layout (encoding-type/-version attributes), readable
// by anndata >= 0.8, scanpy and CELLxGENE. Written into a temporary file, then renamed.
#include <cmath>

#include "cellwright/core/atomic_file.h"
#include "cellwright/core/errors.h"
#include "cellwright/io/hdf5_lock.h"
#include "cellwright/io/readers.h"
#include "hdf5_file.h"

namespace cw::io {
namespace {

using h5::Handle;

void encode(hid_t object, const std::string& type, const std::string& version) {
  h5::writeStringAttribute(object, "encoding-type", type);
  h5::writeStringAttribute(object, "encoding-version", version);
}

Handle dictGroup(hid_t parent, const std::string& name) {
  Handle g = h5::createGroup(parent, name);
  encode(g.get(), "dict", "0.1.0");
  return g;
}

void markArray(const Handle& ds) { encode(ds.get(), "array", "0.2.0"); }

bool allIntegral(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x) || x != std::floor(x)) return false;
  return true;
}

template <typename T>
void writeConverted(hid_t g, const char* name, hid_t memType, const std::vector<float>& data,
                    const h5::WriteLayout& layout) {
  std::vector<T> converted(data.begin(), data.end());
  h5::writeArray(g, name, memType, converted.data(), {static_cast<int64_t>(converted.size())}, layout);
}

// Values in `dtype` on disk when it is an integer or float64 type that holds them exactly;
// float32 otherwise.
void writeMatrixValues(hid_t g, const std::vector<float>& data, const std::string& dtype,
                       const h5::WriteLayout& layout) {
  const bool integral = dtype.rfind("int", 0) == 0 || dtype.rfind("uint", 0) == 0;
  if (integral && allIntegral(data)) {
    if (dtype == "int64") return writeConverted<int64_t>(g, "data", H5T_NATIVE_INT64, data, layout);
    if (dtype == "int32") return writeConverted<int32_t>(g, "data", H5T_NATIVE_INT32, data, layout);
    if (dtype == "int16") return writeConverted<int16_t>(g, "data", H5T_NATIVE_INT16, data, layout);
    if (dtype == "uint16") return writeConverted<uint16_t>(g, "data", H5T_NATIVE_UINT16, data, layout);
    if (dtype == "uint32") return writeConverted<uint32_t>(g, "data", H5T_NATIVE_UINT32, data, layout);
    if (dtype == "uint64") return writeConverted<uint64_t>(g, "data", H5T_NATIVE_UINT64, data, layout);
  }
  if (dtype == "float64") return writeConverted<double>(g, "data", H5T_NATIVE_DOUBLE, data, layout);
  h5::writeArray(g, "data", H5T_NATIVE_FLOAT, data.data(), {static_cast<int64_t>(data.size())}, layout);
}

void writeCsr(hid_t parent, const std::string& name, const CsrMatrix& m, const std::string& dtype,
              const h5::WriteLayout& layout) {
  Handle g = h5::createGroup(parent, name);
  encode(g.get(), "csr_matrix", "0.1.0");
  h5::writeInt64ArrayAttribute(g.get(), "shape", {m.rows, m.cols});
  writeMatrixValues(g.get(), m.data, dtype, layout);
  h5::writeArray(g.get(), "indices", H5T_NATIVE_INT32, m.indices.data(), {m.nnz()}, layout);
  h5::writeArray(g.get(), "indptr", H5T_NATIVE_INT64, m.indptr.data(), {static_cast<int64_t>(m.indptr.size())},
                 layout);
}

void writeDense(hid_t parent, const std::string& name, const DenseMatrix& m, const h5::WriteLayout& layout) {
  markArray(h5::writeArray(parent, name, H5T_NATIVE_DOUBLE, m.values.data(), {m.rows, m.cols}, layout));
}

void writeCategorical(hid_t parent, const std::string& name, const std::vector<int32_t>& codes,
                      const std::vector<std::string>& categories, bool ordered, const h5::WriteLayout& layout) {
  Handle g = h5::createGroup(parent, name);
  encode(g.get(), "categorical", "0.2.0");
  h5::writeBoolAttribute(g.get(), "ordered", ordered);
  encode(h5::writeStrings(g.get(), "categories", categories, layout).get(), "string-array", "0.2.0");
  const auto n = static_cast<int64_t>(codes.size());
  // pandas' smallest code type that fits.
  if (categories.size() < 128) {
    std::vector<int8_t> small(codes.begin(), codes.end());
    markArray(h5::writeArray(g.get(), "codes", H5T_NATIVE_INT8, small.data(), {n}, layout));
  } else if (categories.size() < 32768) {
    std::vector<int16_t> mid(codes.begin(), codes.end());
    markArray(h5::writeArray(g.get(), "codes", H5T_NATIVE_INT16, mid.data(), {n}, layout));
  } else {
    markArray(h5::writeArray(g.get(), "codes", H5T_NATIVE_INT32, codes.data(), {n}, layout));
  }
}

bool integralNumbers(const std::vector<double>& v) {
  for (double x : v)
    if (!std::isfinite(x) || x != std::floor(x)) return false;
  return true;
}

void writeNumericColumn(hid_t g, const std::string& name, const Column& c, const h5::WriteLayout& layout) {
  const auto n = static_cast<int64_t>(c.numbers.size());
  const std::string& t = c.dtype;
  const bool integerType = t.rfind("int", 0) == 0 || t.rfind("uint", 0) == 0;
  // Integer columns with missing values (nullable-integer) become float64 with NaN, which
  // anndata 0.8 reads; others keep their dtype.
  if (integerType && integralNumbers(c.numbers)) {
    std::vector<int64_t> v(c.numbers.begin(), c.numbers.end());
    if (t == "int32" || t == "int16" || t == "int8") {
      std::vector<int32_t> v32(v.begin(), v.end());
      markArray(h5::writeArray(g, name, H5T_NATIVE_INT32, v32.data(), {n}, layout));
    } else {
      markArray(h5::writeArray(g, name, H5T_NATIVE_INT64, v.data(), {n}, layout));
    }
  } else if (t == "float32") {
    std::vector<float> v(c.numbers.begin(), c.numbers.end());
    markArray(h5::writeArray(g, name, H5T_NATIVE_FLOAT, v.data(), {n}, layout));
  } else {
    markArray(h5::writeArray(g, name, H5T_NATIVE_DOUBLE, c.numbers.data(), {n}, layout));
  }
}

void writeColumn(hid_t g, const std::string& name, const Column& c, const h5::WriteLayout& layout) {
  switch (c.kind) {
    case Column::Kind::Categorical: return writeCategorical(g, name, c.codes, c.categories, c.ordered, layout);
    case Column::Kind::Numeric: return writeNumericColumn(g, name, c, layout);
    case Column::Kind::String:
      return encode(h5::writeStrings(g, name, c.strings, layout).get(), "string-array", "0.2.0");
    case Column::Kind::Bool: {
      bool anyMissing = false;
      for (int8_t b : c.bools) anyMissing = anyMissing || b < 0;
      if (!anyMissing) return markArray(h5::writeBools(g, name, c.bools, layout));
      // anndata 0.8 has no nullable boolean: a categorical keeps the missing values.
      std::vector<int32_t> codes(c.bools.begin(), c.bools.end());
      return writeCategorical(g, name, codes, {"False", "True"}, false, layout);
    }
  }
}

void writeDataFrame(hid_t parent, const std::string& name, const DataFrame& df, const h5::WriteLayout& layout) {
  Handle g = h5::createGroup(parent, name);
  encode(g.get(), "dataframe", "0.2.0");
  h5::writeStringAttribute(g.get(), "_index", "_index");
  h5::writeStringArrayAttribute(g.get(), "column-order", df.columnOrder);
  encode(h5::writeStrings(g.get(), "_index", df.index, layout).get(), "string-array", "0.2.0");
  for (const auto& col : df.columnOrder) {
    if (col == "_index") throw Error("a column may not be named '_index' in an h5ad file");
    writeColumn(g.get(), col, df.at(col), layout);
  }
}

void writeUns(hid_t parent, const std::string& name, const UnsNode& node, const h5::WriteLayout& layout, int depth);

void writeUnsDict(hid_t g, const UnsDict& dict, const h5::WriteLayout& layout, int depth) {
  for (const auto& [key, child] : dict) writeUns(g, key, child, layout, depth + 1);
}

void writeUns(hid_t parent, const std::string& name, const UnsNode& node, const h5::WriteLayout& layout, int depth) {
  if (depth > 64) throw Error("uns nests too deeply to write");
  const auto& v = node.value;
  if (std::holds_alternative<std::monostate>(v)) return;
  if (auto* d = std::get_if<double>(&v)) {
    encode(h5::writeArray(parent, name, H5T_NATIVE_DOUBLE, d, {}).get(), "numeric-scalar", "0.2.0");
  } else if (auto* i = std::get_if<int64_t>(&v)) {
    encode(h5::writeArray(parent, name, H5T_NATIVE_INT64, i, {}).get(), "numeric-scalar", "0.2.0");
  } else if (auto* b = std::get_if<bool>(&v)) {
    encode(h5::writeScalarBool(parent, name, *b).get(), "numeric-scalar", "0.2.0");
  } else if (auto* s = std::get_if<std::string>(&v)) {
    encode(h5::writeScalarString(parent, name, *s).get(), "string", "0.2.0");
  } else if (auto* vd = std::get_if<std::vector<double>>(&v)) {
    markArray(h5::writeArray(parent, name, H5T_NATIVE_DOUBLE, vd->data(), {static_cast<int64_t>(vd->size())}, layout));
  } else if (auto* vi = std::get_if<std::vector<int64_t>>(&v)) {
    markArray(h5::writeArray(parent, name, H5T_NATIVE_INT64, vi->data(), {static_cast<int64_t>(vi->size())}, layout));
  } else if (auto* vs = std::get_if<std::vector<std::string>>(&v)) {
    encode(h5::writeStrings(parent, name, *vs, layout).get(), "string-array", "0.2.0");
  } else if (auto* m = std::get_if<DenseMatrix>(&v)) {
    writeDense(parent, name, *m, layout);
  } else if (auto* csr = std::get_if<CsrMatrix>(&v)) {
    writeCsr(parent, name, *csr, "float64", layout);
  } else if (auto* dict = std::get_if<UnsDict>(&v)) {
    Handle g = dictGroup(parent, name);
    writeUnsDict(g.get(), *dict, layout, depth);
  }
}

void checkShapes(const Dataset& d) {
  d.X.validate("X");
  if (static_cast<int64_t>(d.obs.size()) != d.nObs() || static_cast<int64_t>(d.var.size()) != d.nVars())
    throw Error("cannot write: X is " + std::to_string(d.nObs()) + " x " + std::to_string(d.nVars()) +
                " but obs has " + std::to_string(d.obs.size()) + " and var " + std::to_string(d.var.size()) + " rows");
  for (const auto& [k, m] : d.obsm)
    if (m.rows != d.nObs() || static_cast<int64_t>(m.values.size()) != m.rows * m.cols)
      throw Error("cannot write: obsm['" + k + "'] does not have one row per cell");
  for (const auto& [k, m] : d.layers)
    if (m.rows != d.nObs() || m.cols != d.nVars()) throw Error("cannot write: layers['" + k + "'] is not the shape of X");
}

}  // namespace

void writeH5ad(const Dataset& dataset, const std::filesystem::path& path, const WriteOptions& options,
               Feedback* feedback) {
  checkShapes(dataset);
  const h5::WriteLayout layout{options.compress, 1 << 16};
  writeAtomically(path, [&](const std::filesystem::path& tmp) {
    Hdf5Lock lock(hdf5Mutex());
    Handle file = h5::createFile(tmp);
    const hid_t f = file.get();
    encode(f, "anndata", "0.1.0");
    if (feedback) feedback->setProgress(0.0, "writing X");
    writeCsr(f, "X", dataset.X, dataset.xDtype, layout);
    pollCancel(feedback);
    if (feedback) feedback->setProgress(0.5, "writing tables");
    writeDataFrame(f, "obs", dataset.obs, layout);
    writeDataFrame(f, "var", dataset.var, layout);
    {
      Handle g = dictGroup(f, "obsm");
      for (const auto& [k, m] : dataset.obsm) writeDense(g.get(), k, m, layout);
    }
    {
      Handle g = dictGroup(f, "varm");
      for (const auto& [k, m] : dataset.varm) writeDense(g.get(), k, m, layout);
    }
    {
      Handle g = dictGroup(f, "obsp");
      for (const auto& [k, m] : dataset.obsp) writeCsr(g.get(), k, m, "float32", layout);
    }
    dictGroup(f, "varp");
    pollCancel(feedback);
    if (feedback) feedback->setProgress(0.7, "writing layers");
    {
      Handle g = dictGroup(f, "layers");
      for (const auto& [k, m] : dataset.layers) writeCsr(g.get(), k, m, "float32", layout);
    }
    if (dataset.raw) {
      Handle g = h5::createGroup(f, "raw");
      encode(g.get(), "raw", "0.1.0");
      writeCsr(g.get(), "X", dataset.raw->X, "float32", layout);
      writeDataFrame(g.get(), "var", dataset.raw->var, layout);
      dictGroup(g.get(), "varm");
    }
    {
      Handle g = dictGroup(f, "uns");
      writeUnsDict(g.get(), dataset.uns, layout, 0);
    }
    pollCancel(feedback);
    file.reset();  // flush and close before the rename
    if (feedback) feedback->setProgress(1.0, "written");
  });
}

}  // namespace cw::io
