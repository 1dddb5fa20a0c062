#pragma once
// The model-agnostic training loop: one optimiser, a learning-rate schedule, gradient
// accumulation and clipping, early stopping, atomic best/last checkpoints with exact resume,
// cancel within one batch, out-of-memory recovery, NaN detection, mixed precision on CUDA and
// data parallelism. The pre-training and fine-tuning entry points build on it.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "cellwright/core/feedback.h"
#include "cellwright/tokenize/token_batch.h"
#include "cellwright/train/distributed.h"
#include "cellwright/train/schedule.h"

namespace cw::train {

// What a model returns for one batch. Self-supervised models fill `loss`; classifiers fill
// `logits` [B, classes] and the trainer computes the (optionally class-weighted) cross
// entropy against batch.labels. When both are set, `loss` is used and `logits` only feed
// accuracy.
struct StepOutput {
  torch::Tensor loss;
  torch::Tensor logits;
};

class TrainableModel {
 public:
  virtual ~TrainableModel() = default;
  virtual torch::nn::Module& module() = 0;
  // Parameters the optimiser updates (default: all that require grad).
  virtual std::vector<torch::Tensor> trainableParameters();
  virtual StepOutput forward(const tokenize::TokenBatch& batch) = 0;
};

// Builds a batch (on the CPU) for the given cells. Random masking must depend only on the
// cell and `epoch` (1-based while training; 0 for validation and inference), so batches are
// the same however cells are grouped into micro-batches or processes.
using Collate = std::function<tokenize::TokenBatch(const std::vector<int64_t>& cells, uint64_t epoch)>;

struct TrainingData {
  std::vector<int64_t> trainCells;
  std::vector<int64_t> validationCells;  // may be empty: no validation, the last epoch is "best"
  Collate collate;
  // The training cells' order in an epoch (1-based), a function of the epoch only; empty: a
  // shuffle by the trainer's seed. Data streamed from disk orders cells chunk by chunk.
  std::function<std::vector<int64_t>(int epoch)> trainOrder;
};

// Sgd: momentum 0.9, coupled L2 weight decay. Its implicit bias (towards the minimum-norm
// solution) suits the linear baseline: Adam spreads weight over rare genes, which hurts
// cross-study transfer (docs/models.md).
enum class OptimizerKind { Adam, AdamW, Sgd };
enum class Precision { Float32, BFloat16, Float16 };  // the last two on CUDA only
enum class Monitor { ValidationLoss, ValidationAccuracy };

struct TrainerOptions {
  int epochs = 10;
  int batchSize = 32;               // cells per optimiser step, summed over all processes
  int microBatchSize = 0;           // cells per forward pass per process; 0 = the whole share
  OptimizerKind optimizer = OptimizerKind::AdamW;
  double learningRate = 1e-3;
  double weightDecay = 0.01;
  double warmupFraction = 0.0;      // of all optimiser steps
  DecayKind decay = DecayKind::Linear;
  double finalLearningRateRatio = 0.0;
  double gradientClipNorm = 1.0;    // <= 0: no clipping
  std::vector<double> classWeights; // empty: unweighted cross entropy
  int patience = 0;                 // epochs without improvement before stopping; 0 = never stop early
  Monitor monitor = Monitor::ValidationLoss;
  Precision precision = Precision::Float32;
  std::string device = "cpu";       // "cpu", "cuda" or "cuda:N"
  uint64_t seed = 2022;
  std::filesystem::path checkpointDir;  // best.ckpt and last.ckpt go here; empty: none written
  bool resume = false;              // continue from checkpointDir/last.ckpt
  std::shared_ptr<Communicator> communicator;  // null: one process
  // Keep freed CPU tensor memory in malloc's heap for the run (cw::HeapMemoryScope) instead
  // of mapping big blocks anew each step: 6.5x faster CPU epochs on a VM (docs/models.md).
  bool reuseFreedMemory = true;
  // Fault injection for tests: raise an out-of-memory error / a NaN loss at this optimiser
  // step (0-based, counted over the whole run); -1 = never.
  int64_t debugOutOfMemoryAtStep = -1;
  int64_t debugNanLossAtStep = -1;
};

struct EpochRecord {
  int epoch = 0;  // 1-based
  double trainLoss = 0, trainAccuracy = std::numeric_limits<double>::quiet_NaN();
  double validationLoss = std::numeric_limits<double>::quiet_NaN();
  double validationAccuracy = std::numeric_limits<double>::quiet_NaN();
  double learningRate = 0, seconds = 0;
};

struct TrainerResult {
  std::vector<EpochRecord> history;  // every epoch of the run, including those before a resume
  int bestEpoch = 0;                 // 1-based; the model holds this epoch's weights on return
  int64_t steps = 0;                 // optimiser steps taken in total
  bool stoppedEarly = false;
  bool resumed = false;
  int finalMicroBatchSize = 0;       // after any out-of-memory halving
  std::vector<std::string> warnings;
};

// Trains `model` in place. On return the model holds the best epoch's weights. Throws
// cw::Canceled (last.ckpt keeps the last finished epoch), cw::Error on NaN/Inf loss or bad
// input. Only rank 0 writes checkpoints and reports progress.
TrainerResult trainModel(TrainableModel& model, const TrainingData& data, const TrainerOptions& options,
                         Feedback* feedback = nullptr);

// Mean loss and accuracy over `cells` without gradients (eval mode).
struct EvaluationResult {
  double loss = 0;
  double accuracy = std::numeric_limits<double>::quiet_NaN();
};
EvaluationResult evaluateLoss(TrainableModel& model, const std::vector<int64_t>& cells, const Collate& collate,
                              int batchSize, const TrainerOptions& options);

// The history as the contract's history.json: {"epochs": [{epoch, train_loss, ...}], "best_epoch"}.
std::string historyToJson(const TrainerResult& result);

// True for CUDA's (or an injected) out-of-memory error.
bool isOutOfMemoryError(const std::exception& error);

OptimizerKind parseOptimizerKind(const std::string& name);  // "adam" | "adamw" | "sgd"
Precision parsePrecision(const std::string& name);          // "fp32" | "bf16" | "fp16"
Monitor parseMonitor(const std::string& name);              // "val_loss" | "val_accuracy"

}  // namespace cw::train
