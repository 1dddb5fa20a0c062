#pragma once
// Quality-control metrics and cell/gene filters on CSR counts, as scanpy's
// calculate_qc_metrics / filter_cells / filter_genes. Nothing is densified.
#include <cstdint>
#include <string>
#include <vector>

#include "cellwright/io/dataset.h"

namespace cw::preprocess {

struct QcOptions {
  // Genes whose name starts with one of these are mitochondrial (human "MT-", mouse "mt-").
  std::vector<std::string> mitoPrefixes = {"MT-", "mt-"};
};

struct QcMetrics {
  // Per cell.
  std::vector<int64_t> nGenesByCounts;  // genes with a non-zero count
  std::vector<double> totalCounts;
  std::vector<double> pctCountsMito;    // 0..100; 0 for an empty cell
  // Per gene.
  std::vector<int64_t> nCellsByCounts;  // cells with a non-zero count
  std::vector<double> geneTotalCounts;
  std::vector<bool> isMito;
  int64_t nMitoGenes = 0;
};

// `geneNames` has one entry per column (used for the mitochondrial prefixes).
QcMetrics computeQcMetrics(const CsrMatrix& counts, const std::vector<std::string>& geneNames,
                           const QcOptions& options = {});

struct FilterOptions {
  int64_t minGenes = 0;        // cells with fewer expressed genes are removed (0 = off)
  int64_t minCells = 0;        // genes expressed in fewer kept cells are removed (0 = off)
  double maxPctMito = -1.0;    // cells above this percent mitochondrial are removed (< 0 = off)
  QcOptions qc;
};

struct FilterResult {
  std::vector<int64_t> keptCells;  // ascending row indices
  std::vector<int64_t> keptGenes;  // ascending column indices
  int64_t removedByMinGenes = 0;
  int64_t removedByMito = 0;       // among cells that passed minGenes
  int64_t removedGenes = 0;
  int64_t nMitoGenes = 0;        // 0 with a mito filter set: worth a warning (wrong species prefix?)
};

// Cells are filtered first (min genes, max % mito); genes are then counted over the kept
// cells only, as running scanpy's filter_cells before filter_genes does.
FilterResult filterCellsAndGenes(const CsrMatrix& counts, const std::vector<std::string>& geneNames,
                                 const FilterOptions& options);

}  // namespace cw::preprocess
