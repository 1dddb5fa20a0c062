// Loader throughput: cells/s of CellPatch, BioFormer and scReformer batches from an
// in-memory simulated dataset, with the loader's background workers (targets on 2 cores:
// 20,000 / 20,000 / 2,000 cells/s). Usage: bench_preprocess_loader [cells] [workers]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

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
double cellsPerSecond(const char* name, const CellSource& source, BatchTokenizer tokenizer, int64_t batchSize,
                      int workers, int64_t maxCells) {
  LoaderOptions o;
  o.batchSize = batchSize;
  o.workers = workers;
  o.seed = 1;
  BatchLoader loader(allCells({&source}), std::move(tokenizer), o);
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

}  // namespace

int main(int argc, char** argv) {
  const int64_t nCells = argc > 1 ? std::atoll(argv[1]) : 100000;
  const int workers = argc > 2 ? std::atoi(argv[2]) : 2;
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
  std::printf("CellPatch  (batch 256, masked): %10.0f cells/s  (target 20000) %s\n", cellPatch, cellPatch >= 20000 ? "ok" : "BELOW");
  std::printf("BioFormer  (batch 78, masked):  %10.0f cells/s  (target 20000) %s\n", bioFormer, bioFormer >= 20000 ? "ok" : "BELOW");
  std::printf("scReformer (batch 8, masked):   %10.0f cells/s  (target 2000)  %s\n", scReformer, scReformer >= 2000 ? "ok" : "BELOW");
  return 0;
}
