#include <algorithm>
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "cellwright/analysis/knn.h"
#include "cellwright/core/errors.h"
#include "test_helpers.h"

using namespace cw::analysis;

namespace {

cw::DenseMatrix gaussianClusters(int64_t n, int64_t d, int groups, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> centres(groups * d);
  for (double& c : centres) c = 4 * normal(rng);
  cw::DenseMatrix m;
  m.rows = n;
  m.cols = d;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) m.values.push_back(centres[(i % groups) * d + j] + normal(rng));
  return m;
}

}  // namespace

TEST(Knn, CosineMatchesScikitLearnBruteForce) {
  const auto f = loadFixture("metrics_reference.json")["clustering"];
  const cw::DenseMatrix x = denseFromJson(f["embedding"]);
  KnnOptions o;
  o.k = 16;
  o.metric = Metric::Cosine;
  o.method = KnnMethod::Exact;
  const KnnResult r = findNeighbors(x, o);
  const auto expected = f["knn_cosine"];
  for (int64_t i = 0; i < r.n; ++i) {
    EXPECT_EQ(r.at(i, 0), i);
    for (int j = 1; j < r.k; ++j) EXPECT_EQ(r.at(i, j), expected[i][j - 1].get<int64_t>()) << "cell " << i;
  }
}

TEST(Knn, EuclideanMatchesNaiveSearch) {
  const cw::DenseMatrix x = gaussianClusters(300, 5, 3, 1);
  KnnOptions o;
  o.k = 6;
  o.method = KnnMethod::Exact;
  const KnnResult r = findNeighbors(x, o);
  for (int64_t i = 0; i < x.rows; ++i) {
    std::vector<std::pair<double, int64_t>> all;
    for (int64_t j = 0; j < x.rows; ++j) {
      if (j == i) continue;
      double s = 0;
      for (int64_t c = 0; c < x.cols; ++c) s += std::pow(x.at(i, c) - x.at(j, c), 2);
      all.emplace_back(std::sqrt(s), j);
    }
    std::sort(all.begin(), all.end());
    for (int j = 1; j < o.k; ++j) {
      EXPECT_EQ(r.at(i, j), all[j - 1].second);
      EXPECT_NEAR(r.distance(i, j), all[j - 1].first, 1e-12);
    }
  }
}

TEST(Knn, RejectsTooFewCells) {
  cw::DenseMatrix x;
  x.rows = 3;
  x.cols = 2;
  x.values.assign(6, 1.0);
  EXPECT_THROW(findNeighbors(x, {}), cw::Error);
}

TEST(Knn, HnswRecallAtFifteen) {
  if (!hnswAvailable()) {
    KnnOptions o;
    o.method = KnnMethod::Hnsw;
    EXPECT_THROW(findNeighbors(gaussianClusters(100, 4, 2, 3), o), cw::NotAvailable);
    return;
  }
  const cw::DenseMatrix x = gaussianClusters(4000, 30, 10, 2);
  for (Metric metric : {Metric::Euclidean, Metric::Cosine}) {
    KnnOptions o;
    o.k = 16;
    o.metric = metric;
    o.method = KnnMethod::Exact;
    const KnnResult exact = findNeighbors(x, o);
    o.method = KnnMethod::Hnsw;
    const KnnResult approx = findNeighbors(x, o);
    EXPECT_TRUE(approx.approximate);
    EXPECT_GE(knnRecall(exact, approx), 0.95);
  }
}
