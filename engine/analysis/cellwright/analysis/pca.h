#pragma once
// PCA of a sparse (log-normalised) expression matrix with implicit centring: the centred
// matrix is never formed, so memory stays at the sparse matrix plus a few dense panels.
// Randomised truncated SVD (Halko et al.) with power iterations, as scikit-learn's.
#include <cstdint>
#include <vector>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"

namespace cw::analysis {

struct PcaOptions {
  int nComps = 50;              // components (capped at min(cells, genes) - 1)
  bool allGenes = false;        // ignore var['highly_variable'] (scanpy's use_highly_variable=False)
  bool scale = false;           // unit variance per gene before PCA (scanpy's pp.scale) ...
  double scaleClip = 10;        // ... clipped above at this value (scanpy's max_value)
  int powerIterations = 7;      // scikit-learn's randomized_svd default for few components
  int oversamples = 20;         // extra random directions beyond nComps
  uint64_t seed = 0;
  int threads = 0;              // 0: all cores
};

struct PcaResult {
  DenseMatrix embedding;              // cells × comps: U·S (scanpy's X_pca), signs as svd_flip
  DenseMatrix loadings;               // genes used × comps (principal axes)
  std::vector<double> variance;       // per component, ddof = 1
  std::vector<double> varianceRatio;  // variance / total variance of the genes used
  std::vector<int64_t> genesUsed;     // columns of X that entered the PCA
};

// PCA of all columns of `matrix`.
PcaResult pca(const CsrMatrix& matrix, const PcaOptions& options = {}, Feedback* feedback = nullptr);

// As scanpy's pp.pca on dataset.X: highly variable genes only when var['highly_variable']
// exists (unless options.allGenes).
PcaResult pca(const Dataset& dataset, const PcaOptions& options = {}, Feedback* feedback = nullptr);

// Stores obsm['X_pca'], varm['PCs'] (genes × comps, zero rows for genes left out) and
// uns['pca'] {variance, variance_ratio}, as scanpy does.
void storePca(Dataset& dataset, const PcaResult& result);

}  // namespace cw::analysis
