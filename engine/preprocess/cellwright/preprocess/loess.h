#pragma once
// Local quadratic (or linear) regression with tricube weights for one predictor, as
// Cleveland's loess (family "gaussian", no robustness iterations), evaluated directly at
// every data point (surface "direct"). seurat_v3 HVG selection fits log-variance on log-mean.
#include <vector>

namespace cw::preprocess {

struct LoessOptions {
  double span = 0.75;  // fraction of points in each local neighbourhood
  int degree = 2;      // 0, 1 or 2
};

// Fitted values at each x. Throws cw::Error when x and y differ in length or the span
// leaves fewer neighbours than the polynomial needs.
std::vector<double> loessFit(const std::vector<double>& x, const std::vector<double>& y,
                             const LoessOptions& options = {});

}  // namespace cw::preprocess
