#pragma once
// Shared helpers for the I/O tests: fixture paths, expectation files, small matrix sums.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "cellwright/io/dataset.h"

namespace cwtest {

std::filesystem::path sharedData(const std::string& name);
std::filesystem::path ioData(const std::string& relative);  // tests/data/io/<relative>
nlohmann::json loadJson(const std::filesystem::path& path);
double matrixSum(const cw::CsrMatrix& m);
double rowSum(const cw::CsrMatrix& m, int64_t row);
double columnSum(const cw::CsrMatrix& m, int64_t col);
// A fresh scratch folder under the system temp directory, removed by the caller.
std::filesystem::path scratchDir(const std::string& tag);

}  // namespace cwtest
