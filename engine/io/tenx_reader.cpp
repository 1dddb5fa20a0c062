// 10x Genomics HDF5 (Cell Ranger >= 3 "matrix/" layout and the v2 one-group-per-genome
// layout). The file stores genes x barcodes in CSC, which is cells x genes in CSR: the
// arrays are used as they are. Var names are the gene symbols (made unique later), IDs go
// to var['gene_ids'], as scanpy's read_10x_h5.
#include <algorithm>

#include "cellwright/core/errors.h"
#include "cellwright/io/hdf5_lock.h"
#include "format_readers.h"
#include "hdf5_file.h"

namespace cw::io {
namespace {

using h5::Handle;

std::vector<std::string> readStringsAt(hid_t group, const std::string& name, const std::string& file) {
  if (!h5::isDataset(group, name))
    throw Error("'" + file + "' is not a complete 10x Genomics file: '" + name + "' is missing");
  Handle ds = h5::openDataset(group, name);
  return h5::readStrings(ds.get());
}

CsrMatrix readCscArrays(hid_t group, int64_t nGenes, int64_t nCells, std::string& dtype, const std::string& what) {
  for (const char* part : {"data", "indices", "indptr"})
    if (!h5::isDataset(group, part)) throw Error(what + " is corrupt: '" + part + "' is missing");
  Handle data = h5::openDataset(group, "data");
  Handle indices = h5::openDataset(group, "indices");
  Handle indptr = h5::openDataset(group, "indptr");
  const auto nData = h5::datasetShape(data.get());
  const auto nIndices = h5::datasetShape(indices.get());
  const auto nIndptr = h5::datasetShape(indptr.get());
  if (nData.size() != 1 || nIndices.size() != 1 || nIndptr.size() != 1 || nData[0] != nIndices[0] ||
      nIndptr[0] != nCells + 1)
    throw Error(what + " is corrupt: its sparse arrays do not match its shape");
  dtype = h5::datasetType(data.get()).numpyName();
  CsrMatrix m;
  m.rows = nCells;
  m.cols = nGenes;
  m.indptr = h5::readInt64(indptr.get());
  auto wide = h5::readInt64(indices.get());
  m.indices.resize(wide.size());
  for (size_t i = 0; i < wide.size(); ++i) {
    if (wide[i] < 0 || wide[i] >= nGenes)
      throw Error(what + " is corrupt: gene index " + std::to_string(wide[i]) + " outside 0.." +
                  std::to_string(nGenes - 1));
    m.indices[i] = static_cast<int32_t>(wide[i]);
  }
  m.data = h5::readFloats(data.get());
  validateAndCanonicalize(m, what);
  return m;
}

std::vector<int64_t> readShape(hid_t group, const std::string& what) {
  if (!h5::isDataset(group, "shape")) throw Error(what + " is corrupt: 'shape' is missing");
  Handle ds = h5::openDataset(group, "shape");
  auto shape = h5::readInt64(ds.get());
  if (shape.size() != 2 || shape[0] < 0 || shape[1] < 0) throw Error(what + " is corrupt: bad 'shape'");
  return shape;
}

}  // namespace

Dataset readTenxH5File(const std::filesystem::path& path, const ReadOptions& options, Warnings& warnings,
                       Feedback* feedback) {
  Hdf5Lock lock(hdf5Mutex());
  Handle file = h5::openFile(path);
  const std::string name = path.filename().string();
  Dataset d;
  std::vector<std::string> ids, symbols, types;
  if (h5::isGroup(file.get(), "matrix")) {
    Handle g = h5::openGroup(file.get(), "matrix");
    const auto shape = readShape(g.get(), "'" + name + "'");
    ids = readStringsAt(g.get(), "features/id", name);
    symbols = readStringsAt(g.get(), "features/name", name);
    if (h5::exists(g.get(), "features/feature_type")) types = readStringsAt(g.get(), "features/feature_type", name);
    d.obs.index = readStringsAt(g.get(), "barcodes", name);
    if (static_cast<int64_t>(ids.size()) != shape[0] || static_cast<int64_t>(symbols.size()) != shape[0] ||
        static_cast<int64_t>(d.obs.index.size()) != shape[1] || (!types.empty() && types.size() != ids.size()))
      throw Error("'" + name + "' is corrupt: feature or barcode lists do not match the matrix shape");
    d.X = readCscArrays(g.get(), shape[0], shape[1], d.xDtype, "'" + name + "'");
  } else {
    std::vector<std::string> genomes;
    for (const auto& child : h5::childNames(file.get()))
      if (h5::exists(file.get(), child + "/barcodes")) genomes.push_back(child);
    if (genomes.empty()) throw Error("'" + name + "' is not a 10x Genomics file: no matrix group");
    if (genomes.size() > 1)
      warnings.push_back("'" + name + "' holds " + std::to_string(genomes.size()) + " genomes; read the first, '" +
                         genomes.front() + "'");
    Handle g = h5::openGroup(file.get(), genomes.front());
    const auto shape = readShape(g.get(), "'" + name + "'");
    ids = readStringsAt(g.get(), "genes", name);
    symbols = readStringsAt(g.get(), "gene_names", name);
    d.obs.index = readStringsAt(g.get(), "barcodes", name);
    if (static_cast<int64_t>(ids.size()) != shape[0] || static_cast<int64_t>(symbols.size()) != shape[0] ||
        static_cast<int64_t>(d.obs.index.size()) != shape[1])
      throw Error("'" + name + "' is corrupt: gene or barcode lists do not match the matrix shape");
    d.X = readCscArrays(g.get(), shape[0], shape[1], d.xDtype, "'" + name + "'");
  }
  pollCancel(feedback);
  d.var.index = symbols;
  d.var.set("gene_ids", Column::text(ids));
  if (!types.empty()) applyFeatureTypes(d, types, options.geneExpressionOnly, warnings);
  return d;
}

}  // namespace cw::io
