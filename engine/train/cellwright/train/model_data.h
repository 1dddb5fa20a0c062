#pragma once
// Between a dataset and a model: the model's gene vocabulary, the dataset's matrix aligned
// to it, per-cell label and study codes, and the batch builder the model's tokenizer spec
// asks for.
#include <cstdint>
#include <string>
#include <vector>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"
#include "cellwright/plugins/model_plugin.h"
#include "cellwright/preprocess/vocabulary.h"
#include "cellwright/tokenize/tokenizers.h"
#include "cellwright/train/trainer.h"

namespace cw::train {

// A categorical view of an obs column: codes per cell (-1 = missing) and category names.
struct LabelCodes {
  std::vector<int64_t> codes;
  std::vector<std::string> names;
};
// Categorical columns keep their categories (unused ones dropped); strings, numbers and
// bools are sorted as text. Throws cw::Error naming the column when it does not exist.
LabelCodes labelCodes(const Dataset& dataset, const std::string& column);
// Re-codes `labels` onto `names` (a trained model's classes); unknown names become -1.
std::vector<int64_t> recode(const LabelCodes& labels, const std::vector<std::string>& names);

struct ModelData {
  preprocess::GeneVocabulary genes;
  CsrMatrix values;                   // cells × genes (the vocabulary's order)
  bool valuesAreLogNormalized = false;  // false: raw counts, normalised per cell on the fly
  std::vector<int64_t> labels;        // per cell, -1 = unknown
  std::vector<int64_t> studies;       // per cell, -1 = unknown
  std::string alignmentSummary;
};

// Aligns `dataset` to `genes`: raw counts when the dataset has them (counts_source), else X
// taken as log-normalised. Throws cw::Error when no gene matches.
ModelData alignDataset(const Dataset& dataset, const preprocess::GeneVocabulary& genes);

// The genes a new model trains on: every gene of the dataset, or for GeneSelection::
// HighlyVariable the spec's number of highly variable genes (Seurat flavour on the
// log-normalised `cells`).
preprocess::GeneVocabulary chooseGenes(const Dataset& dataset, const plugins::TokenizerSpec& spec,
                                       const std::vector<int64_t>& cells);

// Gene-embedding table [vocabSize, dim] from the training cells: row 1 + g holds gene g's
// loadings on the first `dim` principal components of the log-normalised `cells` (clipped
// at `clip`), scaled to standard deviation `scale`; the other rows (padding, CLS) are zero.
// For models whose config asks for gene_init = "pca": a cell's mean expression-weighted
// gene embedding then starts as its PCA projection.
torch::Tensor pcaGeneEmbeddings(const ModelData& data, const std::vector<int64_t>& cells, int64_t dim,
                                int64_t vocabSize, double scale, double clip, uint64_t seed);

// The batch builder for a model: dense log-normalised rows or the model's tokens, with
// pre-training masking when `masking` is set (seeded by `seed` and the epoch).
Collate makeCollate(const ModelData& data, const plugins::TokenizerSpec& spec, const nlohmann::json& config,
                    bool masking, uint64_t seed);

// The model's tokenizer over cells aligned to its `nGenes` genes (for "dense" specs, the
// log-normalised rows), with pre-training masking when `masking` is set.
tokenize::BatchTokenizer makeTokenizer(const plugins::TokenizerSpec& spec, int64_t nGenes, bool masking, uint64_t seed);

// A plugin model seen by the trainer: classification logits, or its pre-training losses.
class PluginTrainable : public TrainableModel {
 public:
  enum class Objective { Classify, Pretrain };
  PluginTrainable(std::shared_ptr<plugins::CellModel> model, Objective objective, bool headOnly = false)
      : model_(std::move(model)), objective_(objective), headOnly_(headOnly) {}
  torch::nn::Module& module() override { return *model_; }
  std::vector<torch::Tensor> trainableParameters() override;
  StepOutput forward(const tokenize::TokenBatch& batch) override;
  plugins::CellModel& model() { return *model_; }

 private:
  std::shared_ptr<plugins::CellModel> model_;
  Objective objective_;
  bool headOnly_;
};

}  // namespace cw::train
