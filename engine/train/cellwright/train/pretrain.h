#pragma once
// Self-supervised pre-training (each model's own objective: MLM, BioFormer's four losses,
// CellPatch reconstruction) over one or several datasets, with a held-out share of cells
// for the validation loss, into a run folder that `finetune --init` starts from.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"
#include "cellwright/plugins/plugin_registry.h"
#include "cellwright/train/trainer.h"

namespace cw::train {

struct PretrainOptions {
  std::string model;                // a plugin with pre-training objectives
  std::string preset;               // "paper" | "small"; empty: paper on CUDA, small on CPU
  nlohmann::json config = nlohmann::json::object();  // overrides of the preset's config keys
  std::string labelKey;             // optional: labels for objectives that use them (BioFormer's ECS)
  std::string batchKey;             // optional: study codes (BioFormer's adversarial head);
                                    // without it, each input file is one study
  double validationFraction = 0.1;  // cells held out for the validation loss
  TrainerOptions trainer;
  std::filesystem::path runDir;
  bool force = false, resume = false;
  std::vector<std::string> dataDescriptions;  // one per dataset (paths), recorded in config.json
  plugins::PluginRegistry* registry = nullptr;
  // pretrainStreamed only: cells read from disk at once; chunks whose cells are shuffled
  // together; training cells sampled to choose highly variable genes (models that use them).
  int64_t streamCellsPerChunk = 1024;
  int64_t streamChunksPerWindow = 8;
  int64_t streamHvgSampleCells = 50000;
};

struct PretrainResult {
  TrainerResult training;
  std::string preset, device;
  int64_t cells = 0, genes = 0;
};

PretrainResult pretrain(const std::vector<const Dataset*>& datasets, const PretrainOptions& options,
                        Feedback* feedback = nullptr);

// The same over files left on disk (h5ad or 10x .h5, opened backed): each file is aligned
// to the model's genes chunk by chunk while training, so memory holds the obs/var tables
// and a few chunks whatever the corpus size. Cells are numbered and split as pretrain()
// numbers the files stacked in order (same split.json, same masking); each epoch visits
// the training cells chunk by chunk (chunks shuffled, cells shuffled within windows of
// chunks) instead of in one global shuffle. Highly variable genes come from a seeded
// sample of training cells.
PretrainResult pretrainStreamed(const std::vector<std::filesystem::path>& files, const PretrainOptions& options,
                                Feedback* feedback = nullptr);

// Rows of several matrices with the same columns, stacked.
CsrMatrix stackRows(const std::vector<const CsrMatrix*>& parts);

}  // namespace cw::train
