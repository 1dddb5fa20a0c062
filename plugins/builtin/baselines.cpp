// Honest baselines on dense log-normalised expression (TokenBatch::dense): multinomial
// logistic regression and a 2-layer MLP. All genes by default; HVGs as an option.
#include "cellwright/plugins/builtin.h"
#include "cellwright/plugins/config_fields.h"
#include "cellwright/plugins/model_support.h"

namespace cw::plugins {

namespace {

struct BaselineConfig {
  std::string genes = "all";   // "all" genes of the vocabulary, or "hvg"
  int64_t n_hvg = 2000;        // number of highly variable genes when genes == "hvg"
  double target_sum = 1e4;     // per-cell normalisation target before log1p
  int64_t hidden = 512;        // MLP only: hidden width
  double dropout = 0.2;        // MLP only: dropout after the hidden layer and on the input

  template <class Visit>
  void visitFields(Visit&& v) {
    v("genes", genes);
    v("n_hvg", n_hvg);
    v("target_sum", target_sum);
    v("hidden", hidden);
    v("dropout", dropout);
  }
};

TokenizerSpec baselineSpec(const BaselineConfig& c) {
  TokenizerSpec spec;
  spec.kind = "dense";
  spec.genes = c.genes == "hvg" ? GeneSelection::HighlyVariable : GeneSelection::All;
  spec.nHighlyVariable = c.genes == "hvg" ? c.n_hvg : 0;
  spec.values = ValueSource::LogNormalized;
  spec.targetSum = c.target_sum;
  spec.needsDense = true;
  spec.needsTokens = false;
  spec.maskFraction = 0.0;
  return spec;
}

class DenseBaseline : public CellModel {
 public:
  DenseBaseline(const std::string& name, const nlohmann::json& json, const ModelShape& shape, bool hidden)
      : CellModel(name, json, shape), config_(configFromJson(json, BaselineConfig{}, name)) {
    if (shape.nGenes <= 0) throw cw::Error("The " + name + " model needs the number of genes");
    requireClasses(shape, name);
    if (hidden) {
      first_ = register_module("hidden", torch::nn::Linear(shape.nGenes, config_.hidden));
      out_ = register_module("out", torch::nn::Linear(config_.hidden, shape.nClasses));
    } else {
      out_ = register_module("out", torch::nn::Linear(shape.nGenes, shape.nClasses));
    }
  }

  torch::Tensor classify(const cw::tokenize::TokenBatch& batch) override {
    if (!first_) return out_(input(batch));
    return out_(torch::dropout(hiddenState(batch), config_.dropout, is_training()));
  }
  // MLP: the hidden layer; logistic regression: the class scores (its only representation).
  torch::Tensor embed(const cw::tokenize::TokenBatch& batch) override {
    return first_ ? hiddenState(batch) : out_(input(batch));
  }
  int64_t embeddingDim() const override { return first_ ? config_.hidden : shape().nClasses; }
  std::vector<torch::Tensor> classifierParameters() override { return parameters(); }

 private:
  torch::Tensor input(const cw::tokenize::TokenBatch& batch) const {
    const auto& dense = requireField(batch.dense, "dense", 2, pluginName());
    if (dense.size(1) != shape().nGenes)
      throw cw::Error("The " + pluginName() + " model was built for " + std::to_string(shape().nGenes) +
                      " genes, the data has " + std::to_string(dense.size(1)));
    return dense.to(torch::kFloat);
  }
  torch::Tensor hiddenState(const cw::tokenize::TokenBatch& batch) {
    auto x = torch::dropout(input(batch), first_ ? config_.dropout : 0.0, is_training());
    return torch::relu(first_(x));
  }

  BaselineConfig config_;
  torch::nn::Linear first_{nullptr};
  torch::nn::Linear out_{nullptr};
};

class BaselinePlugin : public ModelPlugin {
 public:
  BaselinePlugin(bool hidden) : hidden_(hidden) {}
  PluginMetadata metadata() const override {
    PluginMetadata m;
    m.name = hidden_ ? "mlp" : "logreg";
    m.version = "1.0.0";
    m.description = hidden_ ? "Two-layer perceptron on log-normalised expression (baseline)"
                            : "Multinomial logistic regression on log-normalised expression (baseline)";
    m.citation = "Baseline; see Kedzierska et al. 2023 (zero-shot foundation models vs simple baselines)";
    return m;
  }
  nlohmann::json defaultConfig(const std::string& preset) const override {
    requirePreset(preset, metadata().name);
    BaselineConfig c;
    if (preset == "small") c.hidden = 64;
    return configToJson(c);
  }
  nlohmann::json normalizeConfig(const nlohmann::json& config) const override {
    BaselineConfig c = configFromJson(config, BaselineConfig{}, metadata().name);
    if (c.genes != "all" && c.genes != "hvg") throw cw::Error("Baseline 'genes' must be all or hvg");
    if (c.genes == "hvg" && c.n_hvg <= 0) throw cw::Error("Baseline 'n_hvg' must be positive");
    if (c.hidden <= 0) throw cw::Error("MLP 'hidden' must be positive");
    if (c.dropout < 0 || c.dropout >= 1) throw cw::Error("Baseline 'dropout' must be in [0, 1)");
    return configToJson(c);
  }
  std::map<std::string, std::string> configDocumentation() const override {
    return {{"genes", "all (default): every gene; hvg: only the n_hvg highly variable genes"},
            {"n_hvg", "number of highly variable genes when genes = hvg (default 2000)"},
            {"target_sum", "per-cell normalisation target before log1p (default 10000)"},
            {"hidden", "MLP hidden width (default 512; small 64); unused by logreg"},
            {"dropout", "MLP dropout on input and hidden layer (default 0.2); unused by logreg"}};
  }
  TokenizerSpec tokenizerSpec(const nlohmann::json& config) const override {
    return baselineSpec(configFromJson(config, BaselineConfig{}, metadata().name));
  }
  std::shared_ptr<CellModel> makeModel(const nlohmann::json& config, const ModelShape& shape) const override {
    return std::make_shared<DenseBaseline>(metadata().name, normalizeConfig(config), shape, hidden_);
  }

 private:
  bool hidden_;
};

}  // namespace

std::shared_ptr<ModelPlugin> makeLogisticRegressionPlugin() { return std::make_shared<BaselinePlugin>(false); }
std::shared_ptr<ModelPlugin> makeMlpPlugin() { return std::make_shared<BaselinePlugin>(true); }

}  // namespace cw::plugins
