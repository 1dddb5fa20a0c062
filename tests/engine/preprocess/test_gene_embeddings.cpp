// Gene embeddings: gene2vec text files, PPMI by hand, co-expression structure on PBMCs.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "cellwright/core/errors.h"
#include "cellwright/io/readers.h"
#include "cellwright/preprocess/gene_embeddings.h"

namespace cw::preprocess {
namespace {

TEST(GeneEmbeddings, Gene2vecMatchesVocabularyAndFillsTheRest) {
  const auto path = std::filesystem::temp_directory_path() / "cw_gene2vec_test.txt";
  {
    std::ofstream out(path);
    out << "CD3E 1 0 0\ncd4 0 2 0\nFOO 1 1 1\n";
  }
  const GeneVocabulary v({"CD3E", "CD4", "MS4A1"});
  const GeneEmbeddings e = loadGene2vec(path, v, {});
  EXPECT_EQ(e.dim, 3);
  EXPECT_EQ(e.nMatched, 2);
  EXPECT_EQ(e.unusedLines, 1);
  EXPECT_EQ(e.matched, (std::vector<bool>{true, true, false}));
  EXPECT_EQ(std::vector<float>(e.row(1), e.row(1) + 3), (std::vector<float>{0, 2, 0}));
  const float* random = e.row(2);
  EXPECT_TRUE(random[0] != 0 || random[1] != 0 || random[2] != 0);
  {
    std::ofstream out(path);
    out << "CD3E 1 0 0\nCD4 0 2\n";
  }
  EXPECT_THROW(loadGene2vec(path, v, {}), Error);
  std::filesystem::remove(path);
}

TEST(GeneEmbeddings, PpmiByHand) {
  // cells: {g0, g1}, {g0, g1}, {g1, g2}. C01 = 2, C12 = 1; row sums 2, 3, 1; total 6.
  CsrMatrix m;
  m.rows = 3;
  m.cols = 3;
  m.indptr = {0, 2, 4, 6};
  m.indices = {0, 1, 0, 1, 1, 2};
  m.data = {1, 5, 2, 1, 3, 1};
  const auto p = coDetectionPpmi(m, {0, 1, 2});
  EXPECT_NEAR(p[0 * 3 + 1], std::log(2.0), 1e-6);  // log(2 · 6 / (2 · 3))
  EXPECT_NEAR(p[1 * 3 + 2], std::log(2.0), 1e-6);  // log(1 · 6 / (3 · 1))
  EXPECT_EQ(p[0 * 3 + 2], 0.0f);
  EXPECT_EQ(p[1 * 3 + 1], 0.0f);
}

TEST(GeneEmbeddings, CoexpressionGroupsKnownPrograms) {
  const std::string file = std::string(CELLWRIGHT_SHARED_DATA_DIR) + "/pbmc3k_seurat_2638.h5ad";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "shared data not present";
  const Dataset d = io::readDataset(file).dataset;
  CoexpressionOptions o;
  o.maxGenes = 2000;
  o.seed = 3;
  const GeneEmbeddings e = learnCoexpressionEmbeddings(d.X, o);
  EXPECT_EQ(e.dim, 200);
  EXPECT_EQ(e.nMatched, 2000);
  const GeneVocabulary v(d.var.index);
  auto id = [&](const char* g) {
    const int64_t i = v.find(g);
    EXPECT_GE(i, 0) << g;
    EXPECT_TRUE(e.matched[i]) << g << " should be among the 2,000 most detected genes";
    return i;
  };
  // Similarity of each marker to 300 random learned genes: the partner must beat 95% of them.
  std::mt19937 rng(1);
  std::vector<int64_t> learned;
  for (int64_t g = 0; g < e.nGenes; ++g)
    if (e.matched[g]) learned.push_back(g);
  auto beatsRandom = [&](int64_t a, int64_t b) {
    std::vector<double> sims;
    for (int i = 0; i < 300; ++i) {
      const int64_t r = learned[rng() % learned.size()];
      if (r != a && r != b) sims.push_back(e.cosine(a, r));
    }
    std::sort(sims.begin(), sims.end());
    const double p95 = sims[static_cast<size_t>(0.95 * static_cast<double>(sims.size()))];
    return e.cosine(a, b) > p95;
  };
  const int64_t cd3d = id("CD3D"), cd3e = id("CD3E"), cd2 = id("CD2"), ms4a1 = id("MS4A1"), cd79a = id("CD79A");
  EXPECT_TRUE(beatsRandom(cd3d, cd3e));
  EXPECT_TRUE(beatsRandom(cd3e, cd2));
  EXPECT_TRUE(beatsRandom(ms4a1, cd79a));
  // And T-cell genes are nearer each other than to B-cell genes.
  EXPECT_GT(e.cosine(cd3d, cd3e), e.cosine(cd3d, ms4a1));
  EXPECT_GT(e.cosine(ms4a1, cd79a), e.cosine(cd79a, cd3e));
}

}  // namespace
}  // namespace cw::preprocess
