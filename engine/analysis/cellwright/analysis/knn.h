#pragma once
// k-nearest neighbours of the rows of an embedding: exact (blocked brute force) or
// approximate (hnswlib, when this build has it).
#include <cstdint>
#include <vector>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"

namespace cw::analysis {

enum class Metric { Euclidean, Cosine };
enum class KnnMethod { Auto, Exact, Hnsw };

struct KnnOptions {
  int k = 15;                        // neighbours per cell, the cell itself included (scanpy's n_neighbors)
  Metric metric = Metric::Euclidean;
  KnnMethod method = KnnMethod::Auto; // Auto: exact up to `exactUpTo` cells, hnswlib above (exact without hnswlib)
  int64_t exactUpTo = 20000;
  int hnswM = 16;                     // hnswlib graph degree
  // Index and search beams (hnswlib's defaults: 200 and 10). 100 and 100 give recall@15 0.9999
  // on 50k x 50 PCs, which UMAP needs for umap-learn's trustworthiness (64/64, recall 0.996, lost
  // 0.0003 of it: bench/results/analysis_50000.md).
  int hnswEfConstruction = 100;
  int hnswEf = 0;                     // search beam; 0: max(2k, 100)
  uint64_t seed = 0;
  int threads = 0;                    // 0: all cores
};

struct KnnResult {
  int64_t n = 0;
  int k = 0;
  std::vector<int64_t> indices;  // n × k, row-major; column 0 is the cell itself
  std::vector<double> distances; // n × k; euclidean distance or cosine distance (1 - cos)
  bool approximate = false;
  int64_t at(int64_t row, int j) const { return indices[row * k + j]; }
  double distance(int64_t row, int j) const { return distances[row * k + j]; }
};

// Throws cw::Error when k exceeds the number of cells, cw::NotAvailable when hnswlib is
// requested in a build without it.
KnnResult findNeighbors(const DenseMatrix& data, const KnnOptions& options = {}, Feedback* feedback = nullptr);

// Fraction of each cell's exact neighbours (self excluded) that `approximate` also found.
double knnRecall(const KnnResult& exact, const KnnResult& approximate);

bool hnswAvailable();

}  // namespace cw::analysis
