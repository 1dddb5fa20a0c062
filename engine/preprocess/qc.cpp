#include "cellwright/preprocess/qc.h"

#include "cellwright/core/errors.h"
#include "cellwright/core/strings.h"

namespace cw::preprocess {

QcMetrics computeQcMetrics(const CsrMatrix& counts, const std::vector<std::string>& geneNames,
                           const QcOptions& options) {
  if (static_cast<int64_t>(geneNames.size()) != counts.cols)
    throw Error("QC needs one gene name per column: got " + std::to_string(geneNames.size()) + " names for " +
                std::to_string(counts.cols) + " genes");
  QcMetrics m;
  m.isMito.assign(counts.cols, false);
  for (int64_t g = 0; g < counts.cols; ++g)
    for (const auto& prefix : options.mitoPrefixes)
      if (startsWith(geneNames[g], prefix)) {
        m.isMito[g] = true;
        ++m.nMitoGenes;
        break;
      }
  m.nGenesByCounts.assign(counts.rows, 0);
  m.totalCounts.assign(counts.rows, 0.0);
  m.pctCountsMito.assign(counts.rows, 0.0);
  m.nCellsByCounts.assign(counts.cols, 0);
  m.geneTotalCounts.assign(counts.cols, 0.0);
  for (int64_t r = 0; r < counts.rows; ++r) {
    double mito = 0.0;
    for (int64_t k = counts.indptr[r]; k < counts.indptr[r + 1]; ++k) {
      const double v = counts.data[k];
      if (v == 0.0) continue;  // explicit zeros stored in the CSR are not expressed genes
      const int32_t g = counts.indices[k];
      ++m.nGenesByCounts[r];
      m.totalCounts[r] += v;
      ++m.nCellsByCounts[g];
      m.geneTotalCounts[g] += v;
      if (m.isMito[g]) mito += v;
    }
    if (m.totalCounts[r] > 0) m.pctCountsMito[r] = 100.0 * mito / m.totalCounts[r];
  }
  return m;
}

FilterResult filterCellsAndGenes(const CsrMatrix& counts, const std::vector<std::string>& geneNames,
                                 const FilterOptions& options) {
  const QcMetrics m = computeQcMetrics(counts, geneNames, options.qc);
  FilterResult result;
  result.nMitoGenes = m.nMitoGenes;
  std::vector<int64_t> cellsWithGene(counts.cols, 0);
  for (int64_t r = 0; r < counts.rows; ++r) {
    if (m.nGenesByCounts[r] < options.minGenes) {
      ++result.removedByMinGenes;
      continue;
    }
    if (options.maxPctMito >= 0 && m.pctCountsMito[r] > options.maxPctMito) {
      ++result.removedByMito;
      continue;
    }
    result.keptCells.push_back(r);
    for (int64_t k = counts.indptr[r]; k < counts.indptr[r + 1]; ++k)
      if (counts.data[k] != 0) ++cellsWithGene[counts.indices[k]];
  }
  for (int64_t g = 0; g < counts.cols; ++g) {
    if (cellsWithGene[g] >= options.minCells)
      result.keptGenes.push_back(g);
    else
      ++result.removedGenes;
  }
  return result;
}

}  // namespace cw::preprocess
