#include "cellwright/train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include "cellwright/core/atomic_file.h"
#include "cellwright/compute/compat.h"
#include "cellwright/core/errors.h"

namespace cw::train {
namespace fs = std::filesystem;

namespace {

const std::string kModelPrefix = "model.";

void writeModel(torch::serialize::OutputArchive& archive, torch::nn::Module& model) {
  for (const auto& p : model.named_parameters()) archive.write(kModelPrefix + p.key(), p.value().detach().cpu());
  for (const auto& b : model.named_buffers()) archive.write(kModelPrefix + b.key(), b.value().cpu(), true);
}

at::Generator& cpuGenerator() {
  static at::Generator generator = at::detail::getDefaultCPUGenerator();
  return generator;
}

torch::Tensor readTensor(torch::serialize::InputArchive& archive, const std::string& key, const fs::path& path) {
  torch::Tensor t;
  if (!archive.try_read(key, t)) throw Error("checkpoint " + path.string() + " has no '" + key + "': not a Cellwright checkpoint?");
  return t;
}

c10::IValue readValue(torch::serialize::InputArchive& archive, const std::string& key, const fs::path& path) {
  c10::IValue v;
  if (!archive.try_read(key, v)) throw Error("checkpoint " + path.string() + " has no '" + key + "': not a Cellwright checkpoint?");
  return v;
}

torch::serialize::InputArchive openArchive(const fs::path& path) {
  if (!fs::exists(path)) throw Error("checkpoint not found: " + path.string());
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string(), torch::Device(torch::kCPU));
  } catch (const std::exception&) {
    throw Error("cannot read checkpoint " + path.string() + " (damaged, or written by another program)");
  }
  return archive;
}

}  // namespace

void saveCheckpoint(const fs::path& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                    const TrainingState& state) {
  torch::serialize::OutputArchive archive;
  writeModel(archive, model);
  if (optimizer) {
    torch::serialize::OutputArchive optimizerArchive;
    optimizer->save(optimizerArchive);
    archive.write("optimizer", optimizerArchive);
  }
  archive.write("state.format", c10::IValue(int64_t{1}));
  archive.write("state.epochs_done", c10::IValue(int64_t{state.epochsDone}));
  archive.write("state.step", c10::IValue(state.step));
  archive.write("state.micro_batch", c10::IValue(int64_t{state.microBatchSize}));
  archive.write("state.best_metric", c10::IValue(state.bestMetric));
  archive.write("state.best_epoch", c10::IValue(int64_t{state.bestEpoch}));
  archive.write("state.bad_epochs", c10::IValue(int64_t{state.epochsWithoutImprovement}));
  archive.write("state.loss_scale", c10::IValue(state.lossScale));
  archive.write("state.scaler_good_steps", c10::IValue(state.scalerGoodSteps));
  archive.write("state.history", c10::IValue(state.historyJson));
  {
    std::lock_guard<std::mutex> lock(cpuGenerator().mutex());
    archive.write("rng.cpu", cpuGenerator().get_state());
  }
  writeAtomically(path, [&](const fs::path& tmp) { archive.save_to(tmp.string()); });
}

TrainingState loadCheckpoint(const fs::path& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                             const torch::Device& device) {
  auto archive = openArchive(path);
  torch::NoGradGuard noGrad;
  for (auto& p : model.named_parameters()) {
    auto saved = readTensor(archive, kModelPrefix + p.key(), path);
    if (saved.sizes() != p.value().sizes())
      throw Error("checkpoint " + path.string() + " does not fit this model ('" + p.key() + "' has another shape)");
    p.value().copy_(saved);
  }
  for (auto& b : model.named_buffers()) {
    torch::Tensor saved;
    if (archive.try_read(kModelPrefix + b.key(), saved, true) && saved.sizes() == b.value().sizes()) b.value().copy_(saved);
  }
  if (optimizer) {
    torch::serialize::InputArchive optimizerArchive;
    if (!archive.try_read("optimizer", optimizerArchive))
      throw Error("checkpoint " + path.string() + " holds no optimiser state: it cannot be resumed");
    optimizer->load(optimizerArchive);
    // Optimiser state tensors load on the CPU; move them next to their parameters.
    for (auto& group : optimizer->param_groups())
      for (auto& p : group.params()) {
        auto it = optimizer->state().find(compat::optimizerStateKey(optimizer->state(), p));
        if (it == optimizer->state().end()) continue;
        if (auto* adam = dynamic_cast<torch::optim::AdamParamState*>(it->second.get())) {
          adam->exp_avg(adam->exp_avg().to(device));
          adam->exp_avg_sq(adam->exp_avg_sq().to(device));
          if (adam->max_exp_avg_sq().defined()) adam->max_exp_avg_sq(adam->max_exp_avg_sq().to(device));
        } else if (auto* adamw = dynamic_cast<torch::optim::AdamWParamState*>(it->second.get())) {
          adamw->exp_avg(adamw->exp_avg().to(device));
          adamw->exp_avg_sq(adamw->exp_avg_sq().to(device));
          if (adamw->max_exp_avg_sq().defined()) adamw->max_exp_avg_sq(adamw->max_exp_avg_sq().to(device));
        }
      }
  }
  TrainingState state;
  state.epochsDone = static_cast<int>(readValue(archive, "state.epochs_done", path).toInt());
  state.step = readValue(archive, "state.step", path).toInt();
  state.microBatchSize = static_cast<int>(readValue(archive, "state.micro_batch", path).toInt());
  state.bestMetric = readValue(archive, "state.best_metric", path).toDouble();
  state.bestEpoch = static_cast<int>(readValue(archive, "state.best_epoch", path).toInt());
  state.epochsWithoutImprovement = static_cast<int>(readValue(archive, "state.bad_epochs", path).toInt());
  state.lossScale = readValue(archive, "state.loss_scale", path).toDouble();
  state.scalerGoodSteps = readValue(archive, "state.scaler_good_steps", path).toInt();
  state.historyJson = readValue(archive, "state.history", path).toStringRef();
  auto rng = readTensor(archive, "rng.cpu", path);
  {
    std::lock_guard<std::mutex> lock(cpuGenerator().mutex());
    cpuGenerator().set_state(rng);
  }
  return state;
}

WeightLoadResult loadMatchingWeights(const fs::path& path, torch::nn::Module& model) {
  auto archive = openArchive(path);
  torch::NoGradGuard noGrad;
  WeightLoadResult result;
  auto copyIfFits = [&](const std::string& name, torch::Tensor& target, bool isBuffer) {
    torch::Tensor saved;
    if (archive.try_read(kModelPrefix + name, saved, isBuffer) && saved.sizes() == target.sizes()) {
      target.copy_(saved);
      ++result.loaded;
    } else {
      ++result.skipped;
    }
  };
  for (auto& p : model.named_parameters()) copyIfFits(p.key(), p.value(), false);
  for (auto& b : model.named_buffers()) copyIfFits(b.key(), b.value(), true);
  if (result.loaded == 0) throw Error("checkpoint " + path.string() + " shares no weights with this model (another model type?)");
  return result;
}

}  // namespace cw::train
