#include "cellwright/preprocess/loess.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "cellwright/core/errors.h"

namespace cw::preprocess {
namespace {

// Solves the k×k system a·s = b (k <= 3) by Gaussian elimination with partial pivoting.
// Near-singular pivots give a zero coefficient, as loess' pseudo-inverse drops them.
void solveSmall(double a[3][3], double b[3], int k, double out[3]) {
  int perm[3] = {0, 1, 2};
  double scaleRef = 0.0;
  for (int i = 0; i < k; ++i) scaleRef = std::max(scaleRef, std::fabs(a[i][i]));
  const double tol = scaleRef * 1e-13;
  for (int col = 0; col < k; ++col) {
    int pivot = col;
    for (int r = col + 1; r < k; ++r)
      if (std::fabs(a[r][col]) > std::fabs(a[pivot][col])) pivot = r;
    std::swap(a[col], a[pivot]);
    std::swap(b[col], b[pivot]);
    std::swap(perm[col], perm[pivot]);
    if (std::fabs(a[col][col]) <= tol) continue;
    for (int r = col + 1; r < k; ++r) {
      const double f = a[r][col] / a[col][col];
      for (int c = col; c < k; ++c) a[r][c] -= f * a[col][c];
      b[r] -= f * b[col];
    }
  }
  for (int col = k - 1; col >= 0; --col) {
    if (std::fabs(a[col][col]) <= tol) {
      out[col] = 0.0;
      continue;
    }
    double s = b[col];
    for (int c = col + 1; c < k; ++c) s -= a[col][c] * out[c];
    out[col] = s / a[col][col];
  }
}

}  // namespace

namespace {

// The local polynomial around x0 over the sorted data: value and slope at x0. Cleveland's
// ehg127: the q nearest points, radius = distance of the q-th (times span when span > 1),
// tricube weights.
struct LocalFit {
  double value;
  double slope;
};

LocalFit fitAt(const std::vector<double>& xs, const std::vector<double>& ys, double x0, int64_t q, int k,
               double enlarge) {
  const auto n = static_cast<int64_t>(xs.size());
  // The q nearest: a window [lo, lo + q) slid from the insertion point.
  int64_t lo = std::clamp<int64_t>(std::lower_bound(xs.begin(), xs.end(), x0) - xs.begin() - q / 2, 0, n - q);
  while (lo > 0 && x0 - xs[lo - 1] < xs[lo + q - 1] - x0) --lo;
  while (lo + q < n && xs[lo + q] - x0 < x0 - xs[lo]) ++lo;
  const double radius = std::max(x0 - xs[lo], xs[lo + q - 1] - x0) * enlarge;
  if (radius <= 0) return {ys[lo], 0.0};
  double a[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
  double b[3] = {0, 0, 0};
  for (int64_t j = lo; j < lo + q; ++j) {
    const double u = (xs[j] - x0) / radius;
    const double d = std::fabs(u);
    if (d >= 1.0) continue;
    const double t = 1.0 - d * d * d;
    const double w = t * t * t;
    const double p[3] = {1.0, u, u * u};
    for (int r = 0; r < k; ++r) {
      b[r] += w * p[r] * ys[j];
      for (int c = 0; c < k; ++c) a[r][c] += w * p[r] * p[c];
    }
  }
  double coef[3] = {0, 0, 0};
  solveSmall(a, b, k, coef);
  return {coef[0], k > 1 ? coef[1] / radius : 0.0};
}

// Vertices of loess' k-d tree in one dimension (ehg126 / ehg124): the data's range widened
// by 0.5%, then cells holding more than fc points split at their median point; ties go to
// the upper cell, searching outwards from the median for a gap.
std::vector<double> kdVertices(const std::vector<double>& xs, int64_t fc) {
  const auto n = static_cast<int64_t>(xs.size());
  const double lo = xs.front(), hi = xs.back();
  const double margin = 0.005 * std::max(hi - lo, 1e-10 * std::max(std::fabs(lo), std::fabs(hi)) + 1e-30);
  std::vector<double> vertices{lo - margin, hi + margin};
  struct Cell {
    int64_t l, u;  // 1-based inclusive point range, as the Fortran
    double vLow, vHigh;
  };
  std::vector<Cell> stack{{1, n, vertices[0], vertices[1]}};
  auto x = [&](int64_t i) { return xs[i - 1]; };
  while (!stack.empty()) {
    const Cell c = stack.back();
    stack.pop_back();
    if (c.u - c.l + 1 <= fc) continue;
    int64_t m = (c.l + c.u) / 2;
    for (int64_t offset = 0; m + offset < c.u && m + offset >= c.l;) {
      if (x(m + offset) == x(m + offset + 1)) {
        offset = -offset;
        if (offset >= 0) ++offset;
        continue;
      }
      m += offset;
      break;
    }
    const double split = x(m);
    if (split == c.vLow || split == c.vHigh) continue;  // leaf
    vertices.push_back(split);
    stack.push_back({c.l, m, c.vLow, split});
    stack.push_back({m + 1, c.u, split, c.vHigh});
  }
  std::sort(vertices.begin(), vertices.end());
  return vertices;
}

}  // namespace

std::vector<double> loessFit(const std::vector<double>& x, const std::vector<double>& y,
                             const LoessOptions& options) {
  if (x.size() != y.size()) throw Error("loess: x and y have different lengths");
  if (options.degree < 0 || options.degree > 2) throw Error("loess: degree must be 0, 1 or 2");
  const int64_t n = static_cast<int64_t>(x.size());
  const int k = options.degree + 1;
  // Cleveland: q = min(n, floor(n * span)) neighbours.
  const int64_t q = std::min<int64_t>(n, static_cast<int64_t>(std::floor(static_cast<double>(n) * options.span)));
  if (q <= k) throw Error("loess: too few points (" + std::to_string(n) + ") for span " + std::to_string(options.span));

  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return x[a] < x[b]; });
  std::vector<double> xs(n), ys(n);
  for (int64_t i = 0; i < n; ++i) {
    xs[i] = x[order[i]];
    ys[i] = y[order[i]];
  }
  const double enlarge = std::max(1.0, options.span);  // span > 1 widens the radius
  std::vector<double> fitted(n);
  if (options.surface == LoessOptions::Surface::Direct) {
    for (int64_t i = 0; i < n; ++i) fitted[order[i]] = fitAt(xs, ys, xs[i], q, k, enlarge).value;
    return fitted;
  }
  const auto fc = static_cast<int64_t>(std::floor(static_cast<double>(n) * options.span * options.cell));
  const std::vector<double> v = kdVertices(xs, fc);
  std::vector<LocalFit> atVertex(v.size());
  for (size_t j = 0; j < v.size(); ++j) atVertex[j] = fitAt(xs, ys, v[j], q, k, enlarge);
  size_t cell = 0;
  for (int64_t i = 0; i < n; ++i) {
    while (cell + 2 < v.size() && xs[i] > v[cell + 1]) ++cell;
    const double v0 = v[cell], v1 = v[cell + 1], width = v1 - v0;
    const double h = (xs[i] - v0) / width;
    const double phi0 = (1 - h) * (1 - h) * (1 + 2 * h), phi1 = h * h * (3 - 2 * h);
    const double psi0 = h * (1 - h) * (1 - h), psi1 = h * h * (h - 1);
    fitted[order[i]] = phi0 * atVertex[cell].value + phi1 * atVertex[cell + 1].value +
                       (psi0 * atVertex[cell].slope + psi1 * atVertex[cell + 1].slope) * width;
  }
  return fitted;
}

}  // namespace cw::preprocess
