// Dense CSV/TSV count tables (optionally .gz): a header row of names, then one row per cell or
// per gene with its name first. The orientation is detected from the names (Ensembl IDs and
// barcodes say which axis is which), else from the shape (more genes than cells), unless the
// caller fixes it.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <regex>

#include "cellwright/core/errors.h"
#include "cellwright/core/strings.h"
#include "format_readers.h"
#include "line_reader.h"

namespace cw::io {
namespace fs = std::filesystem;

namespace {

char separatorFor(const fs::path& path, const std::string& firstLine) {
  std::string name = toLower(path.filename().string());
  if (endsWith(name, ".gz")) name = name.substr(0, name.size() - 3);
  if (endsWith(name, ".csv")) return ',';
  if (endsWith(name, ".tsv")) return '\t';
  if (firstLine.find('\t') != std::string::npos) return '\t';
  if (firstLine.find(',') != std::string::npos) return ',';
  return ' ';
}

// Fraction of names that look like genes (Ensembl IDs) or like cells (10x barcodes).
double fractionMatching(const std::vector<std::string>& names, const std::regex& pattern) {
  if (names.empty()) return 0.0;
  size_t n = 0, checked = 0;
  for (size_t i = 0; i < names.size(); i += std::max<size_t>(1, names.size() / 200), ++checked)
    n += std::regex_match(names[i], pattern);
  return double(n) / double(checked);
}

}  // namespace

Dataset readDelimitedTextFile(const fs::path& path, const ReadOptions& options, Warnings& warnings,
                              Feedback* feedback) {
  LineReader in(path);
  const std::string where = "'" + path.filename().string() + "'";
  std::string line;
  if (!in.next(line) || line.empty()) throw Error(where + " is empty");
  const char sep = separatorFor(path, line);
  std::vector<std::string> header;
  for (auto f : splitFields(line, sep)) header.emplace_back(f);

  std::vector<std::string> rowNames;
  std::vector<float> values;  // row-major as in the file
  size_t width = 0;
  size_t nonInteger = 0;
  while (in.next(line)) {
    if (line.empty()) continue;
    auto f = splitFields(line, sep);
    if (width == 0) {
      width = f.size() - 1;
      // R's write.table leaves the corner out: the header then has one field fewer.
      if (header.size() == width + 1) header.erase(header.begin());
      if (header.size() != width)
        throw Error(where + " line " + std::to_string(in.lineNumber()) + " has " + std::to_string(f.size()) +
                    " fields but the header names " + std::to_string(header.size()) + " columns");
    }
    if (f.size() != width + 1)
      throw Error(where + " line " + std::to_string(in.lineNumber()) + " has " + std::to_string(f.size()) +
                  " fields, expected " + std::to_string(width + 1) + " (inconsistent table)");
    rowNames.emplace_back(f[0]);
    for (size_t j = 1; j < f.size(); ++j) {
      double v = 0;
      const auto field = f[j];
      auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
      if (field.empty()) v = 0;
      else if (ec != std::errc() || ptr != field.data() + field.size())
        throw Error(where + " line " + std::to_string(in.lineNumber()) + ": '" + std::string(field) + "' is not a number");
      if (!std::isfinite(v)) throw Error(where + " holds NaN or infinite values (line " + std::to_string(in.lineNumber()) + ")");
      if (v < 0) throw Error(where + " holds negative counts (line " + std::to_string(in.lineNumber()) + ")");
      if (v != std::floor(v)) ++nonInteger;
      values.push_back(static_cast<float>(v));
    }
    if ((rowNames.size() & 1023) == 0) pollCancel(feedback);
  }
  if (rowNames.empty()) throw Error(where + " has a header but no rows");
  if (nonInteger)
    warnings.push_back(std::to_string(nonInteger) + " values in " + where + " are not whole numbers; raw counts were expected");

  using Orientation = ReadOptions::Orientation;
  Orientation orientation = options.textOrientation;
  if (orientation == Orientation::Auto) {
    static const std::regex gene("ENS[A-Z]*G[0-9]{6,}(\\.[0-9]+)?");
    static const std::regex barcode("([A-Za-z0-9_]*[_:-])?[ACGTN]{12,}(-[0-9]+)?");
    if (fractionMatching(rowNames, gene) > 0.5 || fractionMatching(header, barcode) > 0.5) {
      orientation = Orientation::GenesAsRows;
    } else if (fractionMatching(header, gene) > 0.5 || fractionMatching(rowNames, barcode) > 0.5) {
      orientation = Orientation::CellsAsRows;
    } else {
      orientation = rowNames.size() > header.size() ? Orientation::GenesAsRows : Orientation::CellsAsRows;
      warnings.push_back(std::string("read ") + where + " with " +
                         (orientation == Orientation::GenesAsRows ? "genes as rows" : "cells as rows") +
                         " (the longer side taken as genes); use --orientation to override");
    }
  }
  const bool genesAsRows = orientation == Orientation::GenesAsRows;
  Dataset d;
  d.obs.index = genesAsRows ? header : rowNames;
  d.var.index = genesAsRows ? rowNames : header;
  CsrMatrix& m = d.X;
  m.rows = static_cast<int64_t>(d.obs.index.size());
  m.cols = static_cast<int64_t>(d.var.index.size());
  m.indptr.assign(1, 0);
  for (int64_t cell = 0; cell < m.rows; ++cell) {
    for (int64_t gene = 0; gene < m.cols; ++gene) {
      const float v = genesAsRows ? values[gene * width + cell] : values[cell * width + gene];
      if (v != 0.0f) {
        m.indices.push_back(static_cast<int32_t>(gene));
        m.data.push_back(v);
      }
    }
    m.indptr.push_back(m.nnz());
  }
  return d;
}

}  // namespace cw::io
