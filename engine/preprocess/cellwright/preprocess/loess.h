#pragma once
// Local quadratic (or linear) regression with tricube weights for one predictor, as
// Cleveland's loess (family "gaussian", no robustness iterations). Surface "interpolate"
// (the default of R's loess and skmisc, which scanpy's seurat_v3 calls): local fits only at
// the vertices of a k-d tree over x (cells split at the median until they hold at most
// floor(n · span · cell) points), with value and slope there, and cubic Hermite
// interpolation between vertices. Surface "direct": a local fit at every point.
#include <vector>

namespace cw::preprocess {

struct LoessOptions {
  double span = 0.75;  // fraction of points in each local neighbourhood
  int degree = 2;      // 0, 1 or 2
  enum class Surface { Interpolate, Direct } surface = Surface::Interpolate;
  double cell = 0.2;   // Interpolate: k-d tree cells hold at most n · span · cell points
};

// Fitted values at each x. Throws cw::Error when x and y differ in length or the span
// leaves fewer neighbours than the polynomial needs.
std::vector<double> loessFit(const std::vector<double>& x, const std::vector<double>& y,
                             const LoessOptions& options = {});

}  // namespace cw::preprocess
