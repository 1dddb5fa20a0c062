// normalize_total + log1p + seurat HVG (2,000 genes) on a simulated dataset, timed in
// C++; writes the counts as h5ad so preprocess_numpy.py can time the same steps with
// numpy/scipy/pandas (scanpy's code path) in the same run (see run_preprocess_bench.sh).
// Usage: bench_preprocess_pipeline CELLS GENES OUT.h5ad
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>

#include "cellwright/io/readers.h"
#include "cellwright/preprocess/hvg.h"
#include "cellwright/preprocess/normalize.h"
#include "simulate_counts.h"

using namespace cw;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s CELLS GENES OUT.h5ad\n", argv[0]);
    return 2;
  }
  const int64_t cells = std::atoll(argv[1]), genes = std::atoll(argv[2]);
  Dataset d;
  d.X = bench::simulateCounts(cells, genes, 600, 11);
  for (int64_t c = 0; c < cells; ++c) d.obs.index.push_back("c" + std::to_string(c));
  for (int64_t g = 0; g < genes; ++g) d.var.index.push_back("g" + std::to_string(g));
  io::writeH5ad(d, argv[3]);

  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpuStart = std::clock();
  CsrMatrix x = d.X;  // the counts stay, as preprocess keeps them in layers['counts']
  preprocess::normalizeTotal(x, {1e4});
  preprocess::log1p(x);
  preprocess::HvgOptions o;
  o.nTopGenes = 2000;
  const auto hvg = preprocess::highlyVariableGenes(x, o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = static_cast<double>(std::clock() - cpuStart) / CLOCKS_PER_SEC;
  std::printf("cellwright: %lld cells x %lld genes, nnz %lld: normalise+log1p+seurat HVG %.3f s wall, %.3f s CPU (%lld HVGs)\n",
              static_cast<long long>(cells), static_cast<long long>(genes), static_cast<long long>(d.X.nnz()), seconds,
              cpu, static_cast<long long>(hvg.nHighlyVariable));
  return 0;
}
