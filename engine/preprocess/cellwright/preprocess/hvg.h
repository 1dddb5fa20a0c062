#pragma once
// Highly variable genes with scanpy's three flavours (pp.highly_variable_genes), computed
// on CSR without densifying:
//  - Seurat:     on log1p data. expm1 back, per-gene mean/variance, dispersion = var/mean;
//                log(dispersion), log1p(mean); 20 equal-width mean bins; dispersions z-scored
//                within their bin (a bin holding one gene gives that gene 1).
//  - CellRanger: on the given (log) data, no expm1; mean bins at the 10,15..100th
//                percentiles of the means; dispersions normalised by the bin's median and
//                MAD (scaled to a normal's standard deviation, as statsmodels' robust.mad).
//  - SeuratV3:   on raw counts. loess (span 0.3, degree 2) of log10 variance on log10 mean;
//                counts clipped at mean + sqrt(n_cells)·fitted sd; variance of the
//                standardised clipped counts. nTopGenes is required.
// With batches: Seurat/CellRanger run per batch on the genes expressed in it, then genes are
// ranked by the number of batches selecting them, ties broken by mean normalised dispersion;
// SeuratV3 ranks genes per batch and orders them by median rank (over the batches where
// they are in the top n), ties by the number of such batches.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"

namespace cw::preprocess {

enum class HvgFlavor { Seurat, CellRanger, SeuratV3 };
HvgFlavor parseHvgFlavor(const std::string& name);  // "seurat", "cell_ranger", "seurat_v3"
const char* hvgFlavorName(HvgFlavor flavor);

struct HvgOptions {
  HvgFlavor flavor = HvgFlavor::Seurat;
  // Number of genes to flag; 0 = use the mean/dispersion cut-offs below (Seurat, CellRanger).
  int64_t nTopGenes = 0;
  // scanpy's defaults for the cut-off mode (means on the flavour's scale).
  double minMean = 0.0125;
  double maxMean = 3.0;
  double minDisp = 0.5;
  double maxDisp = std::numeric_limits<double>::infinity();
  int nBins = 20;      // Seurat: number of equal-width mean bins
  double span = 0.3;   // SeuratV3: loess span
  // Seurat on data logged with another base (log2(1+x)): that base. 0 or e = natural log.
  double logBase = 0.0;
  // Per-cell batch code (0..nBatches-1); empty = one batch. Negative codes are an error.
  std::vector<int32_t> batches;
};

struct HvgResult {
  std::vector<bool> highlyVariable;
  std::vector<double> means;            // Seurat: log1p of the mean of expm1(X); others: the mean
  std::vector<double> dispersions;      // Seurat: log(var/mean); CellRanger: var/mean
  std::vector<double> dispersionsNorm;  // Seurat, CellRanger (NaN where undefined)
  std::vector<double> variances;        // SeuratV3
  std::vector<double> variancesNorm;    // SeuratV3 (mean over batches)
  std::vector<double> highlyVariableRank;        // SeuratV3: median rank (NaN when never top)
  std::vector<int64_t> highlyVariableNbatches;   // with batches (always for SeuratV3)
  std::vector<bool> highlyVariableIntersection;  // with batches: selected in every batch
  int64_t nHighlyVariable = 0;
  int32_t nBatches = 1;
};

// `matrix` is log-normalised data (Seurat, CellRanger) or raw counts (SeuratV3).
HvgResult highlyVariableGenes(const CsrMatrix& matrix, const HvgOptions& options = {},
                              Feedback* feedback = nullptr);

}  // namespace cw::preprocess
