// `pretrain --model M --data FILE[,FILE...] -o RUN ...`: self-supervised pre-training into a
// run folder that `finetune --init RUN` starts from.
#include <filesystem>
#include <iostream>

#include "cellwright/cli/cli.h"
#include "cellwright/cli/progress_printer.h"
#include "cellwright/compute/device.h"
#include "cellwright/core/strings.h"
#include "cellwright/io/readers.h"
#include "cellwright/plugins/builtin.h"
#include "cellwright/train/distributed.h"
#include "cellwright/train/finetune.h"
#include "cellwright/train/pretrain.h"

namespace cw::cli {
namespace {

// --stream auto: inputs that together take more than this on disk are streamed.
constexpr std::uintmax_t kStreamAboveBytes = std::uintmax_t{4} << 30;

bool streamInputs(const std::string& mode, const std::vector<std::string>& paths) {
  if (mode == "on") return true;
  if (mode == "off") return false;
  if (mode != "auto") throw UsageError("--stream expects auto, on or off");
  std::uintmax_t total = 0;
  for (const auto& path : paths) {
    const auto format = io::detectFormat(path);
    if (format != io::FileFormat::H5ad && format != io::FileFormat::TenxH5) return false;
    std::error_code ec;
    total += std::filesystem::file_size(path, ec);
  }
  return total > kStreamAboveBytes;
}

int runPretrain(const Args& args) {
  plugins::registerBuiltinPlugins();
  train::PretrainOptions o;
  o.model = args.value("--model");
  o.runDir = args.value("--output");
  o.force = args.flag("--force");
  o.resume = args.flag("--resume");
  if (o.force && o.resume) throw UsageError("--force and --resume exclude each other");
  o.preset = args.optional("--preset").value_or("");
  o.labelKey = args.optional("--label").value_or("");
  o.batchKey = args.optional("--batch-key").value_or("");
  o.validationFraction = args.number("--validation");
  if (auto config = args.optional("--config")) {
    try {
      o.config = nlohmann::json::parse(*config);
    } catch (const nlohmann::json::exception&) {
      throw UsageError("--config expects a JSON object");
    }
  }
  auto& t = o.trainer;
  t.device = args.value("--device");
  t.epochs = static_cast<int>(args.integer("--epochs"));
  t.batchSize = static_cast<int>(args.integer("--batch-size"));
  t.microBatchSize = static_cast<int>(args.integer("--micro-batch"));
  t.learningRate = args.number("--lr");
  t.weightDecay = args.number("--weight-decay");
  t.warmupFraction = args.number("--warmup");
  t.decay = train::parseDecayKind(args.value("--decay"));
  t.precision = train::parsePrecision(args.value("--precision"));
  t.gradientClipNorm = args.number("--clip");
  t.patience = static_cast<int>(args.integer("--patience"));
  t.seed = static_cast<uint64_t>(args.integer("--seed"));
  t.debugOutOfMemoryAtStep = args.integer("--debug-oom-at-step");
  const auto distributed = train::distributedOptionsFromEnvironment();
  if (distributed.worldSize > 1) {
    t.device = train::deviceForRank(resolveDevice(t.device), distributed);
    t.communicator = train::connectProcessGroup(distributed, t.device);
  }

  Feedback feedback;
  ProgressPrinter printer(feedback, false);
  for (const auto& path : splitString(args.value("--data"), ','))
    if (!path.empty()) o.dataDescriptions.push_back(path);
  const bool stream = streamInputs(args.value("--stream"), o.dataDescriptions);
  const auto device = resolveDevice(t.device);
  std::cerr << "preset: " << train::choosePreset(o.preset, device) << " (device " << device << ")"
            << (stream ? ", data streamed from disk" : "") << "\n";
  train::PretrainResult result;
  if (stream) {
    result = train::pretrainStreamed({o.dataDescriptions.begin(), o.dataDescriptions.end()}, o, &feedback);
  } else {
    std::vector<Dataset> datasets;
    std::vector<const Dataset*> pointers;
    for (const auto& path : o.dataDescriptions) datasets.push_back(io::readDataset(path, {}, &feedback).dataset);
    for (const auto& d : datasets) pointers.push_back(&d);
    result = train::pretrain(pointers, o, &feedback);
  }
  const auto& best = result.training.history.at(static_cast<size_t>(result.training.bestEpoch - 1));
  std::cerr << "best epoch " << result.training.bestEpoch << ": train loss " << best.trainLoss << ", val loss "
            << best.validationLoss << " -> " << o.runDir.string() << "\n";
  return 0;
}

Command makePretrainCommand() {
  Command c;
  c.name = "pretrain";
  c.summary = "self-supervised pre-training of a model into a run folder";
  c.usage = "--model M --data FILE[,FILE...] -o RUN [options]";
  c.options = {
      {"--model", true, "cellpatch, bioformer or screformer"},
      {"--data", true, "input files, comma-separated"},
      {"--output|-o", true, "run folder"},
      {"--label", true, "obs column with labels (BioFormer's ECS loss; optional)"},
      {"--batch-key", true, "obs column with the study (BioFormer's adversarial head; default: one study per file)"},
      {"--stream", true, "read the matrices from disk chunk by chunk instead of loading them: on, off, or auto "
                         "(h5ad/.h5 inputs larger than 4 GB together)", "auto"},
      {"--validation", true, "share of cells held out for the validation loss", "0.1"},
      {"--epochs", true, "training epochs", "10"},
      {"--batch-size", true, "cells per optimiser step", "32"},
      {"--micro-batch", true, "cells per forward pass (gradient accumulation); 0 = whole batch", "0"},
      {"--lr", true, "peak learning rate", "0.0001"},
      {"--weight-decay", true, "AdamW weight decay", "0.01"},
      {"--warmup", true, "share of steps with linear warm-up", "0.05"},
      {"--decay", true, "constant, linear or cosine", "cosine"},
      {"--precision", true, "fp32, bf16 or fp16 (CUDA only)", "fp32"},
      {"--clip", true, "gradient norm clip (0 = off)", "1.0"},
      {"--patience", true, "early stopping after N epochs without improvement (0 = off)", "0"},
      {"--config", true, "JSON object overriding model config keys"},
      {"--preset", true, "paper or small (default: paper on CUDA, small on CPU)"},
      {"--device", true, "cpu, cuda or auto", "auto"},
      {"--seed", true, "seed", "2022"},
      {"--resume", false, "continue the run in an existing folder"},
      {"--force", false, "replace an existing run folder"},
      {"--debug-oom-at-step", true, "testing: fake an out-of-memory error at this step", "-1"},
  };
  c.run = runPretrain;
  return c;
}

}  // namespace
CELLWRIGHT_REGISTER_COMMAND(makePretrainCommand);
}  // namespace cw::cli
