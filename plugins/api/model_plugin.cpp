#include "cellwright/plugins/model_plugin.h"

#include "cellwright/core/errors.h"

namespace cw::plugins {

nlohmann::json PluginMetadata::toJson() const {
  nlohmann::json json = {{"iid", iid}, {"name", name}, {"version", version},
                         {"description", description}, {"citation", citation}};
  if (!library.empty()) json["library"] = library;
  return json;
}

PluginMetadata PluginMetadata::fromJson(const nlohmann::json& json) {
  if (!json.is_object()) throw cw::Error("Plugin metadata must be a JSON object");
  auto text = [&](const char* key, bool required) -> std::string {
    auto it = json.find(key);
    if (it == json.end() || it->is_null()) {
      if (required) throw cw::Error(std::string("Plugin metadata lacks the field '") + key + "'");
      return {};
    }
    if (!it->is_string()) throw cw::Error(std::string("Plugin metadata field '") + key + "' must be text");
    return it->get<std::string>();
  };
  PluginMetadata out;
  out.iid = text("iid", true);
  out.name = text("name", true);
  out.version = text("version", true);
  out.description = text("description", false);
  out.citation = text("citation", false);
  out.library = text("library", false);
  if (out.name.empty()) throw cw::Error("Plugin metadata has an empty name");
  return out;
}

int iidMajorVersion(const std::string& iid) {
  const std::string prefix = "org.cellwright.ModelPlugin/";
  if (iid.rfind(prefix, 0) != 0) return -1;
  const std::string rest = iid.substr(prefix.size());
  const std::string major = rest.substr(0, rest.find('.'));
  if (major.empty() || major.size() > 6 || major.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoi(major);
}

namespace {
const char* toString(GeneSelection value) {
  switch (value) {
    case GeneSelection::All: return "all";
    case GeneSelection::HighlyVariable: return "hvg";
    case GeneSelection::NonZero: return "non-zero";
  }
  return "?";
}
const char* toString(Binning value) {
  switch (value) {
    case Binning::None: return "none";
    case Binning::ClipFloor: return "clip-floor";
    case Binning::CellQuantile: return "cell-quantile";
    case Binning::ClipRound: return "clip-round";
  }
  return "?";
}
}  // namespace

nlohmann::json TokenizerSpec::toJson() const {
  return {{"kind", kind},
          {"genes", toString(genes)},
          {"n_highly_variable", nHighlyVariable},
          {"max_tokens", maxTokens},
          {"values", values == ValueSource::RawCounts ? "raw-counts" : "log-normalized"},
          {"log2", log2},
          {"target_sum", targetSum},
          {"binning", toString(binning)},
          {"n_bins", nBins},
          {"clip_value", clipValue},
          {"mask_bin", maskBin},
          {"pad_bin", padBin},
          {"prepend_cls", prependCls},
          {"pad_to_multiple_of", padToMultipleOf},
          {"needs_dense", needsDense},
          {"needs_tokens", needsTokens},
          {"mask_fraction", maskFraction},
          {"mask_replace_fraction", maskReplaceFraction},
          {"held_out_fraction", heldOutFraction},
          {"zero_target_ratio", zeroTargetRatio},
          {"max_decoder_genes", maxDecoderGenes}};
}

nlohmann::json ModelShape::toJson() const {
  return {{"vocab_size", vocabSize}, {"n_classes", nClasses}, {"n_studies", nStudies}, {"n_genes", nGenes}};
}

ModelShape ModelShape::fromJson(const nlohmann::json& json) {
  ModelShape shape;
  try {
    shape.vocabSize = json.at("vocab_size").get<int64_t>();
    shape.nClasses = json.at("n_classes").get<int64_t>();
    shape.nStudies = json.at("n_studies").get<int64_t>();
    shape.nGenes = json.at("n_genes").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw cw::Error(std::string("Model shape record is incomplete: ") + e.what());
  }
  return shape;
}

PretrainLosses CellModel::pretrainLosses(const cw::tokenize::TokenBatch&) {
  throw cw::Error("The " + pluginName() + " model has no pre-training objective; train it with labels instead");
}

AttentionScores CellModel::attention(const cw::tokenize::TokenBatch&) {
  throw cw::Error("The " + pluginName() + " model has no attention scores to show");
}

void CellModel::setGeneEmbeddings(const torch::Tensor&, bool) {
  throw cw::Error("The " + pluginName() + " model has no gene embeddings to initialise");
}

int64_t CellModel::parameterCount() const {
  int64_t total = 0;
  for (const auto& p : parameters()) total += p.numel();
  return total;
}

}  // namespace cw::plugins
