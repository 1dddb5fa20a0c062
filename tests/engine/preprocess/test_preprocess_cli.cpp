// `cellwright-cli preprocess` end to end on the bundled demo data: outputs per the contract.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <sys/wait.h>

#include "cellwright/io/readers.h"

namespace {

int runCli(const std::string& arguments) {
  const std::string command = std::string(CELLWRIGHT_CLI_PATH) + " preprocess " + arguments + " >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const std::string kDemo = std::string(CELLWRIGHT_SHARED_DATA_DIR) + "/seurat_pbmc_small_80.h5ad";

TEST(PreprocessCli, WritesNormalisedDataCountsAndHvgs) {
  if (!std::filesystem::exists(kDemo)) GTEST_SKIP() << "shared data not present";
  const auto out = std::filesystem::temp_directory_path() / "cw_preprocess_cli_test.h5ad";
  ASSERT_EQ(runCli(kDemo + " -o " + out.string() + " --hvg 50 --hvg-flavor seurat_v3 --min-cells 3"), 0);
  const auto read = cw::io::readDataset(out);
  const cw::Dataset& d = read.dataset;
  ASSERT_TRUE(d.layers.count("counts"));
  ASSERT_TRUE(d.var.has("highly_variable"));
  ASSERT_TRUE(d.var.has("variances_norm"));
  ASSERT_TRUE(d.var.has("means"));
  int flagged = 0;
  for (int8_t b : d.var.at("highly_variable").bools) flagged += b;
  EXPECT_EQ(flagged, 50);
  // X = log1p(counts * 1e4 / total) for the first cell's first stored gene.
  const auto& counts = d.layers.at("counts");
  double total = 0;
  for (int64_t k = counts.indptr[0]; k < counts.indptr[1]; ++k) total += counts.data[k];
  EXPECT_NEAR(d.X.data[0], std::log1p(counts.data[0] * 1e4 / total), 1e-4);
  std::filesystem::remove(out);
}

TEST(PreprocessCli, ExitCodesForBadInputAndUsage) {
  const auto out = (std::filesystem::temp_directory_path() / "cw_preprocess_cli_bad.h5ad").string();
  EXPECT_EQ(runCli("/nonexistent/file.h5ad -o " + out), 1);
  EXPECT_EQ(runCli(kDemo + " -o " + out + " --hvg 10 --hvg-flavor magic"), 2);
  EXPECT_EQ(runCli(kDemo + " -o " + out + " --hvg 10 --batch-key no_such_column"), 1);
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
