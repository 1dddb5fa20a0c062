#pragma once
// Stratified random splits of cells into train / validation / test, and k folds.
#include <cstdint>
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

}  // namespace cw::train
