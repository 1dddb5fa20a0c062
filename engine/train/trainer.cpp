#include "cellwright/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

// compat.h uses at::autocast without including its header in torch 1.13.
#include <ATen/autocast_mode.h>

#include "cellwright/compute/compat.h"
#include "cellwright/compute/heap_memory.h"
#include "cellwright/compute/optimizers.h"
#include "cellwright/core/errors.h"
#include "cellwright/train/checkpoint.h"
#include "cellwright/train/device_memory.h"

namespace cw::train {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::vector<torch::Tensor> TrainableModel::trainableParameters() {
  std::vector<torch::Tensor> params;
  for (auto& p : module().parameters())
    if (p.requires_grad()) params.push_back(p);
  return params;
}

bool isOutOfMemoryError(const std::exception& error) {
  const std::string what = error.what();
  return what.find("out of memory") != std::string::npos || what.find("CUDA error: out of memory") != std::string::npos;
}

OptimizerKind parseOptimizerKind(const std::string& name) {
  if (name == "adam") return OptimizerKind::Adam;
  if (name == "adamw") return OptimizerKind::AdamW;
  if (name == "sgd") return OptimizerKind::Sgd;
  throw Error("unknown optimiser '" + name + "' (use adam, adamw or sgd)");
}

Precision parsePrecision(const std::string& name) {
  if (name == "fp32") return Precision::Float32;
  if (name == "bf16") return Precision::BFloat16;
  if (name == "fp16") return Precision::Float16;
  throw Error("unknown precision '" + name + "' (use fp32, bf16 or fp16)");
}

Monitor parseMonitor(const std::string& name) {
  if (name == "val_loss") return Monitor::ValidationLoss;
  if (name == "val_accuracy") return Monitor::ValidationAccuracy;
  throw Error("unknown early-stopping metric '" + name + "' (use val_loss or val_accuracy)");
}

namespace {

nlohmann::json numberOrNull(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
double numberOrNaN(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : std::nan(""); }

nlohmann::json recordToJson(const EpochRecord& r) {
  return {{"epoch", r.epoch},
          {"train_loss", numberOrNull(r.trainLoss)},
          {"train_accuracy", numberOrNull(r.trainAccuracy)},
          {"val_loss", numberOrNull(r.validationLoss)},
          {"val_accuracy", numberOrNull(r.validationAccuracy)},
          {"learning_rate", r.learningRate},
          {"seconds", r.seconds}};
}

std::vector<EpochRecord> recordsFromJson(const std::string& text) {
  std::vector<EpochRecord> records;
  for (const auto& j : nlohmann::json::parse(text)) {
    EpochRecord r;
    r.epoch = j.at("epoch").get<int>();
    r.trainLoss = numberOrNaN(j.at("train_loss"));
    r.trainAccuracy = numberOrNaN(j.at("train_accuracy"));
    r.validationLoss = numberOrNaN(j.at("val_loss"));
    r.validationAccuracy = numberOrNaN(j.at("val_accuracy"));
    r.learningRate = j.at("learning_rate").get<double>();
    r.seconds = j.at("seconds").get<double>();
    records.push_back(r);
  }
  return records;
}

std::string recordsToJson(const std::vector<EpochRecord>& records) {
  auto j = nlohmann::json::array();
  for (const auto& r : records) j.push_back(recordToJson(r));
  return j.dump();
}

std::vector<int64_t> epochOrder(const std::vector<int64_t>& cells, uint64_t seed, int epoch) {
  std::vector<int64_t> order = cells;
  std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(epoch));
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

// Loss of one forward pass, and the numbers for accuracy.
struct LossParts {
  torch::Tensor loss;
  int64_t correct = 0, labelled = 0;
};

LossParts computeLoss(TrainableModel& model, const tokenize::TokenBatch& batch, const torch::Tensor& classWeights) {
  StepOutput out = model.forward(batch);
  LossParts parts;
  if (out.logits.defined() && batch.labels.defined()) {
    auto known = batch.labels >= 0;
    parts.labelled = known.sum().item<int64_t>();
    parts.correct = (out.logits.detach().argmax(-1).eq(batch.labels) & known).sum().item<int64_t>();
  }
  if (out.loss.defined()) {
    parts.loss = out.loss;
  } else if (out.logits.defined()) {
    if (!batch.labels.defined()) throw Error("a classification batch has no labels");
    auto opts = torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-1);
    if (classWeights.defined()) opts = opts.weight(classWeights);
    parts.loss = torch::nn::functional::cross_entropy(out.logits.to(torch::kFloat), batch.labels, opts);
  } else {
    throw Error("the model returned neither a loss nor logits");
  }
  return parts;
}

// Dynamic loss scaling for fp16 (as torch.cuda.amp.GradScaler).
struct LossScaler {
  bool enabled = false;
  double scale = 65536.0;
  int64_t goodSteps = 0;
  static constexpr int64_t kGrowthInterval = 2000;
  // Unscales gradients; false when any is non-finite (the step is then skipped).
  bool unscale(const std::vector<torch::Tensor>& params) {
    if (!enabled) return true;
    bool finite = true;
    for (const auto& p : params) {
      if (!p.grad().defined()) continue;
      p.mutable_grad().div_(scale);
      finite = finite && torch::isfinite(p.grad()).all().item<bool>();
    }
    if (!finite) {
      scale /= 2.0;
      goodSteps = 0;
    } else if (++goodSteps % kGrowthInterval == 0) {
      scale *= 2.0;
    }
    return finite;
  }
};

class Trainer {
 public:
  Trainer(TrainableModel& model, const TrainingData& data, const TrainerOptions& options, Feedback* feedback)
      : model_(model), data_(data), o_(options), feedback_(feedback), device_(options.device) {
    if (o_.epochs < 1) throw Error("the number of epochs must be at least 1");
    if (o_.batchSize < 1) throw Error("the batch size must be at least 1");
    if (data_.trainCells.empty()) throw Error("there are no training cells");
    if (!data_.collate) throw Error("no batch builder was given to the trainer");
    rank_ = o_.communicator ? o_.communicator->rank() : 0;
    worldSize_ = o_.communicator ? o_.communicator->worldSize() : 1;
    if (o_.batchSize < worldSize_) throw Error("the batch size must be at least the number of processes");
    const int share = (o_.batchSize + worldSize_ - 1) / worldSize_;
    microBatch_ = o_.microBatchSize > 0 ? std::min(o_.microBatchSize, share) : share;
    stepsPerEpoch_ = static_cast<int64_t>((data_.trainCells.size() + o_.batchSize - 1) / o_.batchSize);
    schedule_.peakLearningRate = o_.learningRate;
    schedule_.totalSteps = stepsPerEpoch_ * o_.epochs;
    schedule_.warmupSteps = static_cast<int64_t>(std::llround(o_.warmupFraction * schedule_.totalSteps));
    schedule_.decay = o_.decay;
    schedule_.finalRatio = o_.finalLearningRateRatio;
    autocast_ = device_.is_cuda() && o_.precision != Precision::Float32;
    scaler_.enabled = device_.is_cuda() && o_.precision == Precision::Float16;
    if (!o_.classWeights.empty())
      classWeights_ = torch::tensor(o_.classWeights, torch::kFloat).to(device_);
  }

  TrainerResult run() {
    model_.module().to(device_);
    params_ = model_.trainableParameters();
    if (params_.empty()) throw Error("the model has no trainable parameters");
    makeOptimizer();
    TrainingState state;
    state.microBatchSize = microBatch_;
    state.bestMetric = std::numeric_limits<double>::infinity();
    if (o_.resume) state = resumeState();
    else torch::manual_seed(o_.seed);
    microBatch_ = state.microBatchSize;
    scaler_.scale = state.lossScale;
    scaler_.goodSteps = state.scalerGoodSteps;
    result_.history = recordsFromJson(state.historyJson);
    result_.steps = state.step;
    if (!resumedBest_) bestWeights_ = snapshotWeights();  // replaced by the real best below

    for (int epoch = state.epochsDone + 1; epoch <= o_.epochs; ++epoch) {
      EpochRecord record = trainEpoch(epoch);
      model_.module().eval();
      if (!data_.validationCells.empty()) {
        auto v = evaluateLoss(model_, data_.validationCells, data_.collate, std::max(microBatch_, 1) * 2, o_);
        record.validationLoss = v.loss;
        record.validationAccuracy = v.accuracy;
      }
      result_.history.push_back(record);
      const double metric = monitoredValue(record);
      const bool improved = metric < state.bestMetric || state.bestEpoch == 0;
      if (improved) {
        state.bestMetric = metric;
        state.bestEpoch = epoch;
        state.epochsWithoutImprovement = 0;
        bestWeights_ = snapshotWeights();
      } else {
        ++state.epochsWithoutImprovement;
      }
      state.epochsDone = epoch;
      state.step = result_.steps;
      state.microBatchSize = microBatch_;
      state.lossScale = scaler_.scale;
      state.scalerGoodSteps = scaler_.goodSteps;
      state.historyJson = recordsToJson(result_.history);
      writeCheckpoints(state, improved);
      logEpoch(record);
      reportEpoch(record);
      if (o_.patience > 0 && state.epochsWithoutImprovement >= o_.patience && epoch < o_.epochs) {
        result_.stoppedEarly = true;
        info("early stopping after epoch " + std::to_string(epoch) + ": no improvement for " +
             std::to_string(o_.patience) + " epochs");
        break;
      }
    }
    restoreWeights(bestWeights_);
    result_.bestEpoch = state.bestEpoch;
    result_.finalMicroBatchSize = microBatch_;
    return std::move(result_);
  }

 private:
  void makeOptimizer() {
    if (o_.optimizer == OptimizerKind::AdamW)
      optimizer_ = compute::makeAdamW(params_, torch::optim::AdamWOptions(o_.learningRate).weight_decay(o_.weightDecay));
    else if (o_.optimizer == OptimizerKind::Sgd)
      optimizer_ = std::make_unique<torch::optim::SGD>(
          params_, torch::optim::SGDOptions(o_.learningRate).momentum(0.9).weight_decay(o_.weightDecay));
    else
      optimizer_ = std::make_unique<torch::optim::Adam>(
          params_, torch::optim::AdamOptions(o_.learningRate).weight_decay(o_.weightDecay));
  }

  TrainingState resumeState() {
    if (o_.checkpointDir.empty()) throw Error("cannot resume: no checkpoint folder was given");
    const auto last = o_.checkpointDir / "last.ckpt";
    if (!fs::exists(last)) throw Error("cannot resume: " + last.string() + " does not exist (the run never finished an epoch)");
    auto state = loadCheckpoint(last, model_.module(), optimizer_.get(), device_);
    result_.resumed = true;
    info("resuming after epoch " + std::to_string(state.epochsDone) + " (step " + std::to_string(state.step) + ")");
    if (state.bestEpoch > 0 && fs::exists(o_.checkpointDir / "best.ckpt")) {
      // The best weights so far live in best.ckpt; read them without touching the RNG or optimiser.
      auto current = snapshotWeights();
      loadMatchingWeights(o_.checkpointDir / "best.ckpt", model_.module());
      bestWeights_ = snapshotWeights();
      restoreWeights(current);
      resumedBest_ = true;
    }
    return state;
  }

  double monitoredValue(const EpochRecord& r) const {
    if (data_.validationCells.empty()) return r.trainLoss;
    if (o_.monitor == Monitor::ValidationAccuracy && std::isfinite(r.validationAccuracy)) return -r.validationAccuracy;
    return r.validationLoss;
  }

  EpochRecord trainEpoch(int epoch) {
    model_.module().train();
    const auto order = data_.trainOrder ? data_.trainOrder(epoch) : epochOrder(data_.trainCells, o_.seed, epoch);
    if (order.size() != data_.trainCells.size()) throw Error("the training order does not cover the training cells");
    EpochRecord record;
    record.epoch = epoch;
    double lossSum = 0;
    int64_t cellsSeen = 0, correct = 0, labelled = 0;
    const auto start = Clock::now();
    for (int64_t b = 0; b < stepsPerEpoch_; ++b) {
      if (feedback_) feedback_->throwIfCanceled();
      const size_t begin = static_cast<size_t>(b) * o_.batchSize;
      const size_t end = std::min(order.size(), begin + o_.batchSize);
      std::vector<int64_t> global(order.begin() + begin, order.begin() + end);
      const double lr = learningRateAt(result_.steps, schedule_);
      for (auto& group : optimizer_->param_groups()) group.options().set_lr(lr);
      auto step = optimizerStep(global, static_cast<uint64_t>(epoch));
      lossSum += step.lossSum;
      cellsSeen += static_cast<int64_t>(global.size());
      correct += step.correct;
      labelled += step.labelled;
      ++result_.steps;
      record.learningRate = lr;
      reportProgress(epoch, b, lossSum / static_cast<double>(cellsSeen), cellsSeen, start);
    }
    record.trainLoss = lossSum / static_cast<double>(std::max<int64_t>(cellsSeen, 1));
    if (labelled > 0) record.trainAccuracy = static_cast<double>(correct) / static_cast<double>(labelled);
    record.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return record;
  }

  struct StepTotals {
    double lossSum = 0;  // sum over the global batch's cells of their loss (all ranks)
    int64_t correct = 0, labelled = 0;
  };

  // One optimiser step over a global batch: this process's share in micro-batches, gradients
  // summed across processes, clipped, applied. Retries with half the micro-batch on OOM.
  StepTotals optimizerStep(const std::vector<int64_t>& global, uint64_t epoch) {
    const auto local = shardForRank(global, rank_, worldSize_);
    const double globalCount = static_cast<double>(global.size());
    for (;;) {
      try {
        return accumulateAndStep(local, globalCount, epoch);
      } catch (const Canceled&) {
        throw;
      } catch (const Error&) {
        throw;
      } catch (const std::exception& e) {
        if (!isOutOfMemoryError(e) || microBatch_ <= 1) throw;
        optimizer_->zero_grad();
        microBatch_ = std::max(1, microBatch_ / 2);
        const std::string message = "out of memory at step " + std::to_string(result_.steps) +
                                    ": micro-batch halved to " + std::to_string(microBatch_) +
                                    " cells (gradient accumulation keeps the batch at " +
                                    std::to_string(o_.batchSize) + ")";
        result_.warnings.push_back(message);
        if (feedback_) feedback_->warning(message);
        releaseCachedDeviceMemory(device_);
      }
    }
  }

  StepTotals accumulateAndStep(const std::vector<int64_t>& local, double globalCount, uint64_t epoch) {
    optimizer_->zero_grad();
    StepTotals totals;
    for (size_t begin = 0; begin < local.size(); begin += static_cast<size_t>(microBatch_)) {
      if (result_.steps == o_.debugOutOfMemoryAtStep && !oomInjected_ && microBatch_ > 1) {
        oomInjected_ = true;
        throw std::runtime_error("CUDA out of memory (injected by the debug option at step " +
                                 std::to_string(result_.steps) + ")");
      }
      const size_t end = std::min(local.size(), begin + static_cast<size_t>(microBatch_));
      std::vector<int64_t> cells(local.begin() + begin, local.begin() + end);
      auto batch = data_.collate(cells, epoch).to(device_, true);
      LossParts parts;
      {
        compat::AutocastGuard autocast(device_.type(),
                                       o_.precision == Precision::BFloat16 ? torch::kBFloat16 : torch::kHalf, autocast_);
        parts = computeLoss(model_, batch, classWeights_);
      }
      double value = parts.loss.item<double>();
      if (result_.steps == o_.debugNanLossAtStep) value = std::nan("");
      if (!std::isfinite(value)) throw Error(nonFiniteMessage(value));
      const double weight = static_cast<double>(cells.size()) / globalCount;
      auto scaled = parts.loss * weight;
      if (scaler_.enabled) scaled = scaled * scaler_.scale;
      scaled.backward();
      totals.lossSum += value * static_cast<double>(cells.size());
      totals.correct += parts.correct;
      totals.labelled += parts.labelled;
    }
    if (o_.communicator) {
      allReduceGradients(params_, *o_.communicator);
      auto counts = torch::tensor({totals.lossSum, static_cast<double>(totals.correct), static_cast<double>(totals.labelled)},
                                  torch::kDouble);
      if (device_.is_cuda()) counts = counts.to(device_);
      o_.communicator->allReduceSum(counts);
      counts = counts.cpu();
      totals.lossSum = counts[0].item<double>();
      totals.correct = static_cast<int64_t>(counts[1].item<double>());
      totals.labelled = static_cast<int64_t>(counts[2].item<double>());
    }
    if (scaler_.unscale(params_)) {
      if (o_.gradientClipNorm > 0) compute::clipGradientNorm(params_, o_.gradientClipNorm);
      optimizer_->step();
    } else {
      info("fp16 gradients overflowed: step skipped, loss scale lowered to " + std::to_string(scaler_.scale));
    }
    return totals;
  }

  std::string nonFiniteMessage(double value) const {
    std::ostringstream s;
    s << "training stopped: the loss became " << (std::isnan(value) ? "NaN" : "infinite") << " at step "
      << result_.steps << " (try a lower learning rate";
    if (o_.precision == Precision::Float16) s << " or bf16/fp32 precision";
    s << ")";
    if (!o_.checkpointDir.empty()) s << "; the last good checkpoint is kept in " << o_.checkpointDir.string();
    return s.str();
  }

  void writeCheckpoints(const TrainingState& state, bool improved) {
    if (o_.checkpointDir.empty() || rank_ != 0) return;
    saveCheckpoint(o_.checkpointDir / "last.ckpt", model_.module(), optimizer_.get(), state);
    if (improved) saveCheckpoint(o_.checkpointDir / "best.ckpt", model_.module(), nullptr, state);
  }

  std::vector<torch::Tensor> snapshotWeights() {
    std::vector<torch::Tensor> copy;
    for (auto& p : model_.module().parameters()) copy.push_back(p.detach().clone());
    for (auto& b : model_.module().buffers()) copy.push_back(b.detach().clone());
    return copy;
  }

  void restoreWeights(const std::vector<torch::Tensor>& copy) {
    torch::NoGradGuard noGrad;
    size_t i = 0;
    for (auto& p : model_.module().parameters()) p.copy_(copy[i++]);
    for (auto& b : model_.module().buffers()) b.copy_(copy[i++]);
  }

  void reportProgress(int epoch, int64_t batch, double meanLoss, int64_t cells, Clock::time_point start) {
    if (!feedback_ || rank_ != 0) return;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const double cellsPerSecond = elapsed > 0 ? static_cast<double>(cells) / elapsed : 0.0;
    const int64_t total = stepsPerEpoch_ * o_.epochs;
    const double stepsLeft = static_cast<double>(total - result_.steps);
    Progress p;
    p.fraction = static_cast<double>(result_.steps) / static_cast<double>(total);
    p.stage = "epoch " + std::to_string(epoch) + "/" + std::to_string(o_.epochs);
    p.values = {{"epoch", epoch},
                {"step", static_cast<double>(result_.steps)},
                {"batch", static_cast<double>(batch + 1)},
                {"loss", meanLoss},
                {"learning_rate", learningRateAt(result_.steps - 1, schedule_)},
                {"cells_per_s", cellsPerSecond * worldSize_},
                {"eta_s", batch >= 0 && elapsed > 0 ? stepsLeft * elapsed / static_cast<double>(batch + 1) : 0.0}};
    const double memory = deviceMemoryGib(device_);
    if (memory >= 0) p.values["device_memory_gib"] = memory;
    feedback_->report(p);
  }

  // The epoch's summary as progress values, for live curves (no "loss" key: that is the
  // running loss of reportProgress); values that are not defined are left out.
  void reportEpoch(const EpochRecord& r) {
    if (!feedback_ || rank_ != 0) return;
    Progress p;
    p.fraction = static_cast<double>(result_.steps) / static_cast<double>(stepsPerEpoch_ * o_.epochs);
    p.stage = "epoch " + std::to_string(r.epoch) + "/" + std::to_string(o_.epochs) + " done";
    p.values["epoch"] = r.epoch;
    p.values["epoch_done"] = r.epoch;
    p.values["epochs"] = o_.epochs;
    const std::pair<const char*, double> values[] = {{"train_loss", r.trainLoss}, {"train_acc", r.trainAccuracy},
                                                     {"val_loss", r.validationLoss}, {"val_acc", r.validationAccuracy}};
    for (const auto& [key, value] : values)
      if (std::isfinite(value)) p.values[key] = value;
    feedback_->report(p);
  }

  void logEpoch(const EpochRecord& r) {
    std::ostringstream s;
    s.precision(4);
    s << "epoch " << r.epoch << "/" << o_.epochs << ": train loss " << r.trainLoss;
    if (std::isfinite(r.trainAccuracy)) s << ", train acc " << r.trainAccuracy;
    if (std::isfinite(r.validationLoss)) s << ", val loss " << r.validationLoss;
    if (std::isfinite(r.validationAccuracy)) s << ", val acc " << r.validationAccuracy;
    s << ", lr " << r.learningRate << ", " << r.seconds << " s";
    info(s.str());
  }

  void info(const std::string& message) {
    if (feedback_ && rank_ == 0) feedback_->info(message);
  }

  TrainableModel& model_;
  const TrainingData& data_;
  TrainerOptions o_;
  Feedback* feedback_;
  torch::Device device_;
  int rank_ = 0, worldSize_ = 1;
  int microBatch_ = 1;
  int64_t stepsPerEpoch_ = 1;
  ScheduleOptions schedule_;
  bool autocast_ = false;
  bool oomInjected_ = false;
  bool resumedBest_ = false;
  LossScaler scaler_;
  torch::Tensor classWeights_;
  std::vector<torch::Tensor> params_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::vector<torch::Tensor> bestWeights_;
  TrainerResult result_;
};

}  // namespace

TrainerResult trainModel(TrainableModel& model, const TrainingData& data, const TrainerOptions& options,
                         Feedback* feedback) {
  std::optional<HeapMemoryScope> heapMemory;
  if (options.reuseFreedMemory) heapMemory.emplace();
  Trainer trainer(model, data, options, feedback);
  return trainer.run();
}

EvaluationResult evaluateLoss(TrainableModel& model, const std::vector<int64_t>& cells, const Collate& collate,
                              int batchSize, const TrainerOptions& options) {
  torch::NoGradGuard noGrad;
  model.module().eval();
  const torch::Device device(options.device);
  torch::Tensor weights;
  if (!options.classWeights.empty()) weights = torch::tensor(options.classWeights, torch::kFloat).to(device);
  const bool autocast = device.is_cuda() && options.precision != Precision::Float32;
  double lossSum = 0;
  int64_t correct = 0, labelled = 0;
  batchSize = std::max(batchSize, 1);
  for (size_t begin = 0; begin < cells.size(); begin += static_cast<size_t>(batchSize)) {
    const size_t end = std::min(cells.size(), begin + static_cast<size_t>(batchSize));
    std::vector<int64_t> part(cells.begin() + begin, cells.begin() + end);
    auto batch = collate(part, 0).to(device, true);
    compat::AutocastGuard guard(device.type(),
                                options.precision == Precision::BFloat16 ? torch::kBFloat16 : torch::kHalf, autocast);
    auto parts = computeLoss(model, batch, weights);
    lossSum += parts.loss.item<double>() * static_cast<double>(part.size());
    correct += parts.correct;
    labelled += parts.labelled;
  }
  EvaluationResult result;
  result.loss = cells.empty() ? std::nan("") : lossSum / static_cast<double>(cells.size());
  if (labelled > 0) result.accuracy = static_cast<double>(correct) / static_cast<double>(labelled);
  return result;
}

std::string historyToJson(const TrainerResult& result) {
  nlohmann::json j;
  j["epochs"] = nlohmann::json::array();
  for (const auto& r : result.history) j["epochs"].push_back(recordToJson(r));
  j["best_epoch"] = result.bestEpoch;
  j["stopped_early"] = result.stoppedEarly;
  return j.dump(2);
}

}  // namespace cw::train
