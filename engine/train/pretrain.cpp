#include "cellwright/train/pretrain.h"

#include <map>
#include <random>

#include "cellwright/compute/device.h"
#include "cellwright/core/errors.h"
#include "cellwright/train/finetune.h"
#include "cellwright/train/model_data.h"
#include "cellwright/train/run_folder.h"

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

namespace {

// Per-cell codes of a column over several datasets, by value (missing column: -1). Without
// a key, each dataset's fallback name is its cells' value (or -1 when none is given).
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

}  // namespace

PretrainResult pretrain(const std::vector<const Dataset*>& datasets, const PretrainOptions& options, Feedback* feedback) {
  if (datasets.empty()) throw Error("no data to pre-train on");
  if (options.runDir.empty()) throw Error("no run folder was given");
  if (options.validationFraction < 0 || options.validationFraction >= 1)
    throw Error("the validation share must be in [0, 1)");
  auto& registry = options.registry ? *options.registry : plugins::PluginRegistry::global();
  const auto& plugin = registry.plugin(options.model);
  PretrainResult result;
  result.device = resolveDevice(options.trainer.device.empty() ? "auto" : options.trainer.device);
  result.preset = choosePreset(options.preset, result.device);
  auto modelConfig = plugin.defaultConfig(result.preset);
  for (auto it = options.config.begin(); it != options.config.end(); ++it) modelConfig[it.key()] = it.value();
  modelConfig = plugin.normalizeConfig(modelConfig);
  const auto spec = plugin.tokenizerSpec(modelConfig);
  {
    // A model without objectives fails here, before the run folder is touched.
    plugins::ModelShape probe{8, 2, 1, 6};  // some models insist on a head
    if (registry.makeModel(options.model, modelConfig, probe)->pretrainObjectives().empty())
      throw Error("model '" + options.model + "' has no pre-training objective (fine-tune it directly)");
  }
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

  std::vector<int64_t> all(static_cast<size_t>(combined.nObs()));
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  std::mt19937_64 rng(options.trainer.seed);
  std::vector<int64_t> shuffled = all;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  const auto nValidation = static_cast<size_t>(std::llround(options.validationFraction * static_cast<double>(all.size())));
  std::vector<int64_t> validation(shuffled.begin(), shuffled.begin() + static_cast<std::ptrdiff_t>(nValidation));
  std::vector<int64_t> train(shuffled.begin() + static_cast<std::ptrdiff_t>(nValidation), shuffled.end());
  std::sort(validation.begin(), validation.end());
  std::sort(train.begin(), train.end());
  if (train.empty()) throw Error("no cells left for pre-training");

  const auto genes = chooseGenes(combined, spec, train);
  auto data = alignDataset(combined, genes);
  std::vector<std::string> fileNames = options.dataDescriptions;
  fileNames.resize(datasets.size());
  for (size_t d = 0; d < fileNames.size(); ++d)
    if (fileNames[d].empty()) fileNames[d] = "dataset" + std::to_string(d + 1);
  auto [labelCodesAll, labelNames] = codesAcross(datasets, options.labelKey, {});
  if (!options.labelKey.empty()) data.labels = labelCodesAll;
  auto [studyCodes, studyNames] = codesAcross(datasets, options.batchKey, fileNames);
  data.studies = studyCodes;
  plugins::ModelShape shape;
  shape.nGenes = genes.size();
  shape.vocabSize = genes.size() + 2;
  shape.nClasses = options.labelKey.empty() ? 0 : static_cast<int64_t>(labelNames.size());
  shape.nStudies = static_cast<int64_t>(studyNames.size());
  result.cells = combined.nObs();
  result.genes = genes.size();
  run.info("pre-training " + options.model + " (preset " + result.preset + ") on " + result.device + ": " +
           std::to_string(result.cells) + " cells, " + std::to_string(result.genes) + " genes, " +
           std::to_string(studyNames.size()) + " studies");
  if (writer) {
    genes.save(options.runDir / "genes.txt");
    writeJsonFile(options.runDir / "config.json", {{"command", "pretrain"},
                                                   {"model", options.model},
                                                   {"preset", result.preset},
                                                   {"model_config", modelConfig},
                                                   {"shape", shape.toJson()},
                                                   {"studies", studyNames},
                                                   {"label_key", options.labelKey},
                                                   {"batch_key", options.batchKey},
                                                   {"validation_fraction", options.validationFraction},
                                                   {"device", result.device},
                                                   {"data", options.dataDescriptions}});
    nlohmann::json split = {{"train", nlohmann::json::array()}, {"validation", nlohmann::json::array()}};
    for (auto i : train) split["train"].push_back(combined.obs.index[i]);
    for (auto i : validation) split["validation"].push_back(combined.obs.index[i]);
    writeJsonFile(options.runDir / "split.json", split);
  }

  torch::manual_seed(options.trainer.seed);
  auto model = registry.makeModel(options.model, modelConfig, shape);
  PluginTrainable trainable(model, PluginTrainable::Objective::Pretrain);
  TrainerOptions t = options.trainer;
  t.device = result.device;
  t.checkpointDir = options.runDir / "checkpoints";
  t.resume = options.resume;
  const auto collate = makeCollate(data, spec, modelConfig, /*masking=*/true, options.trainer.seed);
  result.training = trainModel(trainable, {train, validation, collate}, t, run.get());
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
  return result;
}

}  // namespace cw::train
