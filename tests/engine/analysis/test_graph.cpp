// Neighbour graph, UMAP and Leiden against umap-learn / leidenalg on pbmc68k_reduced's PCA.
#include <cmath>
#include <algorithm>
#include <map>

#include <gtest/gtest.h>

#include "cellwright/analysis/leiden.h"
#include "cellwright/analysis/neighbors.h"
#include "cellwright/analysis/paga.h"
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

// pbmc68k_reduced's graph has 700 cells and fewer than 20,000 edges: with all threads
// allowed it still runs on one, so the GUI's default UMAP of a small dataset is the same
// picture every time (the lock-free parallel updates were not).
TEST(Umap, SmallGraphsRepeatWithDefaultThreads) {
  ASSERT_LT(pbmcNeighbors().connectivities.nnz(), 20000);
  UmapOptions o;
  o.seed = 3;
  o.epochs = 50;
  const auto first = umap(pbmcNeighbors().connectivities, o);
  for (int run = 0; run < 3; ++run)
    EXPECT_EQ(umap(pbmcNeighbors().connectivities, o).embedding.values, first.embedding.values) << "run " << run;
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

TEST(Leiden, ModularityWithinOnePercentOfLeidenalg) {
  const auto& f = graphFixture();
  if (!igraphAvailable()) {
    EXPECT_THROW(leiden(pbmcNeighbors().connectivities), cw::NotAvailable);
    return;
  }
  const LeidenResult r = leiden(pbmcNeighbors().connectivities);
  const double theirs = f["leiden_modularity"].get<double>();
  EXPECT_NEAR(r.modularity, theirs, 0.01 * theirs);
  EXPECT_NEAR(modularity(pbmcNeighbors().connectivities, r.membership), r.modularity, 1e-12);
  EXPECT_GT(r.nClusters, 5);
  // Cluster 0 is the largest.
  std::map<int32_t, int> sizes;
  for (int32_t m : r.membership) ++sizes[m];
  for (const auto& [c, size] : sizes) EXPECT_LE(size, sizes[0]);
  // Higher resolution, more clusters.
  LeidenOptions fine;
  fine.resolution = 3.0;
  EXPECT_GT(leiden(pbmcNeighbors().connectivities, fine).nClusters, r.nClusters);
}

TEST(Leiden, HandComputedModularity) {
  // Two triangles joined by one edge, all weights 1: m = 7, each side has 3 inner edges and
  // degree sum 7 -> Q = 2 (3/7 - (7/14)^2) = 6/7 - 1/2.
  cw::CsrMatrix g;
  g.rows = g.cols = 6;
  const std::vector<std::pair<int, int>> edges{{0, 1}, {0, 2}, {1, 2}, {3, 4}, {3, 5}, {4, 5}, {2, 3}};
  std::vector<std::vector<int>> adj(6);
  for (auto [a, b] : edges) {
    adj[a].push_back(b);
    adj[b].push_back(a);
  }
  g.indptr = {0};
  for (auto& row : adj) {
    std::sort(row.begin(), row.end());
    for (int c : row) {
      g.indices.push_back(c);
      g.data.push_back(1.0f);
    }
    g.indptr.push_back(static_cast<int64_t>(g.data.size()));
  }
  EXPECT_NEAR(modularity(g, {0, 0, 0, 1, 1, 1}), 6.0 / 7.0 - 0.5, 1e-12);
  if (igraphAvailable()) {
    const auto r = leiden(g);
    EXPECT_EQ(r.nClusters, 2);
    EXPECT_NEAR(r.modularity, 6.0 / 7.0 - 0.5, 1e-12);
  }
}

TEST(Paga, MatchesScanpyV12) {
  const auto& f = graphFixture();
  const auto codes = f["labels"].get<std::vector<int32_t>>();
  const auto names = f["paga_groups"].get<std::vector<std::string>>();
  const PagaResult r = paga(pbmcNeighbors().connectivities, codes, names);
  const auto expected = f["paga_connectivities"];
  for (size_t i = 0; i < names.size(); ++i)
    for (size_t j = 0; j < names.size(); ++j)
      EXPECT_NEAR(r.connectivities[i][j], expected[i][j].get<double>(), 1e-9) << i << "," << j;
  // Capped values tie, so several trees are minimal: compare the total cost and the shape.
  auto cost = [&](const std::vector<std::pair<int, int>>& tree) {
    double c = 0;
    for (auto [i, j] : tree) c += 1.0 / expected[i][j].get<double>();
    return c;
  };
  std::vector<std::pair<int, int>> scipyTree;
  for (const auto& e : f["paga_tree"]) scipyTree.emplace_back(e[0].get<int>(), e[1].get<int>());
  ASSERT_EQ(r.tree.size(), names.size() - 1);
  EXPECT_NEAR(cost(r.tree), cost(scipyTree), 1e-9);
  if (igraphAvailable()) {
    EXPECT_EQ(r.positions.rows, static_cast<int64_t>(names.size()));
    for (double v : r.positions.values) EXPECT_TRUE(std::isfinite(v));
  }
  const auto json = pagaToJson(r);
  EXPECT_EQ(json["tree"].size(), names.size() - 1);
  EXPECT_EQ(json["groups"][0], names[0]);
}
