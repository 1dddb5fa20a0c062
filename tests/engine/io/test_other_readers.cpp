// 10x HDF5 (v3, v2), Matrix Market folders and dense CSV/TSV, against the arrays written by
// tests/reference/make_tenx_fixtures.py (names made unique by anndata's make_index_unique).
#include <gtest/gtest.h>

#include "cellwright/core/errors.h"
#include "cellwright/io/readers.h"
#include "io_test_util.h"

using nlohmann::json;

namespace {

void checkAgainst(const cw::io::ReadResult& r, const json& e) {
  const cw::Dataset& d = r.dataset;
  EXPECT_EQ(d.nObs(), e["n_obs"].get<int64_t>());
  ASSERT_EQ(d.nVars(), e["n_vars"].get<int64_t>());
  EXPECT_EQ(d.X.nnz(), e["nnz"].get<int64_t>());
  EXPECT_EQ(d.xDtype, e["x_dtype"].get<std::string>());
  EXPECT_DOUBLE_EQ(cwtest::matrixSum(d.X), e["x_sum"].get<double>());
  for (int i = 0; i < 3; ++i) EXPECT_DOUBLE_EQ(cwtest::rowSum(d.X, i), e["row_sums"][i].get<double>());
  EXPECT_EQ(d.obs.index.front(), e["first_cell"].get<std::string>());
  EXPECT_EQ(d.obs.index.back(), e["last_cell"].get<std::string>());
  EXPECT_EQ(d.var.index, e["var_names"].get<std::vector<std::string>>());
  if (e.contains("first_gene_id")) {
    EXPECT_EQ(d.var.at("gene_ids").strings.front(), e["first_gene_id"].get<std::string>());
    EXPECT_EQ(d.var.at("gene_ids").strings.back(), e["last_gene_id"].get<std::string>());
  }
  EXPECT_EQ(d.countsSource, cw::CountsSource::X);
  EXPECT_NO_THROW(d.X.validate("X"));
  bool warnedDuplicates = false;
  for (const auto& w : r.warnings) warnedDuplicates = warnedDuplicates || w.find("made unique") != std::string::npos;
  EXPECT_EQ(warnedDuplicates, e["n_duplicated"].get<int>() > 0);
}

}  // namespace

TEST(OtherReaders, TenxMtxAndTextFixturesMatchTheArraysWritten) {
  const json all = cwtest::loadJson(cwtest::ioData("tenx/expectations.json"));
  ASSERT_EQ(all.size(), 7u);
  for (const auto& [name, e] : all.items()) {
    SCOPED_TRACE(name);
    auto result = cw::io::readDataset(cwtest::ioData("tenx/" + name));
    checkAgainst(result, e);
  }
}

TEST(OtherReaders, FormatsAreDetected) {
  using F = cw::io::FileFormat;
  EXPECT_EQ(cw::io::detectFormat(cwtest::ioData("tenx/tenx_v3.h5")), F::TenxH5);
  EXPECT_EQ(cw::io::detectFormat(cwtest::ioData("tenx/tenx_v2.h5")), F::TenxH5);
  EXPECT_EQ(cw::io::detectFormat(cwtest::ioData("tenx/mtx_v3")), F::MatrixMarketDir);
  EXPECT_EQ(cw::io::detectFormat(cwtest::ioData("tenx/mtx_v2/matrix.mtx")), F::MatrixMarketDir);
  EXPECT_EQ(cw::io::detectFormat(cwtest::ioData("tenx/genes_by_cells.tsv.gz")), F::DelimitedText);
  EXPECT_EQ(cw::io::detectFormat(cwtest::sharedData("seurat_pbmc_small_80.h5ad")), F::H5ad);
}

TEST(OtherReaders, AllFeaturesKeepsAntibodyCapture) {
  const json all = cwtest::loadJson(cwtest::ioData("tenx/expectations.json"));
  cw::io::ReadOptions options;
  options.geneExpressionOnly = false;
  for (const char* name : {"tenx_v3.h5", "mtx_v3"}) {
    SCOPED_TRACE(name);
    auto d = cw::io::readDataset(cwtest::ioData(std::string("tenx/") + name), options).dataset;
    EXPECT_EQ(d.nVars(), all[name]["all_features"]["n_vars"].get<int64_t>());
    EXPECT_DOUBLE_EQ(cwtest::matrixSum(d.X), all[name]["all_features"]["x_sum"].get<double>());
    EXPECT_EQ(d.var.at("feature_types").strings.back(), "Antibody Capture");
  }
}

TEST(OtherReaders, OrientationCanBeForced) {
  cw::io::ReadOptions options;
  options.textOrientation = cw::io::ReadOptions::Orientation::GenesAsRows;
  auto d = cw::io::readDataset(cwtest::ioData("tenx/anonymous.txt"), options).dataset;
  EXPECT_EQ(d.nObs(), 50);  // the 50 gene columns read as cells
  EXPECT_EQ(d.nVars(), 40);
  EXPECT_EQ(d.obs.index.front(), "g0");
  auto detected = cw::io::readDataset(cwtest::ioData("tenx/anonymous.txt"));
  ASSERT_FALSE(detected.warnings.empty());  // names alone could not decide: the user is told
  EXPECT_NE(detected.warnings.front().find("--orientation"), std::string::npos);
}
