#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "cellwright/analysis/clustering_metrics.h"
#include "cellwright/core/errors.h"
#include "test_helpers.h"

using namespace cw::analysis;

TEST(ClusteringMetrics, HandComputedAgreement) {
  EXPECT_DOUBLE_EQ(normalizedMutualInfo({0, 0, 1, 1}, {5, 5, 2, 2}), 1.0);
  EXPECT_DOUBLE_EQ(normalizedMutualInfo({0, 0, 1, 1}, {0, 1, 0, 1}), 0.0);
  EXPECT_DOUBLE_EQ(adjustedRandIndex({0, 0, 1, 1}, {1, 1, 0, 0}), 1.0);
  // Pairs: tp = 1, fp = 0, fn = 1 (cells 2-3 split), tn = 4 -> 2 (4 - 0) / (2 * 5 + 1 * 4) = 4/7.
  EXPECT_NEAR(adjustedRandIndex({0, 0, 1, 2}, {0, 0, 1, 1}), 4.0 / 7.0, 1e-15);
}

TEST(ClusteringMetrics, HandComputedSilhouette) {
  cw::DenseMatrix x;
  x.rows = 4;
  x.cols = 1;
  x.values = {0, 1, 10, 11};
  // Cell 0: a = 1, b = 10.5; cell 1: a = 1, b = 9.5; cells 2, 3 mirror them.
  const double expected = (9.5 / 10.5 + 8.5 / 9.5) / 2.0;
  EXPECT_NEAR(silhouetteScore(x, {0, 0, 1, 1}, Metric::Euclidean), expected, 1e-15);
  EXPECT_THROW(silhouetteScore(x, {0, 0, 0, 0}, Metric::Euclidean), cw::Error);
}

TEST(ClusteringMetrics, HandComputedGraphConnectivity) {
  // Four cells, k = 1 neighbour besides itself: 0->1, 1->0, 2->0, 3->1. Label A = {0, 1, 2},
  // label B = {3}. A's restricted graph: 0-1, 2-0 -> one component of 3; B: 1 of 1.
  KnnResult knn;
  knn.n = 4;
  knn.k = 2;
  knn.indices = {0, 1, 1, 0, 2, 0, 3, 1};
  knn.distances = {0, 1, 0, 1, 0, 1, 0, 1};
  EXPECT_DOUBLE_EQ(graphConnectivity(knn, {0, 0, 0, 1}), 1.0);
  // With cell 2 in B: A = {0, 1} connected, B = {2, 3} has no edge inside -> 1/2.
  EXPECT_DOUBLE_EQ(graphConnectivity(knn, {0, 0, 1, 1}), (1.0 + 0.5) / 2.0);
  // Batches 0,1,0,1 with labels all equal: 0->1 other batch, 1->0 other, 2->0 same, 3->1 same.
  EXPECT_DOUBLE_EQ(batchGraphConnectivity(knn, {0, 0, 0, 0}, {0, 1, 0, 1}), 0.5);
}

TEST(ClusteringMetrics, LisiHandComputed) {
  // Cell 0's neighbours 1, 2, 3 share one label -> Simpson index 1 -> LISI 1.
  KnnResult knn;
  knn.n = 4;
  knn.k = 4;
  knn.indices = {0, 1, 2, 3, 1, 0, 2, 3, 2, 0, 1, 3, 3, 0, 1, 2};
  knn.distances = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3};
  EXPECT_NEAR(lisi(knn, {0, 0, 0, 0}, 2)[0], 1.0, 1e-12);
  // Two equidistant neighbours of different labels -> each carries weight 1/2 -> LISI 2.
  KnnResult two;
  two.n = 3;
  two.k = 3;
  two.indices = {0, 1, 2, 1, 0, 2, 2, 0, 1};
  two.distances = {0, 1, 1, 0, 1, 1, 0, 1, 1};
  EXPECT_NEAR(lisi(two, {0, 0, 1}, 2)[0], 2.0, 1e-12);
}

TEST(ClusteringMetrics, MatchesScikitLearnAndScib) {
  const auto f = loadFixture("metrics_reference.json")["clustering"];
  const cw::DenseMatrix x = denseFromJson(f["embedding"]);
  const auto labels = f["labels"].get<std::vector<int>>();
  const auto clusters = f["clusters"].get<std::vector<int>>();
  const auto batches = f["batches"].get<std::vector<int>>();
  EXPECT_NEAR(normalizedMutualInfo(labels, clusters), f["nmi"].get<double>(), 1e-12);
  EXPECT_NEAR(adjustedRandIndex(labels, clusters), f["ari"].get<double>(), 1e-12);
  EXPECT_NEAR(silhouetteScore(x, labels, Metric::Cosine), f["silhouette_cosine"].get<double>(), 1e-9);
  EXPECT_NEAR(silhouetteScore(x, labels, Metric::Euclidean), f["silhouette_euclidean"].get<double>(), 1e-9);

  const auto r = clusteringMetrics(x, labels, clusters, batches);
  EXPECT_NEAR(r.silhouette, (1 + f["silhouette_cosine"].get<double>()) / 2, 1e-9);
  EXPECT_NEAR(r.graphConnectivity, f["graph_connectivity"].get<double>(), 1e-12);
  EXPECT_NEAR(r.batchGraphConnectivity, f["batch_graph_connectivity"].get<double>(), 1e-12);
  EXPECT_NEAR(r.avgBio, (r.nmi + r.ari + r.silhouette) / 3, 1e-15);
  EXPECT_DOUBLE_EQ(r.avgBatch, r.batchGraphConnectivity);

  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  EXPECT_NEAR(r.clisi, median(f["clisi"].get<std::vector<double>>()), 1e-9);
  EXPECT_NEAR(r.ilisi, median(f["ilisi"].get<std::vector<double>>()), 1e-9);

  const auto json = clusteringToJson(r);
  for (const char* key : {"nmi", "ari", "silhouette", "graph_connectivity", "avg_bio", "batch_graph_connectivity", "avg_batch"})
    EXPECT_TRUE(json.contains(key)) << key;
}
