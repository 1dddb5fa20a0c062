#pragma once
// scanpy's pp.neighbors (method "umap"): k nearest neighbours of an embedding, the kNN
// distances as a sparse matrix, and UMAP's fuzzy simplicial set as connectivities.
#include <string>

#include "cellwright/analysis/knn.h"
#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"

namespace cw::analysis {

struct NeighborsOptions {
  int nNeighbors = 15;                // the cell itself included, as scanpy
  Metric metric = Metric::Euclidean;
  KnnMethod method = KnnMethod::Auto; // exact up to KnnOptions::exactUpTo cells, hnswlib above
  double localConnectivity = 1.0;     // UMAP's local_connectivity
  double setOpMixRatio = 1.0;         // 1: fuzzy union; 0: fuzzy intersection
  uint64_t seed = 0;
  int threads = 0;
};

struct NeighborsResult {
  KnnResult knn;
  CsrMatrix distances;       // n × n, the k - 1 neighbours of each cell (scanpy's obsp['distances'])
  CsrMatrix connectivities;  // n × n, symmetric fuzzy simplicial set (obsp['connectivities'])
};

// UMAP's smooth_knn_dist + compute_membership_strengths + fuzzy union, from a kNN result.
CsrMatrix fuzzySimplicialSet(const KnnResult& knn, double localConnectivity = 1.0, double setOpMixRatio = 1.0);

NeighborsResult computeNeighbors(const DenseMatrix& representation, const NeighborsOptions& options = {},
                                 Feedback* feedback = nullptr);

// obsm[useRep] of the dataset, or a clear error naming what is there.
const DenseMatrix& representation(const Dataset& dataset, const std::string& useRep);

// Stores obsp['distances'], obsp['connectivities'] and uns['neighbors'] as scanpy does.
void storeNeighbors(Dataset& dataset, const NeighborsResult& result, const NeighborsOptions& options,
                    const std::string& useRep);

}  // namespace cw::analysis
