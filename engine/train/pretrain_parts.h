#pragma once
// Internal: the steps pre-training shares between in-memory inputs (pretrain.cpp) and files
// streamed from disk (pretrain_streamed.cpp).
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cellwright/train/pretrain.h"
#include "cellwright/train/run_folder.h"

namespace cw::train::detail {

// Per-cell codes of an obs column over several datasets, by value in first-seen order
// (missing column: -1). Without a key, each dataset's fallback name is its cells' value.
std::pair<std::vector<int64_t>, std::vector<std::string>> codesAcross(const std::vector<const Dataset*>& datasets,
                                                                      const std::string& key,
                                                                      const std::vector<std::string>& fallbackNames);

// The model's configuration (preset, then overrides), refused when it has no objective.
// Fills result.preset and result.device.
struct PretrainModel {
  nlohmann::json config;
  plugins::TokenizerSpec spec;
};
PretrainModel resolvePretrainModel(const PretrainOptions& options, PretrainResult& result);

// One name per input: the descriptions given, else "dataset1", "dataset2", ...
std::vector<std::string> inputNames(const PretrainOptions& options, size_t inputs);

// Seeded split of cells 0..n-1 into training and validation (both sorted).
std::pair<std::vector<int64_t>, std::vector<int64_t>> splitCells(int64_t n, double validationFraction, uint64_t seed);

struct PretrainInputs {
  preprocess::GeneVocabulary genes;
  std::vector<std::string> cellNames;  // every cell, numbered as the split's indices
  std::vector<std::string> studyNames;
  int64_t nClasses = 0;
  std::vector<int64_t> train, validation;
  Collate collate;
  std::function<std::vector<int64_t>(int epoch)> trainOrder;  // empty: the trainer's own shuffle
  nlohmann::json extraConfig = nlohmann::json::object();      // recorded in config.json
};

// Writes genes.txt, config.json and split.json, trains, writes history.json and metrics.json.
void trainAndRecord(const PretrainOptions& options, const PretrainModel& model, const PretrainInputs& inputs,
                    PretrainResult& result, RunFeedback& run, bool writer);

}  // namespace cw::train::detail
