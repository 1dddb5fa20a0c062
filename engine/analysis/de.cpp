#include "cellwright/analysis/de.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "cellwright/analysis/grouping.h"
#include "cellwright/core/errors.h"
#include "cellwright/core/parallel.h"

namespace cw::analysis {
namespace {

// Continued fraction of the regularised incomplete beta function (modified Lentz).
double betaContinuedFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300, kEps = 1e-16;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (std::abs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1) < kEps) break;
  }
  return h;
}

// I_x(a, b).
double incompleteBeta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * betaContinuedFraction(a, b, x) / a;
  return 1 - front * betaContinuedFraction(b, a, 1 - x) / b;
}

struct GroupStats {
  double mean = 0, variance = 0;
};

// Mean and ddof-1 variance of the listed values plus `zeros` zeros.
GroupStats moments(const std::vector<double>& values, int64_t count) {
  GroupStats s;
  if (count == 0) return s;
  double sum = std::accumulate(values.begin(), values.end(), 0.0);
  s.mean = sum / static_cast<double>(count);
  double ss = static_cast<double>(count - static_cast<int64_t>(values.size())) * s.mean * s.mean;
  for (double v : values) ss += (v - s.mean) * (v - s.mean);
  s.variance = count > 1 ? ss / static_cast<double>(count - 1) : std::numeric_limits<double>::quiet_NaN();
  return s;
}

CsrMatrix transposeRows(const CsrMatrix& m, const std::vector<int64_t>& rows) {
  // Columns of m restricted to `rows`, as a genes × len(rows) CSR matrix.
  CsrMatrix t;
  t.rows = m.cols;
  t.cols = static_cast<int64_t>(rows.size());
  t.indptr.assign(m.cols + 1, 0);
  for (int64_t r : rows)
    for (int64_t p = m.indptr[r]; p < m.indptr[r + 1]; ++p) ++t.indptr[m.indices[p] + 1];
  for (int64_t c = 0; c < m.cols; ++c) t.indptr[c + 1] += t.indptr[c];
  t.indices.resize(t.indptr.back());
  t.data.resize(t.indptr.back());
  std::vector<int64_t> next(t.indptr.begin(), t.indptr.end() - 1);
  for (size_t k = 0; k < rows.size(); ++k)
    for (int64_t p = m.indptr[rows[k]]; p < m.indptr[rows[k] + 1]; ++p) {
      const int64_t dst = next[m.indices[p]]++;
      t.indices[dst] = static_cast<int32_t>(k);
      t.data[dst] = m.data[p];
    }
  return t;
}

void adjustBenjaminiHochberg(std::vector<DeGene>& genes) {
  const size_t m = genes.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return genes[a].pval < genes[b].pval; });
  double running = 1.0;
  for (size_t r = m; r-- > 0;) {
    const double scaled = genes[order[r]].pval * static_cast<double>(m) / static_cast<double>(r + 1);
    running = std::min(running, scaled);
    genes[order[r]].pvalAdj = std::min(1.0, running);
  }
}

}  // namespace

double normalTwoSidedP(double z) { return std::erfc(std::abs(z) / std::sqrt(2.0)); }

double studentTwoSidedP(double t, double df) {
  if (std::isnan(t) || std::isnan(df) || df <= 0) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(t)) return 0.0;
  return incompleteBeta(df / 2.0, 0.5, df / (df + t * t));
}

DeComparison rankGenes(const CsrMatrix& matrix, const std::vector<int64_t>& groupCells,
                       const std::vector<int64_t>& referenceCells, const DeOptions& options, Feedback* feedback) {
  if (groupCells.empty()) throw Error("the group to test has no cells");
  if (referenceCells.empty()) throw Error("the reference has no cells");
  std::vector<uint8_t> seen(matrix.rows, 0);
  for (int64_t r : groupCells) {
    if (r < 0 || r >= matrix.rows) throw Error("a selected cell is outside the matrix");
    seen[r] = 1;
  }
  for (int64_t r : referenceCells) {
    if (r < 0 || r >= matrix.rows) throw Error("a selected cell is outside the matrix");
    if (seen[r] == 1) throw Error("the group and the reference share cells");
  }
  const int64_t n1 = static_cast<int64_t>(groupCells.size()), n2 = static_cast<int64_t>(referenceCells.size());
  const int64_t nTotal = n1 + n2;
  std::vector<int64_t> cells(groupCells);
  cells.insert(cells.end(), referenceCells.begin(), referenceCells.end());
  const CsrMatrix byGene = transposeRows(matrix, cells);  // column k < n1: group cell

  DeComparison out;
  out.genes.resize(matrix.cols);
  parallel::parallelChunks(matrix.cols, parallel::defaultThreads(options.threads), [&](int64_t g0, int64_t g1, int thread) {
    std::vector<std::pair<double, uint8_t>> entries;
    std::vector<double> valuesGroup, valuesRef;
    for (int64_t g = g0; g < g1; ++g) {
      if (thread == 0 && (g - g0) % 256 == 0) {
        pollCancel(feedback);
        if (feedback) feedback->setProgress(static_cast<double>(g - g0) / std::max<int64_t>(1, g1 - g0), "differential expression");
      }
      valuesGroup.clear();
      valuesRef.clear();
      entries.clear();
      for (int64_t p = byGene.indptr[g]; p < byGene.indptr[g + 1]; ++p) {
        const bool inGroup = byGene.indices[p] < n1;
        const double v = byGene.data[p];
        (inGroup ? valuesGroup : valuesRef).push_back(v);
        if (v != 0) entries.emplace_back(v, inGroup ? 1 : 0);
      }
      const GroupStats sg = moments(valuesGroup, n1), sr = moments(valuesRef, n2);
      DeGene& result = out.genes[g];
      result.gene = g;
      result.logFoldChange = std::log2((std::expm1(sg.mean) + 1e-9) / (std::expm1(sr.mean) + 1e-9));
      if (options.method == DeMethod::Wilcoxon) {
        // Zeros form one tie block; the non-zero values are ranked around it.
        int64_t zerosGroup = n1, zerosTotal = nTotal;
        for (const auto& e : entries) {
          zerosGroup -= e.second;
          --zerosTotal;
        }
        std::sort(entries.begin(), entries.end());
        const auto firstPositive = std::lower_bound(entries.begin(), entries.end(), std::make_pair(0.0, uint8_t{0}));
        const int64_t negatives = firstPositive - entries.begin();
        double rankSum = 0, tieTerm = 0;
        auto addTieGroup = [&](int64_t start, int64_t size, int64_t fromGroup) {  // 0-based start rank
          const double averageRank = static_cast<double>(start) + (static_cast<double>(size) + 1.0) / 2.0;
          rankSum += averageRank * static_cast<double>(fromGroup);
          const double t = static_cast<double>(size);
          tieTerm += t * t * t - t;
        };
        int64_t rank = 0;
        auto walk = [&](auto begin, auto end) {
          for (auto it = begin; it != end;) {
            auto stop = it;
            int64_t fromGroup = 0;
            while (stop != end && stop->first == it->first) {
              fromGroup += stop->second;
              ++stop;
            }
            const int64_t size = stop - it;
            addTieGroup(rank, size, fromGroup);
            rank += size;
            it = stop;
          }
        };
        walk(entries.begin(), entries.begin() + negatives);
        if (zerosTotal > 0) {
          addTieGroup(rank, zerosTotal, zerosGroup);
          rank += zerosTotal;
        }
        walk(entries.begin() + negatives, entries.end());
        const double nn = static_cast<double>(nTotal);
        const double tieCorrection = options.tieCorrect ? 1.0 - tieTerm / (nn * nn * nn - nn) : 1.0;
        const double sd = std::sqrt(tieCorrection * static_cast<double>(n1) * static_cast<double>(n2) * (nn + 1) / 12.0);
        const double z = sd > 0 ? (rankSum - static_cast<double>(n1) * (nn + 1) / 2.0) / sd : 0.0;
        result.score = std::isfinite(z) ? z : 0.0;
        result.pval = normalTwoSidedP(result.score);
      } else {
        // Welch's t-test from the two groups' moments (scipy's ttest_ind_from_stats, equal_var=False).
        const double vg = sg.variance / static_cast<double>(n1), vr = sr.variance / static_cast<double>(n2);
        const double t = (sg.mean - sr.mean) / std::sqrt(vg + vr);
        const double df = (vg + vr) * (vg + vr) / (vg * vg / static_cast<double>(n1 - 1) + vr * vr / static_cast<double>(n2 - 1));
        const double p = studentTwoSidedP(t, df);
        result.score = std::isfinite(t) ? t : 0.0;
        result.pval = std::isfinite(p) ? p : 1.0;
      }
    }
  });
  adjustBenjaminiHochberg(out.genes);
  std::stable_sort(out.genes.begin(), out.genes.end(), [](const DeGene& a, const DeGene& b) { return a.score > b.score; });
  return out;
}

std::vector<DeComparison> rankGenesGroups(const Dataset& dataset, const std::string& groupby,
                                          const std::optional<std::string>& group, const std::string& reference,
                                          const DeOptions& options, Feedback* feedback) {
  const Grouping grouping = groupingOf(dataset, groupby);
  const std::vector<std::string>& names = grouping.names;
  const std::vector<int32_t>& codes = grouping.codes;
  auto indexOf = [&](const std::string& name) {
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) throw Error("obs['" + groupby + "'] has no group '" + name + "'");
    return static_cast<int32_t>(it - names.begin());
  };
  std::vector<int32_t> tested;
  if (group)
    tested.push_back(indexOf(*group));
  else
    for (size_t c = 0; c < names.size(); ++c) tested.push_back(static_cast<int32_t>(c));
  const bool vsRest = reference == "rest";
  const int32_t referenceCode = vsRest ? -1 : indexOf(reference);
  std::vector<DeComparison> out;
  for (int32_t c : tested) {
    if (c == referenceCode) continue;
    std::vector<int64_t> inGroup, inReference;
    for (int64_t i = 0; i < dataset.nObs(); ++i) {
      if (codes[i] < 0) continue;
      if (codes[i] == c)
        inGroup.push_back(i);
      else if (vsRest || codes[i] == referenceCode)
        inReference.push_back(i);
    }
    if (inGroup.empty()) continue;  // an unused category: scanpy skips it too
    if (inGroup.size() < 2 && options.method == DeMethod::TTest)
      throw Error("group '" + names[c] + "' has a single cell; the t-test needs at least 2");
    DeComparison comparison = rankGenes(dataset.X, inGroup, inReference, options, feedback);
    comparison.group = names[c];
    comparison.reference = reference;
    out.push_back(std::move(comparison));
  }
  if (out.empty()) throw Error("no group of obs['" + groupby + "'] has cells to compare");
  return out;
}

std::string deToCsv(const std::vector<DeComparison>& comparisons, const std::vector<std::string>& geneNames) {
  auto quote = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  std::ostringstream csv;
  csv.precision(17);
  csv << "group,gene,score,logfoldchange,pval,pval_adj\n";
  for (const auto& c : comparisons)
    for (const auto& g : c.genes)
      csv << quote(c.group) << ',' << quote(geneNames.at(g.gene)) << ',' << g.score << ',' << g.logFoldChange << ','
          << g.pval << ',' << g.pvalAdj << '\n';
  return csv.str();
}

}  // namespace cw::analysis
