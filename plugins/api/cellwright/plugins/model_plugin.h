#pragma once
// The model-plugin interface, version 1 (IID "org.cellwright.ModelPlugin/1").
//
// A plugin is a factory (ModelPlugin) that describes a model family and builds models
// (CellModel, a torch::nn::Module). Everything a trainer needs goes through these two
// classes; the trainer never knows which model it drives:
//
//   const ModelPlugin& plugin = registry.plugin("bioformer");
//   nlohmann::json config = plugin.defaultConfig("small");        // or "paper"
//   TokenizerSpec spec = plugin.tokenizerSpec(config);            // how to build TokenBatches
//   std::shared_ptr<CellModel> model = plugin.makeModel(config, shape);
//   model->train();
//   PretrainLosses losses = model->pretrainLosses(batch);        // pre-training step
//   losses.total.backward();
//   torch::Tensor logits = model->classify(batch);                // fine-tuning: CE on logits
//   torch::Tensor cells = model->embed(batch);                    // [B, E] cell embedding
//   AttentionScores att = model->attention(batch);               // per-token scores
//
// Train/eval mode is the module's own (model->train() / model->eval()): dropout, and for
// models with stochastic hashing nothing else changes. Move the model with model->to(device)
// and the batch with batch.to(device).
//
// Versioning: the major number of the IID changes when this header changes incompatibly.
// A third-party plugin compiled against another major version is refused before dlopen.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "cellwright/tokenize/token_batch.h"

namespace cw::plugins {

inline constexpr const char* kModelPluginIid = "org.cellwright.ModelPlugin/1";
inline constexpr int kModelPluginMajorVersion = 1;

// What a plugin says about itself, readable before any code is loaded (for third-party
// plugins it comes from the sidecar JSON file next to the shared library).
struct PluginMetadata {
  std::string iid = kModelPluginIid;  // "org.cellwright.ModelPlugin/<major>"
  std::string name;                   // registry key, lower case: "screformer", "bioformer" ...
  std::string version;                // the plugin's own version, e.g. "1.0.0"
  std::string description;            // one line for the model picker
  std::string citation;               // the paper to cite
  std::string library;                // third-party only: shared library file next to the JSON

  nlohmann::json toJson() const;
  // Throws cw::Error naming the missing/invalid field.
  static PluginMetadata fromJson(const nlohmann::json& json);
};

// The major version in an IID "org.cellwright.ModelPlugin/<major>"; -1 when the string is
// not a model-plugin IID.
int iidMajorVersion(const std::string& iid);

// ---------------------------------------------------------------------------------------
// Input requirements: how the tokenizer must build TokenBatches for this model.

enum class GeneSelection {
  All,             // every gene of the vocabulary, fixed order (scReformer-BERT, baselines)
  HighlyVariable,  // the `nHighlyVariable` HVGs, fixed order (BioFormer; baselines' option)
  NonZero,         // only the cell's expressed genes, padded per batch (CellPatch)
};

enum class ValueSource {
  LogNormalized,  // log1p(counts / total * targetSum)
  RawCounts,      // untransformed counts (BioFormer's per-cell quantile bins use counts)
};

enum class Binning {
  None,              // no discrete bins (TokenBatch::bins left undefined)
  ClipFloor,         // scBERT: bin = floor(min(logValue, clipValue)) -> 0..nBins-1
  CellQuantile,      // BioFormer: 0 -> bin 0, non-zero -> 1..nBins-1 by the cell's quantiles
  ClipRound,         // CellPatch paper: round(min(logValue, clipValue))
};

struct TokenizerSpec {
  std::string kind;                  // "dense", "scbert", "bioformer", "cellpatch"
  GeneSelection genes = GeneSelection::All;
  int64_t nHighlyVariable = 0;       // used when genes == HighlyVariable
  int64_t maxTokens = 0;             // cap on tokens per cell (0 = no cap)
  ValueSource values = ValueSource::LogNormalized;
  bool log2 = false;                 // log base 2 instead of natural log (scBERT's choice)
  double targetSum = 1e4;            // normalisation target per cell
  Binning binning = Binning::None;
  int64_t nBins = 0;                 // value bins including the ones below (0 = unbinned)
  double clipValue = 0.0;            // for ClipFloor / ClipRound
  int64_t maskBin = -1;              // bin id of MASK (-1 = none)
  int64_t padBin = -1;               // bin id used at padding positions (-1 = none)
  bool prependCls = false;           // position 0 is a CLS slot (its id/value are ignored)
  int64_t padToMultipleOf = 1;       // pad L to a multiple (scReformer: 2 x bucket size)
  bool needsDense = false;           // fill TokenBatch::dense (baselines)
  bool needsTokens = true;           // fill geneIds/values/bins/paddingMask
  // Pre-training masking (only expressed genes are ever masked).
  double maskFraction = 0.15;        // share of non-zero genes masked, at least one
  double maskReplaceFraction = 0.9;  // of those, share replaced by MASK (rest unchanged)
  // CellPatch decoder targets: share of non-zero genes held out of the encoder, zero genes
  // added as a share of the held-out count, cap on decoder genes.
  double heldOutFraction = 0.0;
  double zeroTargetRatio = 0.0;
  int64_t maxDecoderGenes = 0;

  nlohmann::json toJson() const;
};

// Sizes known only once data is loaded; fixed for the life of a model (checkpointed).
struct ModelShape {
  int64_t vocabSize = 0;  // gene-token ids are in [0, vocabSize); 0 = padding
  int64_t nClasses = 0;   // classification head outputs (0 = no head yet: pre-training only)
  int64_t nStudies = 0;   // study/batch codes in [0, nStudies); -1 in a batch = unknown
  int64_t nGenes = 0;     // genes per cell for fixed-order models (sequence length w/o CLS)

  nlohmann::json toJson() const;
  static ModelShape fromJson(const nlohmann::json& json);
  bool operator==(const ModelShape&) const = default;
};

// ---------------------------------------------------------------------------------------
// Model outputs.

struct PretrainLosses {
  std::map<std::string, torch::Tensor> parts;  // unweighted scalar losses by objective name
  std::map<std::string, double> weights;       // weight of each part in `total`
  torch::Tensor total;                         // sum of weight * part: call backward() on it
};

// Attention of some queries over the input tokens, aligned with batch.geneIds columns.
struct AttentionScores {
  torch::Tensor scores;  // [B, Q, L] float32; 0 at padding; each row sums to 1 over tokens
  std::string queries;   // what the Q rows are: "cls", "patches", "genes (mean over buckets)"
};

class CellModel : public torch::nn::Module {
 public:
  ~CellModel() override = default;

  // Names of the pre-training objectives (keys of PretrainLosses::parts); empty when the
  // model has none (baselines).
  virtual std::vector<std::string> pretrainObjectives() const { return {}; }
  // Self-supervised losses on a batch with its masking targets. Throws cw::Error when the
  // model has no pre-training objective or the batch lacks the targets.
  virtual PretrainLosses pretrainLosses(const cw::tokenize::TokenBatch& batch);
  // Class logits [B, shape().nClasses] (throws when nClasses == 0).
  virtual torch::Tensor classify(const cw::tokenize::TokenBatch& batch) = 0;
  // Per-cell embedding [B, embeddingDim()].
  virtual torch::Tensor embed(const cw::tokenize::TokenBatch& batch) = 0;
  virtual int64_t embeddingDim() const = 0;
  // Interpretable attention; throws cw::Error for models without attention (baselines).
  virtual AttentionScores attention(const cw::tokenize::TokenBatch& batch);
  // Initialises gene-token embeddings from a table [vocabSize, dim] (rows for ids; row 0,
  // padding, is ignored). Only models with `acceptsGeneEmbeddings()`; throws otherwise.
  virtual bool acceptsGeneEmbeddings() const { return false; }
  virtual void setGeneEmbeddings(const torch::Tensor& table, bool freeze);
  // Parameters of the classification head only (fine-tuning may train them alone, and a
  // checkpoint from pre-training may lack them).
  virtual std::vector<torch::Tensor> classifierParameters() { return {}; }

  const std::string& pluginName() const { return pluginName_; }
  const nlohmann::json& config() const { return config_; }
  const ModelShape& shape() const { return shape_; }
  int64_t parameterCount() const;

 protected:
  CellModel(std::string pluginName, nlohmann::json config, ModelShape shape)
      : pluginName_(std::move(pluginName)), config_(std::move(config)), shape_(shape) {}

 private:
  std::string pluginName_;
  nlohmann::json config_;
  ModelShape shape_;
};

// A model family. Stateless and thread-safe; lives as long as the registry.
class ModelPlugin {
 public:
  virtual ~ModelPlugin() = default;
  virtual PluginMetadata metadata() const = 0;
  // Presets every plugin offers: "paper" (the publication's configuration) and "small"
  // (a CPU-sized one that keeps the defining parts). "default" == "paper".
  virtual std::vector<std::string> presets() const { return {"paper", "small"}; }
  // The full config (every key, with its value) for a preset; throws on unknown preset.
  virtual nlohmann::json defaultConfig(const std::string& preset = "paper") const = 0;
  // Checks and completes a partial config (missing keys from "paper"); throws cw::Error
  // on unknown keys, wrong types or impossible values.
  virtual nlohmann::json normalizeConfig(const nlohmann::json& config) const = 0;
  // Human-readable description of each config key (for --help and the GUI).
  virtual std::map<std::string, std::string> configDocumentation() const = 0;
  virtual TokenizerSpec tokenizerSpec(const nlohmann::json& config) const = 0;
  virtual std::shared_ptr<CellModel> makeModel(const nlohmann::json& config, const ModelShape& shape) const = 0;
};

}  // namespace cw::plugins

// A third-party plugin library exports this C symbol; it returns a new plugin object that
// the registry owns (deleted with `delete`, so build with the same compiler and LibTorch).
#define CELLWRIGHT_PLUGIN_ENTRY_SYMBOL "cellwright_create_model_plugin"
#define CELLWRIGHT_PLUGIN_IID_SYMBOL "cellwright_model_plugin_iid"
#define CELLWRIGHT_EXPORT_MODEL_PLUGIN(PluginClass)                                                    \
  extern "C" __attribute__((visibility("default"))) cw::plugins::ModelPlugin* cellwright_create_model_plugin() { \
    return new PluginClass();                                                                       \
  }                                                                                                 \
  extern "C" __attribute__((visibility("default"))) const char* cellwright_model_plugin_iid() {     \
    return cw::plugins::kModelPluginIid;                                                            \
  }
