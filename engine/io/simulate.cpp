#include "cellwright/io/simulate.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <random>
#include <thread>

#include "cellwright/core/errors.h"
#include "cellwright/io/h5ad_stream_writer.h"

namespace cw::io {
namespace {

// Below this expected count a gene's negative binomial is indistinguishable from a Poisson;
// those genes are drawn together (one Poisson total, spread by their means), which keeps the
// cost per cell near the number of expressed genes rather than the panel size.
constexpr double kPoissonBelow = 0.1;

uint64_t splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

struct Model {
  int64_t genes = 0;
  int types = 0, batches = 0;
  std::vector<std::vector<double>> profile;  // [type * batches + batch][gene], sums to 1
  std::vector<double> typeCdf;
  std::vector<double> batchLibraryFactor;
  double libraryMedian = 0;
  const std::vector<double>& of(int type, int batch) const { return profile[type * batches + batch]; }
};

Model buildModel(const SimulateOptions& o) {
  Model m;
  m.genes = o.genes;
  m.types = o.types;
  m.batches = o.batches;
  m.libraryMedian = o.libraryPerGene * double(o.genes);
  std::mt19937_64 rng(splitmix(o.seed));
  std::gamma_distribution<double> geneMean(o.geneMeanShape, 1.0);
  std::vector<double> base(o.genes);
  for (auto& v : base) v = geneMean(rng);
  std::normal_distribution<double> foldMag(o.deLogFoldMean, o.deLogFoldSd);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<std::vector<double>> typeLogFold(o.types, std::vector<double>(o.genes, 0.0));
  for (auto& fold : typeLogFold)
    for (auto& f : fold)
      if (unit(rng) < o.deFraction) f = (unit(rng) < 0.5 ? 1.0 : -1.0) * std::fabs(foldMag(rng));
  std::normal_distribution<double> batchShift(0.0, o.batchLogSd);
  std::vector<std::vector<double>> batchLogFactor(o.batches, std::vector<double>(o.genes, 0.0));
  for (auto& factor : batchLogFactor)
    for (auto& f : factor) f = batchShift(rng);
  std::normal_distribution<double> libShift(0.0, 0.15);
  for (int b = 0; b < o.batches; ++b) m.batchLibraryFactor.push_back(std::exp(libShift(rng)));
  // Unequal type sizes, as in real tissue.
  std::gamma_distribution<double> typeSize(4.0, 1.0);
  double total = 0;
  for (int t = 0; t < o.types; ++t) m.typeCdf.push_back(total += typeSize(rng));
  for (auto& c : m.typeCdf) c /= total;
  for (int t = 0; t < o.types; ++t)
    for (int b = 0; b < o.batches; ++b) {
      std::vector<double> p(o.genes);
      double sum = 0;
      for (int64_t g = 0; g < o.genes; ++g) sum += p[g] = base[g] * std::exp(typeLogFold[t][g] + batchLogFactor[b][g]);
      for (auto& v : p) v /= sum;
      m.profile.push_back(std::move(p));
    }
  return m;
}

struct CellDraw {
  std::vector<int32_t> genes;
  std::vector<float> counts;
  int8_t type = 0, batch = 0;
};

// Scratch buffers reused across the cells one thread draws.
struct Scratch {
  std::vector<double> lowCumulative;
  std::vector<int32_t> lowGenes;
  std::vector<std::pair<int32_t, float>> entries;
};

void drawCell(const Model& m, const SimulateOptions& o, int64_t cell, CellDraw& out, Scratch& s) {
  std::mt19937_64 rng(splitmix(o.seed ^ splitmix(static_cast<uint64_t>(cell) + 1)));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double u = unit(rng);
  const int type = static_cast<int>(std::lower_bound(m.typeCdf.begin(), m.typeCdf.end(), u) - m.typeCdf.begin());
  const int batch = static_cast<int>(unit(rng) * m.batches) % m.batches;
  int other = type;
  double mix = 0.0;
  if (m.types > 1) {
    other = (type + 1 + static_cast<int>(unit(rng) * (m.types - 1))) % m.types;
    mix = 1.0 - std::pow(unit(rng), 1.0 / o.mixingBeta);  // Beta(1, mixingBeta)
  }
  std::normal_distribution<double> logLib(0.0, o.librarySigma);
  const double library = m.libraryMedian * m.batchLibraryFactor[batch] * std::exp(logLib(rng));
  const auto& p1 = m.of(type, batch);
  const auto& p2 = m.of(other, batch);
  s.entries.clear();
  s.lowGenes.clear();
  s.lowCumulative.clear();
  double lowTotal = 0;
  const double shape = 1.0 / o.dispersion;
  for (int64_t g = 0; g < m.genes; ++g) {
    const double mu = library * ((1.0 - mix) * p1[g] + mix * p2[g]);
    if (mu < kPoissonBelow) {
      lowTotal += mu;
      s.lowGenes.push_back(static_cast<int32_t>(g));
      s.lowCumulative.push_back(lowTotal);
      continue;
    }
    std::gamma_distribution<double> rate(shape, mu / shape);
    std::poisson_distribution<int64_t> count(rate(rng));
    const int64_t k = count(rng);
    if (k > 0) s.entries.emplace_back(static_cast<int32_t>(g), static_cast<float>(k));
  }
  if (lowTotal > 0) {
    // One gamma factor shared by the pooled genes keeps each one's marginal negative binomial.
    std::gamma_distribution<double> poolRate(shape, 1.0 / shape);
    std::poisson_distribution<int64_t> lowCount(lowTotal * poolRate(rng));
    const int64_t n = lowCount(rng);
    for (int64_t i = 0; i < n; ++i) {
      const double x = unit(rng) * lowTotal;
      size_t j = std::upper_bound(s.lowCumulative.begin(), s.lowCumulative.end(), x) - s.lowCumulative.begin();
      j = std::min(j, s.lowGenes.size() - 1);
      s.entries.emplace_back(s.lowGenes[j], 1.0f);
    }
  }
  std::sort(s.entries.begin(), s.entries.end(), [](auto& a, auto& b) { return a.first < b.first; });
  out.genes.clear();
  out.counts.clear();
  for (const auto& [g, c] : s.entries) {
    if (!out.genes.empty() && out.genes.back() == g) {
      out.counts.back() += c;
    } else {
      out.genes.push_back(g);
      out.counts.push_back(c);
    }
  }
  out.type = static_cast<int8_t>(type);
  out.batch = static_cast<int8_t>(batch);
}

void validate(const SimulateOptions& o) {
  if (o.cells < 1) throw Error("--cells must be at least 1");
  if (o.genes < 1 || o.genes > INT32_MAX) throw Error("--genes must be between 1 and 2^31");
  if (o.types < 1 || o.types > 127) throw Error("--types must be between 1 and 127");
  if (o.batches < 1 || o.batches > 127) throw Error("--batches must be between 1 and 127");
  if (!(o.dispersion > 0) || !(o.libraryPerGene > 0) || !(o.librarySigma >= 0) || !(o.mixingBeta > 0))
    throw Error("simulation noise parameters must be positive");
}

using ChunkSink = std::function<void(const CsrMatrix& rows, const std::vector<int8_t>& types,
                                     const std::vector<int8_t>& batches)>;

void generate(const SimulateOptions& o, Feedback* feedback, const ChunkSink& sink) {
  validate(o);
  const Model model = buildModel(o);
  const int threads = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  const int64_t chunkSize = std::max<int64_t>(1, o.cellsPerChunk);
  std::vector<CellDraw> draws(static_cast<size_t>(std::min(chunkSize, o.cells)));
  for (int64_t start = 0; start < o.cells; start += chunkSize) {
    pollCancel(feedback);
    const int64_t count = std::min(chunkSize, o.cells - start);
    std::atomic<int64_t> next{0};
    auto work = [&] {
      Scratch scratch;
      for (int64_t i = next++; i < count; i = next++) drawCell(model, o, start + i, draws[i], scratch);
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads && t < count; ++t) pool.emplace_back(work);
    work();
    for (auto& th : pool) th.join();
    CsrMatrix rows;
    rows.rows = count;
    rows.cols = o.genes;
    std::vector<int8_t> types(count), batches(count);
    for (int64_t i = 0; i < count; ++i) {
      rows.indices.insert(rows.indices.end(), draws[i].genes.begin(), draws[i].genes.end());
      rows.data.insert(rows.data.end(), draws[i].counts.begin(), draws[i].counts.end());
      rows.indptr.push_back(rows.nnz());
      types[i] = draws[i].type;
      batches[i] = draws[i].batch;
    }
    sink(rows, types, batches);
    if (feedback) feedback->setProgress(double(start + count) / double(o.cells), "simulating cells");
  }
}

std::vector<std::string> names(const std::string& prefix, int64_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (int64_t i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

void setLabels(DataFrame& obs, const std::vector<int8_t>& types, const std::vector<int8_t>& batches, int nTypes,
               int nBatches) {
  obs.set("cell_type", Column::categorical(std::vector<int32_t>(types.begin(), types.end()), names("type_", nTypes)));
  obs.set("batch", Column::categorical(std::vector<int32_t>(batches.begin(), batches.end()), names("batch_", nBatches)));
}

UnsDict parametersOf(const SimulateOptions& o) {
  UnsDict p;
  p["cells"].value = o.cells;
  p["genes"].value = o.genes;
  p["types"].value = int64_t(o.types);
  p["batches"].value = int64_t(o.batches);
  p["seed"].value = static_cast<int64_t>(o.seed);
  p["library_per_gene"].value = o.libraryPerGene;
  p["library_sigma"].value = o.librarySigma;
  p["dispersion"].value = o.dispersion;
  p["de_fraction"].value = o.deFraction;
  p["de_log_fold_mean"].value = o.deLogFoldMean;
  p["mixing_beta"].value = o.mixingBeta;
  p["batch_log_sd"].value = o.batchLogSd;
  UnsDict uns;
  uns["simulation"].value = std::move(p);
  return uns;
}

}  // namespace

SimulateResult simulateToH5ad(const SimulateOptions& options, const std::filesystem::path& output, Feedback* feedback) {
  validate(options);
  StreamingH5adWriter writer(output, {options.genes, options.compress, 1 << 18});
  std::vector<int8_t> allTypes, allBatches;
  allTypes.reserve(options.cells);
  allBatches.reserve(options.cells);
  generate(options, feedback, [&](const CsrMatrix& rows, const std::vector<int8_t>& types, const std::vector<int8_t>& batches) {
    writer.appendRows(rows);
    allTypes.insert(allTypes.end(), types.begin(), types.end());
    allBatches.insert(allBatches.end(), batches.begin(), batches.end());
  });
  DataFrame obs;
  obs.index = names("cell_", options.cells);
  setLabels(obs, allTypes, allBatches, options.types, options.batches);
  DataFrame var;
  var.index = names("gene_", options.genes);
  SimulateResult result{options.cells, options.genes, writer.nnzWritten(), 0.0};
  result.zeroFraction = 1.0 - double(result.nnz) / (double(options.cells) * double(options.genes));
  writer.finish(obs, var, {}, parametersOf(options));
  return result;
}

Dataset simulateDataset(const SimulateOptions& options, Feedback* feedback) {
  Dataset d;
  d.X.rows = 0;
  d.X.cols = options.genes;
  std::vector<int8_t> allTypes, allBatches;
  generate(options, feedback, [&](const CsrMatrix& rows, const std::vector<int8_t>& types, const std::vector<int8_t>& batches) {
    const int64_t offset = d.X.nnz();
    d.X.indices.insert(d.X.indices.end(), rows.indices.begin(), rows.indices.end());
    d.X.data.insert(d.X.data.end(), rows.data.begin(), rows.data.end());
    for (int64_t r = 0; r < rows.rows; ++r) d.X.indptr.push_back(offset + rows.indptr[r + 1]);
    d.X.rows += rows.rows;
    allTypes.insert(allTypes.end(), types.begin(), types.end());
    allBatches.insert(allBatches.end(), batches.begin(), batches.end());
  });
  d.obs.index = names("cell_", options.cells);
  setLabels(d.obs, allTypes, allBatches, options.types, options.batches);
  d.var.index = names("gene_", options.genes);
  d.uns = parametersOf(options);
  d.countsSource = CountsSource::X;
  return d;
}

}  // namespace cw::io
