#pragma once
// Gene vocabularies: the ordered gene list a model was trained on (a run folder's
// genes.txt), and the alignment of any dataset's genes onto it.
//
// Matching a dataset gene to a vocabulary entry tries, in order: the exact name; the
// Ensembl ID without its version suffix (ENSG00000141510.16 -> ENSG00000141510); the
// symbol case-insensitively. Each dataset gene offers several names: the var index, and
// var['gene_ids'] / var['feature_name'] / var['gene_symbols'] when present, so CELLxGENE
// files (Ensembl index) and 10x files (symbol index) meet the same vocabulary.
#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "cellwright/io/dataset.h"

namespace cw::preprocess {

// "ENSG00000141510.16" -> "ENSG00000141510"; other names unchanged.
std::string stripEnsemblVersion(const std::string& name);
bool looksLikeEnsemblId(const std::string& name);

class GeneVocabulary {
 public:
  GeneVocabulary() = default;
  // Throws cw::Error on an empty or duplicated name.
  explicit GeneVocabulary(std::vector<std::string> genes);

  int64_t size() const { return static_cast<int64_t>(genes_.size()); }
  const std::vector<std::string>& genes() const { return genes_; }
  const std::string& gene(int64_t index) const { return genes_[index]; }
  // Index of `name` by the matching rules above, or -1.
  int64_t find(const std::string& name) const;

  // One gene per line, in order. Writes atomically.
  void save(const std::filesystem::path& path) const;
  static GeneVocabulary load(const std::filesystem::path& path);

 private:
  std::vector<std::string> genes_;
  std::unordered_map<std::string, int64_t> exact_, ensembl_, lowerSymbol_;
};

// The names a dataset offers for each gene (see the matching rules above).
std::vector<std::vector<std::string>> geneNameCandidates(const Dataset& dataset);

struct VocabularyBuildOptions {
  // Keep genes expressed in at least this many cells over all datasets (0 = every gene).
  int64_t minCells = 0;
  // Name genes by var['gene_ids'] (Ensembl) when every dataset has it, else by the var index.
  bool preferGeneIds = false;
};

// Union of the datasets' genes in first-seen order; a gene seen again under another of its
// names (ID vs symbol, other case) is not added twice.
GeneVocabulary buildVocabulary(const std::vector<const Dataset*>& datasets, const VocabularyBuildOptions& options = {});

struct AlignmentResult {
  std::vector<int64_t> datasetToVocabulary;  // per dataset gene: vocabulary index or -1
  std::vector<int64_t> vocabularyToDataset;  // per vocabulary gene: dataset column or -1 (missing -> zeros)
  int64_t matched = 0;         // vocabulary genes found in the dataset
  int64_t missing = 0;         // vocabulary genes absent from the dataset (their values are zero)
  int64_t unknown = 0;         // dataset genes not in the vocabulary (dropped, and reported)
  int64_t duplicates = 0;      // dataset genes mapping to a vocabulary gene already taken
  std::vector<std::string> unknownExamples;  // up to 10 names, for messages
  std::string summary() const;  // one line for logs: "13,714 of 20,000 genes matched ..."
};

AlignmentResult alignToVocabulary(const Dataset& dataset, const GeneVocabulary& vocabulary);
// The matrix's columns reordered to the vocabulary (cells × vocabulary size); genes the
// dataset lacks are all-zero columns.
CsrMatrix alignMatrix(const CsrMatrix& matrix, const AlignmentResult& alignment);

}  // namespace cw::preprocess
