#pragma once
// Inference with a trained run: class probabilities, predictions with a confidence
// threshold ("Unassigned" below it), and cell embeddings, batched.
#include <filesystem>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"
#include "cellwright/plugins/plugin_registry.h"
#include "cellwright/train/trainer.h"

namespace cw::train {

inline constexpr const char* kUnassigned = "Unassigned";

struct InferenceOutput {
  torch::Tensor probabilities;  // [cells, classes] float32, CPU
  torch::Tensor embedding;      // [cells, dim] float32, CPU; undefined unless asked for
};
// Runs `model` (eval mode, no gradients) over `cells` in batches of `batchSize`, with freed
// tensor memory kept in malloc's heap meanwhile (cw::HeapMemoryScope).
InferenceOutput runInference(plugins::CellModel& model, const std::vector<int64_t>& cells, const Collate& collate,
                             const std::string& device, int batchSize, bool withEmbedding, Feedback* feedback = nullptr);

struct PredictOptions {
  std::filesystem::path runDir;      // a fine-tuning run folder
  double minConfidence = 0.0;        // cells whose top probability is below get "Unassigned"
  int batchSize = 256;
  std::string device = "auto";
  bool withEmbedding = true;         // for models that have a cell embedding (not logreg)
  plugins::PluginRegistry* registry = nullptr;  // null: the global registry
};

struct PredictResult {
  std::string modelName;
  std::vector<std::string> classes;      // columns of `probabilities`
  std::vector<std::string> predictions;  // per cell: a class or "Unassigned"
  std::vector<double> confidence;        // per cell: top probability
  DenseMatrix probabilities;             // cells × classes
  DenseMatrix embedding;                 // cells × dim; empty (0 × 0) when the model has none
  std::string alignmentSummary;          // how the data's genes met the model's
};

// Throws cw::Error when the run folder is incomplete or the data shares no genes with it.
PredictResult predict(const Dataset& dataset, const PredictOptions& options, Feedback* feedback = nullptr);

// Writes the contract's keys into `dataset`: obs['cw_pred'] (categorical: the classes in
// order, then "Unassigned" when used), obs['cw_confidence'], obsm['cw_proba'],
// uns['cw_classes'], and obsm['X_cw_<model>'] when there is an embedding.
void annotateDataset(Dataset& dataset, const PredictResult& result);

// CSV: cell, prediction, confidence, then one probability column per class.
std::string predictionsToCsv(const Dataset& dataset, const PredictResult& result);

}  // namespace cw::train
