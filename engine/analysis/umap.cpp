#include "cellwright/analysis/umap.h"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <random>
#include <thread>

#include "cellwright/core/errors.h"
#include "parallel.h"

namespace cw::analysis {
namespace {

// xorshift128+ per thread: cheap and good enough for negative sampling.
struct FastRandom {
  uint64_t s0, s1;
  explicit FastRandom(uint64_t seed) {
    std::mt19937_64 init(seed);
    s0 = init() | 1;
    s1 = init();
  }
  uint64_t next() {
    uint64_t x = s0;
    const uint64_t y = s1;
    s0 = y;
    x ^= x << 23;
    s1 = x ^ y ^ (x >> 17) ^ (y >> 26);
    return s1 + y;
  }
};

inline float clip4(float v) { return std::clamp(v, -4.0f, 4.0f); }

// Relaxed atomic access: threads update shared coordinates lock-free (Hogwild), as umap-learn.
inline float load(float& x) { return std::atomic_ref<float>(x).load(std::memory_order_relaxed); }
inline void add(float& x, float delta) {
  std::atomic_ref<float> ref(x);
  ref.store(ref.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

}  // namespace

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
  if (graph.nnz() == 0) throw Error("the neighbour graph has no edges; run `neighbors` first");
  if (options.nComponents < 1) throw Error("UMAP needs at least one output dimension");
  UmapResult result;
  const int dim = options.nComponents;
  std::tie(result.a, result.b) = fitAB(options.spread, options.minDist);
  const float a = static_cast<float>(result.a), b = static_cast<float>(result.b);
  result.epochs = options.epochs > 0 ? options.epochs : (n <= 10000 ? 500 : 200);
  const int nEpochs = result.epochs;

  // Edges below max / n_epochs would never be sampled: dropped, as umap-learn.
  float maxWeight = 0;
  for (float w : graph.data) maxWeight = std::max(maxWeight, w);
  std::vector<int32_t> head, tail;
  std::vector<double> epochsPerSample;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = graph.indptr[i]; p < graph.indptr[i + 1]; ++p) {
      const float w = graph.data[p];
      if (!(w >= maxWeight / static_cast<float>(nEpochs)) || w <= 0) continue;
      head.push_back(static_cast<int32_t>(i));
      tail.push_back(graph.indices[p]);
      epochsPerSample.push_back(static_cast<double>(maxWeight) / w);  // n_epochs / (n_epochs * w / max)
    }
  const size_t nEdges = head.size();

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

  std::vector<double> nextSample(epochsPerSample), nextNegative(nEdges), epochsPerNegative(nEdges);
  for (size_t e = 0; e < nEdges; ++e) {
    epochsPerNegative[e] = epochsPerSample[e] / options.negativeSampleRate;
    nextNegative[e] = epochsPerNegative[e];
  }
  const int threads = std::max(1, std::min<int>(detail::defaultThreads(options.threads), static_cast<int>(nEdges / 1000 + 1)));
  std::vector<FastRandom> randoms;
  for (int t = 0; t < threads; ++t) randoms.emplace_back(options.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(t) + 1);
  const float gamma = static_cast<float>(options.repulsionStrength);
  std::atomic<bool> stop{false};
  std::exception_ptr failure;

  auto runEpochSlice = [&](int epoch, size_t e0, size_t e1, FastRandom& random) {
    const float alpha = static_cast<float>(options.learningRate * (1.0 - static_cast<double>(epoch) / nEpochs));
    const double now = epoch;
    float current[8], delta[8];
    for (size_t e = e0; e < e1; ++e) {
      if (nextSample[e] > now) continue;
      float* cur = &emb[static_cast<int64_t>(head[e]) * dim];
      float* oth = &emb[static_cast<int64_t>(tail[e]) * dim];
      float dist2 = 0;
      for (int d = 0; d < dim && d < 8; ++d) {
        current[d] = load(cur[d]);
        const float diff = current[d] - load(oth[d]);
        delta[d] = diff;
        dist2 += diff * diff;
      }
      float coeff = 0;
      if (dist2 > 0) coeff = -2.0f * a * b * std::pow(dist2, b - 1.0f) / (a * std::pow(dist2, b) + 1.0f);
      for (int d = 0; d < dim; ++d) {
        const float grad = clip4(coeff * delta[d]) * alpha;
        current[d] += grad;
        add(cur[d], grad);
        add(oth[d], -grad);
      }
      nextSample[e] += epochsPerSample[e];
      const int nNegative = static_cast<int>((now - nextNegative[e]) / epochsPerNegative[e]);
      for (int s = 0; s < nNegative; ++s) {
        const int64_t k = static_cast<int64_t>(random.next() % static_cast<uint64_t>(n));
        float* neg = &emb[k * dim];
        float negDist2 = 0;
        for (int d = 0; d < dim; ++d) {
          delta[d] = current[d] - load(neg[d]);
          negDist2 += delta[d] * delta[d];
        }
        float repel = 0;
        if (negDist2 > 0)
          repel = 2.0f * gamma * b / ((0.001f + negDist2) * (a * std::pow(negDist2, b) + 1.0f));
        else if (k == head[e])
          continue;
        for (int d = 0; d < dim; ++d) {
          const float grad = (repel > 0 ? clip4(repel * delta[d]) : 4.0f) * alpha;
          current[d] += grad;
          add(cur[d], grad);
        }
      }
      nextNegative[e] += nNegative * epochsPerNegative[e];
    }
  };
  if (dim > 8) throw Error("UMAP supports at most 8 output dimensions");

  // Persistent workers meet at a barrier after each epoch; the first polls cancel and reports.
  std::barrier sync(threads, [&]() noexcept {});
  auto worker = [&](int t) {
    const size_t e0 = nEdges * t / threads, e1 = nEdges * (t + 1) / threads;
    for (int epoch = 0; epoch < nEpochs; ++epoch) {
      if (!stop.load(std::memory_order_relaxed)) runEpochSlice(epoch, e0, e1, randoms[t]);
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
