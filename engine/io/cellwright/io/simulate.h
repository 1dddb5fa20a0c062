#pragma once
// Synthetic single-cell counts (in the spirit of Splatter): gamma-distributed gene means,
// per-type expression programs (up/down-regulated genes), cells part-way between two types,
// log-normal library sizes, per-batch gene factors, negative-binomial (gamma-Poisson) noise.
// Cells are generated in chunks and streamed to disk: no dense matrix, memory ~ one chunk
// plus 8 bytes per cell. Deterministic for a seed, whatever the thread count.
#include <filesystem>
#include <string>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"

namespace cw::io {

struct SimulateOptions {
  int64_t cells = 10000;
  int64_t genes = 2000;
  int types = 5;
  int batches = 2;
  uint64_t seed = 0;
  // Median library size per gene in the panel (median UMIs per cell = this x genes), so the
  // fraction of zeros stays realistic (about 90%) at any panel size.
  double libraryPerGene = 0.1;
  double librarySigma = 0.5;      // sd of log library size (log-normal)
  double geneMeanShape = 0.6;     // gamma shape of the gene-mean distribution
  double dispersion = 0.3;        // negative-binomial dispersion phi: var = mu + phi mu^2
  double deFraction = 0.15;       // fraction of genes in each type's program
  double deLogFoldMean = 1.3;     // |log fold change| of program genes ~ lognormal-ish
  double deLogFoldSd = 0.4;
  double mixingBeta = 4.0;        // a cell is (1-a) its type + a another type, a ~ Beta(1, mixingBeta)
  double batchLogSd = 0.25;       // sd of per-batch per-gene log factors
  int64_t cellsPerChunk = 4096;
  int threads = 0;                // 0: all hardware threads
  bool compress = false;          // gzip X in the output file
};

struct SimulateResult {
  int64_t cells = 0;
  int64_t genes = 0;
  int64_t nnz = 0;
  double zeroFraction = 0.0;
};

// Streams the simulated dataset into an h5ad (atomically): X counts (float32 CSR),
// obs['cell_type'], obs['batch'] (categoricals), var names, uns['simulation'] (the options).
SimulateResult simulateToH5ad(const SimulateOptions& options, const std::filesystem::path& output,
                              Feedback* feedback = nullptr);

// The same cells in memory (tests, small demos).
Dataset simulateDataset(const SimulateOptions& options, Feedback* feedback = nullptr);

}  // namespace cw::io
