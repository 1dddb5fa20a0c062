#include <algorithm>
#include <limits>
#include <numeric>

#include "cellwright/analysis/knn.h"
#include "cellwright/analysis/umap.h"
#include "cellwright/core/errors.h"
#include "cellwright/core/parallel.h"

namespace cw::analysis {

double trustworthiness(const DenseMatrix& high, const DenseMatrix& low, int k, int threads) {
  const int64_t n = high.rows;
  if (low.rows != n) throw Error("the two embeddings have different numbers of cells");
  if (k < 1 || k >= n / 2) throw Error("trustworthiness needs 1 <= k < cells / 2");
  KnnOptions o;
  o.k = k + 1;
  o.method = KnnMethod::Exact;
  o.threads = threads;
  const KnnResult lowKnn = findNeighbors(low, o);
  std::vector<double> penalty(n, 0.0);
  parallel::parallelChunks(n, parallel::defaultThreads(threads), [&](int64_t i0, int64_t i1, int) {
    std::vector<double> dist(n);
    std::vector<int64_t> order(n), rank(n);
    for (int64_t i = i0; i < i1; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t c = 0; c < high.cols; ++c) {
          const double d = high.at(i, c) - high.at(j, c);
          s += d * d;
        }
        dist[j] = j == i ? std::numeric_limits<double>::infinity() : s;
      }
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return dist[x] < dist[y]; });
      for (int64_t r = 0; r < n; ++r) rank[order[r]] = r + 1;
      for (int j = 1; j <= k; ++j) penalty[i] += std::max<int64_t>(0, rank[lowKnn.at(i, j)] - k);
    }
  });
  const double total = std::accumulate(penalty.begin(), penalty.end(), 0.0);
  const double nn = static_cast<double>(n), kk = k;
  return 1.0 - total * (2.0 / (nn * kk * (2.0 * nn - 3.0 * kk - 1.0)));
}

}  // namespace cw::analysis
