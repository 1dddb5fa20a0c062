// What every built-in model owes the rest of Cellwright: paper-sized parameter counts that
// follow from the publications' configurations, small presets that keep each model's
// defining parts, and exact checkpoint round trips.
#include <gtest/gtest.h>

#include <filesystem>

#include "cellwright/plugins/checkpoint.h"
#include "model_test_support.h"

using namespace cw::plugins;

namespace {

PluginRegistry& registry() {
  static PluginRegistry r;
  if (!r.contains("screformer")) registerBuiltinPlugins(r);
  return r;
}

int64_t countOf(const std::string& name, const ModelShape& shape) {
  torch::NoGradGuard noGrad;
  auto model = registry().makeModel(name, registry().plugin(name).defaultConfig("paper"), shape);
  std::cout << name << " (paper preset, vocabulary " << shape.vocabSize << ", " << shape.nGenes << " genes, "
            << shape.nClasses << " classes, " << shape.nStudies << " studies): " << model->parameterCount()
            << " parameters\n";
  return model->parameterCount();
}

int64_t linear(int64_t in, int64_t out) { return in * out + out; }

}  // namespace

TEST(PaperParameterCounts, ScReformerBert) {
  // 6 reversible layers, dim 200, 10 heads x 64, FF x4; 16,906 genes (+ padding id 0), 7 bins,
  // 11 classes (Zheng68K).
  const int64_t genes = 16906, vocab = genes + 1, classes = 11;
  const int64_t inner = 10 * 64;
  const int64_t attention = 200 * inner /*shared QK*/ + 200 * inner /*V*/ + linear(inner, 200) + 2 * 200 /*LN*/;
  const int64_t feedForward = linear(200, 800) + linear(800, 200) + 2 * 200;
  const int64_t expected = vocab * 200 + 7 * 200 + 6 * (attention + feedForward) + 2 * 200 /*final LN*/ +
                           linear(200, 7) /*MLM*/ + linear(200, 1) + linear(genes, 512) + linear(512, 128) +
                           linear(128, classes);
  EXPECT_EQ(countOf("screformer", {vocab, classes, 0, genes}), expected);
}

TEST(PaperParameterCounts, BioFormer) {
  // 12 layers, hidden 512, 8 heads, FF 2048; 1,000 HVGs (+ padding and CLS ids), 51 bins +
  // MASK + PAD, 5 studies, 10 cell types.
  const int64_t vocab = 1002, studies = 5, classes = 10;
  const int64_t layer = 4 * linear(512, 512) + linear(512, 2048) + linear(2048, 512) + 2 * 2 * 512;
  const int64_t expected = vocab * 512 + 53 * 512 + (studies + 1) * 512 + 512 /*CLS*/ + 12 * layer +
                           (linear(512, 512) + 2 * 512 + linear(512, 51)) /*MLM*/ +
                           (linear(512, 512) + linear(512, 1)) /*continuous*/ +
                           (linear(512, 512) + linear(512, studies)) /*adversary*/ +
                           (linear(512, 512) + linear(512, classes)) /*classifier*/;
  EXPECT_EQ(12 * layer, 37828608);  // the encoder alone: 12 x 3,152,384
  EXPECT_EQ(countOf("bioformer", {vocab, classes, studies, 1000}), expected);
}

TEST(PaperParameterCounts, CellPatch) {
  // dim 32, 64 patches, 2 heads, MLP 32->64->32; vocabulary 70,000 genes; 11 classes.
  const int64_t vocab = 70000, classes = 11;
  const int64_t block = 4 * linear(32, 32) + linear(32, 64) + linear(64, 32) + 2 * 2 * 32;
  const int64_t expected = vocab * 32 + linear(1, 32) /*count projection*/ + 64 * 32 /*patch tokens*/ +
                           (1 + 2) * block /*encoder*/ + linear(32, 10) + linear(10, 32) /*projection*/ +
                           (1 + 1) * block + linear(32, 1) /*decoder*/ +
                           linear(64 * 32, 512) + linear(512, 100) + linear(100, classes) /*classifier*/;
  EXPECT_EQ(countOf("cellpatch", {vocab, classes, 0, 0}), expected);
}

TEST(SmallPresets, KeepEachModelsDefiningParts) {
  const auto screformer = registry().plugin("screformer").defaultConfig("small");
  EXPECT_GE(screformer.at("layers").get<int64_t>(), 2);
  EXPECT_EQ(screformer.at("encoder"), "lsh");
  EXPECT_TRUE(screformer.at("reversible").get<bool>());
  EXPECT_GE(screformer.at("n_hashes").get<int64_t>(), 2);

  const auto bioformer = registry().plugin("bioformer").defaultConfig("small");
  EXPECT_GE(bioformer.at("layers").get<int64_t>(), 2);
  for (const char* weight : {"weight_mlm", "weight_continuous", "weight_adversarial", "weight_ecs"})
    EXPECT_GT(bioformer.at(weight).get<double>(), 0.0) << weight;
  auto bio = registry().makeModel("bioformer", bioformer, {100, 3, 2, 0});
  EXPECT_EQ(bio->pretrainObjectives().size(), 4u);
  EXPECT_TRUE(bio->named_parameters().contains("cls_token"));
  EXPECT_TRUE(registry().plugin("bioformer").tokenizerSpec(bioformer).prependCls);

  const auto cellpatch = registry().plugin("cellpatch").defaultConfig("small");
  EXPECT_GE(cellpatch.at("patches").get<int64_t>(), 16);
  EXPECT_GE(cellpatch.at("cross_blocks").get<int64_t>(), 1);
  EXPECT_GE(cellpatch.at("self_blocks").get<int64_t>(), 1);
}

TEST(Checkpoint, EveryBuiltinRoundTripsExactly) {
  struct Case {
    std::string name;
    ModelShape shape;
  };
  const std::vector<Case> cases = {{"logreg", {0, 3, 0, 12}}, {"mlp", {0, 3, 0, 12}},
                                   {"cellpatch", {30, 3, 0, 0}}, {"bioformer", {30, 3, 2, 0}},
                                   {"screformer", {30, 3, 0, 12}}};
  const auto dir = std::filesystem::temp_directory_path() / ("cw_ckpt_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const auto& c : cases) {
    torch::manual_seed(4);
    auto model = registry().makeModel(c.name, registry().plugin(c.name).defaultConfig("small"), c.shape);
    const auto file = dir / (c.name + ".pt");
    saveCheckpoint(*model, file);
    auto loaded = loadCheckpoint(file, registry());
    EXPECT_TRUE(cw::test::allParametersEqual(*model, *loaded)) << c.name;
    EXPECT_EQ(loaded->config(), model->config()) << c.name;
    auto batch = cw::test::tokenBatch(2, 16, 30, 6);
    batch.dense = torch::rand({2, 12});
    model->eval();
    loaded->eval();
    EXPECT_TRUE(torch::equal(model->classify(batch), loaded->classify(batch))) << c.name;
  }
  std::filesystem::remove_all(dir);
}
