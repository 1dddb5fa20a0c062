// The whole preprocessing run on a hand-made dataset.
#include <gtest/gtest.h>

#include <cmath>

#include "cellwright/core/errors.h"
#include "cellwright/preprocess/pipeline.h"

namespace cw::preprocess {
namespace {

// 4 cells × 4 genes (A, MT-B, C, D); X holds integer counts.
//   cell0: A 6, MT-B 4        -> 2 genes, 40% mito
//   cell1: A 1, C 1, D 2      -> 3 genes
//   cell2: C 5                -> 1 gene
//   cell3: A 2, C 2, D 4, MT-B 2 -> 4 genes, 20% mito
Dataset smallDataset() {
  Dataset d;
  d.X.rows = 4;
  d.X.cols = 4;
  d.X.indptr = {0, 2, 5, 6, 10};
  d.X.indices = {0, 1, 0, 2, 3, 2, 0, 1, 2, 3};
  d.X.data = {6, 4, 1, 1, 2, 5, 2, 2, 2, 4};
  d.obs.index = {"c0", "c1", "c2", "c3"};
  d.obs.set("batch", Column::categorical({0, 0, 1, 1}, {"x", "y"}));
  d.var.index = {"A", "MT-B", "C", "D"};
  return d;
}

TEST(Pipeline, FiltersNormalisesAndKeepsCounts) {
  Dataset d = smallDataset();
  PreprocessOptions o;
  o.targetSum = 10;
  o.filters.minGenes = 2;     // drops cell2
  o.filters.maxPctMito = 30;  // drops cell0 (40%)
  o.filters.minCells = 2;     // over cells 1 and 3: A, C, D in both; MT-B in one -> dropped
  const PreprocessResult r = preprocessDataset(d, o);
  EXPECT_EQ(r.cellsAfter, 2);
  EXPECT_EQ(r.genesAfter, 3);
  EXPECT_EQ(d.obs.index, (std::vector<std::string>{"c1", "c3"}));
  EXPECT_EQ(d.var.index, (std::vector<std::string>{"A", "C", "D"}));
  ASSERT_TRUE(d.layers.count("counts"));
  EXPECT_EQ(d.layers.at("counts").data, (std::vector<float>{1, 1, 2, 2, 2, 4}));
  EXPECT_EQ(d.countsSource, CountsSource::LayersCounts);
  // cell3 total (before gene filtering, over the 4 genes) is 10: A 2 -> log1p(2).
  // Normalisation runs on the kept genes: cell3 keeps A 2, C 2, D 4 (total 8) -> A 2.5.
  EXPECT_NEAR(d.X.data[3], std::log1p(2.5), 1e-6);
  EXPECT_NEAR(d.X.data[0], std::log1p(2.5), 1e-6);  // cell1: A 1 of 4 -> 2.5
  // QC columns describe the cells before filtering, subset with them.
  EXPECT_EQ(d.obs.at("n_genes_by_counts").numbers, (std::vector<double>{3, 4}));
  EXPECT_DOUBLE_EQ(d.obs.at("pct_counts_mt").numbers[1], 20.0);
}

TEST(Pipeline, FlagsHighlyVariableGenesPerBatch) {
  Dataset d = smallDataset();
  PreprocessOptions o;
  o.nTopHvg = 2;
  o.batchKey = "batch";
  const PreprocessResult r = preprocessDataset(d, o);
  EXPECT_EQ(r.nHighlyVariable, 2);
  ASSERT_TRUE(d.var.has("highly_variable"));
  ASSERT_TRUE(d.var.has("dispersions_norm"));
  ASSERT_TRUE(d.var.has("highly_variable_nbatches"));
  int flagged = 0;
  for (int8_t b : d.var.at("highly_variable").bools) flagged += b;
  EXPECT_EQ(flagged, 2);
  EXPECT_EQ(d.nVars(), 4);  // flagged, not subset
}

TEST(Pipeline, RefusesDataWithoutCounts) {
  Dataset d = smallDataset();
  d.X.data[0] = 0.5f;  // no longer integer counts
  EXPECT_THROW(preprocessDataset(d, {}), Error);
  PreprocessOptions assume;
  assume.assumeNormalized = true;
  Dataset e = smallDataset();
  e.X.data[0] = 0.5f;
  EXPECT_NO_THROW(preprocessDataset(e, assume));
  EXPECT_FLOAT_EQ(e.X.data[0], 0.5f);  // left as is
}

TEST(Pipeline, MissingBatchColumnIsAnError) {
  Dataset d = smallDataset();
  PreprocessOptions o;
  o.nTopHvg = 2;
  o.batchKey = "donor";
  EXPECT_THROW(preprocessDataset(d, o), Error);
}

}  // namespace
}  // namespace cw::preprocess
