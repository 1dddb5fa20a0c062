#pragma once
// Differential expression as scanpy's tl.rank_genes_groups, on log-normalised X:
// Wilcoxon rank-sum (normal approximation, tie-corrected) or Welch's t-test, with
// Benjamini-Hochberg adjusted p-values and scanpy's log fold changes.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"

namespace cw::analysis {

enum class DeMethod { Wilcoxon, TTest };

struct DeOptions {
  DeMethod method = DeMethod::Wilcoxon;
  bool tieCorrect = true;  // Wilcoxon: shrink the variance for ties (scipy's mannwhitneyu)
  int threads = 0;
};

struct DeGene {
  int64_t gene = 0;          // column of X
  double score = 0;          // z (Wilcoxon) or t (t-test); 0 when undefined
  double logFoldChange = 0;  // log2((expm1(mean group) + 1e-9) / (expm1(mean reference) + 1e-9))
  double pval = 1, pvalAdj = 1;
};

struct DeComparison {
  std::string group;      // name of the group tested
  std::string reference;  // "rest" or the reference group's name
  std::vector<DeGene> genes;  // every gene, by score descending
};

// One comparison between two disjoint sets of cells (rows of `matrix`), e.g. a lasso selection.
DeComparison rankGenes(const CsrMatrix& matrix, const std::vector<int64_t>& groupCells,
                       const std::vector<int64_t>& referenceCells, const DeOptions& options = {},
                       Feedback* feedback = nullptr);

// Each group of obs[groupby] (or only `group`) against `reference`: "rest" or another group.
std::vector<DeComparison> rankGenesGroups(const Dataset& dataset, const std::string& groupby,
                                          const std::optional<std::string>& group, const std::string& reference,
                                          const DeOptions& options = {}, Feedback* feedback = nullptr);

// CSV with columns group, gene, score, logfoldchange, pval, pval_adj (the contract's).
std::string deToCsv(const std::vector<DeComparison>& comparisons, const std::vector<std::string>& geneNames);

// Two-sided p-values: normal (2·sf(|z|)) and Student t with `df` degrees of freedom.
double normalTwoSidedP(double z);
double studentTwoSidedP(double t, double df);

}  // namespace cw::analysis
