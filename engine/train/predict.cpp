#include "cellwright/train/predict.h"

#include <sstream>

#include "cellwright/compute/device.h"
#include "cellwright/compute/heap_memory.h"
#include "cellwright/core/errors.h"
#include "cellwright/train/checkpoint.h"
#include "cellwright/train/model_data.h"
#include "cellwright/train/run_folder.h"

namespace cw::train {
namespace fs = std::filesystem;

namespace {

DenseMatrix toDense(const torch::Tensor& t) {
  DenseMatrix m;
  auto d = t.to(torch::kDouble).contiguous();
  m.rows = d.size(0);
  m.cols = d.size(1);
  m.values.assign(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
  return m;
}

std::string csvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

InferenceOutput runInference(plugins::CellModel& model, const std::vector<int64_t>& cells, const Collate& collate,
                             const std::string& device, int batchSize, bool withEmbedding, Feedback* feedback) {
  HeapMemoryScope heapMemory;
  torch::NoGradGuard noGrad;
  const torch::Device dev(device);
  model.to(dev);
  model.eval();
  std::vector<torch::Tensor> probs, embeds;
  batchSize = std::max(1, batchSize);
  for (size_t begin = 0; begin < cells.size(); begin += static_cast<size_t>(batchSize)) {
    pollCancel(feedback);
    const size_t end = std::min(cells.size(), begin + static_cast<size_t>(batchSize));
    std::vector<int64_t> part(cells.begin() + begin, cells.begin() + end);
    auto batch = collate(part, 0).to(dev, true);
    probs.push_back(torch::softmax(model.classify(batch).to(torch::kFloat), -1).cpu());
    if (withEmbedding) embeds.push_back(model.embed(batch).to(torch::kFloat).cpu());
    if (feedback) feedback->setProgress(static_cast<double>(end) / static_cast<double>(cells.size()), "predicting");
  }
  InferenceOutput out;
  const int64_t nClasses = model.shape().nClasses;
  out.probabilities = probs.empty() ? torch::zeros({0, nClasses}) : torch::cat(probs);
  if (withEmbedding) out.embedding = embeds.empty() ? torch::zeros({0, model.embeddingDim()}) : torch::cat(embeds);
  return out;
}

PredictResult predict(const Dataset& dataset, const PredictOptions& options, Feedback* feedback) {
  const fs::path run = options.runDir;
  for (const char* file : {"config.json", "genes.txt", "checkpoints/best.ckpt"})
    if (!fs::exists(run / file))
      throw Error(run.string() + " is not a finished fine-tuning run (" + file + " is missing)");
  const auto config = readJsonFile(run / "config.json");
  if (!config.contains("classes"))
    throw Error(run.string() + " holds no classifier (a pre-training run?): fine-tune it first");
  auto& registry = options.registry ? *options.registry : plugins::PluginRegistry::global();
  PredictResult result;
  result.modelName = config.at("model").get<std::string>();
  result.classes = config.at("classes").get<std::vector<std::string>>();
  const auto modelConfig = config.at("model_config");
  const auto shape = plugins::ModelShape::fromJson(config.at("shape"));
  auto model = registry.makeModel(result.modelName, modelConfig, shape);
  loadCheckpoint(run / "checkpoints" / "best.ckpt", *model, nullptr, torch::kCPU);
  const auto& plugin = registry.plugin(result.modelName);
  const auto spec = plugin.tokenizerSpec(model->config());

  auto data = alignDataset(dataset, preprocess::GeneVocabulary::load(run / "genes.txt"));
  result.alignmentSummary = data.alignmentSummary;
  if (feedback) feedback->info("genes: " + data.alignmentSummary);
  auto collate = makeCollate(data, spec, model->config(), false, 0);
  std::vector<int64_t> cells(static_cast<size_t>(dataset.nObs()));
  for (size_t i = 0; i < cells.size(); ++i) cells[i] = static_cast<int64_t>(i);
  const bool withEmbedding = options.withEmbedding && result.modelName != "logreg";
  auto out = runInference(*model, cells, collate, resolveDevice(options.device), options.batchSize, withEmbedding,
                          feedback);
  auto [top, arg] = out.probabilities.max(1);
  auto topA = top.accessor<float, 1>();
  auto argA = arg.accessor<int64_t, 1>();
  for (int64_t i = 0; i < top.size(0); ++i) {
    result.confidence.push_back(topA[i]);
    result.predictions.push_back(topA[i] < options.minConfidence ? std::string(kUnassigned) : result.classes[argA[i]]);
  }
  result.probabilities = toDense(out.probabilities);
  if (out.embedding.defined()) result.embedding = toDense(out.embedding);
  return result;
}

void annotateDataset(Dataset& dataset, const PredictResult& result) {
  std::vector<std::string> categories = result.classes;
  bool unassigned = false;
  for (const auto& p : result.predictions) unassigned = unassigned || p == kUnassigned;
  if (unassigned) categories.push_back(kUnassigned);
  std::map<std::string, int32_t> index;
  for (size_t k = 0; k < categories.size(); ++k) index[categories[k]] = static_cast<int32_t>(k);
  std::vector<int32_t> codes;
  for (const auto& p : result.predictions) codes.push_back(index.at(p));
  dataset.obs.set("cw_pred", Column::categorical(std::move(codes), categories));
  dataset.obs.set("cw_confidence", Column::numeric(result.confidence, "float64"));
  dataset.obsm["cw_proba"] = result.probabilities;
  dataset.uns["cw_classes"].value = result.classes;
  if (result.embedding.rows > 0) dataset.obsm["X_cw_" + result.modelName] = result.embedding;
}

std::string predictionsToCsv(const Dataset& dataset, const PredictResult& result) {
  std::ostringstream s;
  s.precision(6);
  s << "cell,prediction,confidence";
  for (const auto& c : result.classes) s << "," << csvField("p_" + c);
  s << "\n";
  for (size_t i = 0; i < result.predictions.size(); ++i) {
    s << csvField(dataset.obs.index[i]) << "," << csvField(result.predictions[i]) << "," << result.confidence[i];
    for (int64_t k = 0; k < result.probabilities.cols; ++k) s << "," << result.probabilities.at(static_cast<int64_t>(i), k);
    s << "\n";
  }
  return s.str();
}

}  // namespace cw::train
