#include <gtest/gtest.h>

#include "cellwright/core/errors.h"
#include "model_test_support.h"

using namespace cw::plugins;

namespace {

std::shared_ptr<CellModel> tinyCellPatch(int64_t classes = 3, nlohmann::json config = {}) {
  PluginRegistry registry;
  registerBuiltinPlugins(registry);
  nlohmann::json c = registry.plugin("cellpatch").defaultConfig("small");
  for (const auto& item : config.items()) c[item.key()] = item.value();
  torch::manual_seed(11);
  auto model = registry.makeModel("cellpatch", c, ModelShape{50, classes, 0, 0});
  model->eval();
  return model;
}

cw::tokenize::TokenBatch withDecoder(cw::tokenize::TokenBatch batch) {
  batch.decoderGeneIds = torch::tensor({{3, 4, 5, 0}, {6, 7, 0, 0}}, torch::kLong);
  batch.decoderTargets = torch::tensor({{1.0f, 2.0f, 0.0f, 9.0f}, {0.5f, 0.0f, 7.0f, 7.0f}});
  batch.decoderPaddingMask = batch.decoderGeneIds.eq(0);
  return batch;
}

}  // namespace

TEST(CellPatch, OutputShapes) {
  auto model = tinyCellPatch();
  auto batch = cw::test::tokenBatch(2, 9, 50, 6, {0, 3});
  EXPECT_EQ(model->classify(batch).sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(model->embed(batch).sizes(), (std::vector<int64_t>{2, 4}));  // small: projection to 4
  EXPECT_EQ(model->embeddingDim(), 4);
  const AttentionScores att = model->attention(batch);
  EXPECT_EQ(att.scores.sizes(), (std::vector<int64_t>{2, 16, 9}));
  EXPECT_EQ(att.queries, "patches");
  // Rows sum to one over the genes, padding gets nothing.
  EXPECT_TRUE(torch::allclose(att.scores.sum(-1), torch::ones({2, 16}), 1e-5, 1e-5));
  EXPECT_EQ(att.scores[1].narrow(1, 6, 3).abs().max().item<float>(), 0.0f);
}

TEST(CellPatch, OutputUnchangedByExtraPadding) {
  auto model = tinyCellPatch();
  auto batch = withDecoder(cw::test::tokenBatch(2, 9, 50, 6, {0, 3}));
  auto padded = cw::test::withExtraPadding(batch, 7);
  EXPECT_TRUE(torch::allclose(model->classify(batch), model->classify(padded), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(model->embed(batch), model->embed(padded), 1e-5, 1e-6));
  auto a = model->attention(batch).scores, b = model->attention(padded).scores;
  EXPECT_TRUE(torch::allclose(a, b.narrow(2, 0, 9), 1e-5, 1e-6));
  EXPECT_EQ(b.narrow(2, 9, 7).abs().max().item<float>(), 0.0f);
  EXPECT_NEAR(model->pretrainLosses(batch).total.item<double>(), model->pretrainLosses(padded).total.item<double>(),
              1e-5);
}

TEST(CellPatch, ReconstructionLossIsMseOverRealDecoderGenes) {
  auto model = tinyCellPatch();
  {
    torch::NoGradGuard noGrad;
    auto params = model->named_parameters();
    params["decoder_out.weight"].zero_();
    params["decoder_out.bias"].fill_(2.0);
  }
  auto batch = withDecoder(cw::test::tokenBatch(2, 9, 50, 6));
  // Predictions are all 2; real targets 1, 2, 0 and 0.5, 0 (the 9s and 7s are padding).
  const double expected = ((1 * 1) + 0 + (2 * 2) + (1.5 * 1.5) + (2 * 2)) / 5.0;
  const PretrainLosses losses = model->pretrainLosses(batch);
  EXPECT_NEAR(losses.parts.at("reconstruction").item<double>(), expected, 1e-6);
  EXPECT_NEAR(losses.total.item<double>(), expected, 1e-6);
}

TEST(CellPatch, LookupCountEncodingUsesBins) {
  auto model = tinyCellPatch(2, {{"count_encoding", "lookup"}});
  auto batch = cw::test::tokenBatch(2, 5, 50, 6);
  auto before = model->embed(batch);
  batch.values = batch.values * 0 + 3;  // values are ignored by the lookup encoding
  EXPECT_TRUE(torch::equal(before, model->embed(batch)));
  batch.bins = (batch.bins + 1).remainder(6);
  EXPECT_FALSE(torch::allclose(before, model->embed(batch)));
  // Without bins, the rounded value is the bin.
  auto fromValues = batch;
  fromValues.values = batch.bins.to(torch::kFloat) + 0.3;
  fromValues.bins = torch::Tensor();
  EXPECT_TRUE(torch::equal(model->embed(batch), model->embed(fromValues)));
}

TEST(CellPatch, MissingFieldIsAClearError) {
  auto model = tinyCellPatch();
  cw::tokenize::TokenBatch batch;
  EXPECT_THROW(model->classify(batch), cw::Error);
  auto tokens = cw::test::tokenBatch(2, 4, 50, 6);
  EXPECT_THROW(model->pretrainLosses(tokens), cw::Error);  // no decoder targets
}

TEST(CellPatch, ScaledEncodingReadsGenesOnlyThroughTheirValues) {
  // scaled: token = value * gene embedding + Linear(value), so with every value 0 the genes'
  // identities vanish; the linear encoding keeps them.
  auto batch = cw::test::tokenBatch(2, 5, 50, 6);
  batch.values = batch.values * 0;
  auto other = batch;
  other.geneIds = (batch.geneIds + 7).remainder(49) + 1;
  auto scaled = tinyCellPatch(3, {{"count_encoding", "scaled"}, {"gene_dropout", 0.0}});
  EXPECT_TRUE(torch::allclose(scaled->embed(batch), scaled->embed(other), 1e-5, 1e-6));
  auto linear = tinyCellPatch(3, {{"count_encoding", "linear"}});
  EXPECT_FALSE(torch::allclose(linear->embed(batch), linear->embed(other), 1e-5, 1e-6));
}

TEST(CellPatch, GeneDropoutActsOnlyWhileTrainingAndKeepsEveryCellsGenesWhenAllWouldGo) {
  nlohmann::json noOtherDropout = {{"dropout", 0.0}, {"head_dropout", 0.0}};
  auto batch = cw::test::tokenBatch(2, 9, 50, 6, {0, 3});
  auto cfg = noOtherDropout;
  cfg["gene_dropout"] = 0.5;
  auto model = tinyCellPatch(3, cfg);
  model->eval();
  const auto reference = model->classify(batch);
  EXPECT_TRUE(torch::equal(reference, model->classify(batch)));
  model->train();
  torch::manual_seed(1);
  EXPECT_FALSE(torch::allclose(reference, model->classify(batch), 1e-5, 1e-6));
  // Nearly every gene dropped: each cell would lose all, so each keeps all (= eval output).
  cfg["gene_dropout"] = 0.9999999;
  auto all = tinyCellPatch(3, cfg);
  all->eval();
  const auto evalOut = all->classify(batch);
  all->train();
  EXPECT_TRUE(torch::allclose(evalOut, all->classify(batch), 1e-5, 1e-6));
}

TEST(CellPatch, SmallPresetNarrowsTheVocabularyToHighlyVariableGenes) {
  PluginRegistry registry;
  registerBuiltinPlugins(registry);
  const auto& plugin = registry.plugin("cellpatch");
  const auto small = plugin.tokenizerSpec(plugin.defaultConfig("small"));
  EXPECT_EQ(small.genes, GeneSelection::HighlyVariable);
  EXPECT_EQ(small.nHighlyVariable, 2000);
  const auto paper = plugin.tokenizerSpec(plugin.defaultConfig("paper"));
  EXPECT_EQ(paper.genes, GeneSelection::NonZero);  // the paper: every expressed gene
  EXPECT_THROW(plugin.normalizeConfig({{"gene_init", "word2vec"}}), cw::Error);
  EXPECT_THROW(plugin.normalizeConfig({{"gene_dropout", 1.0}}), cw::Error);
}
