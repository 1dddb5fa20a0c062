#pragma once
// A tiny dense autoencoder plugin with a reconstruction objective and a classification
// head, to test pre-training and fine-tuning from a pre-training run without the seed models.
#include "cellwright/core/errors.h"
#include "cellwright/plugins/model_plugin.h"

namespace cw::train::testing {

class TinyAutoencoder : public plugins::CellModel {
 public:
  TinyAutoencoder(const nlohmann::json& config, const plugins::ModelShape& shape)
      : CellModel("tinyae", config, shape) {
    encoder = register_module("encoder", torch::nn::Linear(shape.nGenes, 8));
    decoder = register_module("decoder", torch::nn::Linear(8, shape.nGenes));
    if (shape.nClasses > 0) head = register_module("head", torch::nn::Linear(8, shape.nClasses));
  }
  std::vector<std::string> pretrainObjectives() const override { return {"reconstruction"}; }
  plugins::PretrainLosses pretrainLosses(const tokenize::TokenBatch& batch) override {
    plugins::PretrainLosses l;
    l.parts["reconstruction"] = torch::mse_loss(decoder(torch::relu(encoder(batch.dense))), batch.dense);
    l.weights["reconstruction"] = 1.0;
    l.total = l.parts["reconstruction"];
    return l;
  }
  torch::Tensor classify(const tokenize::TokenBatch& batch) override {
    if (!head) throw Error("no classification head");
    return head(torch::relu(encoder(batch.dense)));
  }
  torch::Tensor embed(const tokenize::TokenBatch& batch) override { return encoder(batch.dense); }
  int64_t embeddingDim() const override { return 8; }
  torch::nn::Linear encoder{nullptr}, decoder{nullptr}, head{nullptr};
};

class TinyAutoencoderPlugin : public plugins::ModelPlugin {
 public:
  plugins::PluginMetadata metadata() const override {
    plugins::PluginMetadata m;
    m.name = "tinyae";
    m.version = "1.0.0";
    m.description = "test autoencoder";
    return m;
  }
  nlohmann::json defaultConfig(const std::string&) const override { return {{"target_sum", 1e4}}; }
  nlohmann::json normalizeConfig(const nlohmann::json& config) const override { return config; }
  std::map<std::string, std::string> configDocumentation() const override { return {{"target_sum", "normalisation"}}; }
  plugins::TokenizerSpec tokenizerSpec(const nlohmann::json&) const override {
    plugins::TokenizerSpec s;
    s.kind = "dense";
    s.needsDense = true;
    s.needsTokens = false;
    return s;
  }
  std::shared_ptr<plugins::CellModel> makeModel(const nlohmann::json& config, const plugins::ModelShape& shape) const override {
    return std::make_shared<TinyAutoencoder>(config, shape);
  }
};

}  // namespace cw::train::testing
