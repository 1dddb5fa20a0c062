// QC metrics, filters, normalisation, log transforms and scaling on hand-made matrices.
#include <gtest/gtest.h>

#include <cmath>

#include "cellwright/core/errors.h"
#include "cellwright/preprocess/normalize.h"
#include "cellwright/preprocess/qc.h"
#include "cellwright/preprocess/scale.h"

namespace cw::preprocess {
namespace {

// 3 cells × 4 genes (genes: A, MT-X, B, mt-y):
//   cell0: A=2, MT-X=2          total 4, 2 genes, 50% mito
//   cell1: A=1, B=3, mt-y=4     total 8, 3 genes, 50% mito
//   cell2: B=6                  total 6, 1 gene,  0% mito
CsrMatrix smallCounts() {
  CsrMatrix m;
  m.rows = 3;
  m.cols = 4;
  m.indptr = {0, 2, 5, 6};
  m.indices = {0, 1, 0, 2, 3, 2};
  m.data = {2, 2, 1, 3, 4, 6};
  return m;
}
const std::vector<std::string> kGenes = {"A", "MT-X", "B", "mt-y"};

TEST(Qc, PerCellAndPerGeneMetrics) {
  const QcMetrics q = computeQcMetrics(smallCounts(), kGenes);
  EXPECT_EQ(q.nMitoGenes, 2);
  EXPECT_EQ(q.nGenesByCounts, (std::vector<int64_t>{2, 3, 1}));
  EXPECT_EQ(q.totalCounts, (std::vector<double>{4, 8, 6}));
  EXPECT_DOUBLE_EQ(q.pctCountsMito[0], 50.0);
  EXPECT_DOUBLE_EQ(q.pctCountsMito[1], 50.0);
  EXPECT_DOUBLE_EQ(q.pctCountsMito[2], 0.0);
  EXPECT_EQ(q.nCellsByCounts, (std::vector<int64_t>{2, 1, 2, 1}));
  EXPECT_EQ(q.geneTotalCounts, (std::vector<double>{3, 2, 9, 4}));
}

TEST(Qc, ExplicitZerosAreNotExpressed) {
  CsrMatrix m = smallCounts();
  m.data[0] = 0;  // cell0 gene A stored as 0
  const QcMetrics q = computeQcMetrics(m, kGenes);
  EXPECT_EQ(q.nGenesByCounts[0], 1);
  EXPECT_DOUBLE_EQ(q.pctCountsMito[0], 100.0);
  EXPECT_EQ(q.nCellsByCounts[0], 1);
}

TEST(Qc, FiltersCellsThenGenes) {
  FilterOptions o;
  o.minGenes = 2;  // drops cell2
  FilterResult r = filterCellsAndGenes(smallCounts(), kGenes, o);
  EXPECT_EQ(r.keptCells, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(r.removedByMinGenes, 1);
  EXPECT_EQ(r.keptGenes.size(), 4u);

  o.minCells = 2;  // over cells 0 and 1 only A is in two cells
  r = filterCellsAndGenes(smallCounts(), kGenes, o);
  EXPECT_EQ(r.keptGenes, (std::vector<int64_t>{0}));
  EXPECT_EQ(r.removedGenes, 3);

  FilterOptions mito;
  mito.maxPctMito = 40;  // cells 0 and 1 are at 50%
  r = filterCellsAndGenes(smallCounts(), kGenes, mito);
  EXPECT_EQ(r.keptCells, (std::vector<int64_t>{2}));
  EXPECT_EQ(r.removedByMito, 2);
}

TEST(Qc, RejectsWrongNameCount) {
  EXPECT_THROW(computeQcMetrics(smallCounts(), {"A"}), Error);
}

TEST(Normalize, TargetSumAndMedian) {
  CsrMatrix m = smallCounts();
  NormalizeResult r = normalizeTotal(m, {10.0});
  EXPECT_DOUBLE_EQ(r.targetSumUsed, 10.0);
  EXPECT_FLOAT_EQ(m.data[0], 5.0f);   // 2 * 10/4
  EXPECT_FLOAT_EQ(m.data[3], 3.75f);  // 3 * 10/8
  EXPECT_FLOAT_EQ(m.data[5], 10.0f);

  CsrMatrix med = smallCounts();
  r = normalizeTotal(med, {0.0});  // median of 4, 8, 6 = 6
  EXPECT_DOUBLE_EQ(r.targetSumUsed, 6.0);
  EXPECT_FLOAT_EQ(med.data[0], 3.0f);
}

TEST(Normalize, Log1pNaturalAndBase2) {
  CsrMatrix m = smallCounts();
  log1p(m, LogBase::Natural);
  EXPECT_FLOAT_EQ(m.data[0], static_cast<float>(std::log(3.0)));
  CsrMatrix m2 = smallCounts();
  log1p(m2, LogBase::Two);
  EXPECT_FLOAT_EQ(m2.data[2], 1.0f);  // log2(1 + 1)
  EXPECT_FLOAT_EQ(m2.data[3], 2.0f);  // log2(1 + 3)
}

TEST(Scale, ZeroMeanUnitVarianceWithClip) {
  // Gene A over the 3 cells: 2, 1, 0 -> mean 1, sd 1 (ddof 1) -> 1, 0, -1.
  ScaleResult s = scale(smallCounts());
  ASSERT_EQ(s.rows, 3);
  ASSERT_EQ(s.cols, 4);
  EXPECT_FLOAT_EQ(s.values[0 * 4 + 0], 1.0f);
  EXPECT_FLOAT_EQ(s.values[1 * 4 + 0], 0.0f);
  EXPECT_FLOAT_EQ(s.values[2 * 4 + 0], -1.0f);
  // Gene B: 0, 3, 6 -> mean 3, sd 3 -> -1, 0, 1.
  EXPECT_FLOAT_EQ(s.values[0 * 4 + 2], -1.0f);
  EXPECT_FLOAT_EQ(s.values[2 * 4 + 2], 1.0f);
  EXPECT_DOUBLE_EQ(s.stds[2], 3.0);

  // One non-zero among n = 122 cells: z = (n - 1) / sqrt(n) = 10.95 -> clipped to 10;
  // the zeros sit at -1 / sqrt(n).
  CsrMatrix big;
  big.rows = 122;
  big.cols = 1;
  big.indptr.assign(123, 1);
  big.indptr[0] = 0;
  big.indices = {0};
  big.data = {100};
  ScaleResult c = scale(big);
  EXPECT_FLOAT_EQ(c.values[0], 10.0f);
  EXPECT_NEAR(c.values[1], -1.0 / std::sqrt(122.0), 1e-6);
  ScaleOptions noClip;
  noClip.maxValue = 0;
  EXPECT_NEAR(scale(big, noClip).values[0], 121.0 / std::sqrt(122.0), 1e-5);
}

TEST(Scale, SubsetOfColumnsAndConstantGene) {
  ScaleOptions o;
  o.columns = {3, 2};
  CsrMatrix m = smallCounts();
  m.data[4] = 0;  // mt-y now constant zero: sd 0 is replaced by 1
  const ScaleResult s = scale(m, o);
  ASSERT_EQ(s.cols, 2);
  EXPECT_DOUBLE_EQ(s.stds[0], 1.0);
  EXPECT_FLOAT_EQ(s.values[0], 0.0f);
  EXPECT_FLOAT_EQ(s.values[1], -1.0f);  // gene B of cell0
}

}  // namespace
}  // namespace cw::preprocess
