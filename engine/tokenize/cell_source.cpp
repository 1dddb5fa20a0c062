#include "cellwright/tokenize/cell_source.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "cellwright/core/errors.h"

namespace cw::tokenize {

void readCell(const CellRef& cell, const ValueOptions& options, CellValues& out) {
  const CsrMatrix& m = *cell.source->matrix;
  const int64_t row = cell.row - cell.source->firstRow;
  if (row < 0 || row >= m.rows) throw Error("tokenizer: cell index out of range");
  out.genes.clear();
  out.counts.clear();
  out.logValues.clear();
  double total = 0.0;
  for (int64_t k = m.indptr[row]; k < m.indptr[row + 1]; ++k) {
    if (m.data[k] == 0) continue;
    out.genes.push_back(m.indices[k]);
    out.counts.push_back(m.data[k]);
    total += m.data[k];
  }
  if (cell.source->valuesAreLogNormalized) {
    out.logValues = out.counts;
    return;
  }
  const double scale = total > 0 ? options.targetSum / total : 0.0;
  const double invLn2 = 1.0 / std::log(2.0);
  out.logValues.resize(out.counts.size());
  for (size_t i = 0; i < out.counts.size(); ++i) {
    // As preprocess::normalizeTotal then log1p: the scaled count is rounded to float first.
    const double y = std::log1p(static_cast<double>(static_cast<float>(out.counts[i] * scale)));
    out.logValues[i] = static_cast<float>(options.logBase == preprocess::LogBase::Natural ? y : y * invLn2);
  }
}

int64_t truncatedBin(float logValue, int64_t maxBin) {
  if (!(logValue > 0)) return 0;
  const double clipped = std::min<double>(logValue, static_cast<double>(maxBin));
  return static_cast<int64_t>(std::floor(clipped));
}

std::vector<int64_t> quantileBins(const std::vector<float>& values, int64_t nBins) {
  std::vector<int64_t> bins(values.size(), 0);
  if (values.empty()) return bins;
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  const auto n = static_cast<int64_t>(sorted.size());
  std::vector<double> edges(nBins);
  for (int64_t k = 1; k <= nBins; ++k) {
    // position k/nBins * (n-1), computed exactly in integers before the division
    const double pos = static_cast<double>(k * (n - 1)) / static_cast<double>(nBins);
    const auto lo = static_cast<int64_t>(std::floor(pos));
    const int64_t hi = std::min(lo + 1, n - 1);
    const double t = pos - static_cast<double>(lo);
    const double a = sorted[lo], b = sorted[hi];
    edges[k - 1] = t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
  }
  for (size_t i = 0; i < values.size(); ++i) {
    const auto it = std::lower_bound(edges.begin(), edges.end(), static_cast<double>(values[i]));
    bins[i] = std::min<int64_t>(nBins, static_cast<int64_t>(it - edges.begin()) + 1);
  }
  return bins;
}

uint64_t Rng::next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t Rng::below(uint64_t n) {
  // Lemire's multiply-shift with rejection: unbiased.
  uint64_t x = next();
  __uint128_t m = static_cast<__uint128_t>(x) * n;
  auto low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      x = next();
      m = static_cast<__uint128_t>(x) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

Rng cellRng(uint64_t seed, uint64_t epoch, int64_t datasetIndex, int64_t row) {
  Rng mix(seed);
  uint64_t s = mix.next() ^ (epoch * 0xD1B54A32D192ED03ULL);
  s = Rng(s).next() ^ (static_cast<uint64_t>(datasetIndex) * 0x8CB92BA72F3D8DD7ULL);
  s = Rng(s).next() ^ static_cast<uint64_t>(row);
  return Rng(Rng(s).next());
}

std::vector<int64_t> sampleWithoutReplacement(Rng& rng, int64_t n, int64_t k) {
  k = std::clamp<int64_t>(k, 0, n);
  std::vector<int64_t> pool(n);
  std::iota(pool.begin(), pool.end(), 0);
  for (int64_t i = 0; i < k; ++i) {
    const auto j = i + static_cast<int64_t>(rng.below(static_cast<uint64_t>(n - i)));
    std::swap(pool[i], pool[j]);
  }
  pool.resize(k);
  return pool;
}

MaskPlan planMasking(Rng& rng, int64_t nonZero, double fraction, double keepFraction) {
  MaskPlan plan;
  if (nonZero <= 0) return plan;
  const int64_t nMask = std::clamp<int64_t>(std::llround(fraction * static_cast<double>(nonZero)), 1, nonZero);
  const int64_t nKeep = std::llround(keepFraction * static_cast<double>(nMask));
  auto chosen = sampleWithoutReplacement(rng, nonZero, nMask);
  plan.unchanged.assign(chosen.begin(), chosen.begin() + nKeep);
  plan.replaced.assign(chosen.begin() + nKeep, chosen.end());
  std::sort(plan.unchanged.begin(), plan.unchanged.end());
  std::sort(plan.replaced.begin(), plan.replaced.end());
  return plan;
}

}  // namespace cw::tokenize
