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

#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

namespace cw::train {

BatchSplitResult batchSplit(const std::vector<int>& labels, const std::vector<std::string>& batches,
                            const std::string& testBatch, double validationFraction, uint64_t seed) {
  if (labels.size() != batches.size()) throw Error("labels and batches differ in length");
  BatchSplitResult out;
  std::vector<int> trainLabels(labels.size(), -1);
  std::set<std::string> others;
  std::set<int> testLabels, trainOnly;
  bool testFound = false;
  for (size_t i = 0; i < labels.size(); ++i)
    if (batches[i] == testBatch) {
      testFound = true;
      if (labels[i] >= 0) testLabels.insert(labels[i]);
    }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (batches[i] == testBatch || batches[i].empty()) continue;
    others.insert(batches[i]);
    if (labels[i] < 0) continue;
    if (testLabels.count(labels[i])) trainLabels[i] = labels[i];
    else trainOnly.insert(labels[i]);
  }
  if (!testFound) throw Error("no cell has batch '" + testBatch + "'");
  if (others.empty()) throw Error("every cell is in batch '" + testBatch + "': nothing left to train on");
  out.excludedTrainLabels.assign(trainOnly.begin(), trainOnly.end());
  out.trainBatches.assign(others.begin(), others.end());
  SplitOptions o;
  o.trainFraction = 1.0 - validationFraction;
  o.validationFraction = validationFraction;
  o.testFraction = 0.0;
  o.seed = seed;
  auto part = stratifiedSplit(trainLabels, o);
  out.split.train = std::move(part.train);
  out.split.validation = std::move(part.validation);
  std::set<int> seen;
  for (auto i : out.split.train) seen.insert(labels[i]);
  std::set<int> excluded;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (batches[i] != testBatch || labels[i] < 0) continue;
    if (seen.count(labels[i])) out.split.test.push_back(static_cast<int64_t>(i));
    else excluded.insert(labels[i]);
  }
  out.excludedLabels.assign(excluded.begin(), excluded.end());
  return out;
}

std::string splitToJson(const SplitResult& split, const std::vector<std::string>& cellNames) {
  auto names = [&](const std::vector<int64_t>& part) {
    std::vector<std::string> out;
    for (auto i : part) out.push_back(cellNames.at(static_cast<size_t>(i)));
    return out;
  };
  nlohmann::json j;
  j["train"] = names(split.train);
  j["validation"] = names(split.validation);
  j["test"] = names(split.test);
  return j.dump(1);
}

SplitResult splitFromJson(const std::string& text, const std::vector<std::string>& cellNames) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    throw Error("the split file is not valid JSON");
  }
  std::unordered_map<std::string, int64_t> index;
  for (size_t i = 0; i < cellNames.size(); ++i) index.emplace(cellNames[i], static_cast<int64_t>(i));
  auto part = [&](const char* key) {
    std::vector<int64_t> out;
    if (!j.contains(key)) return out;
    for (const auto& name : j.at(key)) {
      auto it = index.find(name.get<std::string>());
      if (it == index.end()) throw Error("the split file names cell '" + name.get<std::string>() + "', which is not in the data");
      out.push_back(it->second);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  SplitResult s{part("train"), part("validation"), part("test")};
  if (s.train.empty()) throw Error("the split file has no training cells");
  return s;
}

}  // namespace cw::train
