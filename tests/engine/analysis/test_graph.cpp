// Neighbour graph, UMAP and Leiden against umap-learn / leidenalg on pbmc68k_reduced's PCA.
#include <cmath>
#include <map>

#include <gtest/gtest.h>

#include "cellwright/analysis/neighbors.h"
#include "cellwright/analysis/umap.h"
#include "cellwright/core/errors.h"
#include "test_helpers.h"

using namespace cw::analysis;

namespace {

const nlohmann::json& graphFixture() {
  static const nlohmann::json f = loadFixture("graph_reference.json");
  return f;
}

const NeighborsResult& pbmcNeighbors() {
  static const NeighborsResult r = [] {
    NeighborsOptions o;
    o.method = KnnMethod::Exact;
    return computeNeighbors(denseFromJson(graphFixture()["pca"]), o);
  }();
  return r;
}

}  // namespace

TEST(Neighbors, ConnectivitiesMatchUmapLearn) {
  const auto& f = graphFixture();
  const auto& r = pbmcNeighbors();
  const auto indptr = f["conn_indptr"].get<std::vector<int64_t>>();
  const auto indices = f["conn_indices"].get<std::vector<int32_t>>();
  const auto data = f["conn_data"].get<std::vector<double>>();
  ASSERT_EQ(r.connectivities.rows, static_cast<int64_t>(indptr.size()) - 1);
  ASSERT_EQ(r.connectivities.indptr, indptr);
  ASSERT_EQ(r.connectivities.indices, indices);
  for (size_t p = 0; p < data.size(); ++p) EXPECT_NEAR(r.connectivities.data[p], data[p], 2e-5) << "entry " << p;
  // scanpy's distances: k - 1 stored neighbours per cell.
  EXPECT_EQ(r.distances.nnz(), r.distances.rows * 14);
}

TEST(Neighbors, HandComputedFuzzyUnion) {
  // Three cells on a line at 0, 1, 3 with k = 2 (itself + 1): rho is the nearest distance, so
  // each directed edge has weight 1; 0->1, 1->0, 2->1 -> union: 0-1 = 1, 1-2 = 1.
  KnnResult knn;
  knn.n = 3;
  knn.k = 2;
  knn.indices = {0, 1, 1, 0, 2, 1};
  knn.distances = {0, 1, 0, 1, 0, 2};
  const auto g = fuzzySimplicialSet(knn);
  EXPECT_EQ(g.indptr, (std::vector<int64_t>{0, 1, 3, 4}));
  EXPECT_EQ(g.indices, (std::vector<int32_t>{1, 0, 2, 1}));
  for (float w : g.data) EXPECT_FLOAT_EQ(w, 1.0f);
}

TEST(Umap, CurveParametersMatchUmapLearn) {
  const auto [a, b] = fitAB(1.0, 0.5);
  EXPECT_NEAR(a, graphFixture()["umap_a"].get<double>(), 1e-4);
  EXPECT_NEAR(b, graphFixture()["umap_b"].get<double>(), 1e-4);
}

TEST(Umap, TrustworthinessWithinOnePercentOfUmapLearn) {
  const auto& f = graphFixture();
  UmapOptions o;
  o.seed = 1;
  const UmapResult r = umap(pbmcNeighbors().connectivities, o);
  EXPECT_EQ(r.epochs, 500);
  EXPECT_EQ(r.embedding.cols, 2);
  for (double v : r.embedding.values) ASSERT_TRUE(std::isfinite(v));
  const double ours = trustworthiness(denseFromJson(f["pca"]), r.embedding, 15);
  const double theirs = f["umap_trustworthiness"].get<double>();
  EXPECT_GT(ours, theirs - 0.01) << "umap-learn: " << theirs;
}

TEST(Umap, SeededSingleThreadRunsRepeat) {
  UmapOptions o;
  o.seed = 3;
  o.threads = 1;
  o.epochs = 50;
  const auto first = umap(pbmcNeighbors().connectivities, o);
  const auto second = umap(pbmcNeighbors().connectivities, o);
  EXPECT_EQ(first.embedding.values, second.embedding.values);
}

TEST(Umap, CancelStopsTheLayout) {
  cw::Feedback feedback;
  feedback.cancel();
  EXPECT_THROW(umap(pbmcNeighbors().connectivities, {}, &feedback), cw::Canceled);
}

TEST(Umap, TrustworthinessOfTheDataItselfIsOne) {
  const cw::DenseMatrix x = denseFromJson(graphFixture()["pca"]);
  EXPECT_NEAR(trustworthiness(x, x, 15), 1.0, 1e-12);
}
