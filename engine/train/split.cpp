#include "cellwright/train/split.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "cellwright/core/errors.h"

namespace cw::train {

static std::map<int, std::vector<int64_t>> cellsByLabel(const std::vector<int>& labels, uint64_t seed) {
  std::map<int, std::vector<int64_t>> groups;
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] >= 0) groups[labels[i]].push_back(static_cast<int64_t>(i));
  std::mt19937_64 rng(seed);
  for (auto& [label, cells] : groups) std::shuffle(cells.begin(), cells.end(), rng);
  return groups;
}

SplitResult stratifiedSplit(const std::vector<int>& labels, const SplitOptions& options) {
  const double total = options.trainFraction + options.validationFraction + options.testFraction;
  if (options.trainFraction <= 0 || options.validationFraction < 0 || options.testFraction < 0 ||
      std::abs(total - 1.0) > 1e-6)
    throw Error("split fractions must be non-negative and sum to 1 (got " + std::to_string(total) + ")");
  SplitResult split;
  for (auto& [label, cells] : cellsByLabel(labels, options.seed)) {
    const auto n = static_cast<int64_t>(cells.size());
    int64_t nTest = std::llround(n * options.testFraction);
    int64_t nVal = std::llround(n * options.validationFraction);
    if (n >= 3) {
      if (options.testFraction > 0) nTest = std::max<int64_t>(nTest, 1);
      if (options.validationFraction > 0) nVal = std::max<int64_t>(nVal, 1);
    }
    nTest = std::min(nTest, n);
    nVal = std::min(nVal, n - nTest);
    split.test.insert(split.test.end(), cells.begin(), cells.begin() + nTest);
    split.validation.insert(split.validation.end(), cells.begin() + nTest, cells.begin() + nTest + nVal);
    split.train.insert(split.train.end(), cells.begin() + nTest + nVal, cells.end());
  }
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.validation.begin(), split.validation.end());
  std::sort(split.test.begin(), split.test.end());
  return split;
}

std::vector<std::vector<int64_t>> stratifiedFolds(const std::vector<int>& labels, int k, uint64_t seed) {
  if (k < 2) throw Error("cross-validation needs at least 2 folds");
  std::vector<std::vector<int64_t>> folds(k);
  size_t offset = 0;  // rotates so small classes do not all land in fold 0
  for (auto& [label, cells] : cellsByLabel(labels, seed)) {
    for (size_t i = 0; i < cells.size(); ++i) folds[(i + offset) % k].push_back(cells[i]);
    offset += cells.size();
  }
  for (auto& f : folds) std::sort(f.begin(), f.end());
  return folds;
}

}  // namespace cw::train
