#pragma once
// Gene embeddings to initialise scReformer-BERT's gene tokens:
//  - from gene2vec's text format (one gene a line: "SYMBOL v1 ... vD"), matched to the
//    vocabulary by its rules (case-insensitive symbols, Ensembl IDs without version);
//  - learned from co-expression when no gene2vec file is at hand: positive pointwise mutual
//    information (PPMI) of genes being detected in the same cells, factorised by a
//    truncated SVD (randomised, Halko et al.); embedding = U · sqrt(S).
// Genes without a vector get random ones (normal, scaled like the matched vectors).
#include <cstdint>
#include <filesystem>
#include <vector>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"
#include "cellwright/preprocess/vocabulary.h"

namespace cw::preprocess {

struct GeneEmbeddings {
  int64_t nGenes = 0;
  int64_t dim = 0;
  std::vector<float> values;   // nGenes × dim, row-major, in vocabulary order
  std::vector<bool> matched;   // per gene: has a real (not random) vector
  int64_t nMatched = 0;
  int64_t unusedLines = 0;     // gene2vec: vectors of genes outside the vocabulary
  const float* row(int64_t gene) const { return values.data() + gene * dim; }
  double cosine(int64_t a, int64_t b) const;
};

struct Gene2vecOptions {
  int64_t expectedDim = 0;  // 0: take the first line's dimension (gene2vec: 200)
  uint64_t seed = 0;        // random vectors for unmatched genes
};
GeneEmbeddings loadGene2vec(const std::filesystem::path& path, const GeneVocabulary& vocabulary,
                            const Gene2vecOptions& options = {});

struct CoexpressionOptions {
  int64_t dim = 200;
  // Genes detected in the most cells take part (the PPMI matrix is maxGenes²); the rest
  // get random vectors.
  int64_t maxGenes = 4000;
  int64_t minCells = 3;       // genes detected in fewer cells are left out
  int powerIterations = 3;    // randomised SVD accuracy
  int64_t oversample = 10;
  uint64_t seed = 0;
};
// `counts`: cells × vocabulary genes (aligned). Only detection (non-zero) matters.
GeneEmbeddings learnCoexpressionEmbeddings(const CsrMatrix& counts, const CoexpressionOptions& options = {},
                                           Feedback* feedback = nullptr);

// PPMI of gene co-detection among `genes` (dense, genes.size()², row-major), exposed for tests:
// PMI(i, j) = log(C_ij · T / (C_i · C_j)), C_ij = cells detecting both (i != j, C_ii = 0),
// C_i = sum_j C_ij, T = sum_i C_i; negative and undefined values become 0.
std::vector<float> coDetectionPpmi(const CsrMatrix& counts, const std::vector<int64_t>& genes);

}  // namespace cw::preprocess
