#include "cellwright/preprocess/gene_embeddings.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>

#include "cellwright/core/errors.h"

namespace cw::preprocess {
namespace {

// Random vectors for genes without one, with the spread of the real ones.
void fillUnmatched(GeneEmbeddings& e, uint64_t seed) {
  double sumSq = 0;
  int64_t n = 0;
  for (int64_t g = 0; g < e.nGenes; ++g)
    if (e.matched[g])
      for (int64_t k = 0; k < e.dim; ++k, ++n) sumSq += static_cast<double>(e.row(g)[k]) * e.row(g)[k];
  const double sd = n > 0 ? std::sqrt(sumSq / static_cast<double>(n)) : 1.0 / std::sqrt(static_cast<double>(e.dim));
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, sd > 0 ? sd : 1.0);
  for (int64_t g = 0; g < e.nGenes; ++g)
    if (!e.matched[g])
      for (int64_t k = 0; k < e.dim; ++k) e.values[g * e.dim + k] = static_cast<float>(normal(rng));
}

}  // namespace

double GeneEmbeddings::cosine(int64_t a, int64_t b) const {
  double dot = 0, na = 0, nb = 0;
  for (int64_t k = 0; k < dim; ++k) {
    dot += static_cast<double>(row(a)[k]) * row(b)[k];
    na += static_cast<double>(row(a)[k]) * row(a)[k];
    nb += static_cast<double>(row(b)[k]) * row(b)[k];
  }
  return na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : 0.0;
}

GeneEmbeddings loadGene2vec(const std::filesystem::path& path, const GeneVocabulary& vocabulary,
                            const Gene2vecOptions& options) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read the gene embedding file " + path.string());
  GeneEmbeddings e;
  e.nGenes = vocabulary.size();
  e.dim = options.expectedDim;
  e.matched.assign(e.nGenes, false);
  std::string line, symbol;
  int64_t lineNo = 0;
  std::vector<float> v;
  while (std::getline(in, line)) {
    ++lineNo;
    std::istringstream fields(line);
    if (!(fields >> symbol)) continue;
    v.clear();
    float x = 0;
    while (fields >> x) v.push_back(x);
    if (!fields.eof())
      throw Error(path.string() + " line " + std::to_string(lineNo) + ": expected a gene symbol followed by numbers");
    if (e.dim == 0) e.dim = static_cast<int64_t>(v.size());
    if (static_cast<int64_t>(v.size()) != e.dim)
      throw Error(path.string() + " line " + std::to_string(lineNo) + ": " + std::to_string(v.size()) +
                  " values where the embedding has " + std::to_string(e.dim));
    if (e.values.empty()) e.values.assign(static_cast<size_t>(e.nGenes * e.dim), 0.0f);
    const int64_t g = vocabulary.find(symbol);
    if (g < 0 || e.matched[g]) {
      ++e.unusedLines;
      continue;
    }
    std::copy(v.begin(), v.end(), e.values.begin() + g * e.dim);
    e.matched[g] = true;
    ++e.nMatched;
  }
  if (e.dim <= 0) throw Error("the gene embedding file " + path.string() + " holds no vectors");
  fillUnmatched(e, options.seed);
  return e;
}

std::vector<float> coDetectionPpmi(const CsrMatrix& counts, const std::vector<int64_t>& genes) {
  const auto n = static_cast<int64_t>(genes.size());
  std::vector<int32_t> slot(counts.cols, -1);
  for (int64_t i = 0; i < n; ++i) slot[genes[i]] = static_cast<int32_t>(i);
  std::vector<float> c(static_cast<size_t>(n * n), 0.0f);
  std::vector<int32_t> present;
  for (int64_t r = 0; r < counts.rows; ++r) {
    present.clear();
    for (int64_t k = counts.indptr[r]; k < counts.indptr[r + 1]; ++k)
      if (counts.data[k] != 0 && slot[counts.indices[k]] >= 0) present.push_back(slot[counts.indices[k]]);
    for (size_t a = 0; a < present.size(); ++a) {
      float* rowA = c.data() + static_cast<int64_t>(present[a]) * n;
      for (size_t b = 0; b < present.size(); ++b)
        if (a != b) rowA[present[b]] += 1.0f;
    }
  }
  std::vector<double> rowSum(n, 0.0);
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) rowSum[i] += c[i * n + j];
    total += rowSum[i];
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float& x = c[i * n + j];
      if (x <= 0 || rowSum[i] <= 0 || rowSum[j] <= 0) {
        x = 0;
        continue;
      }
      const double pmi = std::log(static_cast<double>(x) * total / (rowSum[i] * rowSum[j]));
      x = pmi > 0 ? static_cast<float>(pmi) : 0.0f;
    }
  return c;
}

GeneEmbeddings learnCoexpressionEmbeddings(const CsrMatrix& counts, const CoexpressionOptions& o, Feedback* feedback) {
  if (o.dim <= 0) throw Error("the embedding dimension must be positive");
  // Genes by the number of cells detecting them.
  std::vector<int64_t> detected(counts.cols, 0);
  for (int64_t k = 0; k < counts.nnz(); ++k)
    if (counts.data[k] != 0) ++detected[counts.indices[k]];
  std::vector<int64_t> genes;
  for (int64_t g = 0; g < counts.cols; ++g)
    if (detected[g] >= std::max<int64_t>(1, o.minCells)) genes.push_back(g);
  std::stable_sort(genes.begin(), genes.end(), [&](int64_t a, int64_t b) { return detected[a] > detected[b]; });
  if (static_cast<int64_t>(genes.size()) > o.maxGenes) genes.resize(o.maxGenes);
  std::sort(genes.begin(), genes.end());
  const auto n = static_cast<int64_t>(genes.size());
  if (n <= o.dim) throw Error("too few detected genes (" + std::to_string(n) + ") for " + std::to_string(o.dim) +
                              "-dimensional embeddings");
  if (feedback) feedback->setProgress(0.05, "gene co-detection");
  const std::vector<float> ppmi = coDetectionPpmi(counts, genes);
  pollCancel(feedback);
  if (feedback) feedback->setProgress(0.5, "truncated SVD");

  // Randomised SVD of the symmetric PPMI matrix M: range of M·Ω refined by power iterations.
  const Eigen::Map<const Eigen::MatrixXf> m(ppmi.data(), n, n);  // symmetric: row/column order irrelevant
  const int64_t k = std::min<int64_t>(n, o.dim + o.oversample);
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Eigen::MatrixXf omega(n, k);
  for (int64_t j = 0; j < k; ++j)
    for (int64_t i = 0; i < n; ++i) omega(i, j) = normal(rng);
  Eigen::MatrixXf q = Eigen::HouseholderQR<Eigen::MatrixXf>(m * omega).householderQ() * Eigen::MatrixXf::Identity(n, k);
  for (int it = 0; it < o.powerIterations; ++it) {
    pollCancel(feedback);
    q = Eigen::HouseholderQR<Eigen::MatrixXf>(m * q).householderQ() * Eigen::MatrixXf::Identity(n, k);
  }
  const Eigen::MatrixXf small = q.transpose() * m * q;  // k × k
  Eigen::JacobiSVD<Eigen::MatrixXf> svd(small, Eigen::ComputeThinU);
  const Eigen::MatrixXf u = q * svd.matrixU().leftCols(o.dim);
  const Eigen::VectorXf s = svd.singularValues().head(o.dim);

  GeneEmbeddings e;
  e.nGenes = counts.cols;
  e.dim = o.dim;
  e.values.assign(static_cast<size_t>(e.nGenes * e.dim), 0.0f);
  e.matched.assign(e.nGenes, false);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t g = genes[i];
    for (int64_t d = 0; d < o.dim; ++d) e.values[g * o.dim + d] = u(i, d) * std::sqrt(s(d));
    e.matched[g] = true;
  }
  e.nMatched = n;
  fillUnmatched(e, o.seed + 1);
  if (feedback) feedback->setProgress(1.0);
  return e;
}

}  // namespace cw::preprocess
