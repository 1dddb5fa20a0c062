#include "cellwright/train/pretrain.h"

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "cellwright/compute/device.h"
#include "cellwright/core/errors.h"
#include "cellwright/train/finetune.h"
#include "cellwright/train/model_data.h"
#include "cellwright/train/run_folder.h"
#include "pretrain_parts.h"

namespace cw::train {
namespace fs = std::filesystem;

CsrMatrix stackRows(const std::vector<const CsrMatrix*>& parts) {
  CsrMatrix out;
  out.cols = parts.empty() ? 0 : parts.front()->cols;
  for (const auto* m : parts) {
    if (m->cols != out.cols) throw Error("cannot stack matrices with different gene counts");
    const int64_t offset = out.indptr.back();
    for (int64_t r = 0; r < m->rows; ++r) out.indptr.push_back(offset + m->indptr[r + 1]);
    out.indices.insert(out.indices.end(), m->indices.begin(), m->indices.end());
    out.data.insert(out.data.end(), m->data.begin(), m->data.end());
    out.rows += m->rows;
  }
  return out;
}

namespace detail {

std::pair<std::vector<int64_t>, std::vector<std::string>> codesAcross(const std::vector<const Dataset*>& datasets,
                                                                      const std::string& key,
                                                                      const std::vector<std::string>& fallbackNames) {
  std::map<std::string, int64_t> index;
  std::vector<std::string> names;
  std::vector<int64_t> codes;
  for (size_t d = 0; d < datasets.size(); ++d) {
    const Dataset& ds = *datasets[d];
    const Column* column = !key.empty() && ds.obs.has(key) ? &ds.obs.at(key) : nullptr;
    for (int64_t i = 0; i < ds.nObs(); ++i) {
      std::string value;
      if (column) value = column->valueAsString(static_cast<size_t>(i));
      else if (key.empty() && d < fallbackNames.size()) value = fallbackNames[d];
      if (value.empty()) {
        codes.push_back(-1);
        continue;
      }
      auto [it, added] = index.emplace(value, static_cast<int64_t>(names.size()));
      if (added) names.push_back(value);
      codes.push_back(it->second);
    }
  }
  return {codes, names};
}

PretrainModel resolvePretrainModel(const PretrainOptions& options, PretrainResult& result) {
  if (options.runDir.empty()) throw Error("no run folder was given");
  if (options.validationFraction < 0 || options.validationFraction >= 1)
    throw Error("the validation share must be in [0, 1)");
  auto& registry = options.registry ? *options.registry : plugins::PluginRegistry::global();
  const auto& plugin = registry.plugin(options.model);
  result.device = resolveDevice(options.trainer.device.empty() ? "auto" : options.trainer.device);
  result.preset = choosePreset(options.preset, result.device);
  PretrainModel m;
  m.config = plugin.defaultConfig(result.preset);
  for (auto it = options.config.begin(); it != options.config.end(); ++it) m.config[it.key()] = it.value();
  m.config = plugin.normalizeConfig(m.config);
  m.spec = plugin.tokenizerSpec(m.config);
  // A model without objectives fails here, before the run folder is touched.
  plugins::ModelShape probe{8, 2, 1, 6};  // some models insist on a head
  if (registry.makeModel(options.model, m.config, probe)->pretrainObjectives().empty())
    throw Error("model '" + options.model + "' has no pre-training objective (fine-tune it directly)");
  return m;
}

std::vector<std::string> inputNames(const PretrainOptions& options, size_t inputs) {
  std::vector<std::string> names = options.dataDescriptions;
  names.resize(inputs);
  for (size_t d = 0; d < names.size(); ++d)
    if (names[d].empty()) names[d] = "dataset" + std::to_string(d + 1);
  return names;
}

std::pair<std::vector<int64_t>, std::vector<int64_t>> splitCells(int64_t n, double validationFraction, uint64_t seed) {
  std::vector<int64_t> shuffled(static_cast<size_t>(n));
  for (size_t i = 0; i < shuffled.size(); ++i) shuffled[i] = static_cast<int64_t>(i);
  std::mt19937_64 rng(seed);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  const auto nValidation = static_cast<size_t>(std::llround(validationFraction * static_cast<double>(n)));
  std::vector<int64_t> validation(shuffled.begin(), shuffled.begin() + static_cast<std::ptrdiff_t>(nValidation));
  std::vector<int64_t> train(shuffled.begin() + static_cast<std::ptrdiff_t>(nValidation), shuffled.end());
  std::sort(validation.begin(), validation.end());
  std::sort(train.begin(), train.end());
  if (train.empty()) throw Error("no cells left for pre-training");
  return {train, validation};
}

void trainAndRecord(const PretrainOptions& options, const PretrainModel& model, const PretrainInputs& inputs,
                    PretrainResult& result, RunFeedback& run, bool writer) {
  auto& registry = options.registry ? *options.registry : plugins::PluginRegistry::global();
  plugins::ModelShape shape;
  shape.nGenes = inputs.genes.size();
  shape.vocabSize = inputs.genes.size() + 2;
  shape.nClasses = inputs.nClasses;
  shape.nStudies = static_cast<int64_t>(inputs.studyNames.size());
  result.cells = static_cast<int64_t>(inputs.cellNames.size());
  result.genes = inputs.genes.size();
  run.info("pre-training " + options.model + " (preset " + result.preset + ") on " + result.device + ": " +
           std::to_string(result.cells) + " cells, " + std::to_string(result.genes) + " genes, " +
           std::to_string(inputs.studyNames.size()) + " studies");
  if (writer) {
    inputs.genes.save(options.runDir / "genes.txt");
    nlohmann::json config = {{"command", "pretrain"},
                             {"model", options.model},
                             {"preset", result.preset},
                             {"model_config", model.config},
                             {"shape", shape.toJson()},
                             {"studies", inputs.studyNames},
                             {"label_key", options.labelKey},
                             {"batch_key", options.batchKey},
                             {"validation_fraction", options.validationFraction},
                             {"device", result.device},
                             {"data", options.dataDescriptions}};
    for (auto it = inputs.extraConfig.begin(); it != inputs.extraConfig.end(); ++it) config[it.key()] = it.value();
    writeJsonFile(options.runDir / "config.json", config);
    nlohmann::json split = {{"train", nlohmann::json::array()}, {"validation", nlohmann::json::array()}};
    for (auto i : inputs.train) split["train"].push_back(inputs.cellNames[i]);
    for (auto i : inputs.validation) split["validation"].push_back(inputs.cellNames[i]);
    writeJsonFile(options.runDir / "split.json", split);
  }

  torch::manual_seed(options.trainer.seed);
  auto plugin = registry.makeModel(options.model, model.config, shape);
  PluginTrainable trainable(plugin, PluginTrainable::Objective::Pretrain);
  TrainerOptions t = options.trainer;
  t.device = result.device;
  t.checkpointDir = options.runDir / "checkpoints";
  t.resume = options.resume;
  TrainingData data{inputs.train, inputs.validation, inputs.collate};
  data.trainOrder = inputs.trainOrder;
  result.training = trainModel(trainable, data, t, run.get());
  if (writer) {
    writeJsonFile(options.runDir / "history.json", nlohmann::json::parse(historyToJson(result.training)));
    const auto& best = result.training.history.at(static_cast<size_t>(result.training.bestEpoch - 1));
    writeJsonFile(options.runDir / "metrics.json",
                  {{"best_epoch", result.training.bestEpoch},
                   {"train_loss", best.trainLoss},
                   {"val_loss", std::isfinite(best.validationLoss) ? nlohmann::json(best.validationLoss) : nlohmann::json()},
                   {"cells", result.cells},
                   {"genes", result.genes}});
  }
}

}  // namespace detail

PretrainResult pretrain(const std::vector<const Dataset*>& datasets, const PretrainOptions& options, Feedback* feedback) {
  if (datasets.empty()) throw Error("no data to pre-train on");
  PretrainResult result;
  const auto model = detail::resolvePretrainModel(options, result);
  for (const auto* d : datasets)
    if (!options.labelKey.empty() && !d->obs.has(options.labelKey))
      throw Error("the data has no obs column '" + options.labelKey + "' (--label)");

  const bool writer = !options.trainer.communicator || options.trainer.communicator->rank() == 0;
  if (writer) prepareRunFolder(options.runDir, {options.force, options.resume});
  RunFeedback run(writer ? options.runDir / "log.txt" : fs::path(), feedback);

  // One matrix over all inputs, on the union of their genes.
  const auto unionGenes = preprocess::buildVocabulary(datasets);
  Dataset combined;
  std::vector<CsrMatrix> aligned;
  bool allCounts = true;
  for (const auto* d : datasets) {
    auto a = alignDataset(*d, unionGenes);
    allCounts = allCounts && !a.valuesAreLogNormalized;
    aligned.push_back(std::move(a.values));
    run.throwIfCanceled();
  }
  if (!allCounts && datasets.size() > 1)
    run.get()->warning("some inputs hold no raw counts: their X is used as log-normalised values");
  std::vector<const CsrMatrix*> parts;
  for (const auto& m : aligned) parts.push_back(&m);
  combined.X = stackRows(parts);
  combined.var.index = unionGenes.genes();
  combined.countsSource = allCounts ? CountsSource::X : CountsSource::None;
  for (const auto* d : datasets) combined.obs.index.insert(combined.obs.index.end(), d->obs.index.begin(), d->obs.index.end());

  detail::PretrainInputs inputs;
  std::tie(inputs.train, inputs.validation) =
      detail::splitCells(combined.nObs(), options.validationFraction, options.trainer.seed);
  inputs.genes = chooseGenes(combined, model.spec, inputs.train);
  auto data = alignDataset(combined, inputs.genes);
  auto [labelCodes, labelNames] = detail::codesAcross(datasets, options.labelKey, {});
  if (!options.labelKey.empty()) data.labels = labelCodes;
  auto [studyCodes, studyNames] = detail::codesAcross(datasets, options.batchKey, detail::inputNames(options, datasets.size()));
  data.studies = studyCodes;
  inputs.studyNames = studyNames;
  inputs.nClasses = options.labelKey.empty() ? 0 : static_cast<int64_t>(labelNames.size());
  inputs.cellNames = combined.obs.index;
  inputs.collate = makeCollate(data, model.spec, model.config, /*masking=*/true, options.trainer.seed);
  detail::trainAndRecord(options, model, inputs, result, run, writer);
  return result;
}

}  // namespace cw::train
