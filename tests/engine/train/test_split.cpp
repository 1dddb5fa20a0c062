#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "cellwright/core/errors.h"
#include "cellwright/train/split.h"

using namespace cw::train;

TEST(Split, StratifiedFractionsPerLabelAndDisjoint) {
  std::vector<int> labels;
  for (int i = 0; i < 50; ++i) labels.push_back(0);
  for (int i = 0; i < 10; ++i) labels.push_back(1);
  labels.push_back(-1);  // unlabelled: left out
  auto s = stratifiedSplit(labels);
  auto count = [&](const std::vector<int64_t>& part, int label) {
    return std::count_if(part.begin(), part.end(), [&](int64_t i) { return labels[i] == label; });
  };
  EXPECT_EQ(count(s.train, 0), 30);
  EXPECT_EQ(count(s.validation, 0), 10);
  EXPECT_EQ(count(s.test, 0), 10);
  EXPECT_EQ(count(s.train, 1), 6);
  EXPECT_EQ(count(s.test, 1), 2);
  std::set<int64_t> all(s.train.begin(), s.train.end());
  all.insert(s.validation.begin(), s.validation.end());
  all.insert(s.test.begin(), s.test.end());
  EXPECT_EQ(all.size(), 60u);
  EXPECT_EQ(all.count(60), 0u);
  EXPECT_EQ(stratifiedSplit(labels).test, s.test);  // same seed, same split
  SplitOptions other;
  other.seed = 7;
  EXPECT_NE(stratifiedSplit(labels, other).test, s.test);
}

TEST(Split, FoldsPartitionEveryLabelledCell) {
  std::vector<int> labels(23, 0);
  for (int i = 0; i < 9; ++i) labels[i] = 1;
  auto folds = stratifiedFolds(labels, 5, 1);
  std::vector<int> seen(23, 0);
  for (const auto& f : folds) {
    EXPECT_GE(f.size(), 4u);
    EXPECT_LE(f.size(), 5u);
    for (auto i : f) ++seen[i];
  }
  for (int s : seen) EXPECT_EQ(s, 1);
  EXPECT_THROW(stratifiedFolds(labels, 1, 1), cw::Error);
}
