#include <cmath>

#include <gtest/gtest.h>

#include "cellwright/analysis/pca.h"
#include "cellwright/core/errors.h"
#include "test_helpers.h"

using namespace cw::analysis;

namespace {

struct PcaFixture {
  nlohmann::json json;
  cw::Dataset dataset;
};

PcaFixture loadPcaFixture() {
  PcaFixture f;
  f.json = loadFixture("pca_reference.json");
  auto& x = f.dataset.X;
  x.rows = f.json["n"].get<int64_t>();
  x.cols = f.json["g"].get<int64_t>();
  x.indptr = f.json["indptr"].get<std::vector<int64_t>>();
  x.indices = f.json["indices"].get<std::vector<int32_t>>();
  for (const auto& v : f.json["data"]) x.data.push_back(static_cast<float>(v.get<double>()));
  x.validate("fixture");
  return f;
}

void setHvg(cw::Dataset& d, const nlohmann::json& mask) {
  cw::Column hv;
  hv.kind = cw::Column::Kind::Bool;
  for (const auto& b : mask) hv.bools.push_back(b.get<bool>() ? 1 : 0);
  d.var.set("highly_variable", hv);
}

void expectRatiosNear(const std::vector<double>& actual, const nlohmann::json& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t c = 0; c < actual.size(); ++c) EXPECT_NEAR(actual[c], expected[c].get<double>(), 1e-3) << "component " << c;
}

}  // namespace

TEST(Pca, VarianceRatiosMatchScikitLearnAllGenes) {
  auto f = loadPcaFixture();
  PcaOptions o;
  o.nComps = 20;
  const PcaResult r = pca(f.dataset, o);
  expectRatiosNear(r.varianceRatio, f.json["ratio_all"]);
  // The leading components themselves agree with sklearn's transform up to sign.
  for (int c = 0; c < 3; ++c) {
    double dot = 0, na = 0, nb = 0;
    for (int64_t i = 0; i < r.embedding.rows; ++i) {
      const double a = r.embedding.at(i, c), b = f.json["embedding_all_first3"][i][c].get<double>();
      dot += a * b;
      na += a * a;
      nb += b * b;
    }
    EXPECT_GT(std::abs(dot) / std::sqrt(na * nb), 0.9999) << "component " << c;
    EXPECT_NEAR(na, nb, 1e-3 * nb);
  }
}

TEST(Pca, UsesHighlyVariableGenesWhenFlagged) {
  auto f = loadPcaFixture();
  setHvg(f.dataset, f.json["hvg"]);
  PcaOptions o;
  o.nComps = 20;
  const PcaResult r = pca(f.dataset, o);
  EXPECT_EQ(r.genesUsed.size(), 80u);
  expectRatiosNear(r.varianceRatio, f.json["ratio_hvg"]);
  o.allGenes = true;
  expectRatiosNear(pca(f.dataset, o).varianceRatio, f.json["ratio_all"]);
}

TEST(Pca, ScaledAndClippedMatchesScikitLearn) {
  auto f = loadPcaFixture();
  ASSERT_GT(f.json["clipped_values"].get<int>(), 0);  // the fixture exercises the clip
  PcaOptions o;
  o.nComps = 20;
  o.scale = true;
  expectRatiosNear(pca(f.dataset, o).varianceRatio, f.json["ratio_scaled"]);
}

TEST(Pca, StoresScanpyKeys) {
  auto f = loadPcaFixture();
  setHvg(f.dataset, f.json["hvg"]);
  PcaOptions o;
  o.nComps = 5;
  storePca(f.dataset, pca(f.dataset, o));
  EXPECT_EQ(f.dataset.obsm.at("X_pca").cols, 5);
  EXPECT_EQ(f.dataset.varm.at("PCs").rows, f.dataset.nVars());
  const auto& ratio = std::get<std::vector<double>>(f.dataset.uns.at("pca").dict().at("variance_ratio").value);
  EXPECT_EQ(ratio.size(), 5u);
}

TEST(Pca, RejectsConstantData) {
  cw::CsrMatrix x;
  x.rows = 3;
  x.cols = 3;
  x.indptr = {0, 0, 0, 0};
  EXPECT_THROW(pca(x, {}), cw::Error);
}
