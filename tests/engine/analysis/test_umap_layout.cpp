// The UMAP layout's pieces against independent computations: one attraction step against the
// formula with std::pow, the portable and the vector kernel against each other, and the
// spectral initialisation against a dense eigendecomposition.
#include <algorithm>
#include <cmath>
#include <random>

#include <Eigen/Dense>
#include <gtest/gtest.h>

#include "cellwright/analysis/neighbors.h"
#include "cellwright/analysis/umap.h"
#include "umap_sgd.h"

using namespace cw::analysis;

namespace {

// The same edge list for both kernels: each of n cells linked to the next few, weights in (0, 1].
detail::UmapSchedule ringSchedule(int n, int links, float negativeRate, std::mt19937& rng) {
  std::uniform_real_distribution<float> weight(0.2f, 1.0f);
  detail::UmapSchedule s;
  s.rowStart.push_back(0);
  for (int i = 0; i < n; ++i) {
    for (int j = 1; j <= links; ++j) {
      s.tail.push_back((i + j) % n);
      s.epochsPerSample.push_back(1.0f / weight(rng));
    }
    s.rowStart.push_back(static_cast<int64_t>(s.tail.size()));
  }
  s.nextSample = s.epochsPerSample;
  for (float e : s.epochsPerSample) s.nextNegative.push_back(e / negativeRate);
  return s;
}

}  // namespace

TEST(UmapLayout, OneAttractionStepMatchesTheFormula) {
  const auto [a, b] = fitAB(1.0, 0.5);
  const detail::UmapCurve curve{static_cast<float>(a), static_cast<float>(b), static_cast<float>(2 * b), 1.0f};
  for (bool vector : {true, false}) {
    // Cell 0 attracted by cell 1; cell 2 is not linked. One negative rate with the next
    // negative sample due at the epoch itself: no negative sample is drawn.
    std::vector<float> emb{0.0f, 0.0f, 1.5f, 0.5f, 9.0f, 9.0f};
    detail::UmapSchedule s;
    s.rowStart = {0, 1, 1, 1};
    s.tail = {1};
    s.epochsPerSample = {1.0f};
    s.nextSample = {1.0f};
    s.nextNegative = {1.0f};
    detail::UmapRandom random(7);
    const float alpha = 0.8f;
    detail::umapEpochKernel(2, vector)(emb.data(), 3, s, 0, 3, 1.0f, alpha, curve, random);

    const double d2 = 1.5 * 1.5 + 0.5 * 0.5;
    const double coeff = -2.0 * a * b * std::pow(d2, b - 1.0) / (1.0 + a * std::pow(d2, b));
    const double gx = std::clamp(coeff * -1.5, -4.0, 4.0) * alpha, gy = std::clamp(coeff * -0.5, -4.0, 4.0) * alpha;
    EXPECT_NEAR(emb[0], gx, 1e-4 * std::abs(gx));
    EXPECT_NEAR(emb[1], gy, 1e-4 * std::abs(gy));
    EXPECT_NEAR(emb[2], 1.5 - gx, 1e-4 * std::abs(gx));
    EXPECT_NEAR(emb[3], 0.5 - gy, 1e-4 * std::abs(gy));
    EXPECT_EQ(emb[4], 9.0f);
    EXPECT_EQ(emb[5], 9.0f);
    EXPECT_EQ(s.nextSample[0], 2.0f);
  }
}

TEST(UmapLayout, PortableAndVectorKernelsAgree) {
  const auto [a, b] = fitAB(1.0, 0.5);
  const detail::UmapCurve curve{static_cast<float>(a), static_cast<float>(b), static_cast<float>(2 * b), 5.0f};
  constexpr int n = 300;
  std::mt19937 rng(3);
  const detail::UmapSchedule schedule = ringSchedule(n, 12, curve.negativeRate, rng);
  std::uniform_real_distribution<float> coordinate(0.0f, 10.0f);
  std::vector<float> start(n * 2);
  for (float& v : start) v = coordinate(rng);

  std::vector<std::vector<float>> results;
  for (bool vector : {true, false}) {
    std::vector<float> emb = start;
    detail::UmapSchedule s = schedule;
    detail::UmapRandom random(11);
    const auto kernel = detail::umapEpochKernel(2, vector);
    // One epoch at a small rate: FMA and separate multiply-add round differently, and the steep
    // repulsion amplifies that through the following moves when the steps are large.
    kernel(emb.data(), n, s, 0, n, 5.0f, 0.02f, curve, random);  // at epoch 5 every edge is due
    results.push_back(emb);
  }
  double moved = 0;
  for (int i = 0; i < n * 2; ++i) {
    EXPECT_NEAR(results[0][i], results[1][i], 1e-5) << "coordinate " << i;
    moved = std::max(moved, static_cast<double>(std::abs(results[0][i] - start[i])));
  }
  EXPECT_GT(moved, 0.01);  // the epochs did move the points
}

TEST(UmapLayout, SpectralInitialisationSpansTheDenseEigenvectors) {
  // A 3 x 1 rectangle of random points: the two smoothest modes vary along the long side.
  constexpr int n = 400;
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  cw::DenseMatrix points;
  points.rows = n;
  points.cols = 2;
  for (int i = 0; i < n; ++i) {
    points.values.push_back(3.0 * unit(rng));
    points.values.push_back(unit(rng));
  }
  NeighborsOptions options;
  options.method = KnnMethod::Exact;
  const cw::CsrMatrix g = computeNeighbors(points, options).connectivities;

  Eigen::MatrixXd normalised = Eigen::MatrixXd::Zero(n, n);
  Eigen::VectorXd degree = Eigen::VectorXd::Zero(n);
  for (int i = 0; i < n; ++i)
    for (int64_t p = g.indptr[i]; p < g.indptr[i + 1]; ++p) {
      normalised(i, g.indices[p]) = g.data[p];
      degree[i] += g.data[p];
    }
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) normalised(i, j) /= std::sqrt(degree[i] * degree[j]);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> dense(normalised);
  const Eigen::MatrixXd leading = dense.eigenvectors().middleCols(n - 3, 2);  // below the trivial one

  bool joined = true;
  const cw::DenseMatrix ours = spectralEmbedding(g, 2, 0, &joined);
  EXPECT_FALSE(joined);
  for (int d = 0; d < 2; ++d) {
    Eigen::VectorXd v(n);
    for (int i = 0; i < n; ++i) v[i] = ours.values[i * 2 + d];
    v.normalize();
    EXPECT_GT((leading.transpose() * v).norm(), 0.99) << "direction " << d;
  }
}
