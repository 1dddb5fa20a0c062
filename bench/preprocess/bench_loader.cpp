// Loader throughput: cells/s of CellPatch, BioFormer and scReformer batches from a
// simulated dataset held in memory, then from the same cells written to an h5ad file and
// streamed back by the backed loader (chunks of 1,024 cells, windows of 8 chunks), with
// the loaders' background workers (targets on 2 cores: 20,000 / 20,000 / 2,000 cells/s).
// Usage: bench_preprocess_loader [cells] [workers] [folder for the h5ad file, default /tmp]
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "cellwright/io/readers.h"
#include "cellwright/tokenize/backed_loader.h"
#include "cellwright/tokenize/loader.h"
#include "simulate_counts.h"

using namespace cw;
using namespace cw::tokenize;

namespace {

double cpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Wall-clock cells/s; also prints cells per CPU-second, which a busy shared machine
// does not distort (x 2 = what two free cores would give).
template <typename Loader>
double drain(const char* name, Loader& loader, int64_t maxCells) {
  loader.startEpoch(0);
  const double cpuStart = cpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  int64_t cells = 0;
  while (cells < maxCells) {
    auto batch = loader.next();
    if (!batch) break;
    cells += batch->size();
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = cpuSeconds() - cpuStart;
  std::printf("%-10s %lld cells: %.2f s wall, %.2f s CPU -> %.0f cells per CPU-second\n", name,
              static_cast<long long>(cells), s, cpu, static_cast<double>(cells) / cpu);
  return static_cast<double>(cells) / s;
}

double cellsPerSecond(const char* name, const CellSource& source, BatchTokenizer tokenizer, int64_t batchSize,
                      int workers, int64_t maxCells) {
  LoaderOptions o;
  o.batchSize = batchSize;
  o.workers = workers;
  o.seed = 1;
  BatchLoader loader(allCells({&source}), std::move(tokenizer), o);
  return drain(name, loader, maxCells);
}

double backedCellsPerSecond(const char* name, const BackedCorpus& corpus, BatchTokenizer tokenizer, int64_t batchSize,
                            int workers, int64_t maxCells) {
  BackedLoaderOptions o;
  o.batchSize = batchSize;
  o.workers = workers;
  o.seed = 1;
  BackedBatchLoader loader(corpus, std::move(tokenizer), o);
  const double rate = drain(name, loader, maxCells);
  const BufferStats s = loader.bufferStats();
  std::printf("%-10s backed buffers: peak %lld cells, %.1f MB in %lld windows\n", name,
              static_cast<long long>(s.peakCells), static_cast<double>(s.peakBytes) / 1e6,
              static_cast<long long>(s.peakWindows));
  return rate;
}

void report(const char* what, double cellPatch, double bioFormer, double scReformer) {
  std::printf("%s\n", what);
  std::printf("  CellPatch  (batch 256, masked): %10.0f cells/s  (target 20000) %s\n", cellPatch, cellPatch >= 20000 ? "ok" : "BELOW");
  std::printf("  BioFormer  (batch 78, masked):  %10.0f cells/s  (target 20000) %s\n", bioFormer, bioFormer >= 20000 ? "ok" : "BELOW");
  std::printf("  scReformer (batch 8, masked):   %10.0f cells/s  (target 2000)  %s\n", scReformer, scReformer >= 2000 ? "ok" : "BELOW");
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t nCells = argc > 1 ? std::atoll(argv[1]) : 100000;
  const int workers = argc > 2 ? std::atoi(argv[2]) : 2;
  const std::filesystem::path folder = argc > 3 ? argv[3] : "/tmp";
  torch::set_num_threads(1);
  const int64_t nGenes = 16906;  // scBERT's vocabulary size
  std::printf("simulating %lld cells x %lld genes ...\n", static_cast<long long>(nCells), static_cast<long long>(nGenes));
  const CsrMatrix counts = bench::simulateCounts(nCells, nGenes, 600, 7);
  std::printf("nnz %lld (%.0f genes per cell)\n", static_cast<long long>(counts.nnz()),
              static_cast<double>(counts.nnz()) / static_cast<double>(nCells));
  std::vector<int64_t> hvgColumns;
  for (int64_t g = 0; g < 1000; ++g) hvgColumns.push_back(g * 16);
  const CsrMatrix hvg = counts.selectColumns(hvgColumns);
  CellSource all, sub;
  all.matrix = &counts;
  sub.matrix = &hvg;

  CellPatchOptions cp;
  cp.nGenes = nGenes;
  cp.masking = true;
  const double cellPatch = cellsPerSecond(
      "CellPatch", all, [cp](const std::vector<CellRef>& c, uint64_t e) { return tokenizeCellPatch(c, cp, e); }, 256, workers, nCells);
  BioFormerOptions bf;
  bf.nGenes = 1000;
  bf.masking.enabled = true;
  const double bioFormer = cellsPerSecond(
      "BioFormer", sub, [bf](const std::vector<CellRef>& c, uint64_t e) { return tokenizeBioFormer(c, bf, e); }, 78, workers, nCells);
  ScReformerOptions sr;
  sr.nGenes = nGenes;
  sr.masking.enabled = true;
  const double scReformer = cellsPerSecond(
      "scReformer", all, [sr](const std::vector<CellRef>& c, uint64_t e) { return tokenizeScReformer(c, sr, e); }, 8, workers,
      std::min<int64_t>(nCells, 20000));
  std::printf("workers %d\n", workers);
  report("in memory:", cellPatch, bioFormer, scReformer);

  // The same cells from disk. Gene names g0..gN; BioFormer's model has the 1,000 HVG columns.
  Dataset d;
  d.X = counts;
  for (int64_t g = 0; g < nGenes; ++g) d.var.index.push_back("g" + std::to_string(g));
  for (int64_t c = 0; c < nCells; ++c) d.obs.index.push_back("c" + std::to_string(c));
  const auto path = folder / ("cw_bench_loader_" + std::to_string(::getpid()) + ".h5ad");
  io::writeH5ad(d, path);
  const std::vector<std::string> geneNames = d.var.index;
  d = Dataset();
  std::printf("wrote %s (%.0f MB)\n", path.string().c_str(), static_cast<double>(std::filesystem::file_size(path)) / 1e6);
  std::vector<std::string> hvgNames;
  for (int64_t g : hvgColumns) hvgNames.push_back("g" + std::to_string(g));
  {
    const BackedCorpus full({path}, preprocess::GeneVocabulary(geneNames));
    const BackedCorpus hvgOnly({path}, preprocess::GeneVocabulary(hvgNames));
    const double cp2 = backedCellsPerSecond(
        "CellPatch", full, [cp](const std::vector<CellRef>& c, uint64_t e) { return tokenizeCellPatch(c, cp, e); }, 256, workers, nCells);
    const double bf2 = backedCellsPerSecond(
        "BioFormer", hvgOnly, [bf](const std::vector<CellRef>& c, uint64_t e) { return tokenizeBioFormer(c, bf, e); }, 78, workers, nCells);
    const double sr2 = backedCellsPerSecond(
        "scReformer", full, [sr](const std::vector<CellRef>& c, uint64_t e) { return tokenizeScReformer(c, sr, e); }, 8, workers,
        std::min<int64_t>(nCells, 20000));
    report("backed (streamed from the h5ad file):", cp2, bf2, sr2);
  }
  std::filesystem::remove(path);
  return 0;
}
