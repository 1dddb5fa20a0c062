#include "io_test_util.h"
#include <unistd.h>

#include <fstream>
#include <random>

namespace cwtest {

std::filesystem::path sharedData(const std::string& name) { return std::filesystem::path(CELLWRIGHT_SHARED_DATA_DIR) / name; }

std::filesystem::path ioData(const std::string& relative) {
  return std::filesystem::path(CELLWRIGHT_TEST_DATA_DIR) / "io" / relative;
}

nlohmann::json loadJson(const std::filesystem::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

double matrixSum(const cw::CsrMatrix& m) {
  double s = 0;
  for (float v : m.data) s += v;
  return s;
}

double rowSum(const cw::CsrMatrix& m, int64_t row) {
  double s = 0;
  for (int64_t k = m.indptr[row]; k < m.indptr[row + 1]; ++k) s += m.data[k];
  return s;
}

double columnSum(const cw::CsrMatrix& m, int64_t col) {
  double s = 0;
  for (size_t k = 0; k < m.indices.size(); ++k)
    if (m.indices[k] == col) s += m.data[k];
  return s;
}

std::filesystem::path scratchDir(const std::string& tag) {
  static int counter = 0;
  auto dir = std::filesystem::temp_directory_path() /
             ("cw_io_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace cwtest
