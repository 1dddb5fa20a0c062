// `finetune --model M --data FILE --label COL -o RUN ...`: supervised fine-tuning into a run
// folder with metrics.json on the test part (see ../shared/docs/cli-contract.md).
#include <cstdlib>
#include <iostream>

#include "cellwright/cli/cli.h"
#include "cellwright/cli/progress_printer.h"
#include "cellwright/compute/device.h"
#include "cellwright/core/errors.h"
#include "cellwright/core/strings.h"
#include "cellwright/io/readers.h"
#include "cellwright/plugins/builtin.h"
#include "cellwright/train/distributed.h"
#include "cellwright/train/finetune.h"

namespace cw::cli {
namespace {

train::SplitOptions parseFractions(const std::string& text) {
  const auto parts = splitString(text, ',');
  if (parts.size() != 3) throw UsageError("--split expects three fractions, e.g. 0.6,0.2,0.2");
  train::SplitOptions o;
  try {
    o.trainFraction = std::stod(parts[0]);
    o.validationFraction = std::stod(parts[1]);
    o.testFraction = std::stod(parts[2]);
  } catch (const std::exception&) {
    throw UsageError("--split expects three numbers, got '" + text + "'");
  }
  return o;
}

int runFineTune(const Args& args) {
  plugins::registerBuiltinPlugins();
  train::FineTuneOptions o;
  o.model = args.value("--model");
  o.labelKey = args.value("--label");
  o.runDir = args.value("--output");
  o.force = args.flag("--force");
  o.resume = args.flag("--resume");
  if (o.force && o.resume) throw UsageError("--force and --resume exclude each other");
  o.preset = args.optional("--preset").value_or("");
  if (auto init = args.optional("--init")) o.init = *init;
  o.headOnly = args.flag("--head-only");
  if (auto config = args.optional("--config")) {
    try {
      o.config = nlohmann::json::parse(*config);
    } catch (const nlohmann::json::exception&) {
      throw UsageError("--config expects a JSON object, e.g. '{\"hidden\": 128}'");
    }
  }
  const int splitModes = args.has("--split") + args.has("--split-file") + args.has("--cv") + args.has("--test-batch");
  if (splitModes > 1) throw UsageError("choose one of --split, --split-file, --cv and --batch-key/--test-batch");
  if (args.has("--split")) o.fractions = parseFractions(args.value("--split"));
  o.fractions.seed = static_cast<uint64_t>(args.integer("--seed"));
  if (args.has("--split-file")) {
    o.split = train::SplitMode::File;
    o.splitFile = args.value("--split-file");
  } else if (args.has("--cv")) {
    o.split = train::SplitMode::CrossValidation;
    o.folds = static_cast<int>(args.integer("--cv"));
  } else if (args.has("--test-batch")) {
    o.split = train::SplitMode::Batch;
    o.testBatch = args.value("--test-batch");
    if (!args.has("--batch-key")) throw UsageError("--test-batch needs --batch-key");
  }
  if (args.has("--batch-key")) o.batchKey = args.value("--batch-key");

  auto& t = o.trainer;
  t.device = args.value("--device");
  t.epochs = static_cast<int>(args.integer("--epochs"));
  t.batchSize = static_cast<int>(args.integer("--batch-size"));
  t.microBatchSize = static_cast<int>(args.integer("--micro-batch"));
  t.learningRate = args.number("--lr");
  t.weightDecay = args.number("--weight-decay");
  t.warmupFraction = args.number("--warmup");
  t.decay = train::parseDecayKind(args.value("--decay"));
  t.optimizer = train::parseOptimizerKind(args.value("--optimizer"));
  t.precision = train::parsePrecision(args.value("--precision"));
  t.gradientClipNorm = args.number("--clip");
  t.patience = static_cast<int>(args.integer("--patience"));
  t.monitor = train::parseMonitor(args.value("--monitor"));
  t.seed = static_cast<uint64_t>(args.integer("--seed"));
  t.debugOutOfMemoryAtStep = args.integer("--debug-oom-at-step");
  t.reuseFreedMemory = !args.has("--mapped-allocations");

  const auto distributed = train::distributedOptionsFromEnvironment();
  if (distributed.worldSize > 1) {
    t.device = train::deviceForRank(resolveDevice(t.device), distributed);
    t.communicator = train::connectProcessGroup(distributed, t.device);
  }

  Feedback feedback;
  ProgressPrinter printer(feedback, false);
  const std::string dataPath = args.value("--data");
  o.dataDescription = dataPath;
  auto read = io::readDataset(dataPath, {}, &feedback);
  const auto device = resolveDevice(t.device);
  std::cerr << "preset: " << train::choosePreset(o.preset, device) << " (device " << device << ")\n";
  auto result = train::fineTune(read.dataset, o, &feedback);
  if (!t.communicator || t.communicator->rank() == 0)
    std::cerr << "accuracy " << result.metrics["accuracy"].get<double>() << ", macro F1 "
              << result.metrics["macro_f1"].get<double>() << " -> " << o.runDir.string() << "/metrics.json\n";
  return 0;
}

Command makeFineTuneCommand() {
  Command c;
  c.name = "finetune";
  c.summary = "fine-tune a model for cell-type classification into a run folder";
  c.usage = "--model M --data FILE --label COL -o RUN [options]";
  c.options = {
      {"--model", true, "logreg, mlp, cellpatch, bioformer or screformer"},
      {"--data", true, "input file (h5ad or any supported format)"},
      {"--label", true, "obs column with the cell types"},
      {"--output|-o", true, "run folder"},
      {"--init", true, "pre-training run folder or checkpoint to start from"},
      {"--head-only", false, "train only the classification head"},
      {"--split", true, "train,validation,test fractions (stratified)", "0.6,0.2,0.2"},
      {"--split-file", true, "split.json with the cell names of each part"},
      {"--cv", true, "k-fold cross-validation: mean and sd over folds"},
      {"--batch-key", true, "obs column with the batch/study"},
      {"--test-batch", true, "train on the other batches, test on this one"},
      {"--epochs", true, "training epochs", "10"},
      {"--batch-size", true, "cells per optimiser step", "64"},
      {"--micro-batch", true, "cells per forward pass (gradient accumulation); 0 = whole batch", "0"},
      {"--lr", true, "peak learning rate", "0.001"},
      {"--weight-decay", true, "AdamW weight decay", "0.01"},
      {"--warmup", true, "share of steps with linear warm-up", "0.05"},
      {"--decay", true, "constant, linear or cosine", "cosine"},
      {"--optimizer", true, "adam, adamw or sgd (momentum 0.9)", "adamw"},
      {"--precision", true, "fp32, bf16 or fp16 (CUDA only)", "fp32"},
      {"--clip", true, "gradient norm clip (0 = off)", "1.0"},
      {"--patience", true, "early stopping after N epochs without improvement (0 = off)", "0"},
      {"--monitor", true, "val_loss or val_accuracy", "val_loss"},
      {"--config", true, "JSON object overriding model config keys"},
      {"--preset", true, "paper or small (default: paper on CUDA, small on CPU)"},
      {"--device", true, "cpu, cuda or auto", "auto"},
      {"--seed", true, "seed of the split and the training", "2022"},
      {"--resume", false, "continue the run in an existing folder"},
      {"--force", false, "replace an existing run folder"},
      {"--debug-oom-at-step", true, "testing: fake an out-of-memory error at this step", "-1"},
      {"--mapped-allocations", false, "benchmarking: malloc's defaults, big tensors mapped anew every step"},
  };
  c.run = runFineTune;
  return c;
}

}  // namespace
CELLWRIGHT_REGISTER_COMMAND(makeFineTuneCommand);
}  // namespace cw::cli
