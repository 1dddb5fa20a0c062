// `cellwright-cli demo`: the main job end to end on the bundled pbmc_small (80 cells,
// clusters 0/1/2 with 36/25/19 cells).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace fs = std::filesystem;

static nlohmann::json readJson(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

TEST(Demo, WritesMetricsConsistentWithItsConfusionMatrix) {
  const fs::path out = fs::temp_directory_path() / ("cw_demo_" + std::to_string(::getpid()));
  fs::remove_all(out);
  fs::create_directories(out);
  std::ofstream(out / "stale.txt") << "from an earlier run";

  auto run = runCli({"demo", "-o", out.string()});
  ASSERT_EQ(run.exitCode, 0) << run.err;
  EXPECT_FALSE(fs::exists(out / "stale.txt")) << "the results folder is replaced on each run";

  const auto metrics = readJson(out / "metrics.json");
  const auto labels = metrics["confusion"]["labels"].get<std::vector<std::string>>();
  const auto matrix = metrics["confusion"]["matrix"].get<std::vector<std::vector<int>>>();
  ASSERT_EQ(labels, (std::vector<std::string>{"0", "1", "2"}));
  // Stratified 0.6/0.2/0.2 of 36/25/19 cells: 7 + 5 + 4 test cells (rounded per class).
  std::vector<int> support;
  int correct = 0, total = 0;
  for (size_t i = 0; i < 3; ++i) {
    int row = 0;
    for (size_t j = 0; j < 3; ++j) row += matrix[i][j];
    support.push_back(row);
    correct += matrix[i][i];
    total += row;
  }
  EXPECT_EQ(support, (std::vector<int>{7, 5, 4}));
  EXPECT_DOUBLE_EQ(metrics["accuracy"].get<double>(), static_cast<double>(correct) / total);
  // Macro-F1 recomputed from the confusion matrix.
  double macro = 0;
  for (size_t c = 0; c < 3; ++c) {
    int predicted = 0;
    for (size_t i = 0; i < 3; ++i) predicted += matrix[i][c];
    const double precision = predicted ? static_cast<double>(matrix[c][c]) / predicted : 0.0;
    const double recall = static_cast<double>(matrix[c][c]) / support[c];
    macro += precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
  }
  EXPECT_NEAR(metrics["macro_f1"].get<double>(), macro / 3, 1e-12);
  // pbmc_small's clusters are well separated: a baseline that learned anything beats 0.75.
  EXPECT_GE(metrics["accuracy"].get<double>(), 0.75);
  EXPECT_EQ(metrics["per_class"]["0"]["support"].get<int>(), 7);

  const auto split = readJson(out / "split.json");
  std::set<std::string> all;
  size_t parts = 0;
  for (const char* part : {"train", "validation", "test"}) {
    for (const auto& cell : split[part]) all.insert(cell.get<std::string>());
    parts += split[part].size();
  }
  EXPECT_EQ(split["train"].size(), 48u);
  EXPECT_EQ(split["test"].size(), 16u);
  EXPECT_EQ(all.size(), 80u);
  EXPECT_EQ(parts, 80u);  // disjoint
  fs::remove_all(out);
}

TEST(Demo, MissingLabelColumnIsAOneLineError) {
  const fs::path out = fs::temp_directory_path() / ("cw_demo_bad_" + std::to_string(::getpid()));
  auto run = runCli({"demo", "-o", out.string(), "--label", "no_such_column"});
  EXPECT_EQ(run.exitCode, 1);
  EXPECT_NE(run.err.find("no_such_column"), std::string::npos) << run.err;
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
  EXPECT_FALSE(fs::exists(out));
}
