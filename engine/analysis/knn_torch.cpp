#include "cellwright/analysis/knn_torch.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <torch/torch.h>

#include "cellwright/compute/device.h"
#include "cellwright/core/errors.h"

namespace cw::analysis {

KnnResult findNeighborsTorch(const DenseMatrix& data, const KnnOptions& options, const std::string& device,
                             Feedback* feedback) {
  const int64_t n = data.rows, d = data.cols;
  if (options.k < 2) throw Error("the number of neighbours must be at least 2 (it counts the cell itself)");
  if (n < options.k)
    throw Error("asked for " + std::to_string(options.k) + " neighbours but there are only " + std::to_string(n) + " cells");
  for (double v : data.values)
    if (!std::isfinite(v)) throw Error("the embedding contains NaN or infinite values");
  const torch::Device target(resolveDevice(device));
  torch::NoGradGuard noGrad;
  auto host = torch::from_blob(const_cast<double*>(data.values.data()), {n, d}, torch::kFloat64).clone();
  if (options.metric == Metric::Cosine) host = host / host.norm(2, 1, true).clamp_min(1e-300);
  const auto x = host.to(target, torch::kFloat32);
  const auto sq = x.pow(2).sum(1);
  // One spare candidate so that float near-ties are settled by the exact distances below.
  const int64_t candidates = std::min<int64_t>(options.k + 1, n);
  const int64_t block = std::max<int64_t>(256, std::min<int64_t>(8192, (int64_t{1} << 28) / std::max<int64_t>(n, 1)));
  KnnResult out;
  out.n = n;
  out.k = options.k;
  out.indices.resize(n * options.k);
  out.distances.resize(n * options.k);
  const double* rows = host.data_ptr<double>();
  auto exact = [&](int64_t a, int64_t b) {
    double s = 0;
    for (int64_t c = 0; c < d; ++c) {
      const double diff = rows[a * d + c] - rows[b * d + c];
      s += options.metric == Metric::Euclidean ? diff * diff : rows[a * d + c] * rows[b * d + c];
    }
    return options.metric == Metric::Euclidean ? std::sqrt(s) : std::clamp(1.0 - s, 0.0, 2.0);
  };
  for (int64_t q0 = 0; q0 < n; q0 += block) {
    pollCancel(feedback);
    const int64_t qn = std::min(block, n - q0);
    const auto q = x.narrow(0, q0, qn);
    auto score = options.metric == Metric::Euclidean ? sq.narrow(0, q0, qn).unsqueeze(1) + sq.unsqueeze(0) - 2 * q.mm(x.t())
                                                     : -q.mm(x.t());
    // The cell itself is placed first below, so it is excluded here.
    score.index_put_({torch::arange(qn, score.device()), torch::arange(q0, q0 + qn, score.device())},
                     std::numeric_limits<float>::infinity());
    const auto top = std::get<1>(score.topk(candidates, 1, false, true)).to(torch::kCPU).contiguous();
    const int64_t* idx = top.data_ptr<int64_t>();
    for (int64_t qi = 0; qi < qn; ++qi) {
      const int64_t row = q0 + qi;
      std::vector<std::pair<double, int64_t>> scored;
      for (int64_t j = 0; j < candidates; ++j)
        if (idx[qi * candidates + j] != row) scored.emplace_back(exact(row, idx[qi * candidates + j]), idx[qi * candidates + j]);
      std::sort(scored.begin(), scored.end());
      out.indices[row * options.k] = row;
      out.distances[row * options.k] = 0.0;
      for (int j = 1; j < options.k; ++j) {
        out.indices[row * options.k + j] = scored[j - 1].second;
        out.distances[row * options.k + j] = scored[j - 1].first;
      }
    }
    if (feedback) feedback->setProgress(static_cast<double>(q0 + qn) / n, "nearest neighbours (" + target.str() + ")");
  }
  return out;
}

}  // namespace cw::analysis
