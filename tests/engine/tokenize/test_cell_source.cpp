// Torch-free tokenizer pieces: values, bins, random streams, masking plans.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "cellwright/tokenize/cell_source.h"

namespace cw::tokenize {
namespace {

TEST(CellValues, NormalisesAndLogsPerCell) {
  CsrMatrix m;
  m.rows = 1;
  m.cols = 5;
  m.indptr = {0, 3};
  m.indices = {0, 2, 4};
  m.data = {1, 0, 3};  // an explicit zero is skipped
  CellSource s;
  s.matrix = &m;
  CellValues v;
  readCell({&s, 0}, {4.0, preprocess::LogBase::Natural}, v);  // total 4 -> scale 1
  EXPECT_EQ(v.genes, (std::vector<int32_t>{0, 4}));
  EXPECT_FLOAT_EQ(v.logValues[0], static_cast<float>(std::log(2.0)));
  EXPECT_FLOAT_EQ(v.logValues[1], static_cast<float>(std::log(4.0)));
  readCell({&s, 0}, {4.0, preprocess::LogBase::Two}, v);
  EXPECT_FLOAT_EQ(v.logValues[1], 2.0f);
}

TEST(Bins, TruncatedScBertBins) {
  EXPECT_EQ(truncatedBin(0.0f), 0);
  EXPECT_EQ(truncatedBin(0.99f), 0);
  EXPECT_EQ(truncatedBin(1.0f), 1);
  EXPECT_EQ(truncatedBin(4.7f), 4);
  EXPECT_EQ(truncatedBin(5.0f), 5);
  EXPECT_EQ(truncatedBin(9.3f), 5);
}

TEST(Bins, PerCellQuantileBins) {
  // Non-zero values 1, 2, 3, 10 (n = 4): q_k = value at position 0.06 k.
  //   1  -> k = 1 (q_1 = 1.06);   2 -> position >= 1 -> k >= 16.7 -> 17;
  //   3  -> position >= 2 -> k >= 33.4 -> 34;   10 (the maximum) -> 50.
  EXPECT_EQ(quantileBins({3, 1, 10, 2}), (std::vector<int64_t>{34, 1, 50, 17}));
  // All equal: every edge equals the value -> bin 1.
  EXPECT_EQ(quantileBins({7, 7, 7}), (std::vector<int64_t>{1, 1, 1}));
  EXPECT_EQ(quantileBins({5}), (std::vector<int64_t>{1}));
  EXPECT_TRUE(quantileBins({}).empty());
}

TEST(Random, StreamsAreReproducibleAndIndependentOfOrder) {
  Rng a = cellRng(42, 0, 0, 17), b = cellRng(42, 0, 0, 17), c = cellRng(42, 1, 0, 17);
  const uint64_t x = a.next();
  EXPECT_EQ(x, b.next());
  EXPECT_NE(x, c.next());
  Rng r(1);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(r.below(7), 7u);
  const auto s = sampleWithoutReplacement(r, 10, 10);
  EXPECT_EQ(std::set<int64_t>(s.begin(), s.end()).size(), 10u);
}

TEST(Masking, FifteenPercentAtLeastOneNinetyTen) {
  Rng r(3);
  MaskPlan p = planMasking(r, 3);  // 0.45 rounds to 0 -> at least one
  EXPECT_EQ(p.replaced.size() + p.unchanged.size(), 1u);
  EXPECT_EQ(p.unchanged.size(), 0u);  // round(0.1) = 0
  p = planMasking(r, 200);  // 30 masked: 3 unchanged, 27 replaced
  EXPECT_EQ(p.replaced.size(), 27u);
  EXPECT_EQ(p.unchanged.size(), 3u);
  std::set<int64_t> all(p.replaced.begin(), p.replaced.end());
  all.insert(p.unchanged.begin(), p.unchanged.end());
  EXPECT_EQ(all.size(), 30u);
  EXPECT_LT(*all.rbegin(), 200);
  EXPECT_TRUE(planMasking(r, 0).replaced.empty());
}

}  // namespace
}  // namespace cw::tokenize
