// Matrix Market folders as Cell Ranger writes them: matrix.mtx[.gz] (genes x barcodes,
// 1-based coordinates), barcodes.tsv[.gz], and features.tsv[.gz] (id, symbol, type) or the
// older genes.tsv (id, symbol). Symbols become var names, IDs var['gene_ids'].
#include <algorithm>
#include <charconv>
#include <cmath>

#include "cellwright/core/errors.h"
#include "cellwright/core/strings.h"
#include "format_readers.h"
#include "line_reader.h"

namespace cw::io {
namespace fs = std::filesystem;

namespace {

fs::path findFile(const fs::path& dir, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (fs::exists(dir / name)) return dir / name;
    if (fs::exists(dir / (std::string(name) + ".gz"))) return dir / (std::string(name) + ".gz");
  }
  return {};
}

template <typename T>
bool parseNumber(std::string_view text, T& value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end;
}

struct Entry {
  int32_t gene;
  int32_t cell;
  float value;
};

}  // namespace

Dataset readMatrixMarketFolder(const fs::path& input, const ReadOptions& options, Warnings& warnings,
                               Feedback* feedback) {
  const fs::path dir = fs::is_directory(input) ? input : input.parent_path();
  const fs::path matrixPath = fs::is_directory(input) ? findFile(dir, {"matrix.mtx"}) : input;
  if (matrixPath.empty()) throw Error("'" + dir.string() + "' has no matrix.mtx or matrix.mtx.gz");
  const fs::path barcodesPath = findFile(dir, {"barcodes.tsv"});
  const fs::path featuresPath = findFile(dir, {"features.tsv", "genes.tsv"});
  if (barcodesPath.empty()) throw Error("'" + dir.string() + "' has no barcodes.tsv[.gz] beside the matrix");
  if (featuresPath.empty()) throw Error("'" + dir.string() + "' has no features.tsv[.gz] or genes.tsv beside the matrix");

  LineReader mtx(matrixPath);
  const std::string where = "'" + matrixPath.filename().string() + "'";
  std::string line;
  if (!mtx.next(line) || !startsWith(toLower(line), "%%matrixmarket"))
    throw Error(where + " is not a Matrix Market file (no %%MatrixMarket header)");
  const std::string header = toLower(line);
  if (header.find("coordinate") == std::string::npos)
    throw Error(where + " is a dense Matrix Market array; Cellwright reads the sparse 'coordinate' format");
  const bool pattern = header.find("pattern") != std::string::npos;
  const bool symmetric = header.find("symmetric") != std::string::npos;
  if (symmetric) throw Error(where + " is a symmetric matrix, not genes x cells counts");
  do {
    if (!mtx.next(line)) throw Error(where + " ends before its size line (truncated?)");
  } while (line.empty() || line[0] == '%');
  auto sizeFields = splitFields(line, ' ');
  int64_t nGenes = 0, nCells = 0, nEntries = 0;
  if (sizeFields.size() != 3 || !parseNumber(sizeFields[0], nGenes) || !parseNumber(sizeFields[1], nCells) ||
      !parseNumber(sizeFields[2], nEntries) || nGenes < 0 || nCells < 0 || nEntries < 0)
    throw Error(where + " has a malformed size line: '" + line + "'");
  if (nGenes > INT32_MAX || nCells > INT32_MAX) throw Error(where + " is too large (more than 2^31 genes or cells)");
  // A forged entry count must not drive the allocation: cap the reservation.
  std::vector<Entry> entries;
  entries.reserve(static_cast<size_t>(std::min<int64_t>(nEntries, int64_t(1) << 26)));
  size_t nonInteger = 0;
  while (mtx.next(line)) {
    if (line.empty() || line[0] == '%') continue;
    auto f = splitFields(line, ' ');
    int64_t gene = 0, cell = 0;
    double value = 1.0;
    if (f.size() < (pattern ? 2u : 3u) || !parseNumber(f[0], gene) || !parseNumber(f[1], cell) ||
        (!pattern && !parseNumber(f[2], value)))
      throw Error(where + " line " + std::to_string(mtx.lineNumber()) + " is not 'row column value': '" + line + "'");
    if (gene < 1 || gene > nGenes || cell < 1 || cell > nCells)
      throw Error(where + " line " + std::to_string(mtx.lineNumber()) + " points outside the " +
                  std::to_string(nGenes) + " x " + std::to_string(nCells) + " matrix");
    if (!std::isfinite(value)) throw Error(where + " holds NaN or infinite values (line " + std::to_string(mtx.lineNumber()) + ")");
    if (value < 0) throw Error(where + " holds negative counts (line " + std::to_string(mtx.lineNumber()) + ")");
    if (value != std::floor(value)) ++nonInteger;
    if (static_cast<int64_t>(entries.size()) >= nEntries)
      throw Error(where + " holds more entries than its header's " + std::to_string(nEntries));
    entries.push_back({static_cast<int32_t>(gene - 1), static_cast<int32_t>(cell - 1), static_cast<float>(value)});
    if ((entries.size() & 0xFFFFF) == 0) {
      pollCancel(feedback);
      if (feedback && nEntries > 0) feedback->setProgress(0.9 * double(entries.size()) / double(nEntries), "reading matrix");
    }
  }
  if (static_cast<int64_t>(entries.size()) != nEntries)
    throw Error(where + " holds " + std::to_string(entries.size()) + " entries but its header says " +
                std::to_string(nEntries) + " (truncated?)");
  if (nonInteger)
    warnings.push_back(std::to_string(nonInteger) + " values in " + where + " are not whole numbers; raw counts were expected");

  Dataset d;
  // Counting sort by cell, then by gene within each cell: CSR cells x genes.
  CsrMatrix& m = d.X;
  m.rows = nCells;
  m.cols = nGenes;
  m.indptr.assign(nCells + 1, 0);
  for (const auto& e : entries) ++m.indptr[e.cell + 1];
  for (int64_t r = 0; r < nCells; ++r) m.indptr[r + 1] += m.indptr[r];
  m.indices.resize(entries.size());
  m.data.resize(entries.size());
  std::vector<int64_t> next(m.indptr.begin(), m.indptr.end() - 1);
  for (const auto& e : entries) {
    const int64_t k = next[e.cell]++;
    m.indices[k] = e.gene;
    m.data[k] = e.value;
  }
  entries = {};
  canonicalizeRows(m);

  LineReader barcodes(barcodesPath);
  while (barcodes.next(line))
    if (!line.empty()) d.obs.index.push_back(std::string(splitFields(line, '\t').at(0)));
  if (static_cast<int64_t>(d.obs.index.size()) != nCells)
    throw Error("barcodes.tsv lists " + std::to_string(d.obs.index.size()) + " barcodes but the matrix has " +
                std::to_string(nCells) + " cells");

  std::vector<std::string> ids, types;
  LineReader features(featuresPath);
  while (features.next(line)) {
    if (line.empty()) continue;
    auto f = splitFields(line, '\t');
    ids.emplace_back(f[0]);
    d.var.index.emplace_back(f.size() > 1 ? f[1] : f[0]);
    if (f.size() > 2) types.emplace_back(f[2]);
  }
  const std::string featuresName = featuresPath.filename().string();
  if (static_cast<int64_t>(ids.size()) != nGenes)
    throw Error(featuresName + " lists " + std::to_string(ids.size()) + " genes but the matrix has " +
                std::to_string(nGenes));
  d.var.set("gene_ids", Column::text(ids));
  if (types.size() == ids.size()) applyFeatureTypes(d, types, options.geneExpressionOnly, warnings);
  return d;
}

}  // namespace cw::io
