#include "cellwright/analysis/neighbors.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "cellwright/core/errors.h"

namespace cw::analysis {
namespace {

constexpr double kSmoothKTolerance = 1e-5;
constexpr double kMinKDistScale = 1e-3;

// umap-learn's smooth_knn_dist: per cell, rho = distance to the nearest other cell (local
// connectivity 1) and sigma such that sum exp(-(d - rho)/sigma) = log2(k).
void smoothKnnDist(const KnnResult& knn, double localConnectivity, std::vector<double>& sigma, std::vector<double>& rho) {
  const int64_t n = knn.n;
  const int k = knn.k;
  const double target = std::log2(static_cast<double>(k));
  double meanAll = 0;
  for (double d : knn.distances) meanAll += d;
  meanAll /= static_cast<double>(knn.distances.size());
  sigma.assign(n, 0.0);
  rho.assign(n, 0.0);
  std::vector<double> nonZero;
  for (int64_t i = 0; i < n; ++i) {
    const double* d = &knn.distances[i * k];
    nonZero.clear();
    for (int j = 0; j < k; ++j)
      if (d[j] > 0) nonZero.push_back(d[j]);
    if (static_cast<double>(nonZero.size()) >= localConnectivity) {
      const int index = static_cast<int>(std::floor(localConnectivity));
      const double interpolation = localConnectivity - index;
      if (index > 0) {
        rho[i] = nonZero[index - 1];
        if (interpolation > kSmoothKTolerance) rho[i] += interpolation * (nonZero[index] - nonZero[index - 1]);
      } else {
        rho[i] = interpolation * nonZero[0];
      }
    } else if (!nonZero.empty()) {
      rho[i] = *std::max_element(nonZero.begin(), nonZero.end());
    }
    double lo = 0, hi = std::numeric_limits<double>::infinity(), mid = 1.0;
    for (int it = 0; it < 64; ++it) {
      double psum = 0;
      for (int j = 1; j < k; ++j) {
        const double gap = d[j] - rho[i];
        psum += gap > 0 ? std::exp(-(gap / mid)) : 1.0;
      }
      if (std::abs(psum - target) < kSmoothKTolerance) break;
      if (psum > target) {
        hi = mid;
        mid = (lo + hi) / 2.0;
      } else {
        lo = mid;
        mid = std::isinf(hi) ? mid * 2 : (lo + hi) / 2.0;
      }
    }
    sigma[i] = mid;
    double meanI = 0;
    for (int j = 0; j < k; ++j) meanI += d[j];
    meanI /= k;
    const double floor = kMinKDistScale * (rho[i] > 0 ? meanI : meanAll);
    if (sigma[i] < floor) sigma[i] = floor;
  }
}

struct Entry {
  int64_t col;
  double value;
};

CsrMatrix fromRows(int64_t n, std::vector<std::vector<Entry>>& rows) {
  CsrMatrix m;
  m.rows = m.cols = n;
  m.indptr.assign(1, 0);
  for (auto& row : rows) {
    std::sort(row.begin(), row.end(), [](const Entry& a, const Entry& b) { return a.col < b.col; });
    for (const Entry& e : row) {
      if (e.value == 0) continue;  // scipy's eliminate_zeros
      m.indices.push_back(static_cast<int32_t>(e.col));
      m.data.push_back(static_cast<float>(e.value));
    }
    m.indptr.push_back(static_cast<int64_t>(m.data.size()));
  }
  return m;
}

}  // namespace

CsrMatrix fuzzySimplicialSet(const KnnResult& knn, double localConnectivity, double setOpMixRatio) {
  const int64_t n = knn.n;
  if (n > std::numeric_limits<int32_t>::max()) throw Error("too many cells for a neighbour graph");
  std::vector<double> sigma, rho;
  smoothKnnDist(knn, localConnectivity, sigma, rho);
  // Directed memberships w(i -> j); duplicates cannot occur within a row.
  std::vector<std::vector<Entry>> out(n), in(n);
  for (int64_t i = 0; i < n; ++i)
    for (int j = 0; j < knn.k; ++j) {
      const int64_t other = knn.at(i, j);
      if (other < 0 || other == i) continue;
      const double gap = knn.distance(i, j) - rho[i];
      const double w = (gap <= 0 || sigma[i] == 0) ? 1.0 : std::exp(-(gap / sigma[i]));
      if (w == 0) continue;
      out[i].push_back({other, w});
      in[other].push_back({i, w});
    }
  // result = mix (W + Wᵀ - W∘Wᵀ) + (1 - mix) W∘Wᵀ.
  std::vector<std::vector<Entry>> rows(n);
  std::vector<double> forward(n, 0.0), backward(n, 0.0);
  std::vector<int64_t> touched;
  for (int64_t i = 0; i < n; ++i) {
    touched.clear();
    for (const Entry& e : out[i]) {
      forward[e.col] = e.value;
      touched.push_back(e.col);
    }
    for (const Entry& e : in[i]) {
      if (forward[e.col] == 0 && backward[e.col] == 0) touched.push_back(e.col);
      backward[e.col] = e.value;
    }
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (int64_t j : touched) {
      const double a = forward[j], b = backward[j], prod = a * b;
      rows[i].push_back({j, setOpMixRatio * (a + b - prod) + (1.0 - setOpMixRatio) * prod});
      forward[j] = backward[j] = 0;
    }
  }
  return fromRows(n, rows);
}

NeighborsResult computeNeighbors(const DenseMatrix& representation, const NeighborsOptions& options, Feedback* feedback) {
  KnnOptions knnOptions;
  knnOptions.k = options.nNeighbors;
  knnOptions.metric = options.metric;
  knnOptions.method = options.method;
  knnOptions.seed = options.seed;
  knnOptions.threads = options.threads;
  NeighborsResult r;
  r.knn = findNeighbors(representation, knnOptions, feedback);
  pollCancel(feedback);
  std::vector<std::vector<Entry>> rows(r.knn.n);
  for (int64_t i = 0; i < r.knn.n; ++i)
    for (int j = 0; j < r.knn.k; ++j)
      if (r.knn.at(i, j) != i) rows[i].push_back({r.knn.at(i, j), r.knn.distance(i, j)});
  r.distances = fromRows(r.knn.n, rows);
  r.connectivities = fuzzySimplicialSet(r.knn, options.localConnectivity, options.setOpMixRatio);
  return r;
}

const DenseMatrix& representation(const Dataset& dataset, const std::string& useRep) {
  auto it = dataset.obsm.find(useRep);
  if (it == dataset.obsm.end()) {
    std::string available;
    for (const auto& [key, m] : dataset.obsm) available += (available.empty() ? "" : ", ") + key;
    throw Error("no obsm['" + useRep + "'] in the file (available: " + (available.empty() ? "none" : available) +
                "); run `pca` first or pick another with --use-rep");
  }
  if (it->second.rows != dataset.nObs()) throw Error("obsm['" + useRep + "'] does not have one row per cell");
  return it->second;
}

void storeNeighbors(Dataset& dataset, const NeighborsResult& result, const NeighborsOptions& options,
                    const std::string& useRep) {
  dataset.obsp["distances"] = result.distances;
  dataset.obsp["connectivities"] = result.connectivities;
  UnsDict params;
  params["n_neighbors"].value = static_cast<int64_t>(options.nNeighbors);
  params["method"].value = std::string("umap");
  params["metric"].value = std::string(options.metric == Metric::Euclidean ? "euclidean" : "cosine");
  params["use_rep"].value = useRep;
  params["random_state"].value = static_cast<int64_t>(options.seed);
  UnsDict neighbors;
  neighbors["connectivities_key"].value = std::string("connectivities");
  neighbors["distances_key"].value = std::string("distances");
  neighbors["params"].value = params;
  dataset.uns["neighbors"].value = neighbors;
}

}  // namespace cw::analysis
