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
  int64_t lo = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double x0 = xs[i];
    // Slide the q-point window towards x0 while that brings the far edge closer.
    while (lo + q < n && xs[lo + q] - x0 < x0 - xs[lo]) ++lo;
    const double radius = std::max(x0 - xs[lo], xs[lo + q - 1] - x0) * enlarge;
    double a[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    double b[3] = {0, 0, 0};
    if (radius <= 0) {
      fitted[order[i]] = ys[i];
      continue;
    }
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
    fitted[order[i]] = coef[0];  // value of the local polynomial at u = 0
  }
  return fitted;
}

}  // namespace cw::preprocess
