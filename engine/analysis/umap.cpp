#include "cellwright/analysis/umap.h"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cstdint>
#include <cmath>
#include <random>
#include <limits>
#include <thread>
#include <utility>

#include "cellwright/core/errors.h"
#include "cellwright/core/parallel.h"
#include "umap_sgd.h"

namespace cw::analysis {

std::pair<double, double> fitAB(double spread, double minDist) {
  if (!(spread > 0) || !(minDist >= 0) || minDist > spread)
    throw Error("UMAP needs spread > 0 and 0 <= min_dist <= spread");
  constexpr int kPoints = 300;
  std::vector<double> xs(kPoints), ys(kPoints);
  for (int i = 0; i < kPoints; ++i) {
    xs[i] = spread * 3.0 * i / (kPoints - 1);
    ys[i] = xs[i] < minDist ? 1.0 : std::exp(-(xs[i] - minDist) / spread);
  }
  // Levenberg-Marquardt from (1, 1), as scipy's curve_fit.
  double a = 1, b = 1, lambda = 1e-3;
  auto cost = [&](double pa, double pb) {
    double c = 0;
    for (int i = 0; i < kPoints; ++i) {
      const double r = 1.0 / (1.0 + pa * std::pow(xs[i], 2 * pb)) - ys[i];
      c += r * r;
    }
    return c;
  };
  double current = cost(a, b);
  for (int it = 0; it < 500; ++it) {
    double jtj00 = 0, jtj01 = 0, jtj11 = 0, g0 = 0, g1 = 0;
    for (int i = 0; i < kPoints; ++i) {
      if (xs[i] <= 0) continue;  // f = 1 and both derivatives vanish at x = 0
      const double p = std::pow(xs[i], 2 * b), denom = 1.0 + a * p;
      const double f = 1.0 / denom, r = f - ys[i];
      const double da = -p / (denom * denom), db = -a * p * 2.0 * std::log(xs[i]) / (denom * denom);
      jtj00 += da * da;
      jtj01 += da * db;
      jtj11 += db * db;
      g0 += da * r;
      g1 += db * r;
    }
    const double m00 = jtj00 * (1 + lambda), m11 = jtj11 * (1 + lambda), det = m00 * m11 - jtj01 * jtj01;
    if (det == 0) break;
    const double stepA = -(m11 * g0 - jtj01 * g1) / det, stepB = -(m00 * g1 - jtj01 * g0) / det;
    const double candidate = cost(a + stepA, b + stepB);
    if (candidate < current) {
      const double improvement = current - candidate;
      a += stepA;
      b += stepB;
      current = candidate;
      lambda = std::max(lambda / 10, 1e-12);
      if (improvement < 1e-16 * std::max(1.0, current) && std::abs(stepA) + std::abs(stepB) < 1e-12) break;
    } else {
      lambda *= 10;
      if (lambda > 1e12) break;
    }
  }
  return {a, b};
}

UmapResult umap(const CsrMatrix& graph, const UmapOptions& options, Feedback* feedback) {
  const int64_t n = graph.rows;
  if (graph.cols != n) throw Error("the neighbour graph is not square");
  if (n < 3) throw Error("UMAP needs at least 3 cells");
  if (n > std::numeric_limits<int32_t>::max()) throw Error("too many cells for a UMAP layout");
  if (graph.nnz() == 0) throw Error("the neighbour graph has no edges; run `neighbors` first");
  if (options.nComponents < 1) throw Error("UMAP needs at least one output dimension");
  if (options.nComponents > 8) throw Error("UMAP supports at most 8 output dimensions");
  UmapResult result;
  const int dim = options.nComponents;
  std::tie(result.a, result.b) = fitAB(options.spread, options.minDist);
  result.epochs = options.epochs > 0 ? options.epochs : (n <= 10000 ? 500 : 200);
  const int nEpochs = result.epochs;

  // Edges below max / n_epochs would never be sampled: dropped, as umap-learn.
  float maxWeight = 0;
  for (float w : graph.data) maxWeight = std::max(maxWeight, w);
  detail::UmapSchedule schedule;
  schedule.rowStart.assign(1, 0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t p = graph.indptr[i]; p < graph.indptr[i + 1]; ++p) {
      const float w = graph.data[p];
      if (!(w >= maxWeight / static_cast<float>(nEpochs)) || w <= 0) continue;
      schedule.tail.push_back(graph.indices[p]);
      schedule.epochsPerSample.push_back(maxWeight / w);  // n_epochs / (n_epochs * w / max)
    }
    schedule.rowStart.push_back(static_cast<int64_t>(schedule.tail.size()));
  }
  const size_t nEdges = schedule.tail.size();
  schedule.nextSample = schedule.epochsPerSample;
  schedule.nextNegative.resize(nEdges);
  for (size_t e = 0; e < nEdges; ++e)
    schedule.nextNegative[e] = schedule.epochsPerSample[e] / static_cast<float>(options.negativeSampleRate);

  // Initialisation, scaled to [0, 10] per axis.
  std::vector<float> emb(n * dim);
  std::mt19937_64 rng(options.seed);
  bool initialized = false;
  if (options.spectralInit) {
    try {
      bool joined = false;
      const DenseMatrix spectral = spectralEmbedding(graph, dim, options.seed, &joined);
      double maxAbs = 0;
      for (double v : spectral.values) maxAbs = std::max(maxAbs, std::abs(v));
      std::normal_distribution<float> noise(0.0f, 0.0001f);
      for (int64_t i = 0; i < n * dim; ++i) emb[i] = static_cast<float>(spectral.values[i] * 10.0 / maxAbs) + noise(rng);
      result.initialization = joined ? "spectral (components joined)" : "spectral";
      initialized = true;
    } catch (const Error& e) {
      if (feedback) feedback->warning(std::string("spectral initialisation failed (") + e.what() + "); using a random one");
    }
  }
  if (!initialized) {
    std::uniform_real_distribution<float> uniform(-10.0f, 10.0f);
    for (float& v : emb) v = uniform(rng);
    result.initialization = "random";
  }
  for (int d = 0; d < dim; ++d) {
    float lo = emb[d], hi = emb[d];
    for (int64_t i = 0; i < n; ++i) {
      lo = std::min(lo, emb[i * dim + d]);
      hi = std::max(hi, emb[i * dim + d]);
    }
    const float range = hi > lo ? hi - lo : 1.0f;
    for (int64_t i = 0; i < n; ++i) emb[i * dim + d] = 10.0f * (emb[i * dim + d] - lo) / range;
  }

  // Each thread takes a contiguous range of heads holding about the same number of edges.
  // Small graphs run on one thread: their layout takes well under a second, and a seed then
  // gives the same picture every time.
  constexpr int64_t kEdgesPerThread = 20000;
  const int threads = std::max(
      1, std::min<int>(parallel::defaultThreads(options.threads), static_cast<int>(nEdges / kEdgesPerThread + 1)));
  std::vector<int64_t> rowSplit(threads + 1, n);
  rowSplit[0] = 0;
  for (int t = 1; t < threads; ++t)
    rowSplit[t] = std::upper_bound(schedule.rowStart.begin(), schedule.rowStart.end(),
                                   static_cast<int64_t>(nEdges * t / threads)) - schedule.rowStart.begin() - 1;
  std::vector<detail::UmapRandom> randoms;
  for (int t = 0; t < threads; ++t) randoms.emplace_back(options.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(t) + 1);
  const detail::UmapCurve curve{static_cast<float>(result.a), static_cast<float>(result.b),
                    static_cast<float>(2.0 * options.repulsionStrength * result.b),
                    static_cast<float>(options.negativeSampleRate)};
  const detail::UmapEpochKernel layout = detail::umapEpochKernel(dim);
  std::atomic<bool> stop{false};
  std::exception_ptr failure;

  // Persistent workers meet at a barrier after each epoch; the first polls cancel and reports.
  std::barrier sync(threads, [&]() noexcept {});
  auto worker = [&](int t) {
    for (int epoch = 0; epoch < nEpochs; ++epoch) {
      const float alpha = static_cast<float>(options.learningRate * (1.0 - static_cast<double>(epoch) / nEpochs));
      if (!stop.load(std::memory_order_relaxed))
        layout(emb.data(), static_cast<uint32_t>(n), schedule, rowSplit[t], rowSplit[t + 1], static_cast<float>(epoch),
               alpha, curve, randoms[t]);
      if (t == 0 && feedback) {
        try {
          feedback->throwIfCanceled();
          if (epoch % 10 == 0) feedback->setProgress(static_cast<double>(epoch) / nEpochs, "UMAP layout");
        } catch (...) {
          failure = std::current_exception();
          stop = true;
        }
      }
      sync.arrive_and_wait();
      if (stop.load(std::memory_order_relaxed)) break;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker, t);
  worker(0);
  for (auto& th : pool) th.join();
  if (failure) std::rethrow_exception(failure);

  result.embedding.rows = n;
  result.embedding.cols = dim;
  result.embedding.values.assign(emb.begin(), emb.end());
  if (feedback) feedback->setProgress(1.0, "UMAP layout");
  return result;
}

}  // namespace cw::analysis
