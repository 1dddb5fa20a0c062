#include "fixture_csv.h"

#include <zlib.h>

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "cellwright/core/strings.h"

namespace cw::test {

std::vector<double> CsvTable::numbers(const std::string& name) const {
  const auto it = columns.find(name);
  if (it == columns.end()) throw std::runtime_error("fixture has no column " + name);
  std::vector<double> out;
  out.reserve(it->second.size());
  for (const auto& s : it->second) out.push_back(s.empty() || s == "nan" ? std::nan("") : std::stod(s));
  return out;
}

CsvTable readCsvGz(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open fixture " + path);
  std::string text;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  gzclose(f);
  CsvTable t;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  t.header = splitString(line, ',');
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto cells = splitString(line, ',');
    for (size_t i = 0; i < t.header.size(); ++i) t.columns[t.header[i]].push_back(i < cells.size() ? cells[i] : "");
  }
  return t;
}

}  // namespace cw::test
