// The h5ad reader against what anndata reports (tests/reference/io_expectations.py) for every
// shared dataset, and against the arrays written into the layout fixtures
// (tests/reference/make_io_fixtures.py).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "cellwright/core/errors.h"
#include "cellwright/io/readers.h"
#include "io_test_util.h"

using cw::Column;
using nlohmann::json;

namespace {

const char* kindName(Column::Kind k) {
  switch (k) {
    case Column::Kind::Categorical: return "categorical";
    case Column::Kind::Numeric: return "numeric";
    case Column::Kind::String: return "string";
    case Column::Kind::Bool: return "bool";
  }
  return "?";
}

void expectNear(double actual, double expected, const std::string& what) {
  EXPECT_NEAR(actual, expected, 1e-6 * std::max(1.0, std::fabs(expected))) << what;
}

std::vector<int64_t> categoryCounts(const Column& c) {
  std::vector<int64_t> counts(c.categories.size(), 0);
  for (int32_t code : c.codes)
    if (code >= 0) ++counts[code];
  return counts;
}

int64_t missingCount(const Column& c) {
  int64_t n = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    switch (c.kind) {
      case Column::Kind::Categorical: n += c.codes[i] < 0; break;
      case Column::Kind::Numeric: n += std::isnan(c.numbers[i]); break;
      case Column::Kind::Bool: n += c.bools[i] < 0; break;
      case Column::Kind::String: break;
    }
  }
  return n;
}

void checkColumn(const Column& c, const json& e, const std::string& what) {
  EXPECT_EQ(kindName(c.kind), e["kind"].get<std::string>()) << what;
  if (e.contains("n_missing")) { EXPECT_EQ(missingCount(c), e["n_missing"].get<int64_t>()) << what; }
  if (c.kind == Column::Kind::Categorical) {
    if (e.contains("n_categories")) { EXPECT_EQ(c.categories.size(), e["n_categories"].get<size_t>()) << what; }
    if (e.contains("categories")) { EXPECT_EQ(c.categories, e["categories"].get<std::vector<std::string>>()) << what; }
    if (e.contains("counts")) { EXPECT_EQ(categoryCounts(c), e["counts"].get<std::vector<int64_t>>()) << what; }
    if (e.contains("first_category")) {
      EXPECT_EQ(c.categories.front(), e["first_category"].get<std::string>()) << what;
      EXPECT_EQ(c.categories.back(), e["last_category"].get<std::string>()) << what;
      EXPECT_EQ(c.valueAsString(0), e["first_value"].get<std::string>()) << what;
      EXPECT_EQ(c.valueAsString(c.size() - 1), e["last_value"].get<std::string>()) << what;
    }
  } else if (c.kind == Column::Kind::Numeric) {
    double sum = 0;
    for (double v : c.numbers)
      if (!std::isnan(v)) sum += v;
    if (e.contains("sum")) { expectNear(sum, e["sum"].get<double>(), what + " sum"); }
    if (e.contains("first")) { expectNear(c.numbers.front(), e["first"].get<double>(), what + " first"); }
  } else if (c.kind == Column::Kind::Bool) {
    int64_t nTrue = 0;
    for (int8_t b : c.bools) nTrue += b == 1;
    EXPECT_EQ(nTrue, e["n_true"].get<int64_t>()) << what;
  } else {
    if (e.contains("first")) { EXPECT_EQ(c.strings.front(), e["first"].get<std::string>()) << what; }
    if (e.contains("last")) { EXPECT_EQ(c.strings.back(), e["last"].get<std::string>()) << what; }
  }
}

void checkFrame(const cw::DataFrame& df, const json& e, const std::string& what) {
  ASSERT_EQ(df.size(), e["n"].get<size_t>()) << what;
  EXPECT_EQ(df.index.front(), e["first"].get<std::string>()) << what;
  EXPECT_EQ(df.index.back(), e["last"].get<std::string>()) << what;
  EXPECT_EQ(df.columnOrder, e["columns"].get<std::vector<std::string>>()) << what;
  for (const auto& [name, info] : e["column_info"].items()) {
    ASSERT_TRUE(df.has(name)) << what << "/" << name;
    checkColumn(df.at(name), info, what + "/" + name);
  }
}

}  // namespace

TEST(H5adReader, EverySharedFileMatchesAnndata) {
  const json all = cwtest::loadJson(cwtest::ioData("shared_expectations.json"));
  ASSERT_GE(all.size(), 5u);
  for (const auto& [file, e] : all.items()) {
    SCOPED_TRACE(file);
    auto result = cw::io::readDataset(cwtest::sharedData(file));
    const cw::Dataset& d = result.dataset;
    EXPECT_EQ(result.format, cw::io::FileFormat::H5ad);
    EXPECT_EQ(d.nObs(), e["n_obs"].get<int64_t>());
    EXPECT_EQ(d.nVars(), e["n_vars"].get<int64_t>());
    EXPECT_EQ(d.X.nnz(), e["nnz"].get<int64_t>());
    EXPECT_EQ(d.xDtype, e["x_dtype"].get<std::string>());
    expectNear(cwtest::matrixSum(d.X), e["x_sum"].get<double>(), "X sum");
    expectNear(cwtest::rowSum(d.X, 0), e["row0_sum"].get<double>(), "row 0");
    expectNear(cwtest::rowSum(d.X, d.nObs() - 1), e["last_row_sum"].get<double>(), "last row");
    expectNear(cwtest::columnSum(d.X, 0), e["col0_sum"].get<double>(), "column 0");
    checkFrame(d.obs, e["obs"], "obs");
    checkFrame(d.var, e["var"], "var");
    EXPECT_EQ(d.obsm.size(), e["obsm"].size());
    std::vector<std::string> layers;
    for (const auto& [k, m] : d.layers) layers.push_back(k);
    EXPECT_EQ(layers, e["layers"].get<std::vector<std::string>>());
    std::vector<std::string> unsKeys;
    for (const auto& [k, v] : d.uns) unsKeys.push_back(k);
    EXPECT_EQ(unsKeys, e["uns_keys"].get<std::vector<std::string>>());
    // The data README: every shared file stores raw integer UMI counts in X.
    EXPECT_EQ(d.countsSource, cw::CountsSource::X);
    EXPECT_TRUE(result.warnings.empty()) << result.warnings.front();
  }
}

TEST(H5adReader, LayoutFixturesMatchTheArraysWritten) {
  const json all = cwtest::loadJson(cwtest::ioData("formats/expectations.json"));
  ASSERT_GE(all.size(), 10u);
  for (const auto& [file, e] : all.items()) {
    SCOPED_TRACE(file);
    auto result = cw::io::readDataset(cwtest::ioData("formats/" + file));
    const cw::Dataset& d = result.dataset;
    EXPECT_EQ(d.nObs(), e["n_obs"].get<int64_t>());
    EXPECT_EQ(d.nVars(), e["n_vars"].get<int64_t>());
    EXPECT_EQ(d.X.nnz(), e["nnz"].get<int64_t>());
    EXPECT_EQ(d.xDtype, e["x_dtype"].get<std::string>());
    expectNear(cwtest::matrixSum(d.X), e["x_sum"].get<double>(), "X sum");
    EXPECT_EQ(d.obs.index.front(), e["first_cell"].get<std::string>());
    EXPECT_EQ(d.obs.index.back(), e["last_cell"].get<std::string>());
    EXPECT_EQ(d.var.index.front(), e["first_gene"].get<std::string>());
    EXPECT_EQ(d.var.index.back(), e["last_gene"].get<std::string>());
    for (const auto& [name, info] : e["obs"].items()) {
      ASSERT_TRUE(d.obs.has(name)) << name;
      checkColumn(d.obs.at(name), info, name);
    }
    EXPECT_NO_THROW(d.X.validate("X"));
  }
}

TEST(H5adReader, CellxgeneStyleFileKeepsEverySlot) {
  const json e = cwtest::loadJson(cwtest::ioData("formats/expectations.json"))["cellxgene_style.h5ad"];
  auto result = cw::io::readDataset(cwtest::ioData("formats/cellxgene_style.h5ad"));
  const cw::Dataset& d = result.dataset;
  EXPECT_EQ(cw::countsSourceName(d.countsSource), e["counts_source"].get<std::string>());
  ASSERT_NE(d.counts(), nullptr);
  expectNear(cwtest::matrixSum(*d.counts()), e["counts_sum"].get<double>(), "counts");
  EXPECT_EQ(d.var.at("feature_name").valueAsString(0), e["var_feature_name_first"].get<std::string>());
  EXPECT_EQ(d.var.at("highly_variable").kind, Column::Kind::Bool);
  for (const auto& [key, shape] : e["obsm"].items()) {
    ASSERT_TRUE(d.obsm.count(key)) << key;
    EXPECT_EQ(d.obsm.at(key).rows, shape[0].get<int64_t>());
    EXPECT_EQ(d.obsm.at(key).cols, shape[1].get<int64_t>());
  }
  expectNear(d.obsm.at("X_umap").at(0, 0), e["obsm_X_umap_00"].get<double>(), "umap");
  EXPECT_EQ(d.obsp.at("connectivities").nnz(), e["obsp_connectivities_nnz"].get<int64_t>());
  ASSERT_TRUE(d.raw.has_value());
  EXPECT_EQ(d.raw->X.rows, e["raw_shape"][0].get<int64_t>());
  EXPECT_EQ(d.raw->X.cols, e["raw_shape"][1].get<int64_t>());
  EXPECT_EQ(std::get<std::vector<std::string>>(d.uns.at("cell_type_colors").value),
            e["uns_colors"].get<std::vector<std::string>>());
  const auto& paga = std::get<cw::CsrMatrix>(d.uns.at("paga").dict().at("connectivities").value);
  EXPECT_EQ(paga.rows, 3);
  expectNear(cwtest::rowSum(paga, 0), 0.6, "paga row 0");
  EXPECT_EQ(std::get<std::string>(d.uns.at("paga").dict().at("groups").value), "cell_type");
  const auto& params = d.uns.at("neighbors").dict().at("params").dict();
  EXPECT_EQ(std::get<int64_t>(params.at("n_neighbors").value), e["uns_n_neighbors"].get<int64_t>());
  EXPECT_EQ(std::get<std::string>(params.at("method").value), e["uns_method"].get<std::string>());
  EXPECT_DOUBLE_EQ(std::get<double>(params.at("random_state").value), 0.5);
}

TEST(H5adReader, MissingAndNonHdf5FilesGiveOneLineErrors) {
  auto dir = cwtest::scratchDir("notfound");
  try {
    cw::io::readDataset(dir / "nope.h5ad");
    FAIL() << "no error";
  } catch (const cw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not found"), std::string::npos) << e.what();
  }
  {
    std::ofstream(dir / "text.h5ad") << "hello, this is not HDF5\n";
  }
  try {
    cw::io::readDataset(dir / "text.h5ad");
    FAIL() << "no error";
  } catch (const cw::Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos);
    EXPECT_NE(msg.find("not a format"), std::string::npos) << msg;
  }
  std::filesystem::remove_all(dir);
}
