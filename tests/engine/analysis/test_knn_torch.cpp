// Exact kNN through torch (CPU here; CUDA on the GPU machine) against the CPU brute force.
#include <random>

#include <gtest/gtest.h>

#include "cellwright/analysis/knn_torch.h"
#include "cellwright/core/errors.h"

using namespace cw::analysis;

TEST(KnnTorch, AgreesWithBruteForce) {
  std::mt19937 rng(4);
  std::normal_distribution<double> normal;
  cw::DenseMatrix x;
  x.rows = 1500;
  x.cols = 12;
  for (int64_t i = 0; i < x.rows * x.cols; ++i) x.values.push_back(normal(rng) + (i / x.cols % 3) * 3.0);
  for (Metric metric : {Metric::Euclidean, Metric::Cosine}) {
    KnnOptions o;
    o.k = 15;
    o.metric = metric;
    o.method = KnnMethod::Exact;
    const KnnResult cpu = findNeighbors(x, o);
    const KnnResult torchResult = findNeighborsTorch(x, o, "auto");
    EXPECT_GE(knnRecall(cpu, torchResult), 0.999);
    for (int64_t i = 0; i < x.rows; ++i) {
      EXPECT_EQ(torchResult.at(i, 0), i);
      EXPECT_NEAR(torchResult.distance(i, o.k - 1), cpu.distance(i, o.k - 1), 1e-9);
    }
  }
  KnnOptions tooMany;
  tooMany.k = 2000;
  EXPECT_THROW(findNeighborsTorch(x, tooMany, "cpu"), cw::Error);
}
