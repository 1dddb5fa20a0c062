// A minimal third-party model plugin, built as a MODULE library by the tests and loaded
// from a temporary folder through PluginRegistry::loadFolder.
#include "cellwright/plugins/config_fields.h"
#include "cellwright/plugins/model_plugin.h"

namespace {

struct DummyConfig {
  int64_t width = 3;  // embedding width
  template <class Visit>
  void visitFields(Visit&& v) { v("width", width); }
};

class DummyModel : public cw::plugins::CellModel {
 public:
  DummyModel(const nlohmann::json& config, const cw::plugins::ModelShape& shape)
      : CellModel("dummy", config, shape) {
    const auto c = cw::plugins::configFromJson(config, DummyConfig{}, "dummy");
    width_ = c.width;
    linear_ = register_module("linear", torch::nn::Linear(shape.nGenes, width_));
  }
  torch::Tensor classify(const cw::tokenize::TokenBatch& batch) override { return embed(batch); }
  torch::Tensor embed(const cw::tokenize::TokenBatch& batch) override { return linear_(batch.dense); }
  int64_t embeddingDim() const override { return width_; }

 private:
  int64_t width_ = 0;
  torch::nn::Linear linear_{nullptr};
};

class DummyPlugin : public cw::plugins::ModelPlugin {
 public:
  cw::plugins::PluginMetadata metadata() const override {
    cw::plugins::PluginMetadata m;
    m.name = "dummy";
    m.version = "0.0.1";
    m.description = "Test plugin";
    return m;
  }
  nlohmann::json defaultConfig(const std::string&) const override { return cw::plugins::configToJson(DummyConfig{}); }
  nlohmann::json normalizeConfig(const nlohmann::json& config) const override {
    return cw::plugins::configToJson(cw::plugins::configFromJson(config, DummyConfig{}, "dummy"));
  }
  std::map<std::string, std::string> configDocumentation() const override { return {{"width", "output width"}}; }
  cw::plugins::TokenizerSpec tokenizerSpec(const nlohmann::json&) const override {
    cw::plugins::TokenizerSpec spec;
    spec.kind = "dense";
    spec.needsDense = true;
    return spec;
  }
  std::shared_ptr<cw::plugins::CellModel> makeModel(const nlohmann::json& config,
                                                    const cw::plugins::ModelShape& shape) const override {
    return std::make_shared<DummyModel>(config, shape);
  }
};

}  // namespace

CELLWRIGHT_EXPORT_MODEL_PLUGIN(DummyPlugin)
