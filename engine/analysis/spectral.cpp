// Spectral initialisation for UMAP: leading eigenvectors of D^-1/2 A D^-1/2 by Lanczos.
#include <algorithm>
#include <cmath>
#include <random>

#include <Eigen/Dense>

#include "cellwright/analysis/umap.h"
#include "cellwright/core/errors.h"

namespace cw::analysis {
namespace {

// Connected components of the graph (edges in either direction).
int countComponents(const CsrMatrix& g) {
  std::vector<int64_t> parent(g.rows);
  for (int64_t i = 0; i < g.rows; ++i) parent[i] = i;
  auto find = [&](int64_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  int components = static_cast<int>(g.rows);
  for (int64_t i = 0; i < g.rows; ++i)
    for (int64_t p = g.indptr[i]; p < g.indptr[i + 1]; ++p) {
      const int64_t a = find(i), b = find(g.indices[p]);
      if (a != b) {
        parent[a] = b;
        --components;
      }
    }
  return components;
}

}  // namespace

DenseMatrix spectralEmbedding(const CsrMatrix& graph, int dims, uint64_t seed, bool* joined) {
  const int64_t n = graph.rows;
  if (n < dims + 2) throw Error("too few cells for a spectral layout");
  Eigen::VectorXd degree = Eigen::VectorXd::Zero(n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = graph.indptr[i]; p < graph.indptr[i + 1]; ++p) degree[i] += graph.data[p];
  // A disconnected graph has several unit eigenvalues; a weak uniform link between all cells
  // (1e-4 of the mean degree) joins the parts so that the leading vectors separate them.
  const bool join = countComponents(graph) > 1 || degree.minCoeff() <= 0;
  const double link = join ? 1e-4 * degree.mean() / static_cast<double>(n) : 0.0;
  if (joined) *joined = join;
  degree.array() += link * static_cast<double>(n);
  const Eigen::VectorXd invSqrtDegree = degree.cwiseSqrt().cwiseInverse();
  auto apply = [&](const Eigen::VectorXd& v) {
    const Eigen::VectorXd x = invSqrtDegree.cwiseProduct(v);
    Eigen::VectorXd y(n);
    for (int64_t i = 0; i < n; ++i) {
      double s = 0;
      for (int64_t p = graph.indptr[i]; p < graph.indptr[i + 1]; ++p) s += graph.data[p] * x[graph.indices[p]];
      y[i] = s;
    }
    if (link > 0) y.array() += link * x.sum();
    return Eigen::VectorXd(invSqrtDegree.cwiseProduct(y));
  };
  // The trivial eigenvector (eigenvalue 1) is D^1/2 1: kept out of the Krylov space.
  Eigen::VectorXd trivial = degree.cwiseSqrt();
  trivial.normalize();
  // 40 steps for 2 dimensions: the cost grows with the square of the steps (reorthogonalisation),
  // and an initialisation needs the smooth directions, not eigenvectors to many digits.
  const int steps = static_cast<int>(std::min<int64_t>(n - 1, std::max(40, 10 * dims + 20)));
  Eigen::MatrixXd basis(n, steps);
  Eigen::VectorXd alpha(steps), beta(steps);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Eigen::VectorXd v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = normal(rng);
  v -= trivial * trivial.dot(v);
  v.normalize();
  int m = 0;
  for (; m < steps; ++m) {
    basis.col(m) = v;
    Eigen::VectorXd w = apply(v);
    alpha[m] = w.dot(v);
    // Full reorthogonalisation (twice) against the basis and the trivial vector.
    for (int pass = 0; pass < 2; ++pass) {
      w -= basis.leftCols(m + 1) * (basis.leftCols(m + 1).transpose() * w);
      w -= trivial * trivial.dot(w);
    }
    beta[m] = w.norm();
    if (beta[m] < 1e-10) {
      ++m;
      break;
    }
    v = w / beta[m];
  }
  if (m < dims) throw Error("the spectral layout did not find enough directions");
  Eigen::MatrixXd t = Eigen::MatrixXd::Zero(m, m);
  for (int i = 0; i < m; ++i) {
    t(i, i) = alpha[i];
    if (i + 1 < m) t(i, i + 1) = t(i + 1, i) = beta[i];
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(t);
  if (eig.info() != Eigen::Success) throw Error("the spectral layout did not converge");
  DenseMatrix out;
  out.rows = n;
  out.cols = dims;
  out.values.resize(n * dims);
  for (int d = 0; d < dims; ++d) {
    // Eigenvalues come in increasing order: the largest ones are the smoothest on the graph.
    const Eigen::VectorXd vec = basis.leftCols(m) * eig.eigenvectors().col(m - 1 - d);
    if (!vec.allFinite()) throw Error("the spectral layout produced invalid values");
    for (int64_t i = 0; i < n; ++i) out.values[i * dims + d] = vec[i];
  }
  return out;
}

}  // namespace cw::analysis
