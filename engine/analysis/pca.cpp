#include "cellwright/analysis/pca.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <Eigen/Dense>
#include <Eigen/SVD>

#include "cellwright/core/errors.h"
#include "cellwright/core/parallel.h"

namespace cw::analysis {
namespace {

using Dense = Eigen::MatrixXd;
// Row-major panels for the sparse products: a row of V or U is then contiguous in memory
// (column-major rows are strided by the number of genes or cells, a cache miss per entry).
using RowDense = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The centred matrix M = P - 1·meanᵀ, with P sparse (X itself, or X scaled and clipped).
struct CentredOperator {
  CsrMatrix rowsP;    // n × g
  CsrMatrix colsP;    // Pᵀ, g × n (for products with Mᵀ)
  Eigen::VectorXd mean;
  int threads = 1;

  // M · V, V g × l.
  Dense times(const Dense& vColumns) const {
    const RowDense v = vColumns;
    RowDense out(rowsP.rows, v.cols());
    const Eigen::RowVectorXd shift = mean.transpose() * vColumns;
    parallel::parallelChunks(rowsP.rows, threads, [&](int64_t r0, int64_t r1, int) {
      for (int64_t r = r0; r < r1; ++r) {
        Eigen::RowVectorXd acc = -shift;
        for (int64_t p = rowsP.indptr[r]; p < rowsP.indptr[r + 1]; ++p) acc += rowsP.data[p] * v.row(rowsP.indices[p]);
        out.row(r) = acc;
      }
    });
    return out;
  }

  // Mᵀ · U, U n × l.
  Dense transposeTimes(const Dense& uColumns) const {
    const RowDense u = uColumns;
    RowDense out(colsP.rows, u.cols());
    const Eigen::RowVectorXd columnSums = uColumns.colwise().sum();
    parallel::parallelChunks(colsP.rows, threads, [&](int64_t c0, int64_t c1, int) {
      for (int64_t c = c0; c < c1; ++c) {
        Eigen::RowVectorXd acc = -mean[c] * columnSums;
        for (int64_t p = colsP.indptr[c]; p < colsP.indptr[c + 1]; ++p) acc += colsP.data[p] * u.row(colsP.indices[p]);
        out.row(c) = acc;
      }
    });
    return out;
  }
};

CsrMatrix transpose(const CsrMatrix& m) {
  CsrMatrix t;
  t.rows = m.cols;
  t.cols = m.rows;
  t.indptr.assign(m.cols + 1, 0);
  for (int32_t c : m.indices) ++t.indptr[c + 1];
  for (int64_t c = 0; c < m.cols; ++c) t.indptr[c + 1] += t.indptr[c];
  t.indices.resize(m.indices.size());
  t.data.resize(m.data.size());
  std::vector<int64_t> next(t.indptr.begin(), t.indptr.end() - 1);
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t p = m.indptr[r]; p < m.indptr[r + 1]; ++p) {
      const int64_t dst = next[m.indices[p]]++;
      t.indices[dst] = static_cast<int32_t>(r);
      t.data[dst] = m.data[p];
    }
  return t;
}

// Column means and ddof-1 variances of a sparse matrix (zeros included), two-pass for accuracy.
void columnMoments(const CsrMatrix& m, Eigen::VectorXd& mean, Eigen::VectorXd& variance) {
  const double n = static_cast<double>(m.rows);
  mean = Eigen::VectorXd::Zero(m.cols);
  std::vector<int64_t> stored(m.cols, 0);
  for (size_t p = 0; p < m.data.size(); ++p) {
    mean[m.indices[p]] += m.data[p];
    ++stored[m.indices[p]];
  }
  mean /= n;
  variance = Eigen::VectorXd::Zero(m.cols);
  for (size_t p = 0; p < m.data.size(); ++p) {
    const double d = m.data[p] - mean[m.indices[p]];
    variance[m.indices[p]] += d * d;
  }
  for (int64_t c = 0; c < m.cols; ++c) variance[c] += (n - stored[c]) * mean[c] * mean[c];
  variance /= (n - 1);
}

Dense orthonormalize(const Dense& a) {
  Eigen::HouseholderQR<Dense> qr(a);
  return qr.householderQ() * Dense::Identity(a.rows(), a.cols());
}

}  // namespace

PcaResult pca(const CsrMatrix& matrix, const PcaOptions& options, Feedback* feedback) {
  const int64_t n = matrix.rows, g = matrix.cols;
  if (n < 2 || g < 2) throw Error("PCA needs at least 2 cells and 2 genes");
  for (float v : matrix.data)
    if (!std::isfinite(v)) throw Error("the expression matrix contains NaN or infinite values");
  const int k = static_cast<int>(std::min<int64_t>(options.nComps, std::min(n, g) - 1));
  if (k < 1) throw Error("asked for " + std::to_string(options.nComps) + " principal components");

  CentredOperator op;
  op.threads = parallel::defaultThreads(options.threads);
  op.rowsP = matrix;
  Eigen::VectorXd mean, variance;
  columnMoments(matrix, mean, variance);
  if (options.scale) {
    // z = (x - μ)/σ clipped above at c  <=>  stored value x/σ clipped at c + μ/σ; zeros stay
    // below the clip for non-negative data. Centring happens afterwards, as scanpy's PCA of scaled data.
    for (size_t p = 0; p < op.rowsP.data.size(); ++p) {
      const int32_t c = op.rowsP.indices[p];
      const double sd = variance[c] > 0 ? std::sqrt(variance[c]) : 1.0;
      op.rowsP.data[p] = static_cast<float>(std::min(op.rowsP.data[p] / sd, options.scaleClip + mean[c] / sd));
    }
    columnMoments(op.rowsP, mean, variance);
  }
  op.mean = mean;
  op.colsP = transpose(op.rowsP);
  const double totalVariance = variance.sum();
  if (!(totalVariance > 0)) throw Error("every gene has the same value in every cell: nothing for PCA to explain");

  const int64_t l = std::min<int64_t>(k + options.oversamples, std::min(n, g));
  std::mt19937_64 rng(options.seed);
  std::normal_distribution<double> normal;
  Dense omega(g, l);
  for (int64_t j = 0; j < l; ++j)
    for (int64_t i = 0; i < g; ++i) omega(i, j) = normal(rng);
  Dense q = orthonormalize(op.times(omega));
  for (int it = 0; it < options.powerIterations; ++it) {
    pollCancel(feedback);
    if (feedback) feedback->setProgress(static_cast<double>(it) / (options.powerIterations + 1), "PCA");
    const Dense z = orthonormalize(op.transposeTimes(q));
    q = orthonormalize(op.times(z));
  }
  pollCancel(feedback);
  const Dense bt = op.transposeTimes(q);  // g × l = (Qᵀ M)ᵀ
  Eigen::BDCSVD<Dense> svd(bt, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Dense u = q * svd.matrixV();  // left singular vectors of M
  const Eigen::VectorXd s = svd.singularValues();
  const Dense axes = svd.matrixU();   // right singular vectors (genes)

  PcaResult r;
  r.embedding.rows = n;
  r.embedding.cols = k;
  r.embedding.values.resize(n * k);
  r.loadings.rows = g;
  r.loadings.cols = k;
  r.loadings.values.resize(g * k);
  for (int c = 0; c < k; ++c) {
    // svd_flip(u_based_decision=True): the largest |u| of each component is positive.
    Eigen::Index argmax = 0;
    u.col(c).cwiseAbs().maxCoeff(&argmax);
    const double sign = u(argmax, c) < 0 ? -1.0 : 1.0;
    for (int64_t i = 0; i < n; ++i) r.embedding.values[i * k + c] = sign * u(i, c) * s[c];
    for (int64_t j = 0; j < g; ++j) r.loadings.values[j * k + c] = sign * axes(j, c);
    r.variance.push_back(s[c] * s[c] / static_cast<double>(n - 1));
    r.varianceRatio.push_back(r.variance.back() / totalVariance);
  }
  r.genesUsed.resize(g);
  for (int64_t j = 0; j < g; ++j) r.genesUsed[j] = j;
  if (feedback) feedback->setProgress(1.0, "PCA");
  return r;
}

PcaResult pca(const Dataset& dataset, const PcaOptions& options, Feedback* feedback) {
  std::vector<int64_t> genes;
  if (!options.allGenes && dataset.var.has("highly_variable")) {
    const Column& hv = dataset.var.at("highly_variable");
    for (int64_t j = 0; j < dataset.nVars(); ++j) {
      const bool flagged = hv.kind == Column::Kind::Bool      ? hv.bools[j] == 1
                           : hv.kind == Column::Kind::Numeric ? hv.numbers[j] != 0
                           : hv.kind == Column::Kind::String  ? hv.strings[j] == "True"
                                                              : hv.valueAsString(j) == "True";
      if (flagged) genes.push_back(j);
    }
    if (genes.size() < 2)
      throw Error("var['highly_variable'] flags fewer than 2 genes; run HVG selection again or use --all-genes");
  }
  if (genes.empty()) return pca(dataset.X, options, feedback);
  PcaResult r = pca(dataset.X.selectColumns(genes), options, feedback);
  r.genesUsed = genes;
  return r;
}

void storePca(Dataset& dataset, const PcaResult& result) {
  dataset.obsm["X_pca"] = result.embedding;
  DenseMatrix pcs;
  pcs.rows = dataset.nVars();
  pcs.cols = result.loadings.cols;
  pcs.values.assign(pcs.rows * pcs.cols, 0.0);
  for (size_t j = 0; j < result.genesUsed.size(); ++j)
    for (int64_t c = 0; c < pcs.cols; ++c) pcs.at(result.genesUsed[j], c) = result.loadings.at(static_cast<int64_t>(j), c);
  dataset.varm["PCs"] = pcs;
  UnsDict info;
  info["variance"].value = result.variance;
  info["variance_ratio"].value = result.varianceRatio;
  dataset.uns["pca"].value = info;
}

}  // namespace cw::analysis
