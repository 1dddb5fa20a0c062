// readDataset(): picks a reader by looking at the file, then applies the checks every
// format shares (unique names, finite values, which matrix holds counts).
#include "cellwright/io/readers.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string_view>
#include <thread>
#include <unordered_set>

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

bool allDistinct(const std::vector<std::string>& names) {
  std::unordered_set<std::string_view> seen;
  seen.reserve(names.size());
  for (const auto& name : names)
    if (!seen.insert(name).second) return false;
  return true;
}

void makeNamesUnique(std::vector<std::string>& names, const std::string& what, Warnings& warnings) {
  if (allDistinct(names)) return;  // the usual case, checked without copying every name
  if (const size_t changed = makeUnique(names))
    warnings.push_back(std::to_string(changed) + " duplicated " + what + " names were made unique by appending '-1', '-2', ...");
}

void finish(ReadResult& result, const std::optional<ValueScan>& xScan, Feedback* feedback) {
  Dataset& d = result.dataset;
  makeNamesUnique(d.obs.index, "cell", result.warnings);
  makeNamesUnique(d.var.index, "gene", result.warnings);
  const ValueScan x = xScan ? *xScan : scanValues(d.X.data);
  if (x.nonFinite)
    throw Error("X contains " + std::to_string(x.nonFinite) + " NaN or infinite values; fix the matrix before loading it");
  // detectCountsSource(), reusing the scan of X.
  const auto layer = d.layers.find("counts");
  if (layer != d.layers.end() && looksLikeCounts(layer->second)) d.countsSource = CountsSource::LayersCounts;
  else if (d.X.rows > 0 && x.negative == 0 && x.nonInteger == 0) d.countsSource = CountsSource::X;
  else if (d.raw && looksLikeCounts(d.raw->X)) d.countsSource = CountsSource::RawX;
  else d.countsSource = CountsSource::None;
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

static void readFormat(ReadResult& result, const fs::path& path, const ReadOptions& options,
                       std::optional<ValueScan>& xScan, Feedback* feedback);

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
  std::optional<ValueScan> xScan;  // filled by readers that scan X while reading it
  try {
    readFormat(result, path, options, xScan, feedback);
  } catch (const std::bad_alloc&) {
    throw Error("not enough memory to read '" + path.filename().string() +
                "' (is it corrupt, or larger than this machine's memory? backed mode reads it in chunks)");
  } catch (const std::length_error&) {
    throw Error("'" + path.filename().string() + "' claims impossibly large arrays (corrupt file?)");
  }
  finish(result, xScan, feedback);
  return result;
}

static void readFormat(ReadResult& result, const fs::path& path, const ReadOptions& options,
                       std::optional<ValueScan>& xScan, Feedback* feedback) {
  std::error_code ec;
  switch (result.format) {
    case FileFormat::H5ad: result.dataset = readH5adFile(path, options, result.warnings, feedback, &xScan); break;
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
}

void applyFeatureTypes(Dataset& d, const std::vector<std::string>& types, bool geneExpressionOnly,
                       Warnings& warnings) {
  d.var.set("feature_types", Column::text(types));
  if (!geneExpressionOnly) return;
  std::vector<int64_t> keep;
  for (size_t j = 0; j < types.size(); ++j)
    if (types[j] == "Gene Expression") keep.push_back(static_cast<int64_t>(j));
  if (keep.size() == types.size()) return;
  warnings.push_back("kept the " + std::to_string(keep.size()) + " 'Gene Expression' features of " +
                     std::to_string(types.size()));
  d.X = d.X.selectColumns(keep);
  d.var = d.var.selectRows(keep);
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

static int64_t countDescents(const CsrMatrix& m) {
  int64_t descents = 0;  // branch-free count, so the check vectorises
  const int32_t* idx = m.indices.data();
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t k = m.indptr[r] + 1; k < m.indptr[r + 1]; ++k) descents += idx[k] <= idx[k - 1];
  return descents;
}

static bool sortRows(CsrMatrix& m);

bool canonicalizeRows(CsrMatrix& m) { return countDescents(m) > 0 && sortRows(m); }

bool validateAndCanonicalize(CsrMatrix& m, const std::string& what, const PiecewiseIndexScan* scanned) {
  auto fail = [&](const std::string& why) { throw Error(what + " is corrupt: " + why); };
  if (static_cast<int64_t>(m.indptr.size()) != m.rows + 1)
    fail("indptr has " + std::to_string(m.indptr.size()) + " entries, expected " + std::to_string(m.rows + 1));
  if (m.indices.size() != m.data.size()) fail("indices and data lengths differ");
  if (m.indptr.front() != 0) fail("indptr does not start at 0");
  for (int64_t r = 0; r < m.rows; ++r)
    if (m.indptr[r + 1] < m.indptr[r]) fail("indptr decreases at row " + std::to_string(r));
  if (m.indptr.back() != m.nnz())
    fail("indptr ends at " + std::to_string(m.indptr.back()) + " but " + std::to_string(m.nnz()) + " values are stored");
  // One pass over the indices (unless the reader scanned them as they arrived), rows split
  // over threads: their range and whether each row is sorted.
  IndexScan total;
  if (scanned) {
    total = scanned->result(m.indptr, m.indices);
  } else {
    const unsigned threads =
        m.nnz() < (int64_t(1) << 22) ? 1u : std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
    std::vector<IndexScan> parts(threads);
    auto scan = [&](unsigned t) {
      parts[t] = scanIndexRows(m.indptr.data(), m.indices.data(), m.rows * t / threads, m.rows * (t + 1) / threads);
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(scan, t);
    scan(0);
    for (auto& th : pool) th.join();
    for (const auto& p : parts) total.add(p);
  }
  const int32_t lo = m.nnz() > 0 ? total.lo : 0, hi = m.nnz() > 0 ? total.hi : 0;
  const int64_t descents = total.descents;
  if (lo < 0 || hi >= m.cols)
    fail("column index " + std::to_string(lo < 0 ? lo : hi) + " outside 0.." + std::to_string(m.cols - 1));
  return descents > 0 && sortRows(m);
}

static bool sortRows(CsrMatrix& m) {
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
