#pragma once
// Stratified random splits of cells into train / validation / test, k folds, batch splits,
// and split.json (cell names of each part).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cw::train {

struct SplitOptions {
  double trainFraction = 0.6;
  double validationFraction = 0.2;
  double testFraction = 0.2;
  uint64_t seed = 2022;
};

struct SplitResult {
  std::vector<int64_t> train, validation, test;  // cell indices, ascending
};

// Splits each label's cells by the fractions (rounded per label, every label with at least
// 3 cells gets one in each part). `labels` are codes; cells with code < 0 are left out.
SplitResult stratifiedSplit(const std::vector<int>& labels, const SplitOptions& options = {});

// k stratified folds: fold f's test part is the f-th fold. Cells with code < 0 are left out.
std::vector<std::vector<int64_t>> stratifiedFolds(const std::vector<int>& labels, int k, uint64_t seed);

// Cross-study transfer on the labels both sides share: train (and validate, a stratified
// `validationFraction` of them) on cells whose batch is not `testBatch` and whose label occurs
// in `testBatch`; test on the cells of `testBatch` whose label occurs in training. Labels of
// the test batch absent from training, and training labels absent from the test batch, are
// listed, not used (a class the test batch cannot hold would only add wrong predictions).
struct BatchSplitResult {
  SplitResult split;
  std::vector<std::string> trainBatches;
  std::vector<int> excludedLabels;       // label codes of the test batch absent from training
  std::vector<int> excludedTrainLabels;  // label codes of the training batches absent from the test batch
};
BatchSplitResult batchSplit(const std::vector<int>& labels, const std::vector<std::string>& batches,
                            const std::string& testBatch, double validationFraction, uint64_t seed);

// split.json: {"train": [names], "validation": [...], "test": [...]} (+ `extra` keys).
std::string splitToJson(const SplitResult& split, const std::vector<std::string>& cellNames);
// Reads a split.json by cell names. Throws cw::Error naming an unknown cell.
SplitResult splitFromJson(const std::string& json, const std::vector<std::string>& cellNames);

}  // namespace cw::train
