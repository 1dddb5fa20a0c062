// readDataset(): picks a reader by looking at the file, then applies the checks every
// format shares (unique names, finite values, which matrix holds counts).
#include "cellwright/io/readers.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "cellwright/core/errors.h"
#include "cellwright/core/strings.h"
#include "cellwright/io/hdf5_lock.h"
#include "format_readers.h"
#include "hdf5_file.h"

namespace cw::io {
namespace fs = std::filesystem;

namespace {

bool hasHdf5Signature(const fs::path& path) {
  // The superblock may sit at 0, 512, 1024, ... (user block); H5Fis_hdf5 checks them all.
  Hdf5Lock lock(hdf5Mutex());
  h5::silenceLibraryErrors();
  return H5Fis_hdf5(path.c_str()) > 0;
}

bool isMatrixMarketFolder(const fs::path& dir) {
  for (const char* name : {"matrix.mtx", "matrix.mtx.gz"})
    if (fs::exists(dir / name)) return true;
  return false;
}

FileFormat hdf5Flavor(const fs::path& path) {
  Hdf5Lock lock(hdf5Mutex());
  h5::Handle file = h5::openFile(path);
  const hid_t f = file.get();
  if (h5::isGroup(f, "matrix") && h5::exists(f, "matrix/barcodes")) return FileFormat::TenxH5;
  if (h5::isGroup(f, "obs") || h5::isGroup(f, "X") || h5::isDataset(f, "X") || h5::isGroup(f, "var") ||
      h5::isDataset(f, "obs"))
    return FileFormat::H5ad;
  // 10x v2: one group per genome holding barcodes, genes and the CSC arrays.
  for (const auto& child : h5::childNames(f))
    if (h5::exists(f, child + "/barcodes") && h5::exists(f, child + "/indptr")) return FileFormat::TenxH5;
  return FileFormat::Unknown;
}

size_t countNonFinite(const CsrMatrix& m) {
  size_t n = 0;
  for (float v : m.data) n += !std::isfinite(v);
  return n;
}

void makeNamesUnique(std::vector<std::string>& names, const std::string& what, Warnings& warnings) {
  if (const size_t changed = makeUnique(names))
    warnings.push_back(std::to_string(changed) + " duplicated " + what + " names were made unique by appending '-1', '-2', ...");
}

void finish(ReadResult& result, Feedback* feedback) {
  Dataset& d = result.dataset;
  makeNamesUnique(d.obs.index, "cell", result.warnings);
  makeNamesUnique(d.var.index, "gene", result.warnings);
  if (const size_t bad = countNonFinite(d.X))
    throw Error("X contains " + std::to_string(bad) + " NaN or infinite values; fix the matrix before loading it");
  d.countsSource = detectCountsSource(d);
  if (d.countsSource == CountsSource::None) {
    result.warnings.push_back("no matrix holds raw integer counts (X, layers['counts'] and raw/X are normalised "
                              "or absent): steps that need counts will refuse this file");
  } else if (feedback) {
    feedback->info(std::string("raw counts are in ") + countsSourceName(d.countsSource));
  }
  if (feedback)
    for (const auto& w : result.warnings) feedback->warning(w);
}

}  // namespace

FileFormat detectFormat(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return isMatrixMarketFolder(path) ? FileFormat::MatrixMarketDir : FileFormat::Unknown;
  if (!fs::exists(path, ec)) return FileFormat::Unknown;
  std::string name = toLower(path.filename().string());
  if (endsWith(name, ".gz")) name = name.substr(0, name.size() - 3);
  if (endsWith(name, ".mtx")) return FileFormat::MatrixMarketDir;
  if (hasHdf5Signature(path)) return hdf5Flavor(path);
  if (endsWith(name, ".csv") || endsWith(name, ".tsv") || endsWith(name, ".txt"))
    return FileFormat::DelimitedText;
  return FileFormat::Unknown;
}

ReadResult readDataset(const fs::path& path, const ReadOptions& options, Feedback* feedback) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error("file not found: '" + path.string() + "'");
  ReadResult result;
  result.format = detectFormat(path);
  switch (result.format) {
    case FileFormat::H5ad: result.dataset = readH5adFile(path, options, result.warnings, feedback); break;
    case FileFormat::TenxH5: result.dataset = readTenxH5File(path, options, result.warnings, feedback); break;
    case FileFormat::MatrixMarketDir:
      result.dataset = readMatrixMarketFolder(path, options, result.warnings, feedback);
      break;
    case FileFormat::DelimitedText:
      result.dataset = readDelimitedTextFile(path, options, result.warnings, feedback);
      break;
    case FileFormat::Unknown: {
      if (fs::is_directory(path, ec))
        throw Error("'" + path.string() + "' is a folder without matrix.mtx or matrix.mtx.gz");
      std::ifstream in(path, std::ios::binary);
      char head[8] = {0};
      in.read(head, sizeof head);
      if (std::string(head, 4) == "\x89HDF")
        throw Error("'" + path.string() + "' is an HDF5 file but neither AnnData (.h5ad) nor 10x Genomics (.h5)");
      throw Error("'" + path.string() +
                  "' is not a format Cellwright reads (h5ad, 10x .h5, Matrix Market folder, CSV/TSV), "
                  "or it is truncated");
    }
  }
  finish(result, feedback);
  return result;
}

CsrMatrix transposeCsr(const CsrMatrix& m) {
  CsrMatrix t;
  t.rows = m.cols;
  t.cols = m.rows;
  t.indptr.assign(t.rows + 1, 0);
  for (int32_t c : m.indices) ++t.indptr[c + 1];
  for (int64_t r = 0; r < t.rows; ++r) t.indptr[r + 1] += t.indptr[r];
  t.indices.resize(m.indices.size());
  t.data.resize(m.data.size());
  std::vector<int64_t> next(t.indptr.begin(), t.indptr.end() - 1);
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t k = m.indptr[r]; k < m.indptr[r + 1]; ++k) {
      const int64_t dst = next[m.indices[k]]++;
      t.indices[dst] = static_cast<int32_t>(r);
      t.data[dst] = m.data[k];
    }
  return t;
}

bool canonicalizeRows(CsrMatrix& m) {
  bool sorted = true;
  for (int64_t r = 0; r < m.rows && sorted; ++r)
    for (int64_t k = m.indptr[r] + 1; k < m.indptr[r + 1]; ++k)
      if (m.indices[k] <= m.indices[k - 1]) {
        sorted = false;
        break;
      }
  if (sorted) return false;
  std::vector<int64_t> newPtr(1, 0);
  std::vector<std::pair<int32_t, float>> row;
  int64_t out = 0;
  for (int64_t r = 0; r < m.rows; ++r) {
    row.clear();
    for (int64_t k = m.indptr[r]; k < m.indptr[r + 1]; ++k) row.emplace_back(m.indices[k], m.data[k]);
    std::sort(row.begin(), row.end(), [](auto& a, auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0 && row[i].first == row[i - 1].first) {
        m.data[out - 1] += row[i].second;  // duplicates sum, as scipy's sum_duplicates
        continue;
      }
      m.indices[out] = row[i].first;
      m.data[out] = row[i].second;
      ++out;
    }
    newPtr.push_back(out);
  }
  m.indices.resize(out);
  m.data.resize(out);
  m.indptr = std::move(newPtr);
  return true;
}

}  // namespace cw::io
