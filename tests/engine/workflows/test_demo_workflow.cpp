// The demo job seen from the GUI's side: one progress bar over all its stages, and a cancel
// that leaves the previous results folder as it was.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "cellwright/core/errors.h"
#include "cellwright/workflows/demo.h"

namespace fs = std::filesystem;

namespace {

cw::workflows::DemoOptions demoOptions(const std::string& name) {
  cw::workflows::DemoOptions o;
  o.input = std::string(CELLWRIGHT_RESOURCE_DIR) + "/demo/seurat_pbmc_small_80.h5ad";
  o.outputDir = fs::temp_directory_path() / ("cw_demo_wf_" + name + "_" + std::to_string(::getpid()));
  o.cellpatchEpochs = 5;
  o.logregEpochs = 10;
  fs::remove_all(o.outputDir);
  return o;
}

}  // namespace

TEST(DemoWorkflow, ProgressRisesMonotonicallyToOneAcrossAllStages) {
  const auto o = demoOptions("progress");
  cw::Feedback feedback;
  std::vector<double> fractions;
  std::vector<std::string> stages;
  feedback.setProgressCallback([&](const cw::Progress& p) {
    fractions.push_back(p.fraction);
    if (stages.empty() || stages.back() != p.stage) stages.push_back(p.stage);
  });
  const auto result = cw::workflows::runDemo(o, &feedback);
  ASSERT_FALSE(fractions.empty());
  for (size_t i = 1; i < fractions.size(); ++i) ASSERT_GE(fractions[i], fractions[i - 1]) << stages.back();
  EXPECT_DOUBLE_EQ(fractions.back(), 1.0);
  // Each model's training reports under its own stage name.
  EXPECT_NE(std::find(stages.begin(), stages.end(), "fine-tuning cellpatch"), stages.end());
  EXPECT_NE(std::find(stages.begin(), stages.end(), "fine-tuning logreg"), stages.end());
  ASSERT_EQ(result.models.size(), 2u);
  EXPECT_EQ(result.nCells, 80);
  EXPECT_EQ(result.nTrain + result.nValidation + result.nTest, 80);
  fs::remove_all(o.outputDir);
}

TEST(DemoWorkflow, CancelDuringTrainingKeepsThePreviousResults) {
  const auto o = demoOptions("cancel");
  fs::create_directories(o.outputDir);
  std::ofstream(o.outputDir / "previous.txt") << "earlier results";
  cw::Feedback feedback;
  feedback.setProgressCallback([&](const cw::Progress& p) {
    if (p.stage == "fine-tuning cellpatch") feedback.cancel();
  });
  EXPECT_THROW(cw::workflows::runDemo(o, &feedback), cw::Canceled);
  EXPECT_TRUE(fs::exists(o.outputDir / "previous.txt"));
  EXPECT_FALSE(fs::exists(o.outputDir / "metrics.json"));
  EXPECT_FALSE(fs::exists(o.outputDir.string() + ".partial"));
  fs::remove_all(o.outputDir);
}
