#pragma once
// Training checkpoints: model weights, optimiser state, the schedule position, RNG states and
// the trainer's bookkeeping, written atomically (temporary file, then rename) so a crash or
// cancel never leaves a half-written checkpoint.
#include <cstdint>
#include <filesystem>
#include <string>

#include <torch/torch.h>

namespace cw::train {

struct TrainingState {
  int epochsDone = 0;          // finished epochs
  int64_t step = 0;            // optimiser steps taken
  int microBatchSize = 0;      // after out-of-memory halving
  double bestMetric = 0;       // lower is better (accuracy is stored negated)
  int bestEpoch = 0;
  int epochsWithoutImprovement = 0;
  double lossScale = 65536.0;  // fp16 loss scaler
  int64_t scalerGoodSteps = 0;
  std::string historyJson = "[]";
};

// Writes model (parameters and buffers by name), optimiser (may be null), state and the
// CPU (and current CUDA) RNG states to `path` atomically.
void saveCheckpoint(const std::filesystem::path& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                    const TrainingState& state);

// Restores what saveCheckpoint wrote. Tensors are moved to `device`. Throws cw::Error for a
// missing or unreadable file, or when a parameter is missing or has the wrong shape.
TrainingState loadCheckpoint(const std::filesystem::path& path, torch::nn::Module& model,
                             torch::optim::Optimizer* optimizer, const torch::Device& device);

struct WeightLoadResult {
  int loaded = 0;   // tensors copied
  int skipped = 0;  // the module's tensors absent from the file or of another shape
};
// Copies the weights whose names and shapes match (fine-tuning from a pre-training run:
// the encoder loads, a new classification head stays as initialised).
WeightLoadResult loadMatchingWeights(const std::filesystem::path& path, torch::nn::Module& model);

}  // namespace cw::train
