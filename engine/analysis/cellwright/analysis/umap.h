#pragma once
// UMAP layout (McInnes et al., as umap-learn 0.5.3 and scanpy's tl.umap) of a fuzzy
// simplicial set such as NeighborsResult::connectivities.
#include <cstdint>
#include <string>
#include <utility>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"

namespace cw::analysis {

struct UmapOptions {
  int nComponents = 2;
  double minDist = 0.5;          // scanpy's default
  double spread = 1.0;
  int epochs = 0;                // 0: 500 up to 10,000 cells, 200 above (as scanpy/umap-learn)
  double learningRate = 1.0;
  double repulsionStrength = 1.0;
  int negativeSampleRate = 5;
  bool spectralInit = true;      // false: uniform random in [-10, 10]
  uint64_t seed = 0;
  // Worker threads for the layout (0: all cores). With more than one thread the updates run
  // lock-free in parallel as umap-learn's, so only threads = 1 reproduces a seed bit for bit.
  // Graphs under 20,000 edges (about 1,300 cells at 15 neighbours) always use one thread.
  int threads = 0;
};

struct UmapResult {
  DenseMatrix embedding;   // cells × nComponents
  double a = 0, b = 0;     // the curve 1 / (1 + a d^2b) fitted from minDist and spread
  int epochs = 0;
  std::string initialization;  // "spectral", "spectral (components joined)" or "random"
};

// umap-learn's find_ab_params: least-squares fit of 1 / (1 + a x^2b) to the target curve.
std::pair<double, double> fitAB(double spread, double minDist);

// `graph`: symmetric n × n fuzzy simplicial set (weights in (0, 1]).
UmapResult umap(const CsrMatrix& graph, const UmapOptions& options = {}, Feedback* feedback = nullptr);

// Spectral embedding for the initialisation: the `dims` leading non-trivial eigenvectors of
// the symmetrically normalised adjacency (Lanczos with full reorthogonalisation). Throws
// cw::Error when it cannot converge; `joined` tells whether disconnected parts had to be
// joined by a weak uniform link first.
DenseMatrix spectralEmbedding(const CsrMatrix& graph, int dims, uint64_t seed, bool* joined = nullptr);

// scikit-learn's trustworthiness of `low` as an embedding of `high` at k neighbours (euclidean).
double trustworthiness(const DenseMatrix& high, const DenseMatrix& low, int k = 15, int threads = 0);

}  // namespace cw::analysis
