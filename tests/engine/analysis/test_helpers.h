#pragma once
// Shared helpers for the analysis tests: fixture loading and small conversions.
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cellwright/io/dataset.h"

inline nlohmann::json loadFixture(const std::string& name) {
  std::ifstream in(std::string(CELLWRIGHT_TEST_DATA_DIR) + "/analysis/" + name);
  if (!in) throw std::runtime_error("missing fixture " + name);
  return nlohmann::json::parse(in);
}

inline cw::DenseMatrix denseFromJson(const nlohmann::json& rows) {
  cw::DenseMatrix m;
  m.rows = static_cast<int64_t>(rows.size());
  m.cols = m.rows ? static_cast<int64_t>(rows[0].size()) : 0;
  for (const auto& row : rows)
    for (const auto& v : row) m.values.push_back(v.get<double>());
  return m;
}
