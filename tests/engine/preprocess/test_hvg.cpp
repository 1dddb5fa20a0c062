// Highly variable genes on matrices small enough to check on paper.
#include <gtest/gtest.h>

#include <cmath>

#include "cellwright/core/errors.h"
#include "cellwright/preprocess/hvg.h"

namespace cw::preprocess {
namespace {

// Dense cells × genes -> CSR, storing non-zeros only.
CsrMatrix fromDense(const std::vector<std::vector<double>>& rows) {
  CsrMatrix m;
  m.rows = static_cast<int64_t>(rows.size());
  m.cols = static_cast<int64_t>(rows[0].size());
  for (const auto& r : rows) {
    for (size_t c = 0; c < r.size(); ++c)
      if (r[c] != 0) {
        m.indices.push_back(static_cast<int32_t>(c));
        m.data.push_back(static_cast<float>(r[c]));
      }
    m.indptr.push_back(static_cast<int64_t>(m.data.size()));
  }
  return m;
}

// log1p of counts, so that expm1 gives the counts back.
CsrMatrix logged(const std::vector<std::vector<double>>& counts) {
  auto rows = counts;
  for (auto& r : rows)
    for (double& v : r) v = std::log1p(v);
  return fromDense(rows);
}

// Four cells, four genes with mean 1 after expm1:
//   g0 = 1,1,1,1  var 0     -> dispersion undefined (NaN)
//   g1 = 0,2,0,2  var 4/3   -> log(4/3)
//   g2 = 0,0,0,4  var 4     -> log(4)
//   g3 = 0,0,2,2  var 4/3   -> log(4/3)
const std::vector<std::vector<double>> kCounts = {{1, 0, 0, 0}, {1, 2, 0, 0}, {1, 0, 0, 2}, {1, 2, 4, 2}};

TEST(HvgSeurat, DispersionsAndZScoreInOneBin) {
  HvgOptions o;
  o.nTopGenes = 1;
  o.nBins = 1;  // the means differ in the last float bits, which 20 bins would split
  const HvgResult r = highlyVariableGenes(logged(kCounts), o);
  const double a = std::log(4.0 / 3.0), b = std::log(4.0);
  for (int g = 0; g < 4; ++g) EXPECT_NEAR(r.means[g], std::log(2.0), 1e-6);  // log1p(mean 1)
  EXPECT_TRUE(std::isnan(r.dispersions[0]));
  EXPECT_NEAR(r.dispersions[1], a, 1e-6);
  EXPECT_NEAR(r.dispersions[2], b, 1e-6);
  // One bin: mean and sample sd of {a, b, a}.
  const double mu = (2 * a + b) / 3;
  const double sd = std::sqrt((2 * (a - mu) * (a - mu) + (b - mu) * (b - mu)) / 2);
  EXPECT_NEAR(r.dispersionsNorm[1], (a - mu) / sd, 1e-5);
  EXPECT_NEAR(r.dispersionsNorm[2], (b - mu) / sd, 1e-5);
  EXPECT_TRUE(std::isnan(r.dispersionsNorm[0]));
  EXPECT_EQ(r.highlyVariable, (std::vector<bool>{false, false, true, false}));
  EXPECT_EQ(r.nHighlyVariable, 1);
}

TEST(HvgSeurat, LonelyGeneInItsBinGetsOne) {
  // g3 has a much larger mean than the others: alone in the top bin -> normalised 1.
  auto counts = kCounts;
  for (auto& row : counts) row[3] *= 50;
  HvgOptions o;
  o.nTopGenes = 2;
  const HvgResult r = highlyVariableGenes(logged(counts), o);
  EXPECT_NEAR(r.dispersionsNorm[3], 1.0, 1e-9);
  // g1 and g2 share the bottom bin: z-scores of two values are -/+ 1/sqrt(2).
  EXPECT_NEAR(r.dispersionsNorm[1], -std::sqrt(0.5), 1e-5);
  EXPECT_NEAR(r.dispersionsNorm[2], std::sqrt(0.5), 1e-5);
  EXPECT_EQ(r.highlyVariable, (std::vector<bool>{false, false, true, true}));
}

TEST(HvgSeurat, CutoffModeUsesScanpyDefaults) {
  HvgOptions o;  // min_mean 0.0125, max_mean 3, min_disp 0.5
  o.nBins = 1;
  const HvgResult r = highlyVariableGenes(logged(kCounts), o);
  // Only g2 has a normalised dispersion above 0.5 (about 1.15); NaN counts as 0.
  EXPECT_EQ(r.highlyVariable, (std::vector<bool>{false, false, true, false}));
}

TEST(HvgCellRanger, MedianAndMadWithinPercentileBins) {
  // Means on the given scale (no expm1). 2 cells per gene; genes identical in mean
  // -> every gene in the same percentile bin (the (p100, inf) edge is never reached).
  const std::vector<std::vector<double>> x = {{1, 0, 2, 1.5}, {1, 2, 0, 0.5}};
  HvgOptions o;
  o.flavor = HvgFlavor::CellRanger;
  o.nTopGenes = 2;
  const HvgResult r = highlyVariableGenes(fromDense(x), o);
  // var (ddof 1): g0 0, g1 2, g2 2, g3 0.5; mean 1 -> dispersions 0, 2, 2, 0.5.
  EXPECT_NEAR(r.dispersions[1], 2.0, 1e-9);
  EXPECT_NEAR(r.dispersions[3], 0.5, 1e-9);
  // All in one bin: median 1.25, MAD = median(|d - 1.25|) / 0.67449 = 0.75 / 0.67449.
  const double mad = 0.75 / 0.6744897501960817;
  EXPECT_NEAR(r.dispersionsNorm[0], (0 - 1.25) / mad, 1e-9);
  EXPECT_NEAR(r.dispersionsNorm[1], (2 - 1.25) / mad, 1e-9);
  EXPECT_EQ(r.highlyVariable, (std::vector<bool>{false, true, true, false}));
}

TEST(HvgSeuratV3, NeedsTopGenes) {
  HvgOptions o;
  o.flavor = HvgFlavor::SeuratV3;
  EXPECT_THROW(highlyVariableGenes(fromDense(kCounts), o), Error);
}

TEST(HvgBatches, RanksByNumberOfBatchesThenDispersion) {
  // Batch 0 = cells 0-3 (kCounts), batch 1 = the same cells with g1 and g2 swapped.
  auto counts = kCounts;
  for (const auto& row : kCounts) counts.push_back({row[0], row[2], row[1], row[3]});
  HvgOptions o;
  o.nTopGenes = 1;
  o.nBins = 1;
  o.batches = {0, 0, 0, 0, 1, 1, 1, 1};
  const HvgResult r = highlyVariableGenes(logged(counts), o);
  // Each batch picks a different gene (g2, then g1): both in one batch; the tie on
  // normalised dispersion (same mean over batches) keeps the lower gene index.
  EXPECT_EQ(r.highlyVariableNbatches, (std::vector<int64_t>{0, 1, 1, 0}));
  EXPECT_EQ(r.highlyVariable, (std::vector<bool>{false, true, false, false}));
  EXPECT_NEAR(r.dispersionsNorm[1], r.dispersionsNorm[2], 1e-6);
  HvgOptions bad = o;
  bad.batches = {0, 1};
  EXPECT_THROW(highlyVariableGenes(logged(counts), bad), Error);
  bad.batches = {0, 0, 0, 0, 1, 1, 1, 2};  // batch 2 has one cell
  EXPECT_THROW(highlyVariableGenes(logged(counts), bad), Error);
  // Unused category codes do not count as batches.
  HvgOptions gaps = o;
  gaps.batches = {3, 3, 3, 3, 7, 7, 7, 7};
  const HvgResult g = highlyVariableGenes(logged(counts), gaps);
  EXPECT_EQ(g.nBatches, 2);
  EXPECT_EQ(g.highlyVariableNbatches, r.highlyVariableNbatches);
}

}  // namespace
}  // namespace cw::preprocess
