#pragma once
// Supervised fine-tuning for cell-type classification, from scratch or from a pre-training
// run, with a stratified random split, a split file, k-fold cross-validation or a batch
// split, writing a run folder (see run_folder.h) with metrics on the test part.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"
#include "cellwright/plugins/plugin_registry.h"
#include "cellwright/train/split.h"
#include "cellwright/train/trainer.h"

namespace cw::train {

enum class SplitMode { Random, File, CrossValidation, Batch };

struct FineTuneOptions {
  std::string model = "logreg";     // a registered plugin name
  std::string preset;               // "paper" | "small"; empty: paper on CUDA, small on CPU
  nlohmann::json config = nlohmann::json::object();  // overrides of the preset's config keys
  std::string labelKey = "cell_type";

  SplitMode split = SplitMode::Random;
  SplitOptions fractions;           // Random: 0.6/0.2/0.2, seed 2022
  std::filesystem::path splitFile;  // File: a split.json (cell names of train/validation/test)
  int folds = 5;                    // CrossValidation
  std::string batchKey;             // Batch: train on the other values of this obs column,
  std::string testBatch;            //        test on this one

  std::filesystem::path init;       // a pre-training run folder or checkpoint; empty: from scratch
  bool headOnly = false;            // train only the classification head (scBERT's recipe)

  TrainerOptions trainer;           // epochs, batch size, lr, device ("auto" allowed) ...
  std::filesystem::path runDir;     // required
  bool force = false, resume = false;
  std::string dataDescription;      // recorded in config.json (e.g. the input path)
  plugins::PluginRegistry* registry = nullptr;  // null: the global registry
};

struct FineTuneResult {
  nlohmann::json metrics;           // as written to metrics.json
  std::string preset, device;
  TrainerResult training;           // the (last) model's training
  std::vector<std::string> excludedLabels;
  std::vector<std::string> excludedTrainLabels;  // batch split: training labels absent from the test batch
};

// Throws cw::Error on bad input, cw::Canceled on cancel (checkpoints stay).
FineTuneResult fineTune(const Dataset& dataset, const FineTuneOptions& options, Feedback* feedback = nullptr);

// "paper" on CUDA, "small" on the CPU, unless `requested` names one. Throws on an unknown preset.
std::string choosePreset(const std::string& requested, const std::string& device);

}  // namespace cw::train
