#include "cellwright/analysis/clustering_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include <Eigen/Dense>

#include "cellwright/core/errors.h"
#include "cellwright/core/parallel.h"

namespace cw::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Renumbers arbitrary non-negative codes to 0..m-1 (sklearn's LabelEncoder); returns m.
int encode(const std::vector<int>& labels, std::vector<int>& codes, const char* what) {
  std::map<int, int> ids;
  for (int l : labels) {
    if (l < 0) throw Error(std::string("some cells have no ") + what);
    ids.emplace(l, 0);
  }
  int next = 0;
  for (auto& [label, id] : ids) id = next++;
  codes.resize(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) codes[i] = ids[labels[i]];
  return next;
}

struct Contingency {
  int rows = 0, cols = 0;
  std::map<std::pair<int, int>, int64_t> cells;
  std::vector<int64_t> rowSums, colSums;
  int64_t n = 0;
};

Contingency contingency(const std::vector<int>& a, const std::vector<int>& b) {
  if (a.size() != b.size()) throw Error("the two labelings have different lengths");
  Contingency c;
  std::vector<int> ca, cb;
  c.rows = encode(a, ca, "label");
  c.cols = encode(b, cb, "cluster");
  c.rowSums.assign(c.rows, 0);
  c.colSums.assign(c.cols, 0);
  for (size_t i = 0; i < a.size(); ++i) {
    ++c.cells[{ca[i], cb[i]}];
    ++c.rowSums[ca[i]];
    ++c.colSums[cb[i]];
  }
  c.n = static_cast<int64_t>(a.size());
  return c;
}

double entropy(const std::vector<int64_t>& counts, int64_t n) {
  double h = 0;
  for (int64_t c : counts)
    if (c > 0) {
      const double p = static_cast<double>(c) / n;
      h -= p * std::log(p);
    }
  return h;
}

std::vector<double> rescaled(double s) { return {(1.0 + s) / 2.0}; }

double median(std::vector<double> v) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2.0;
}

void checkLabels(const KnnResult& knn, const std::vector<int>& labels, const char* what) {
  if (static_cast<int64_t>(labels.size()) != knn.n)
    throw Error(std::string("the ") + what + " column and the neighbour graph have different numbers of cells");
  for (int l : labels)
    if (l < 0) throw Error(std::string("some cells have no ") + what);
}

}  // namespace

double normalizedMutualInfo(const std::vector<int>& labelsA, const std::vector<int>& labelsB) {
  const Contingency c = contingency(labelsA, labelsB);
  if ((c.rows == 1 && c.cols == 1) || (c.rows == 0 && c.cols == 0)) return 1.0;
  if (c.rows == 1 || c.cols == 1) return 0.0;
  const double n = static_cast<double>(c.n);
  double mi = 0;
  for (const auto& [rc, count] : c.cells) {
    const double nij = static_cast<double>(count);
    const double outer = static_cast<double>(c.rowSums[rc.first]) * static_cast<double>(c.colSums[rc.second]);
    double term = (nij / n) * (std::log(nij) - std::log(n)) + (nij / n) * (-std::log(outer) + 2 * std::log(n));
    if (std::abs(term) < std::numeric_limits<double>::epsilon()) term = 0;
    mi += term;
  }
  mi = std::max(mi, 0.0);
  if (mi == 0) return 0.0;
  const double normalizer = (entropy(c.rowSums, c.n) + entropy(c.colSums, c.n)) / 2.0;
  return mi / normalizer;
}

double adjustedRandIndex(const std::vector<int>& labelsA, const std::vector<int>& labelsB) {
  const Contingency c = contingency(labelsA, labelsB);
  // sklearn's pair confusion matrix, in exact integers (products overflow 64 bits on big data).
  using Big = __int128;
  Big sumSquares = 0, rowSquares = 0, colSquares = 0;
  for (const auto& [rc, count] : c.cells) sumSquares += static_cast<Big>(count) * count;
  for (int64_t r : c.rowSums) rowSquares += static_cast<Big>(r) * r;
  for (int64_t s : c.colSums) colSquares += static_cast<Big>(s) * s;
  const Big n = c.n;
  const Big tp = sumSquares - n;
  const Big fp = colSquares - sumSquares;
  const Big fn = rowSquares - sumSquares;
  const Big tn = n * n - fp - fn - sumSquares;
  if (fn == 0 && fp == 0) return 1.0;
  const Big numerator = 2 * (tp * tn - fn * fp);
  const Big denominator = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn);
  return static_cast<double>(static_cast<long double>(numerator) / static_cast<long double>(denominator));
}

double silhouetteScore(const DenseMatrix& embedding, const std::vector<int>& labels, Metric metric, int threads,
                       Feedback* feedback) {
  const int64_t n = embedding.rows;
  if (static_cast<int64_t>(labels.size()) != n) throw Error("the label column and the embedding have different numbers of cells");
  std::vector<int> codes;
  const int m = encode(labels, codes, "label");
  if (m < 2 || m > n - 1)
    throw Error("the silhouette needs between 2 and " + std::to_string(n - 1) + " labels, found " + std::to_string(m));
  using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  RowMatrix x = Eigen::Map<const RowMatrix>(embedding.values.data(), n, embedding.cols);
  if (!x.allFinite()) throw Error("the embedding contains NaN or infinite values");
  if (metric == Metric::Cosine)
    for (Eigen::Index i = 0; i < n; ++i) {
      const double norm = x.row(i).norm();
      if (norm > 0) x.row(i) /= norm;
    }
  const Eigen::VectorXd sq = x.rowwise().squaredNorm();
  std::vector<int64_t> sizes(m, 0);
  for (int c : codes) ++sizes[c];
  std::vector<double> s(n, 0.0);
  constexpr int64_t kBlock = 256;
  const int64_t nBlocks = (n + kBlock - 1) / kBlock;
  parallel::parallelChunks(nBlocks, parallel::defaultThreads(threads), [&](int64_t b0, int64_t b1, int) {
    std::vector<double> sums(static_cast<size_t>(kBlock) * m);
    for (int64_t b = b0; b < b1; ++b) {
      pollCancel(feedback);
      const int64_t q0 = b * kBlock, qn = std::min(kBlock, n - q0);
      std::fill(sums.begin(), sums.end(), 0.0);
      for (int64_t r0 = 0; r0 < n; r0 += 4096) {
        const int64_t rn = std::min<int64_t>(4096, n - r0);
        const Eigen::MatrixXd dots = x.middleRows(q0, qn) * x.middleRows(r0, rn).transpose();
        for (int64_t qi = 0; qi < qn; ++qi)
          for (int64_t ri = 0; ri < rn; ++ri) {
            const int64_t r = r0 + ri;
            double d;
            if (r == q0 + qi)
              d = 0;
            else if (metric == Metric::Euclidean)
              d = std::sqrt(std::max(0.0, sq[q0 + qi] - 2.0 * dots(qi, ri) + sq[r]));
            else
              d = std::clamp(1.0 - dots(qi, ri), 0.0, 2.0);
            sums[qi * m + codes[r]] += d;
          }
      }
      for (int64_t qi = 0; qi < qn; ++qi) {
        const int own = codes[q0 + qi];
        if (sizes[own] < 2) continue;  // a cell alone in its label scores 0
        const double a = sums[qi * m + own] / static_cast<double>(sizes[own] - 1);
        double bmin = std::numeric_limits<double>::infinity();
        for (int c = 0; c < m; ++c)
          if (c != own) bmin = std::min(bmin, sums[qi * m + c] / static_cast<double>(sizes[c]));
        const double denom = std::max(a, bmin);
        s[q0 + qi] = denom > 0 ? (bmin - a) / denom : 0.0;
      }
    }
  });
  return std::accumulate(s.begin(), s.end(), 0.0) / static_cast<double>(n);
}

double graphConnectivity(const KnnResult& knn, const std::vector<int>& labels) {
  checkLabels(knn, labels, "label");
  const int64_t n = knn.n;
  std::vector<std::vector<int64_t>> adjacency(n);
  for (int64_t i = 0; i < n; ++i)
    for (int j = 1; j < knn.k; ++j) {
      const int64_t other = knn.at(i, j);
      if (labels[other] != labels[i]) continue;
      adjacency[i].push_back(other);
      adjacency[other].push_back(i);
    }
  std::map<int, int64_t> sizes, largest;
  std::vector<uint8_t> seen(n, 0);
  std::vector<int64_t> stack;
  for (int64_t start = 0; start < n; ++start) {
    ++sizes[labels[start]];
    if (seen[start]) continue;
    int64_t componentSize = 0;
    stack.assign(1, start);
    seen[start] = 1;
    while (!stack.empty()) {
      const int64_t v = stack.back();
      stack.pop_back();
      ++componentSize;
      for (int64_t w : adjacency[v])
        if (!seen[w]) {
          seen[w] = 1;
          stack.push_back(w);
        }
    }
    auto& best = largest[labels[start]];
    best = std::max(best, componentSize);
  }
  if (sizes.empty()) return kNaN;
  double total = 0;
  for (const auto& [label, size] : sizes) total += static_cast<double>(largest[label]) / size;
  return total / static_cast<double>(sizes.size());
}

double batchGraphConnectivity(const KnnResult& knn, const std::vector<int>& labels, const std::vector<int>& batches) {
  checkLabels(knn, labels, "label");
  checkLabels(knn, batches, "batch");
  if (knn.n == 0 || knn.k < 2) return kNaN;
  double total = 0;
  for (int64_t i = 0; i < knn.n; ++i) {
    int shared = 0;
    for (int j = 1; j < knn.k; ++j) {
      const int64_t other = knn.at(i, j);
      shared += labels[other] == labels[i] && batches[other] != batches[i];
    }
    total += static_cast<double>(shared) / (knn.k - 1);
  }
  return total / static_cast<double>(knn.n);
}

std::vector<double> lisi(const KnnResult& knn, const std::vector<int>& labels, double perplexity) {
  checkLabels(knn, labels, "label");
  // harmonypy's compute_simpson, kept step by step (binary search on the kernel precision beta).
  const double logU = std::log(perplexity);
  constexpr double kTolerance = 1e-5;
  const int m = knn.k - 1;
  std::vector<double> result(knn.n);
  std::vector<double> p(m);
  std::map<int, double> perLabel;
  for (int64_t i = 0; i < knn.n; ++i) {
    const double* d = &knn.distances[i * knn.k + 1];
    double beta = 1, betaMin = -std::numeric_limits<double>::infinity(), betaMax = std::numeric_limits<double>::infinity();
    double h = 0;
    auto evaluate = [&] {
      double sum = 0, weighted = 0;
      for (int j = 0; j < m; ++j) {
        p[j] = std::exp(-d[j] * beta);
        sum += p[j];
      }
      if (sum == 0) {
        h = 0;
        std::fill(p.begin(), p.end(), 0.0);
        return;
      }
      for (int j = 0; j < m; ++j) weighted += d[j] * p[j];
      h = std::log(sum) + beta * weighted / sum;
      for (double& v : p) v /= sum;
    };
    evaluate();
    double hDiff = h - logU;
    for (int t = 0; t < 50 && std::abs(hDiff) >= kTolerance; ++t) {
      if (hDiff > 0) {
        betaMin = beta;
        beta = std::isfinite(betaMax) ? (beta + betaMax) / 2 : beta * 2;
      } else {
        betaMax = beta;
        beta = std::isfinite(betaMin) ? (beta + betaMin) / 2 : beta / 2;
      }
      evaluate();
      hDiff = h - logU;
    }
    double simpson = h == 0 ? -1.0 : 0.0;
    perLabel.clear();
    for (int j = 0; j < m; ++j) perLabel[labels[knn.at(i, j + 1)]] += p[j];
    for (const auto& [label, mass] : perLabel) simpson += mass * mass;
    result[i] = 1.0 / simpson;
  }
  return result;
}

ClusteringMetricsResult clusteringMetrics(const DenseMatrix& embedding, const std::vector<int>& labels,
                                          const std::vector<int>& clusters, const std::vector<int>& batches,
                                          const ClusteringMetricsOptions& options, Feedback* feedback) {
  ClusteringMetricsResult r;
  if (static_cast<int64_t>(labels.size()) != embedding.rows || clusters.size() != labels.size())
    throw Error("labels, clusters and the embedding have different numbers of cells");
  r.nmi = normalizedMutualInfo(labels, clusters);
  r.ari = adjustedRandIndex(labels, clusters);
  // The silhouette is undefined with a single label (or one label per cell): reported as null.
  std::vector<int> codes;
  const int nLabels = encode(labels, codes, "label");
  if (nLabels >= 2 && nLabels <= embedding.rows - 1) {
    r.silhouette = rescaled(silhouetteScore(embedding, labels, Metric::Cosine, options.threads, feedback))[0];
    r.silhouetteEuclidean = rescaled(silhouetteScore(embedding, labels, Metric::Euclidean, options.threads, feedback))[0];
  } else {
    r.silhouette = r.silhouetteEuclidean = kNaN;
  }
  KnnOptions knnOptions;
  knnOptions.k = std::min<int64_t>(options.k + 1, embedding.rows);
  knnOptions.metric = Metric::Cosine;
  knnOptions.method = KnnMethod::Exact;
  knnOptions.threads = options.threads;
  const KnnResult knn = findNeighbors(embedding, knnOptions, feedback);
  r.graphConnectivity = graphConnectivity(knn, labels);
  r.avgBio = (r.nmi + r.ari + r.silhouette) / 3.0;
  r.hasBatch = !batches.empty();
  if (r.hasBatch && batches.size() != labels.size()) throw Error("the batch column has a different number of cells");
  if (r.hasBatch) {
    r.batchGraphConnectivity = batchGraphConnectivity(knn, labels, batches);
    r.avgBatch = r.batchGraphConnectivity;
  }
  r.clisi = r.ilisi = kNaN;
  if (options.computeLisi) {
    KnnOptions lisiOptions = knnOptions;
    lisiOptions.metric = Metric::Euclidean;
    lisiOptions.k = static_cast<int>(std::min<int64_t>(static_cast<int64_t>(3 * options.lisiPerplexity), embedding.rows));
    const KnnResult lisiKnn = findNeighbors(embedding, lisiOptions, feedback);
    r.clisi = median(lisi(lisiKnn, labels, options.lisiPerplexity));
    if (r.hasBatch) r.ilisi = median(lisi(lisiKnn, batches, options.lisiPerplexity));
  }
  return r;
}

nlohmann::json clusteringToJson(const ClusteringMetricsResult& r) {
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  nlohmann::json out = {{"nmi", num(r.nmi)},
                        {"ari", num(r.ari)},
                        {"silhouette", num(r.silhouette)},
                        {"silhouette_euclidean", num(r.silhouetteEuclidean)},
                        {"graph_connectivity", num(r.graphConnectivity)},
                        {"avg_bio", num(r.avgBio)},
                        {"clisi", num(r.clisi)}};
  if (r.hasBatch) {
    out["batch_graph_connectivity"] = num(r.batchGraphConnectivity);
    out["avg_batch"] = num(r.avgBatch);
    out["ilisi"] = num(r.ilisi);
  }
  return out;
}

}  // namespace cw::analysis
