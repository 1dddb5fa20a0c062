#include <gtest/gtest.h>

#include "cellwright/core/errors.h"
#include "cellwright/plugins/builtin.h"

using namespace cw::plugins;

TEST(Baselines, LogregIsAffineMapOfDenseInput) {
  PluginRegistry registry;
  registerBuiltinPlugins(registry);
  auto model = registry.makeModel("logreg", {}, ModelShape{0, 3, 0, 4});
  EXPECT_EQ(model->parameterCount(), 4 * 3 + 3);
  cw::tokenize::TokenBatch batch;
  batch.dense = torch::tensor({{1.0f, 0.0f, 2.0f, 0.5f}});
  auto params = model->named_parameters();
  const auto expected = torch::matmul(batch.dense, params["out.weight"].t()) + params["out.bias"];
  EXPECT_TRUE(torch::allclose(model->classify(batch), expected));
  const TokenizerSpec spec = registry.plugin("logreg").tokenizerSpec(model->config());
  EXPECT_TRUE(spec.needsDense);
  EXPECT_EQ(spec.genes, GeneSelection::All);
  EXPECT_THROW(model->attention(batch), cw::Error);
  EXPECT_THROW(model->pretrainLosses(batch), cw::Error);
}

TEST(Baselines, MlpShapesParameterCountAndHvgOption) {
  PluginRegistry registry;
  registerBuiltinPlugins(registry);
  auto model = registry.makeModel("mlp", registry.plugin("mlp").defaultConfig("paper"), ModelShape{0, 5, 0, 20});
  EXPECT_EQ(model->parameterCount(), (20 * 512 + 512) + (512 * 5 + 5));
  cw::tokenize::TokenBatch batch;
  batch.dense = torch::rand({6, 20});
  EXPECT_EQ(model->classify(batch).sizes(), (std::vector<int64_t>{6, 5}));
  EXPECT_EQ(model->embed(batch).sizes(), (std::vector<int64_t>{6, 512}));
  batch.dense = torch::rand({6, 21});
  EXPECT_THROW(model->classify(batch), cw::Error);
  const auto spec = registry.plugin("mlp").tokenizerSpec({{"genes", "hvg"}, {"n_hvg", 300}});
  EXPECT_EQ(spec.genes, GeneSelection::HighlyVariable);
  EXPECT_EQ(spec.nHighlyVariable, 300);
  EXPECT_THROW(registry.makeModel("mlp", {}, ModelShape{0, 0, 0, 20}), cw::Error);
}
