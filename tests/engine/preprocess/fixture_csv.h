#pragma once
// Test-only: reads the gzipped CSV fixtures written by tests/reference/*.py.
#include <map>
#include <string>
#include <vector>

namespace cw::test {
struct CsvTable {
  std::vector<std::string> header;
  std::map<std::string, std::vector<std::string>> columns;
  std::vector<double> numbers(const std::string& name) const;  // "" and "nan" -> NaN
  size_t rows() const { return columns.empty() ? 0 : columns.begin()->second.size(); }
};
CsvTable readCsvGz(const std::string& path);
}  // namespace cw::test
