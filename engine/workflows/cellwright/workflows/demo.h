#pragma once
// The main job on the bundled demo dataset, end to end: read, normalise, split, fit a
// baseline classifier, evaluate on the held-out cells, and write the results folder.
#include <filesystem>
#include <string>

#include "cellwright/core/feedback.h"

namespace cw::workflows {

struct DemoOptions {
  std::filesystem::path input;                                // the dataset (default: the bundled demo)
  std::filesystem::path outputDir = "cellwright-demo";        // replaced on each run
  std::string labelKey = "cell_type";                         // obs column with the labels
  uint64_t seed = 2022;                                       // split and model seed
  double targetSum = 1e4;                                     // normalize_total target
};

struct DemoResult {
  double accuracy = 0, macroF1 = 0;
  int64_t nTrain = 0, nValidation = 0, nTest = 0;
  std::string model;
  std::filesystem::path metricsPath;
};

DemoResult runDemo(const DemoOptions& options, Feedback* feedback = nullptr);

}  // namespace cw::workflows
