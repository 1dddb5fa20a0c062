#include "cellwright/preprocess/hvg.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "cellwright/core/errors.h"
#include "cellwright/preprocess/loess.h"

namespace cw::preprocess {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Per-batch column sums of f(x) and f(x)^2 over the stored entries.
struct Moments {
  std::vector<std::vector<double>> sum, sumSq;
  std::vector<int64_t> cells;
  std::vector<std::vector<int64_t>> expressedIn;  // cells with a non-zero value, per gene
};

template <typename Transform>
Moments columnMoments(const CsrMatrix& m, const std::vector<int32_t>& batch, int32_t nBatches, Transform f,
                      Feedback* feedback) {
  Moments mo;
  mo.sum.assign(nBatches, std::vector<double>(m.cols, 0.0));
  mo.sumSq.assign(nBatches, std::vector<double>(m.cols, 0.0));
  mo.expressedIn.assign(nBatches, std::vector<int64_t>(m.cols, 0));
  mo.cells.assign(nBatches, 0);
  for (int64_t r = 0; r < m.rows; ++r) {
    if ((r & 4095) == 0) pollCancel(feedback);
    const int32_t b = batch.empty() ? 0 : batch[r];
    ++mo.cells[b];
    double* s = mo.sum[b].data();
    double* s2 = mo.sumSq[b].data();
    int64_t* e = mo.expressedIn[b].data();
    for (int64_t k = m.indptr[r]; k < m.indptr[r + 1]; ++k) {
      const double v = f(static_cast<double>(m.data[k]));
      const int32_t g = m.indices[k];
      s[g] += v;
      s2[g] += v * v;
      if (v != 0) ++e[g];
    }
  }
  return mo;
}

// scanpy's _get_mean_var: mean and unbiased variance from sums.
void meanVar(double sum, double sumSq, int64_t n, double& mean, double& var) {
  const auto nn = static_cast<double>(n);
  mean = n > 0 ? sum / nn : 0.0;
  var = n > 1 ? (sumSq / nn - mean * mean) * nn / (nn - 1) : 0.0;
}

// pandas.cut(values, bins=nBins): equal-width right-closed bins over [min, max], the first
// edge lowered by 0.1% of the range so the minimum falls inside. -1 for NaN.
std::vector<int> equalWidthBins(const std::vector<double>& values, int nBins) {
  double mn = std::numeric_limits<double>::infinity(), mx = -mn;
  for (double v : values)
    if (!std::isnan(v)) {
      mn = std::min(mn, v);
      mx = std::max(mx, v);
    }
  std::vector<double> edges(nBins + 1);
  const bool flat = mn == mx;
  if (flat) {
    const double adj = mn != 0 ? 0.001 * std::fabs(mn) : 0.001;
    mn -= adj;
    mx += adj;
  }
  const double step = (mx - mn) / nBins;  // numpy.linspace: start + i * step, last = stop
  for (int i = 0; i < nBins; ++i) edges[i] = mn + i * step;
  edges[nBins] = mx;
  if (!flat) edges[0] -= (mx - mn) * 0.001;
  std::vector<int> bin(values.size(), -1);
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) continue;
    // searchsorted(side="left") - 1: value v belongs to (edges[b], edges[b+1]].
    const auto it = std::lower_bound(edges.begin(), edges.end(), values[i]);
    bin[i] = std::clamp(static_cast<int>(it - edges.begin()) - 1, 0, nBins - 1);
  }
  return bin;
}

// numpy.percentile (linear interpolation) of sorted data.
double percentileSorted(const std::vector<double>& sorted, double q) {
  const double pos = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double t = pos - static_cast<double>(lo);
  const double a = sorted[lo], b = sorted[hi], diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;  // numpy's _lerp
}

// Median of non-NaN values (pandas skips NaN); NaN when none.
double nanMedian(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty()) return kNaN;
  const size_t n = v.size();
  std::nth_element(v.begin(), v.begin() + n / 2, v.end());
  double m = v[n / 2];
  if (n % 2 == 0) m = 0.5 * (m + *std::max_element(v.begin(), v.begin() + n / 2));
  return m;
}

struct BatchFrame {
  std::vector<double> means, dispersions, dispersionsNorm;
  std::vector<bool> highlyVariable;
};

// scanpy's _highly_variable_genes_single_batch for Seurat / CellRanger, given per-gene
// mean and variance of the genes kept for this batch.
BatchFrame dispersionFrame(std::vector<double> mean, const std::vector<double>& var, const HvgOptions& o) {
  const size_t n = mean.size();
  BatchFrame f;
  if (n == 0) return f;  // a batch expressing no gene
  f.dispersions.resize(n);
  for (size_t g = 0; g < n; ++g) {
    if (mean[g] == 0) mean[g] = 1e-12;
    f.dispersions[g] = var[g] / mean[g];
  }
  if (o.flavor == HvgFlavor::Seurat) {
    for (size_t g = 0; g < n; ++g) {
      f.dispersions[g] = f.dispersions[g] == 0 ? kNaN : std::log(f.dispersions[g]);
      mean[g] = std::log1p(mean[g]);
    }
  }
  f.means = mean;
  f.dispersionsNorm.assign(n, kNaN);
  if (o.flavor == HvgFlavor::Seurat) {
    const std::vector<int> bin = equalWidthBins(mean, o.nBins);
    std::vector<double> sum(o.nBins, 0.0), count(o.nBins, 0.0);
    for (size_t g = 0; g < n; ++g)
      if (bin[g] >= 0 && !std::isnan(f.dispersions[g])) {
        sum[bin[g]] += f.dispersions[g];
        count[bin[g]] += 1;
      }
    std::vector<double> binMean(o.nBins, kNaN), binSd(o.nBins, kNaN), ss(o.nBins, 0.0);
    for (int b = 0; b < o.nBins; ++b)
      if (count[b] > 0) binMean[b] = sum[b] / count[b];
    for (size_t g = 0; g < n; ++g)
      if (bin[g] >= 0 && !std::isnan(f.dispersions[g])) {
        const double d = f.dispersions[g] - binMean[bin[g]];
        ss[bin[g]] += d * d;
      }
    for (int b = 0; b < o.nBins; ++b) {
      if (count[b] > 1) {
        binSd[b] = std::sqrt(ss[b] / (count[b] - 1));
      } else {  // one gene (or none) in the bin: scanpy sets its normalised dispersion to 1
        binSd[b] = binMean[b];
        binMean[b] = 0.0;
      }
    }
    for (size_t g = 0; g < n; ++g)
      if (bin[g] >= 0) f.dispersionsNorm[g] = (f.dispersions[g] - binMean[bin[g]]) / binSd[bin[g]];
  } else {
    std::vector<double> sorted = mean;
    std::sort(sorted.begin(), sorted.end());
    std::vector<double> edges{-std::numeric_limits<double>::infinity()};
    for (int q = 10; q <= 100; q += 5) edges.push_back(percentileSorted(sorted, q));
    edges.push_back(std::numeric_limits<double>::infinity());
    const int nb = static_cast<int>(edges.size()) - 1;
    std::vector<int> bin(n);
    std::vector<std::vector<double>> members(nb);
    for (size_t g = 0; g < n; ++g) {
      const auto it = std::lower_bound(edges.begin(), edges.end(), mean[g]);
      bin[g] = std::clamp(static_cast<int>(it - edges.begin()) - 1, 0, nb - 1);
      members[bin[g]].push_back(f.dispersions[g]);
    }
    constexpr double kNormalMadScale = 0.6744897501960817;  // Phi^-1(3/4), statsmodels' mad
    std::vector<double> median(nb, kNaN), mad(nb, kNaN);
    for (int b = 0; b < nb; ++b) {
      if (members[b].empty()) continue;
      median[b] = nanMedian(members[b]);
      std::vector<double> dev(members[b].size());
      for (size_t i = 0; i < dev.size(); ++i) dev[i] = std::fabs(members[b][i] - median[b]) / kNormalMadScale;
      mad[b] = nanMedian(dev);
    }
    for (size_t g = 0; g < n; ++g) f.dispersionsNorm[g] = (f.dispersions[g] - median[bin[g]]) / mad[bin[g]];
  }

  f.highlyVariable.assign(n, false);
  if (o.nTopGenes > 0) {
    std::vector<double> finite;
    for (double d : f.dispersionsNorm)
      if (!std::isnan(d)) finite.push_back(d);
    const auto top = static_cast<size_t>(std::min<int64_t>(o.nTopGenes, static_cast<int64_t>(finite.size())));
    if (top > 0) {
      std::nth_element(finite.begin(), finite.begin() + (top - 1), finite.end(), std::greater<>());
      const double cutoff = finite[top - 1];
      for (size_t g = 0; g < n; ++g) {
        const double d = std::isnan(f.dispersionsNorm[g]) ? 0.0 : f.dispersionsNorm[g];  // nan_to_num
        f.highlyVariable[g] = d >= cutoff;
      }
    }
  } else {
    for (size_t g = 0; g < n; ++g) {
      const double d = std::isnan(f.dispersionsNorm[g]) ? 0.0 : f.dispersionsNorm[g];
      f.highlyVariable[g] = mean[g] > o.minMean && mean[g] < o.maxMean && d > o.minDisp && d < o.maxDisp;
    }
  }
  return f;
}

// Batch codes renumbered 0..k-1 over the batches that have cells (in code order); each
// batch needs two cells for a variance.
std::vector<int32_t> compactBatches(const std::vector<int32_t>& batches, int64_t rows, int32_t& nBatches) {
  nBatches = 1;
  if (batches.empty()) return {};
  if (static_cast<int64_t>(batches.size()) != rows)
    throw Error("highly variable genes: the batch column has " + std::to_string(batches.size()) +
                " entries for " + std::to_string(rows) + " cells");
  std::map<int32_t, int64_t> cellsPerCode;
  for (int32_t b : batches) {
    if (b < 0) throw Error("highly variable genes: some cells have no batch (missing value in the batch column)");
    ++cellsPerCode[b];
  }
  std::map<int32_t, int32_t> newCode;
  for (const auto& [code, cells] : cellsPerCode) {
    if (cells < 2)
      throw Error("highly variable genes: batch " + std::to_string(code) + " has a single cell; per-batch "
                  "selection needs at least two cells in every batch");
    newCode.emplace(code, static_cast<int32_t>(newCode.size()));
  }
  std::vector<int32_t> out(batches.size());
  for (size_t i = 0; i < batches.size(); ++i) out[i] = newCode[batches[i]];
  nBatches = static_cast<int32_t>(newCode.size());
  return out;
}

HvgResult dispersionFlavor(const CsrMatrix& m, const HvgOptions& o, int32_t nBatches, Feedback* feedback) {
  const double logScale = (o.logBase > 0 && o.logBase != std::exp(1.0)) ? std::log(o.logBase) : 1.0;
  const bool seurat = o.flavor == HvgFlavor::Seurat;
  const Moments mo = columnMoments(
      m, o.batches, nBatches, [&](double v) { return seurat ? std::expm1(v * logScale) : v; }, feedback);
  const int64_t G = m.cols;
  HvgResult r;
  r.nBatches = nBatches;
  std::vector<std::vector<double>> means(nBatches), disp(nBatches), dispNorm(nBatches);
  std::vector<std::vector<bool>> hv(nBatches);
  for (int32_t b = 0; b < nBatches; ++b) {
    // Per batch, genes not expressed in it are left out (scanpy filter_genes(min_cells=1))
    // when there are batches; they count as zeros in the averages below.
    std::vector<int64_t> kept;
    for (int64_t g = 0; g < G; ++g)
      if (nBatches == 1 || mo.expressedIn[b][g] > 0) kept.push_back(g);
    std::vector<double> mean(kept.size()), var(kept.size());
    for (size_t i = 0; i < kept.size(); ++i) meanVar(mo.sum[b][kept[i]], mo.sumSq[b][kept[i]], mo.cells[b], mean[i], var[i]);
    const BatchFrame f = dispersionFrame(std::move(mean), var, o);
    means[b].assign(G, 0.0);
    disp[b].assign(G, 0.0);
    dispNorm[b].assign(G, 0.0);
    hv[b].assign(G, false);
    for (size_t i = 0; i < kept.size(); ++i) {
      means[b][kept[i]] = f.means[i];
      disp[b][kept[i]] = f.dispersions[i];
      dispNorm[b][kept[i]] = f.dispersionsNorm[i];
      hv[b][kept[i]] = f.highlyVariable[i];
    }
  }
  if (nBatches == 1) {
    r.means = std::move(means[0]);
    r.dispersions = std::move(disp[0]);
    r.dispersionsNorm = std::move(dispNorm[0]);
    r.highlyVariable = std::move(hv[0]);
  } else {
    auto nanMean = [&](const std::vector<std::vector<double>>& v, int64_t g) {
      double s = 0;
      int c = 0;
      for (int32_t b = 0; b < nBatches; ++b)
        if (!std::isnan(v[b][g])) {
          s += v[b][g];
          ++c;
        }
      return c ? s / c : kNaN;
    };
    r.means.resize(G);
    r.dispersions.resize(G);
    r.dispersionsNorm.resize(G);
    r.highlyVariableNbatches.assign(G, 0);
    r.highlyVariableIntersection.assign(G, false);
    for (int64_t g = 0; g < G; ++g) {
      r.means[g] = nanMean(means, g);
      r.dispersions[g] = nanMean(disp, g);
      r.dispersionsNorm[g] = nanMean(dispNorm, g);
      for (int32_t b = 0; b < nBatches; ++b) r.highlyVariableNbatches[g] += hv[b][g] ? 1 : 0;
      r.highlyVariableIntersection[g] = r.highlyVariableNbatches[g] == nBatches;
    }
    r.highlyVariable.assign(G, false);
    if (o.nTopGenes > 0) {
      std::vector<int64_t> order(G);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        if (r.highlyVariableNbatches[a] != r.highlyVariableNbatches[b])
          return r.highlyVariableNbatches[a] > r.highlyVariableNbatches[b];
        const double da = r.dispersionsNorm[a], db = r.dispersionsNorm[b];
        if (std::isnan(da) || std::isnan(db)) return !std::isnan(da) && std::isnan(db);
        return da > db;
      });
      for (int64_t i = 0; i < std::min<int64_t>(o.nTopGenes, G); ++i) r.highlyVariable[order[i]] = true;
    } else {
      for (int64_t g = 0; g < G; ++g) {
        const double d = std::isnan(r.dispersionsNorm[g]) ? 0.0 : r.dispersionsNorm[g];
        r.highlyVariable[g] =
            r.means[g] > o.minMean && r.means[g] < o.maxMean && d > o.minDisp && d < o.maxDisp;
      }
    }
  }
  return r;
}

HvgResult seuratV3(const CsrMatrix& m, const HvgOptions& o, int32_t nBatches, Feedback* feedback) {
  if (o.nTopGenes <= 0) throw Error("highly variable genes: flavour seurat_v3 needs a number of top genes (--hvg N)");
  const int64_t G = m.cols;
  const Moments mo = columnMoments(m, o.batches, nBatches, [](double v) { return v; }, feedback);
  std::vector<std::vector<double>> normVar(nBatches, std::vector<double>(G, 0.0));
  std::vector<std::vector<double>> batchMean(nBatches, std::vector<double>(G)), clipVal(nBatches, std::vector<double>(G));
  std::vector<std::vector<double>> regStd(nBatches, std::vector<double>(G));
  for (int32_t b = 0; b < nBatches; ++b) {
    std::vector<double> var(G);
    for (int64_t g = 0; g < G; ++g) meanVar(mo.sum[b][g], mo.sumSq[b][g], mo.cells[b], batchMean[b][g], var[g]);
    std::vector<int64_t> notConst;
    std::vector<double> lx, ly;
    for (int64_t g = 0; g < G; ++g)
      if (var[g] > 0) {
        notConst.push_back(g);
        lx.push_back(std::log10(batchMean[b][g]));
        ly.push_back(std::log10(var[g]));
      }
    std::vector<double> estimated(G, 0.0);
    if (notConst.size() < 10)
      throw Error("seurat_v3 highly variable genes: too few genes vary" +
                  std::string(nBatches > 1 ? " within batch " + std::to_string(b) : "") + " to fit the mean-variance trend");
    {
      const std::vector<double> fit = loessFit(lx, ly, {o.span, 2});
      for (size_t i = 0; i < notConst.size(); ++i) estimated[notConst[i]] = fit[i];
    }
    const double vmax = std::sqrt(static_cast<double>(mo.cells[b]));
    for (int64_t g = 0; g < G; ++g) {
      regStd[b][g] = std::sqrt(std::pow(10.0, estimated[g]));
      clipVal[b][g] = regStd[b][g] * vmax + batchMean[b][g];
    }
  }
  // Second pass: sums of the clipped counts.
  std::vector<std::vector<double>> sum(nBatches, std::vector<double>(G, 0.0)), sumSq = sum;
  for (int64_t r = 0; r < m.rows; ++r) {
    if ((r & 4095) == 0) pollCancel(feedback);
    const int32_t b = o.batches.empty() ? 0 : o.batches[r];
    for (int64_t k = m.indptr[r]; k < m.indptr[r + 1]; ++k) {
      const int32_t g = m.indices[k];
      const double v = std::min(static_cast<double>(m.data[k]), clipVal[b][g]);
      sum[b][g] += v;
      sumSq[b][g] += v * v;
    }
  }
  for (int32_t b = 0; b < nBatches; ++b) {
    const auto n = static_cast<double>(mo.cells[b]);
    for (int64_t g = 0; g < G; ++g) {
      const double mu = batchMean[b][g], sd = regStd[b][g];
      normVar[b][g] = (n * mu * mu + sumSq[b][g] - 2 * sum[b][g] * mu) / ((n - 1) * sd * sd);
    }
  }
  HvgResult r;
  r.nBatches = nBatches;
  r.highlyVariableNbatches.assign(G, 0);
  r.highlyVariableRank.assign(G, kNaN);
  r.variancesNorm.assign(G, 0.0);
  std::vector<std::vector<double>> topRanks(G);
  for (int32_t b = 0; b < nBatches; ++b) {
    std::vector<int64_t> order(G);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return normVar[b][x] > normVar[b][y]; });
    for (int64_t rank = 0; rank < std::min<int64_t>(o.nTopGenes, G); ++rank) {
      ++r.highlyVariableNbatches[order[rank]];
      topRanks[order[rank]].push_back(static_cast<double>(rank));
    }
    for (int64_t g = 0; g < G; ++g) r.variancesNorm[g] += normVar[b][g] / nBatches;
  }
  for (int64_t g = 0; g < G; ++g)
    if (!topRanks[g].empty()) r.highlyVariableRank[g] = nanMedian(topRanks[g]);
  std::vector<int64_t> order(G);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const double ra = r.highlyVariableRank[a], rb = r.highlyVariableRank[b];
    if (std::isnan(ra) != std::isnan(rb)) return !std::isnan(ra);
    if (!std::isnan(ra) && ra != rb) return ra < rb;
    return r.highlyVariableNbatches[a] > r.highlyVariableNbatches[b];
  });
  r.highlyVariable.assign(G, false);
  for (int64_t i = 0; i < std::min<int64_t>(o.nTopGenes, G); ++i) r.highlyVariable[order[i]] = true;
  // Means and variances over all cells (scanpy reports those of its last batch).
  r.means.resize(G);
  r.variances.resize(G);
  int64_t cells = 0;
  for (int32_t b = 0; b < nBatches; ++b) cells += mo.cells[b];
  for (int64_t g = 0; g < G; ++g) {
    double s = 0, s2 = 0;
    for (int32_t b = 0; b < nBatches; ++b) {
      s += mo.sum[b][g];
      s2 += mo.sumSq[b][g];
    }
    meanVar(s, s2, cells, r.means[g], r.variances[g]);
  }
  if (nBatches > 1) {
    r.highlyVariableIntersection.resize(G);
    for (int64_t g = 0; g < G; ++g) r.highlyVariableIntersection[g] = r.highlyVariableNbatches[g] == nBatches;
  }
  return r;
}

}  // namespace

HvgFlavor parseHvgFlavor(const std::string& name) {
  if (name == "seurat") return HvgFlavor::Seurat;
  if (name == "cell_ranger") return HvgFlavor::CellRanger;
  if (name == "seurat_v3") return HvgFlavor::SeuratV3;
  throw Error("unknown highly-variable-gene flavour '" + name + "' (use seurat, cell_ranger or seurat_v3)");
}

const char* hvgFlavorName(HvgFlavor flavor) {
  switch (flavor) {
    case HvgFlavor::Seurat: return "seurat";
    case HvgFlavor::CellRanger: return "cell_ranger";
    case HvgFlavor::SeuratV3: return "seurat_v3";
  }
  return "";
}

HvgResult highlyVariableGenes(const CsrMatrix& matrix, const HvgOptions& options, Feedback* feedback) {
  if (matrix.rows < 2) throw Error("highly variable genes need at least two cells");
  if (options.nBins < 1) throw Error("highly variable genes: the number of mean bins must be positive");
  int32_t nBatches = 1;
  HvgOptions o = options;
  o.batches = compactBatches(options.batches, matrix.rows, nBatches);
  if (feedback) feedback->setProgress(0.0, std::string("highly variable genes (") + hvgFlavorName(o.flavor) + ")");
  HvgResult r = o.flavor == HvgFlavor::SeuratV3 ? seuratV3(matrix, o, nBatches, feedback)
                                                : dispersionFlavor(matrix, o, nBatches, feedback);
  r.nHighlyVariable = std::count(r.highlyVariable.begin(), r.highlyVariable.end(), true);
  if (feedback) feedback->setProgress(1.0);
  return r;
}

}  // namespace cw::preprocess
