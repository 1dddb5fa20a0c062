#pragma once
// Clustering and integration metrics (scikit-learn, scIB, BioFormer and Harmony's LISI
// definitions). Labels are integer codes >= 0; -1 marks a missing label and is refused.
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "cellwright/analysis/knn.h"
#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"

namespace cw::analysis {

// sklearn.metrics.normalized_mutual_info_score(average_method="arithmetic").
double normalizedMutualInfo(const std::vector<int>& labelsA, const std::vector<int>& labelsB);
// sklearn.metrics.adjusted_rand_score.
double adjustedRandIndex(const std::vector<int>& labelsA, const std::vector<int>& labelsB);
// sklearn.metrics.silhouette_score (mean of per-cell silhouettes; 0 for cells alone in their label).
// Not rescaled. Needs 2 <= number of labels <= cells - 1.
double silhouetteScore(const DenseMatrix& embedding, const std::vector<int>& labels, Metric metric,
                       int threads = 0, Feedback* feedback = nullptr);

// scIB's graph connectivity: for each label, the fraction of its cells in the largest connected
// component of the kNN graph (edges in either direction) restricted to that label; averaged over labels.
double graphConnectivity(const KnnResult& knn, const std::vector<int>& labels);
// BioFormer's batch graph connectivity: mean over cells of the fraction of its k neighbours
// (itself excluded) sharing its label but not its batch.
double batchGraphConnectivity(const KnnResult& knn, const std::vector<int>& labels, const std::vector<int>& batches);
// Harmony's LISI per cell (inverse Simpson index of `labels` among the neighbours, Gaussian
// kernel calibrated to `perplexity`). `knn` holds euclidean distances, itself in column 0.
std::vector<double> lisi(const KnnResult& knn, const std::vector<int>& labels, double perplexity = 30);

struct ClusteringMetricsOptions {
  int k = 15;                     // neighbours besides the cell itself, cosine distance
  double lisiPerplexity = 30;     // LISI uses 3 × perplexity euclidean neighbours (fewer on tiny data)
  bool computeLisi = true;
  int threads = 0;
};

struct ClusteringMetricsResult {
  double nmi = 0, ari = 0;
  double silhouette = 0;            // cosine, rescaled (1 + s) / 2
  double silhouetteEuclidean = 0;   // euclidean, rescaled (1 + s) / 2
  double graphConnectivity = 0;
  double avgBio = 0;                // mean(nmi, ari, silhouette)
  double clisi = 0;                 // median per-cell LISI of the labels (NaN when not computed)
  bool hasBatch = false;
  double batchGraphConnectivity = 0;
  double avgBatch = 0;              // = batchGraphConnectivity
  double ilisi = 0;                 // median per-cell LISI of the batches
};

// `labels`: true labels; `clusters`: cluster assignment; `batches`: empty for no batch.
ClusteringMetricsResult clusteringMetrics(const DenseMatrix& embedding, const std::vector<int>& labels,
                                          const std::vector<int>& clusters, const std::vector<int>& batches,
                                          const ClusteringMetricsOptions& options = {}, Feedback* feedback = nullptr);

// The contract's keys: nmi, ari, silhouette, graph_connectivity, avg_bio, and with a batch
// batch_graph_connectivity, avg_batch; extras silhouette_euclidean, clisi, ilisi.
nlohmann::json clusteringToJson(const ClusteringMetricsResult& result);

}  // namespace cw::analysis
