#include "cellwright/train/finetune.h"

#include <cmath>
#include <numeric>
#include <sstream>

#include "cellwright/analysis/classification_metrics.h"
#include "cellwright/compute/device.h"
#include "cellwright/core/atomic_file.h"
#include "cellwright/core/errors.h"
#include "cellwright/plugins/checkpoint.h"
#include "cellwright/train/checkpoint.h"
#include "cellwright/train/model_data.h"
#include "cellwright/train/predict.h"
#include "cellwright/train/run_folder.h"

namespace cw::train {
namespace fs = std::filesystem;

std::string choosePreset(const std::string& requested, const std::string& device) {
  if (requested.empty() || requested == "auto") return device.rfind("cuda", 0) == 0 ? "paper" : "small";
  if (requested != "paper" && requested != "small")
    throw Error("unknown preset '" + requested + "' (use paper or small)");
  return requested;
}

namespace {

struct Part {
  std::string name;  // "" or "fold1" ...
  SplitResult split;
};

struct InitSource {
  fs::path checkpoint;
  nlohmann::json runConfig;  // empty when a bare checkpoint was given
  fs::path genesFile;
};

InitSource resolveInit(const fs::path& init) {
  InitSource s;
  if (fs::is_directory(init)) {
    s.checkpoint = init / "checkpoints" / "best.ckpt";
    if (!fs::exists(init / "config.json") || !fs::exists(s.checkpoint))
      throw Error("--init " + init.string() + " is not a finished Cellwright run (no config.json or checkpoints/best.ckpt)");
    s.runConfig = readJsonFile(init / "config.json");
    s.genesFile = init / "genes.txt";
  } else if (fs::exists(init)) {
    s.checkpoint = init;
    const auto run = init.parent_path().parent_path();  // RUN/checkpoints/x.ckpt
    if (fs::exists(run / "config.json")) {
      s.runConfig = readJsonFile(run / "config.json");
      s.genesFile = run / "genes.txt";
    }
  } else {
    throw Error("--init " + init.string() + " does not exist");
  }
  return s;
}

bool rankIsZero(const TrainerOptions& t) { return !t.communicator || t.communicator->rank() == 0; }

std::vector<int> asInt(const std::vector<int64_t>& codes) { return {codes.begin(), codes.end()}; }

nlohmann::json trainerToJson(const TrainerOptions& t) {
  return {{"epochs", t.epochs},
          {"batch_size", t.batchSize},
          {"micro_batch_size", t.microBatchSize},
          {"optimizer", t.optimizer == OptimizerKind::AdamW ? "adamw" : t.optimizer == OptimizerKind::Sgd ? "sgd" : "adam"},
          {"learning_rate", t.learningRate},
          {"weight_decay", t.weightDecay},
          {"warmup_fraction", t.warmupFraction},
          {"decay", t.decay == DecayKind::Cosine ? "cosine" : t.decay == DecayKind::Linear ? "linear" : "constant"},
          {"gradient_clip_norm", t.gradientClipNorm},
          {"patience", t.patience},
          {"monitor", t.monitor == Monitor::ValidationAccuracy ? "val_accuracy" : "val_loss"},
          {"precision", t.precision == Precision::BFloat16 ? "bf16" : t.precision == Precision::Float16 ? "fp16" : "fp32"},
          {"seed", t.seed}};
}

double mean(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }
double sampleSd(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

}  // namespace

FineTuneResult fineTune(const Dataset& dataset, const FineTuneOptions& options, Feedback* feedback) {
  if (options.runDir.empty()) throw Error("no run folder was given");
  auto& registry = options.registry ? *options.registry : plugins::PluginRegistry::global();
  const auto& plugin = registry.plugin(options.model);
  FineTuneResult result;
  result.device = resolveDevice(options.trainer.device.empty() ? "auto" : options.trainer.device);
  result.preset = choosePreset(options.preset, result.device);

  // Everything that can fail on bad input is checked before the run folder is touched.
  const auto labels = labelCodes(dataset, options.labelKey);
  if (labels.names.size() < 2) throw Error("column '" + options.labelKey + "' has fewer than 2 labels: nothing to classify");
  const auto codes = asInt(labels.codes);
  std::vector<Part> parts;
  nlohmann::json splitJson = nlohmann::json::object();
  std::vector<std::string> batchValues;
  switch (options.split) {
    case SplitMode::Random:
      parts.push_back({"", stratifiedSplit(codes, options.fractions)});
      break;
    case SplitMode::File:
      parts.push_back({"", splitFromJson(readTextFile(options.splitFile), dataset.obs.index)});
      break;
    case SplitMode::CrossValidation: {
      const auto folds = stratifiedFolds(codes, options.folds, options.fractions.seed);
      for (int f = 0; f < options.folds; ++f) {
        Part p{"fold" + std::to_string(f + 1), {}};
        p.split.test = folds[f];
        p.split.validation = folds[(f + 1) % options.folds];
        for (int g = 0; g < options.folds; ++g)
          if (g != f && g != (f + 1) % options.folds) p.split.train.insert(p.split.train.end(), folds[g].begin(), folds[g].end());
        std::sort(p.split.train.begin(), p.split.train.end());
        parts.push_back(std::move(p));
      }
      break;
    }
    case SplitMode::Batch: {
      if (options.batchKey.empty() || options.testBatch.empty()) throw Error("a batch split needs --batch-key and --test-batch");
      const auto& column = dataset.obs.at(options.batchKey);
      for (size_t i = 0; i < column.size(); ++i) batchValues.push_back(column.valueAsString(i));
      auto b = batchSplit(codes, batchValues, options.testBatch, options.fractions.validationFraction, options.fractions.seed);
      for (int code : b.excludedLabels) result.excludedLabels.push_back(labels.names[code]);
      for (int code : b.excludedTrainLabels) result.excludedTrainLabels.push_back(labels.names[code]);
      parts.push_back({"", b.split});
      splitJson["train_batches"] = b.trainBatches;
      break;
    }
  }
  for (const auto& p : parts)
    if (p.split.train.empty() || p.split.test.empty())
      throw Error("the split leaves no " + std::string(p.split.train.empty() ? "training" : "test") + " cells");

  InitSource init;
  nlohmann::json modelConfig;
  if (!options.init.empty()) {
    init = resolveInit(options.init);
    if (!init.runConfig.is_null()) {
      if (init.runConfig.value("model", options.model) != options.model)
        throw Error("--init holds a '" + init.runConfig.value("model", std::string()) + "' model, not '" + options.model + "'");
      modelConfig = init.runConfig.at("model_config");
    }
  }
  if (modelConfig.is_null()) {
    modelConfig = plugin.defaultConfig(result.preset);
    for (auto it = options.config.begin(); it != options.config.end(); ++it) modelConfig[it.key()] = it.value();
  }
  modelConfig = plugin.normalizeConfig(modelConfig);
  const auto spec = plugin.tokenizerSpec(modelConfig);

  // With several processes, rank 0 writes the run folder; the others only train.
  const bool writer = rankIsZero(options.trainer);
  if (writer) prepareRunFolder(options.runDir, {options.force, options.resume});
  RunFeedback run(writer ? options.runDir / "log.txt" : fs::path(), feedback);
  run.info("fine-tuning " + options.model + " (preset " + result.preset + ") on " + result.device + ", label '" +
           options.labelKey + "', " + std::to_string(labels.names.size()) + " classes");
  if (!result.excludedLabels.empty()) {
    std::string list;
    for (const auto& l : result.excludedLabels) list += (list.empty() ? "" : ", ") + l;
    run.get()->warning("labels of the test batch absent from training, left out of the test: " + list);
  }
  if (!result.excludedTrainLabels.empty()) {
    std::string list;
    for (const auto& l : result.excludedTrainLabels) list += (list.empty() ? "" : ", ") + l;
    run.get()->warning("labels of the training batches absent from the test batch, left out of training: " + list);
  }

  const auto genes = !init.genesFile.empty() ? preprocess::GeneVocabulary::load(init.genesFile)
                                             : chooseGenes(dataset, spec, parts.front().split.train);
  if (writer) genes.save(options.runDir / "genes.txt");
  auto data = alignDataset(dataset, genes);
  data.labels = labels.codes;
  run.info("genes: " + data.alignmentSummary);
  plugins::ModelShape shape;
  shape.nGenes = genes.size();
  shape.vocabSize = genes.size() + 2;  // ids 1..n are genes, 0 padding, n+1 CLS
  shape.nClasses = static_cast<int64_t>(labels.names.size());
  if (!options.batchKey.empty() && dataset.obs.has(options.batchKey)) {
    auto studies = labelCodes(dataset, options.batchKey);
    data.studies = studies.codes;
    shape.nStudies = static_cast<int64_t>(studies.names.size());
  }
  const auto collate = makeCollate(data, spec, modelConfig, false, options.trainer.seed);

  // The record of the run, written before training so a resumed or crashed run explains itself.
  nlohmann::json config = {{"command", "finetune"},
                           {"model", options.model},
                           {"preset", result.preset},
                           {"model_config", modelConfig},
                           {"shape", shape.toJson()},
                           {"classes", labels.names},
                           {"label_key", options.labelKey},
                           {"device", result.device},
                           {"trainer", trainerToJson(options.trainer)},
                           {"head_only", options.headOnly},
                           {"init", options.init.string()},
                           {"data", options.dataDescription}};
  const char* modeNames[] = {"random", "file", "cv", "batch"};
  config["split"] = {{"mode", modeNames[static_cast<int>(options.split)]},
                     {"fractions", {options.fractions.trainFraction, options.fractions.validationFraction, options.fractions.testFraction}},
                     {"seed", options.fractions.seed}};
  if (options.split == SplitMode::CrossValidation) config["split"]["folds"] = options.folds;
  if (options.split == SplitMode::Batch) config["split"].update({{"batch_key", options.batchKey}, {"test_batch", options.testBatch}});
  if (writer) writeJsonFile(options.runDir / "config.json", config);
  if (writer && parts.size() == 1) {
    auto j = nlohmann::json::parse(splitToJson(parts[0].split, dataset.obs.index));
    j.update(splitJson);
    writeJsonFile(options.runDir / "split.json", j);
  } else if (writer) {
    nlohmann::json folds = nlohmann::json::array();
    for (const auto& p : parts) folds.push_back(nlohmann::json::parse(splitToJson(p.split, dataset.obs.index)));
    writeJsonFile(options.runDir / "split.json", {{"folds", folds}});
  }

  std::vector<nlohmann::json> foldMetrics, foldHistories;
  std::vector<int> pooledTruth, pooledPredicted;
  DenseMatrix pooledProbabilities;
  pooledProbabilities.cols = shape.nClasses;
  std::ostringstream csv;
  csv.precision(6);
  csv << "cell,truth,prediction,confidence" << (parts.size() > 1 ? ",fold" : "") << "\n";
  double bestFoldLoss = std::numeric_limits<double>::infinity();
  for (const auto& part : parts) {
    run.throwIfCanceled();
    if (!part.name.empty()) run.info(part.name + ": " + std::to_string(part.split.train.size()) + " train, " +
                                     std::to_string(part.split.test.size()) + " test cells");
    torch::manual_seed(options.trainer.seed);
    auto model = registry.makeModel(options.model, modelConfig, shape);
    if (!init.checkpoint.empty()) {
      auto loaded = loadMatchingWeights(init.checkpoint, *model);
      run.info("initialised " + std::to_string(loaded.loaded) + " tensors from " + init.checkpoint.string() + " (" +
               std::to_string(loaded.skipped) + " new, e.g. the classification head)");
    }
    const auto params = model->named_parameters();
    const auto* geneTable = params.find("gene_embedding.weight");
    if (init.checkpoint.empty() && modelConfig.value("gene_init", std::string()) == "pca" && geneTable &&
        model->acceptsGeneEmbeddings()) {
      // Data-driven start for models that ask for it: the training cells' PCA loadings.
      const int64_t dim = geneTable->size(1);
      model->setGeneEmbeddings(pcaGeneEmbeddings(data, part.split.train, dim, shape.vocabSize,
                                                 modelConfig.value("gene_init_std", 1.0), spec.clipValue > 0 ? spec.clipValue : 1e9,
                                                 options.trainer.seed),
                               false);
      run.info("gene embeddings initialised from the PCA loadings of the training cells");
    }
    PluginTrainable trainable(model, PluginTrainable::Objective::Classify, options.headOnly);
    TrainerOptions t = options.trainer;
    t.device = result.device;
    t.checkpointDir = options.runDir / "checkpoints" / part.name;
    t.resume = options.resume && fs::exists(t.checkpointDir / "last.ckpt");
    TrainingData trainingData{part.split.train, part.split.validation, collate};
    result.training = trainModel(trainable, trainingData, t, run.get());
    foldHistories.push_back(nlohmann::json::parse(historyToJson(result.training)));

    auto out = runInference(*model, part.split.test, collate, result.device, std::max(64, t.batchSize), false, nullptr);
    std::vector<int> truth, predicted;
    auto [top, arg] = out.probabilities.max(1);
    for (size_t i = 0; i < part.split.test.size(); ++i) {
      const int64_t cell = part.split.test[i];
      truth.push_back(codes[cell]);
      predicted.push_back(static_cast<int>(arg[static_cast<int64_t>(i)].item<int64_t>()));
      csv << dataset.obs.index[cell] << "," << labels.names[codes[cell]] << "," << labels.names[predicted.back()] << ","
          << top[static_cast<int64_t>(i)].item<float>() << (part.name.empty() ? "" : "," + part.name) << "\n";
    }
    DenseMatrix probabilities;
    probabilities.rows = out.probabilities.size(0);
    probabilities.cols = out.probabilities.size(1);
    auto p64 = out.probabilities.to(torch::kDouble).contiguous();
    probabilities.values.assign(p64.data_ptr<double>(), p64.data_ptr<double>() + p64.numel());
    auto metrics = analysis::classificationMetrics(truth, predicted, probabilities, {labels.names});
    foldMetrics.push_back(analysis::classificationToJson(metrics));
    pooledTruth.insert(pooledTruth.end(), truth.begin(), truth.end());
    pooledPredicted.insert(pooledPredicted.end(), predicted.begin(), predicted.end());
    pooledProbabilities.values.insert(pooledProbabilities.values.end(), probabilities.values.begin(), probabilities.values.end());
    pooledProbabilities.rows += probabilities.rows;
    run.info((part.name.empty() ? std::string("test") : part.name + " test") + ": accuracy " +
             std::to_string(metrics.accuracy) + ", macro F1 " + std::to_string(metrics.macroF1));
    // With folds, the top-level best.ckpt is the fold with the lowest best validation loss.
    if (!part.name.empty() && writer) {
      const auto& best = result.training.history.at(static_cast<size_t>(result.training.bestEpoch - 1));
      const double loss = std::isfinite(best.validationLoss) ? best.validationLoss : best.trainLoss;
      if (loss < bestFoldLoss) {
        bestFoldLoss = loss;
        fs::copy_file(t.checkpointDir / "best.ckpt", options.runDir / "checkpoints" / "best.ckpt",
                      fs::copy_options::overwrite_existing);
        fs::copy_file(t.checkpointDir / "last.ckpt", options.runDir / "checkpoints" / "last.ckpt",
                      fs::copy_options::overwrite_existing);
      }
    }
  }

  nlohmann::json metrics;
  if (parts.size() == 1) {
    metrics = foldMetrics.front();
    if (writer) writeJsonFile(options.runDir / "history.json", foldHistories.front());
  } else {
    // Per-class figures and the confusion matrix pool every fold's out-of-fold predictions;
    // the headline numbers are the means over folds, with their sample SD.
    metrics = analysis::classificationToJson(
        analysis::classificationMetrics(pooledTruth, pooledPredicted, pooledProbabilities, {labels.names}));
    std::vector<double> acc, macro, weighted, auc;
    for (const auto& f : foldMetrics) {
      acc.push_back(f.at("accuracy").get<double>());
      macro.push_back(f.at("macro_f1").get<double>());
      weighted.push_back(f.at("weighted_f1").get<double>());
      if (f.contains("macro_auc") && f.at("macro_auc").is_number()) auc.push_back(f.at("macro_auc").get<double>());
    }
    metrics["accuracy"] = mean(acc);
    metrics["macro_f1"] = mean(macro);
    metrics["weighted_f1"] = mean(weighted);
    if (auc.size() == foldMetrics.size()) metrics["macro_auc"] = mean(auc);
    metrics["sd"] = {{"accuracy", sampleSd(acc)}, {"macro_f1", sampleSd(macro)}};
    metrics["folds"] = foldMetrics;
    if (writer) writeJsonFile(options.runDir / "history.json", {{"folds", foldHistories}});
  }
  if (options.split == SplitMode::Batch) {
    metrics["train_batches"] = splitJson["train_batches"];
    metrics["test_batch"] = options.testBatch;
    metrics["excluded_labels"] = result.excludedLabels;
    metrics["excluded_train_labels"] = result.excludedTrainLabels;
  }
  metrics["model"] = options.model;
  metrics["preset"] = result.preset;
  metrics["n_test"] = pooledTruth.size();
  if (writer) {
    writeJsonFile(options.runDir / "metrics.json", metrics);
    writeTextAtomically(options.runDir / "predictions.csv", csv.str());
  }
  run.info("done: accuracy " + std::to_string(metrics["accuracy"].get<double>()) + ", macro F1 " +
           std::to_string(metrics["macro_f1"].get<double>()));
  result.metrics = metrics;
  return result;
}

}  // namespace cw::train
