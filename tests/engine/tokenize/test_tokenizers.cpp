// The three tokenizers and the dense collation on cells small enough to check by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "cellwright/core/errors.h"
#include "cellwright/tokenize/tokenizers.h"

namespace cw::tokenize {
namespace {

// 2 cells × 6 genes of raw counts; targetSum = 1000 makes the log values easy:
//   cell0: g1 = 1, g3 = 999           -> log1p(1) = 0.69, log1p(999) = 6.91
//   cell1: g0 = 50, g2 = 50, g5 = 900 -> log1p(50) = 3.93 (x2), log1p(900) = 6.80
struct Fixture {
  CsrMatrix m;
  CellSource source;
  Fixture() {
    m.rows = 2;
    m.cols = 6;
    m.indptr = {0, 2, 5};
    m.indices = {1, 3, 0, 2, 5};
    m.data = {1, 999, 50, 50, 900};
    source.matrix = &m;
    source.labels = {4, 2};
    source.studies = {0, 1};
    source.datasetIndex = 3;
  }
  std::vector<CellRef> cells() const { return {{&source, 0}, {&source, 1}}; }
};
const ValueOptions kValues{1000.0, preprocess::LogBase::Natural};

TEST(ScReformerTokenizer, FullVocabularyBinsAndPadding) {
  Fixture f;
  ScReformerOptions o;
  o.nGenes = 6;
  o.bucketSize = 2;  // pad to a multiple of 4 -> length 8
  o.values = kValues;
  const TokenBatch t = tokenizeScReformer(f.cells(), o);
  ASSERT_EQ(t.geneIds.sizes(), (std::vector<int64_t>{2, 8}));
  EXPECT_TRUE(t.geneIds[0].equal(torch::tensor({1, 2, 3, 4, 5, 6, 0, 0}, torch::kInt64)));
  // cell0: g1 log 0.69 -> 0, g3 log 6.91 -> clipped 5; padding bin 6.
  EXPECT_TRUE(t.bins[0].equal(torch::tensor({0, 0, 0, 5, 0, 0, 6, 6}, torch::kInt64)));
  // cell1: g0, g2 log 3.93 -> 3; g5 6.80 -> 5.
  EXPECT_TRUE(t.bins[1].equal(torch::tensor({3, 0, 3, 0, 0, 5, 6, 6}, torch::kInt64)));
  EXPECT_TRUE(t.paddingMask[1].equal(torch::tensor({0, 0, 0, 0, 0, 0, 1, 1}, torch::kBool)));
  EXPECT_NEAR(t.values[1][0].item<float>(), std::log(51.0), 1e-5);
  EXPECT_FALSE(t.maskedPositions.defined());
  EXPECT_TRUE(t.labels.equal(torch::tensor({4, 2}, torch::kInt64)));
  EXPECT_EQ(t.cellIndices, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(t.datasetIndices, (std::vector<int64_t>{3, 3}));
}

TEST(ScReformerTokenizer, MaskingIsSeededAndOnlyOnExpressedGenes) {
  Fixture f;
  ScReformerOptions o;
  o.nGenes = 6;
  o.bucketSize = 2;
  o.values = kValues;
  o.masking.enabled = true;
  o.masking.seed = 11;
  const TokenBatch t = tokenizeScReformer(f.cells(), o);
  const TokenBatch again = tokenizeScReformer(f.cells(), o);
  EXPECT_TRUE(t.bins.equal(again.bins));
  // One masked gene per cell (15% of 2 or 3 rounds to 0 -> at least one), replaced by MASK.
  for (int b = 0; b < 2; ++b) {
    EXPECT_EQ(t.maskedPositions[b].sum().item<int64_t>(), 1);
    const int64_t pos = t.maskedPositions[b].nonzero().item<int64_t>();
    EXPECT_GT(f.m.data.size(), 0u);
    EXPECT_EQ(t.bins[b][pos].item<int64_t>(), kScReformerMaskBin);
    EXPECT_EQ(t.values[b][pos].item<float>(), 0.0f);
    EXPECT_NE(t.targetBins[b][pos].item<int64_t>(), kScReformerMaskBin);
    EXPECT_GT(t.targetValues[b][pos].item<float>(), 0.0f);  // an expressed gene
  }
}

TEST(BioFormerTokenizer, ClsQuantileBinsAndStudies) {
  Fixture f;
  BioFormerOptions o;
  o.nGenes = 6;
  o.values = kValues;
  const TokenBatch t = tokenizeBioFormer(f.cells(), o);
  ASSERT_EQ(t.geneIds.sizes(), (std::vector<int64_t>{2, 7}));
  EXPECT_TRUE(t.geneIds[0].equal(torch::tensor({7, 1, 2, 3, 4, 5, 6}, torch::kInt64)));  // CLS = 6 + 1
  // cell0 non-zeros 1, 999: edges q_k = 1 + 998 k/50 -> 1 -> bin 1, 999 -> bin 50.
  EXPECT_TRUE(t.bins[0].equal(torch::tensor({0, 0, 1, 0, 50, 0, 0}, torch::kInt64)));
  // cell1 non-zeros 50, 50, 900: q_k = 50 for k <= 25 -> the 50s get bin 1; 900 -> 50.
  EXPECT_TRUE(t.bins[1].equal(torch::tensor({0, 1, 0, 1, 0, 0, 50}, torch::kInt64)));
  EXPECT_TRUE(t.studies.equal(torch::tensor({0, 1}, torch::kInt64)));
  EXPECT_FALSE(t.paddingMask.any().item<bool>());
}

TEST(BioFormerTokenizer, MaskingNeverTouchesCls) {
  CsrMatrix m;
  m.rows = 1;
  m.cols = 40;
  for (int g = 0; g < 40; ++g) {
    m.indices.push_back(g);
    m.data.push_back(static_cast<float>(g + 1));
  }
  m.indptr = {0, 40};
  CellSource s;
  s.matrix = &m;
  BioFormerOptions o;
  o.nGenes = 40;
  o.masking.enabled = true;
  o.masking.seed = 5;
  const TokenBatch t = tokenizeBioFormer({{&s, 0}}, o);
  // 15% of 40 = 6 masked: round(0.6) = 1 unchanged, 5 replaced by MASK.
  EXPECT_EQ(t.maskedPositions.sum().item<int64_t>(), 6);
  EXPECT_EQ((t.bins == kBioFormerMaskBin).sum().item<int64_t>(), 5);
  EXPECT_FALSE(t.maskedPositions[0][0].item<bool>());
  EXPECT_EQ(t.bins[0][0].item<int64_t>(), 0);
  // A different epoch masks differently.
  const TokenBatch other = tokenizeBioFormer({{&s, 0}}, o, 1);
  EXPECT_FALSE(t.maskedPositions.equal(other.maskedPositions));
}

TEST(CellPatchTokenizer, NonZeroGenesCapAndPadding) {
  Fixture f;
  CellPatchOptions o;
  o.nGenes = 6;
  o.values = kValues;
  TokenBatch t = tokenizeCellPatch(f.cells(), o);
  ASSERT_EQ(t.geneIds.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_TRUE(t.geneIds[0].equal(torch::tensor({2, 4, 0}, torch::kInt64)));
  EXPECT_TRUE(t.paddingMask[0].equal(torch::tensor({0, 0, 1}, torch::kBool)));
  EXPECT_NEAR(t.values[0][0].item<float>(), std::log(2.0), 1e-6);
  EXPECT_FLOAT_EQ(t.values[0][1].item<float>(), 5.0f);  // 6.91 clipped at 5
  EXPECT_FALSE(t.decoderGeneIds.defined());

  o.maxGenes = 2;  // cell1 keeps its two highest: g5 (6.80) and the first 50 (g0, tie broken by index)
  o.roundValues = true;
  t = tokenizeCellPatch(f.cells(), o);
  EXPECT_TRUE(t.geneIds[1].equal(torch::tensor({1, 6}, torch::kInt64)));
  EXPECT_FLOAT_EQ(t.values[1][0].item<float>(), 4.0f);  // round(3.93)
  EXPECT_FLOAT_EQ(t.values[0][0].item<float>(), 1.0f);  // round(0.69)
}

TEST(CellPatchTokenizer, HeldOutGenesGoToTheDecoder) {
  // One cell expressing 20 of 100 genes: 30% = 6 held out, plus 3 zero genes.
  CsrMatrix m;
  m.rows = 1;
  m.cols = 100;
  for (int g = 0; g < 20; ++g) {
    m.indices.push_back(g * 5);
    m.data.push_back(static_cast<float>(g + 1));
  }
  m.indptr = {0, 20};
  CellSource s;
  s.matrix = &m;
  CellPatchOptions o;
  o.nGenes = 100;
  o.masking = true;
  o.seed = 9;
  const TokenBatch t = tokenizeCellPatch({{&s, 0}}, o);
  EXPECT_EQ(t.geneIds.size(1), 14);
  ASSERT_EQ(t.decoderGeneIds.size(1), 9);
  const auto enc = t.geneIds[0];
  int expressedTargets = 0, zeroTargets = 0;
  for (int i = 0; i < 9; ++i) {
    const int64_t id = t.decoderGeneIds[0][i].item<int64_t>();
    const int64_t gene = id - 1;
    EXPECT_FALSE((enc == id).any().item<bool>()) << "held-out gene also in the encoder";
    if (gene % 5 == 0) {
      ++expressedTargets;
      EXPECT_GT(t.decoderTargets[0][i].item<float>(), 0.0f);
    } else {
      ++zeroTargets;
      EXPECT_EQ(t.decoderTargets[0][i].item<float>(), 0.0f);
    }
  }
  EXPECT_EQ(expressedTargets, 6);
  EXPECT_EQ(zeroTargets, 3);
  EXPECT_FALSE(t.decoderPaddingMask.any().item<bool>());
}

TEST(DenseCollation, LogNormalisedMatrix) {
  Fixture f;
  DenseOptions o;
  o.nGenes = 6;
  o.values = kValues;
  const TokenBatch t = collateDense(f.cells(), o);
  ASSERT_EQ(t.dense.sizes(), (std::vector<int64_t>{2, 6}));
  EXPECT_NEAR(t.dense[1][5].item<float>(), std::log(901.0), 1e-5);
  EXPECT_EQ(t.dense[1][1].item<float>(), 0.0f);
}

TEST(Tokenizers, RejectUnalignedData) {
  Fixture f;
  DenseOptions o;
  o.nGenes = 7;
  EXPECT_THROW(collateDense(f.cells(), o), Error);
}

}  // namespace
}  // namespace cw::tokenize

namespace cw::tokenize {
namespace {

TEST(CellPatchTokenizer, DecoderAndEncoderCaps) {
  // 4,000 expressed genes of 10,000: 30% = 1,200 held out exceeds the decoder cap, so
  // 1000 / 1.5 = 666 are held out plus 333 zero genes (999 <= 1,000); the encoder keeps
  // 3,000 of the remaining 3,334 (the highest values).
  CsrMatrix m;
  m.rows = 1;
  m.cols = 10000;
  for (int g = 0; g < 4000; ++g) {
    m.indices.push_back(g);
    m.data.push_back(static_cast<float>(1 + g % 50));
  }
  m.indptr = {0, 4000};
  CellSource s;
  s.matrix = &m;
  CellPatchOptions o;
  o.nGenes = 10000;
  o.masking = true;
  const TokenBatch t = tokenizeCellPatch({{&s, 0}}, o);
  EXPECT_EQ(t.decoderGeneIds.size(1), 999);
  EXPECT_EQ((t.decoderGeneIds > 4000).sum().item<int64_t>(), 333);  // zero genes: ids above 4000
  EXPECT_EQ(t.geneIds.size(1), 3000);
  // Dropped encoder genes are the lowest: no dropped gene has a higher count than a kept one.
  std::vector<int> role(4000, 0);  // 0 dropped, 1 encoder, 2 held out
  for (int64_t i = 0; i < t.geneIds.size(1); ++i) role[t.geneIds[0][i].item<int64_t>() - 1] = 1;
  for (int64_t i = 0; i < t.decoderGeneIds.size(1); ++i)
    if (const int64_t g = t.decoderGeneIds[0][i].item<int64_t>() - 1; g < 4000) role[g] = 2;
  float minKept = 1e9f, maxDropped = 0;
  int dropped = 0;
  for (int g = 0; g < 4000; ++g) {
    if (role[g] == 1) minKept = std::min(minKept, m.data[g]);
    if (role[g] == 0) maxDropped = std::max(maxDropped, m.data[g]), ++dropped;
  }
  EXPECT_EQ(dropped, 334);
  EXPECT_LE(maxDropped, minKept);
}

}  // namespace
}  // namespace cw::tokenize
