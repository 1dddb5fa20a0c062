#include "cellwright/analysis/knn.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <cmath>
#include <queue>
#include <unordered_set>

#include <Eigen/Dense>

#ifdef CELLWRIGHT_WITH_HNSWLIB
#include <hnswlib/hnswlib.h>
#endif

#include "cellwright/core/errors.h"
#include "cellwright/core/parallel.h"
#include "simd_distance.h"

namespace cw::analysis {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Rows of `data`, unit-normalised for the cosine metric (zero rows stay zero: distance 1).
RowMatrix prepareRows(const DenseMatrix& data, Metric metric) {
  RowMatrix m = Eigen::Map<const RowMatrix>(data.values.data(), data.rows, data.cols);
  if (!m.allFinite()) throw Error("the embedding contains NaN or infinite values");
  if (metric == Metric::Cosine)
    for (Eigen::Index i = 0; i < m.rows(); ++i) {
      const double norm = m.row(i).norm();
      if (norm > 0) m.row(i) /= norm;
    }
  return m;
}

double exactDistance(const RowMatrix& m, int64_t a, int64_t b, Metric metric) {
  if (metric == Metric::Euclidean) return (m.row(a) - m.row(b)).norm();
  // Cosine distance of unit rows, clipped as scikit-learn's cosine_distances.
  return std::clamp(1.0 - m.row(a).dot(m.row(b)), 0.0, 2.0);
}

// Writes the cell itself at column 0, then its k - 1 nearest others by exact distance.
void writeRow(KnnResult& out, const RowMatrix& m, int64_t row, std::vector<int64_t> candidates, Metric metric) {
  std::vector<std::pair<double, int64_t>> scored;
  scored.reserve(candidates.size());
  for (int64_t c : candidates)
    if (c != row) scored.emplace_back(exactDistance(m, row, c, metric), c);
  std::sort(scored.begin(), scored.end());
  out.indices[row * out.k] = row;
  out.distances[row * out.k] = 0.0;
  for (int j = 1; j < out.k; ++j) {
    out.indices[row * out.k + j] = scored[j - 1].second;
    out.distances[row * out.k + j] = scored[j - 1].first;
  }
}

KnnResult exactNeighbors(const RowMatrix& m, const KnnOptions& options, Feedback* feedback) {
  const int64_t n = m.rows();
  KnnResult out;
  out.n = n;
  out.k = options.k;
  out.indices.resize(n * options.k);
  out.distances.resize(n * options.k);
  const Eigen::VectorXd sqNorms = m.rowwise().squaredNorm();
  constexpr int64_t kQueryBlock = 64, kRefBlock = 4096;
  const int64_t nBlocks = (n + kQueryBlock - 1) / kQueryBlock;
  std::atomic<int64_t> done{0};
  const int threads = parallel::defaultThreads(options.threads);
  parallel::parallelChunks(nBlocks, threads, [&](int64_t b0, int64_t b1, int thread) {
    // Keep k candidates besides the cell itself, plus one spare for near-ties broken by exact distances.
    const size_t keep = static_cast<size_t>(options.k) + 1;
    for (int64_t b = b0; b < b1; ++b) {
      pollCancel(feedback);
      const int64_t q0 = b * kQueryBlock, qn = std::min(kQueryBlock, n - q0);
      std::vector<std::priority_queue<std::pair<double, int64_t>>> heaps(qn);
      for (int64_t r0 = 0; r0 < n; r0 += kRefBlock) {
        const int64_t rn = std::min(kRefBlock, n - r0);
        const Eigen::MatrixXd dots = m.middleRows(q0, qn) * m.middleRows(r0, rn).transpose();
        for (int64_t qi = 0; qi < qn; ++qi) {
          auto& heap = heaps[qi];
          for (int64_t ri = 0; ri < rn; ++ri) {
            const int64_t ref = r0 + ri;
            if (ref == q0 + qi) continue;
            const double score = options.metric == Metric::Euclidean
                                     ? sqNorms[q0 + qi] + sqNorms[ref] - 2.0 * dots(qi, ri)
                                     : -dots(qi, ri);
            if (heap.size() < keep) {
              heap.emplace(score, ref);
            } else if (score < heap.top().first) {
              heap.pop();
              heap.emplace(score, ref);
            }
          }
        }
      }
      for (int64_t qi = 0; qi < qn; ++qi) {
        std::vector<int64_t> candidates;
        while (!heaps[qi].empty()) {
          candidates.push_back(heaps[qi].top().second);
          heaps[qi].pop();
        }
        writeRow(out, m, q0 + qi, std::move(candidates), options.metric);
      }
      const int64_t finished = ++done;
      if (feedback && thread == 0) feedback->setProgress(static_cast<double>(finished) / nBlocks, "nearest neighbours");
    }
  });
  return out;
}

#ifdef CELLWRIGHT_WITH_HNSWLIB
// hnswlib space over zero-padded float rows with the run-time chosen SIMD distance.
class PaddedSpace : public hnswlib::SpaceInterface<float> {
 public:
  PaddedSpace(size_t dims, detail::SpaceKind kind)
      : padded_(detail::paddedDims(dims)), distance_(detail::paddedDistance(kind)) {}
  size_t get_data_size() override { return padded_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return distance_; }
  void* get_dist_func_param() override { return &padded_; }

 private:
  size_t padded_;
  hnswlib::DISTFUNC<float> distance_;
};

KnnResult hnswNeighbors(const RowMatrix& m, const KnnOptions& options, Feedback* feedback) {
  const int64_t n = m.rows();
  const int d = static_cast<int>(m.cols());
  // hnswlib works in float; cosine runs as inner product on unit rows. Rows are zero-padded
  // to the stride of the SIMD distance.
  const int64_t stride = static_cast<int64_t>(detail::paddedDims(static_cast<size_t>(d)));
  std::vector<float> rows(static_cast<size_t>(n * stride), 0.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) rows[i * stride + j] = static_cast<float>(m(i, j));
  PaddedSpace space(static_cast<size_t>(d),
                    options.metric == Metric::Euclidean ? detail::SpaceKind::SquaredL2 : detail::SpaceKind::InnerProduct);
  hnswlib::HierarchicalNSW<float> index(&space, static_cast<size_t>(n), static_cast<size_t>(options.hnswM),
                                        static_cast<size_t>(options.hnswEfConstruction),
                                        static_cast<size_t>(options.seed));
  const int threads = parallel::defaultThreads(options.threads);
  constexpr int64_t kChunk = 64;
  // The first point is added alone so that concurrent insertions have an entry point.
  index.addPoint(rows.data(), 0);
  parallel::dynamicChunks(
      n - 1, threads, kChunk,
      [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0 + 1; i < i1 + 1; ++i) index.addPoint(rows.data() + i * stride, static_cast<size_t>(i));
      },
      [&](int64_t done) {
        pollCancel(feedback);
        if (feedback) feedback->setProgress(0.5 * static_cast<double>(done) / n, "building the neighbour index");
      });
  index.setEf(static_cast<size_t>(options.hnswEf > 0 ? options.hnswEf : std::max(2 * options.k, 100)));
  KnnResult out;
  out.n = n;
  out.k = options.k;
  out.approximate = true;
  out.indices.resize(n * options.k);
  out.distances.resize(n * options.k);
  parallel::dynamicChunks(
      n, threads, kChunk,
      [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          auto found = index.searchKnn(rows.data() + i * stride, static_cast<size_t>(options.k) + 1);
          std::vector<int64_t> candidates;
          while (!found.empty()) {
            candidates.push_back(static_cast<int64_t>(found.top().second));
            found.pop();
          }
          writeRow(out, m, i, std::move(candidates), options.metric);
        }
      },
      [&](int64_t done) {
        pollCancel(feedback);
        if (feedback) feedback->setProgress(0.5 + 0.5 * static_cast<double>(done) / n, "searching neighbours");
      });
  return out;
}
#endif

}  // namespace

bool hnswAvailable() {
#ifdef CELLWRIGHT_WITH_HNSWLIB
  return true;
#else
  return false;
#endif
}

KnnResult findNeighbors(const DenseMatrix& data, const KnnOptions& options, Feedback* feedback) {
  if (options.k < 2) throw Error("the number of neighbours must be at least 2 (it counts the cell itself)");
  if (data.rows < options.k)
    throw Error("asked for " + std::to_string(options.k) + " neighbours but there are only " +
                std::to_string(data.rows) + " cells");
  if (data.cols < 1) throw Error("the embedding has no dimensions");
  const RowMatrix m = prepareRows(data, options.metric);
  KnnMethod method = options.method;
  if (method == KnnMethod::Auto) method = (data.rows > options.exactUpTo && hnswAvailable()) ? KnnMethod::Hnsw : KnnMethod::Exact;
  if (method == KnnMethod::Hnsw) {
#ifdef CELLWRIGHT_WITH_HNSWLIB
    return hnswNeighbors(m, options, feedback);
#else
    throw NotAvailable("approximate nearest neighbours (hnswlib)");
#endif
  }
  return exactNeighbors(m, options, feedback);
}

double knnRecall(const KnnResult& exact, const KnnResult& approximate) {
  if (exact.n != approximate.n || exact.k != approximate.k) throw Error("neighbour results of different shapes");
  int64_t hits = 0, total = 0;
  for (int64_t i = 0; i < exact.n; ++i) {
    std::unordered_set<int64_t> truth;
    for (int j = 1; j < exact.k; ++j) truth.insert(exact.at(i, j));
    for (int j = 1; j < approximate.k; ++j) hits += truth.count(approximate.at(i, j));
    total += exact.k - 1;
  }
  return total ? static_cast<double>(hits) / total : 1.0;
}

}  // namespace cw::analysis
