// Highly variable genes on the shared PBMC data against the reference tables made by
// tests/reference/hvg_reference.py (an independent implementation of scanpy's algorithms).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "cellwright/preprocess/hvg.h"
#include "cellwright/preprocess/normalize.h"
#include "fixture_csv.h"
#include "cellwright/io/readers.h"

namespace cw::preprocess {
namespace {

const std::string kShared = CELLWRIGHT_SHARED_DATA_DIR;
const std::string kFixtures = std::string(CELLWRIGHT_TEST_DATA_DIR) + "/preprocess/";

CsrMatrix loadOrSkip(const std::string& file) {
  const std::string path = kShared + "/" + file;
  if (!std::filesystem::exists(path)) return {};
  return io::readDataset(path).dataset.X;
}

std::vector<int32_t> batchCodes(const std::string& file) {
  return io::readDataset(kShared + "/" + file).dataset.obs.at("batch").codes;
}

CsrMatrix logNormalised(CsrMatrix m) {
  normalizeTotal(m, {1e4});
  log1p(m);
  return m;
}

// Fraction of the reference's highly variable genes that we also flag.
double overlap(const std::vector<bool>& ours, const std::vector<double>& expected) {
  int64_t both = 0, total = 0;
  for (size_t g = 0; g < ours.size(); ++g)
    if (expected[g] != 0) {
      ++total;
      both += ours[g] ? 1 : 0;
    }
  return total ? static_cast<double>(both) / total : 0.0;
}

// Relative error where both are finite; NaN must match NaN.
void expectClose(const std::vector<double>& ours, const std::vector<double>& expected, double rel,
                 const char* what) {
  ASSERT_EQ(ours.size(), expected.size());
  int bad = 0;
  for (size_t g = 0; g < ours.size() && bad < 5; ++g) {
    if (std::isnan(expected[g])) {
      if (!std::isnan(ours[g])) ++bad, ADD_FAILURE() << what << " gene " << g << ": expected NaN, got " << ours[g];
      continue;
    }
    const double tol = rel * std::max(1.0, std::fabs(expected[g]));
    if (!(std::fabs(ours[g] - expected[g]) <= tol))
      ++bad, ADD_FAILURE() << what << " gene " << g << ": " << ours[g] << " vs " << expected[g];
  }
}

void checkDispersionFlavor(HvgFlavor flavor, const std::string& fixture) {
  CsrMatrix counts = loadOrSkip("pbmc3k_seurat_2638.h5ad");
  if (counts.rows == 0) GTEST_SKIP() << "shared data not present";
  const auto t = test::readCsvGz(kFixtures + fixture);
  ASSERT_EQ(static_cast<int64_t>(t.rows()), counts.cols);
  HvgOptions o;
  o.flavor = flavor;
  o.nTopGenes = 2000;
  const HvgResult r = highlyVariableGenes(logNormalised(std::move(counts)), o);
  EXPECT_EQ(r.nHighlyVariable, 2000);
  EXPECT_GE(overlap(r.highlyVariable, t.numbers("highly_variable")), 0.99);
  expectClose(r.means, t.numbers("means"), 1e-5, "means");
  expectClose(r.dispersionsNorm, t.numbers("dispersions_norm"), 1e-4, "dispersions_norm");
}

TEST(HvgReference, SeuratOnPbmc3k) { checkDispersionFlavor(HvgFlavor::Seurat, "pbmc3k_hvg_seurat.csv.gz"); }
TEST(HvgReference, CellRangerOnPbmc3k) {
  checkDispersionFlavor(HvgFlavor::CellRanger, "pbmc3k_hvg_cell_ranger.csv.gz");
}

TEST(HvgReference, SeuratV3OnPbmc3k) {
  CsrMatrix counts = loadOrSkip("pbmc3k_seurat_2638.h5ad");
  if (counts.rows == 0) GTEST_SKIP() << "shared data not present";
  const auto t = test::readCsvGz(kFixtures + "pbmc3k_hvg_seurat_v3.csv.gz");
  HvgOptions o;
  o.flavor = HvgFlavor::SeuratV3;
  o.nTopGenes = 2000;
  const HvgResult r = highlyVariableGenes(counts, o);
  EXPECT_EQ(r.nHighlyVariable, 2000);
  const double ov = overlap(r.highlyVariable, t.numbers("highly_variable"));
  RecordProperty("top2000_overlap", std::to_string(ov));
  EXPECT_GE(ov, 0.99);
  expectClose(r.means, t.numbers("means"), 1e-6, "means");
  expectClose(r.variances, t.numbers("variances"), 1e-6, "variances");
  expectClose(r.variancesNorm, t.numbers("variances_norm"), 1e-4, "variances_norm");
}

TEST(HvgReference, SeuratWithStudyBatches) {
  const std::string file = "pbmc_2study_facs_pbmc3k_6512.h5ad";
  CsrMatrix counts = loadOrSkip(file);
  if (counts.rows == 0) GTEST_SKIP() << "shared data not present";
  const auto t = test::readCsvGz(kFixtures + "pbmc2study_hvg_seurat_batch.csv.gz");
  HvgOptions o;
  o.nTopGenes = 1000;
  o.batches = batchCodes(file);
  const HvgResult r = highlyVariableGenes(logNormalised(std::move(counts)), o);
  EXPECT_EQ(r.nBatches, 2);
  EXPECT_GE(overlap(r.highlyVariable, t.numbers("highly_variable")), 0.99);
  expectClose(r.dispersionsNorm, t.numbers("dispersions_norm"), 1e-4, "dispersions_norm");
  const auto nb = t.numbers("highly_variable_nbatches");
  int64_t same = 0;
  for (size_t g = 0; g < nb.size(); ++g) same += r.highlyVariableNbatches[g] == static_cast<int64_t>(nb[g]);
  EXPECT_GE(static_cast<double>(same) / nb.size(), 0.999);
}

TEST(HvgReference, SeuratV3WithStudyBatches) {
  const std::string file = "pbmc_2study_facs_pbmc3k_6512.h5ad";
  CsrMatrix counts = loadOrSkip(file);
  if (counts.rows == 0) GTEST_SKIP() << "shared data not present";
  const auto t = test::readCsvGz(kFixtures + "pbmc2study_hvg_seurat_v3_batch.csv.gz");
  HvgOptions o;
  o.flavor = HvgFlavor::SeuratV3;
  o.nTopGenes = 1000;
  o.batches = batchCodes(file);
  const HvgResult r = highlyVariableGenes(counts, o);
  EXPECT_GE(overlap(r.highlyVariable, t.numbers("highly_variable")), 0.99);
  expectClose(r.variancesNorm, t.numbers("variances_norm"), 1e-4, "variances_norm");
}

}  // namespace
}  // namespace cw::preprocess
