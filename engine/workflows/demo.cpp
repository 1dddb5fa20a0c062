#include "cellwright/workflows/demo.h"

#include <fstream>

#include <torch/torch.h>

#include "cellwright/analysis/classification_metrics.h"
#include "cellwright/core/atomic_file.h"
#include "cellwright/core/errors.h"
#include "cellwright/io/readers.h"
#include "cellwright/plugins/builtin.h"
#include "cellwright/preprocess/normalize.h"
#include "cellwright/train/split.h"

namespace cw::workflows {
namespace fs = std::filesystem;

namespace {

torch::Tensor denseRows(const CsrMatrix& m, const std::vector<int64_t>& rows) {
  auto out = torch::zeros({static_cast<int64_t>(rows.size()), m.cols}, torch::kFloat32);
  auto acc = out.accessor<float, 2>();
  for (size_t i = 0; i < rows.size(); ++i)
    for (int64_t k = m.indptr[rows[i]]; k < m.indptr[rows[i] + 1]; ++k) acc[i][m.indices[k]] = m.data[k];
  return out;
}

torch::Tensor codesTensor(const std::vector<int>& codes, const std::vector<int64_t>& rows) {
  auto out = torch::empty({static_cast<int64_t>(rows.size())}, torch::kInt64);
  for (size_t i = 0; i < rows.size(); ++i) out[i] = codes[rows[i]];
  return out;
}

double accuracyOf(const torch::Tensor& logits, const torch::Tensor& labels) {
  return logits.argmax(1).eq(labels).to(torch::kFloat64).mean().item<double>();
}

// Replaces `target` with the folder `staging` in one rename (the old one goes only after the
// new one is complete).
void replaceFolder(const fs::path& staging, const fs::path& target) {
  fs::path old = target;
  old += ".old";
  std::error_code ec;
  fs::remove_all(old, ec);
  if (fs::exists(target)) fs::rename(target, old);
  fs::rename(staging, target);
  fs::remove_all(old, ec);
}

}  // namespace

DemoResult runDemo(const DemoOptions& options, Feedback* feedback) {
  auto progress = [&](double f, const std::string& stage) {
    if (feedback) feedback->setProgress(f, stage);
    pollCancel(feedback);
  };
  progress(0.0, "reading");
  auto read = io::readDataset(options.input, {}, feedback);
  for (const auto& w : read.warnings)
    if (feedback) feedback->warning(w);
  const Dataset& data = read.dataset;
  const CsrMatrix* counts = data.counts();
  if (!counts) throw Error(options.input.string() + ": no raw counts found (X, layers['counts'] or raw/X)");

  progress(0.1, "normalising");
  CsrMatrix logNormalized = *counts;
  preprocess::normalizeTotal(logNormalized, {options.targetSum});
  preprocess::log1p(logNormalized);

  const Column& labelColumn = data.obs.at(options.labelKey);
  if (labelColumn.kind != Column::Kind::Categorical)
    throw Error("obs['" + options.labelKey + "'] must be categorical to train a classifier");
  const std::vector<int> codes(labelColumn.codes.begin(), labelColumn.codes.end());
  train::SplitOptions splitOptions;
  splitOptions.seed = options.seed;
  const auto split = train::stratifiedSplit(codes, splitOptions);

  progress(0.2, "training logistic regression");
  torch::manual_seed(options.seed);
  plugins::PluginRegistry registry;
  plugins::registerBuiltinPlugins(registry);
  const auto& plugin = registry.plugin("logreg");
  plugins::ModelShape shape;
  shape.vocabSize = data.nVars() + 1;
  shape.nGenes = data.nVars();
  shape.nClasses = static_cast<int64_t>(labelColumn.categories.size());
  auto model = plugin.makeModel(plugin.defaultConfig("small"), shape);

  tokenize::TokenBatch trainBatch, valBatch, testBatch;
  trainBatch.dense = denseRows(logNormalized, split.train);
  valBatch.dense = denseRows(logNormalized, split.validation);
  testBatch.dense = denseRows(logNormalized, split.test);
  const auto trainLabels = codesTensor(codes, split.train), valLabels = codesTensor(codes, split.validation),
             testLabels = codesTensor(codes, split.test);

  // Full-batch Adam with early stopping on validation accuracy; the demo set is tiny.
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-2).weight_decay(1e-4));
  const int maxEpochs = 300, patience = 50;
  double bestVal = -1;
  int bestEpoch = 0;
  std::vector<torch::Tensor> bestState;
  for (int epoch = 0; epoch < maxEpochs && epoch - bestEpoch <= patience; ++epoch) {
    model->train();
    optimizer.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model->classify(trainBatch), trainLabels);
    loss.backward();
    optimizer.step();
    model->eval();
    torch::NoGradGuard noGrad;
    const double val = split.validation.empty() ? 0.0 : accuracyOf(model->classify(valBatch), valLabels);
    if (val > bestVal) {
      bestVal = val;
      bestEpoch = epoch;
      bestState.clear();
      for (const auto& p : model->parameters()) bestState.push_back(p.detach().clone());
    }
    progress(0.2 + 0.6 * epoch / maxEpochs, "training logistic regression");
  }
  {
    torch::NoGradGuard noGrad;
    auto params = model->parameters();
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(bestState[i]);
  }

  progress(0.85, "evaluating");
  model->eval();
  torch::NoGradGuard noGrad;
  const auto probabilities = torch::softmax(model->classify(testBatch), 1);
  const auto predicted = probabilities.argmax(1);
  std::vector<int> truth(split.test.size()), prediction(split.test.size());
  for (size_t i = 0; i < split.test.size(); ++i) {
    truth[i] = codes[split.test[i]];
    prediction[i] = static_cast<int>(predicted[i].item<int64_t>());
  }
  const auto metrics = analysis::classificationMetrics(truth, prediction, {labelColumn.categories});

  progress(0.9, "writing results");
  fs::path staging = options.outputDir;
  staging += ".partial";
  fs::remove_all(staging);
  fs::create_directories(staging);
  nlohmann::json metricsJson = analysis::classificationToJson(metrics);
  metricsJson["model"] = "logreg";
  metricsJson["dataset"] = options.input.filename().string();
  metricsJson["label"] = options.labelKey;
  metricsJson["n_test"] = split.test.size();
  writeTextAtomically(staging / "metrics.json", metricsJson.dump(2) + "\n");
  nlohmann::json splitJson;
  for (auto [name, rows] : {std::pair{"train", &split.train}, {"validation", &split.validation}, {"test", &split.test}}) {
    std::vector<std::string> cells;
    for (int64_t r : *rows) cells.push_back(data.obs.index[r]);
    splitJson[name] = cells;
  }
  writeTextAtomically(staging / "split.json", splitJson.dump(1) + "\n");
  std::string csv = "cell,truth,prediction,confidence\n";
  for (size_t i = 0; i < split.test.size(); ++i)
    csv += data.obs.index[split.test[i]] + "," + labelColumn.categories[truth[i]] + "," +
           labelColumn.categories[prediction[i]] + "," + std::to_string(probabilities[i].max().item<float>()) + "\n";
  writeTextAtomically(staging / "predictions.csv", csv);
  replaceFolder(staging, options.outputDir);
  progress(1.0, "done");

  DemoResult result;
  result.accuracy = metrics.accuracy;
  result.macroF1 = metrics.macroF1;
  result.nTrain = static_cast<int64_t>(split.train.size());
  result.nValidation = static_cast<int64_t>(split.validation.size());
  result.nTest = static_cast<int64_t>(split.test.size());
  result.model = "logreg";
  result.metricsPath = options.outputDir / "metrics.json";
  return result;
}

}  // namespace cw::workflows
