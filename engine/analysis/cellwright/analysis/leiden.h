#pragma once
// Leiden community detection (Traag et al.) through igraph, with the modularity objective
// (scanpy's tl.leiden / leidenalg's RBConfigurationVertexPartition).
#include <cstdint>
#include <string>
#include <vector>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"

namespace cw::analysis {

struct LeidenOptions {
  double resolution = 1.0;   // higher: more, smaller clusters
  int iterations = -1;       // negative: iterate until the partition is stable (scanpy's default)
  double beta = 0.01;        // randomness of the refinement step (leidenalg's default)
  uint64_t seed = 0;
  bool useWeights = true;    // edge weights = connectivities
};

struct LeidenResult {
  std::vector<int32_t> membership;  // per cell; cluster 0 is the largest
  int nClusters = 0;
  double modularity = 0;            // Newman-Girvan modularity (resolution 1) of the partition
};

bool igraphAvailable();

// `graph`: symmetric n × n weighted adjacency (NeighborsResult::connectivities).
// Throws cw::NotAvailable in builds without igraph.
LeidenResult leiden(const CsrMatrix& graph, const LeidenOptions& options = {}, Feedback* feedback = nullptr);

// Weighted modularity of a partition of an undirected graph given as a symmetric matrix.
double modularity(const CsrMatrix& graph, const std::vector<int32_t>& membership, double resolution = 1.0);

// obs[key] as a categorical with categories "0", "1", ... (scanpy's convention).
void storeClusters(Dataset& dataset, const std::vector<int32_t>& membership, const std::string& key);

}  // namespace cw::analysis
