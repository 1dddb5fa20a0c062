// `evaluate`: classification metrics (--pred-col) or clustering/integration metrics
// (--cluster-col with --embedding) into the contract's metrics.json.
#include <algorithm>
#include <iostream>

#include "cellwright/analysis/classification_metrics.h"
#include "cellwright/analysis/clustering_metrics.h"
#include "cellwright/analysis/grouping.h"
#include "cellwright/cli/cli.h"
#include "cellwright/cli/progress_printer.h"
#include "cellwright/core/atomic_file.h"
#include "cellwright/core/errors.h"
#include "cellwright/io/readers.h"

namespace cw::cli {
namespace {

std::vector<std::string> textValues(const Dataset& d, const std::string& column) {
  const Column& c = d.obs.at(column);
  std::vector<std::string> out(d.nObs());
  for (int64_t i = 0; i < d.nObs(); ++i) out[i] = c.valueAsString(i);
  return out;
}

nlohmann::json classification(const Dataset& d, const Args& args, Feedback& feedback) {
  const std::string labelColumn = args.value("--label"), predColumn = args.value("--pred-col");
  const auto truthGroups = analysis::groupingOf(d, labelColumn);
  const auto predicted = textValues(d, predColumn);
  // Labels: the truth's categories, then predicted values outside them (e.g. "Unassigned").
  analysis::ClassificationOptions options;
  options.labels = truthGroups.names;
  std::vector<int> truth, pred;
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < d.nObs(); ++i) {
    if (truthGroups.codes[i] < 0 || predicted[i].empty()) continue;
    auto it = std::find(options.labels.begin(), options.labels.end(), predicted[i]);
    if (it == options.labels.end()) {
      options.labels.push_back(predicted[i]);
      it = options.labels.end() - 1;
    }
    truth.push_back(truthGroups.codes[i]);
    pred.push_back(static_cast<int>(it - options.labels.begin()));
    kept.push_back(i);
  }
  if (truth.empty()) throw Error("no cell has both a label and a prediction");
  if (kept.size() < static_cast<size_t>(d.nObs()))
    feedback.warning(std::to_string(d.nObs() - static_cast<int64_t>(kept.size())) +
                     " cells without a label or prediction were left out");
  const std::string probaKey = args.value("--proba-key");
  const bool wantProba = args.has("--proba-key") || d.obsm.count(probaKey);
  if (!wantProba) return analysis::classificationToJson(analysis::classificationMetrics(truth, pred, options));
  auto it = d.obsm.find(probaKey);
  if (it == d.obsm.end()) throw Error("no obsm['" + probaKey + "'] with class probabilities in the file");
  std::vector<std::string> classes;
  auto cls = d.uns.find("cw_classes");
  if (cls != d.uns.end() && std::holds_alternative<std::vector<std::string>>(cls->second.value))
    classes = std::get<std::vector<std::string>>(cls->second.value);
  else if (it->second.cols == static_cast<int64_t>(truthGroups.names.size()))
    classes = truthGroups.names;  // no class list: assume the label column's categories
  else
    throw Error("obsm['" + probaKey + "'] has no class names (uns['cw_classes']) and its columns do not match the labels");
  if (static_cast<int64_t>(classes.size()) != it->second.cols)
    throw Error("uns['cw_classes'] names " + std::to_string(classes.size()) + " classes but obsm['" + probaKey + "'] has " +
                std::to_string(it->second.cols) + " columns");
  for (const auto& label : options.labels) {
    const auto c = std::find(classes.begin(), classes.end(), label);
    options.probabilityColumn.push_back(c == classes.end() ? -1 : static_cast<int>(c - classes.begin()));
  }
  DenseMatrix proba;
  proba.rows = static_cast<int64_t>(kept.size());
  proba.cols = it->second.cols;
  for (int64_t i : kept)
    proba.values.insert(proba.values.end(), it->second.values.begin() + i * proba.cols,
                        it->second.values.begin() + (i + 1) * proba.cols);
  return analysis::classificationToJson(analysis::classificationMetrics(truth, pred, proba, options));
}

nlohmann::json clustering(const Dataset& d, const Args& args, Feedback& feedback) {
  const std::string key = args.value("--embedding");
  auto it = d.obsm.find(key);
  if (it == d.obsm.end()) throw Error("no obsm['" + key + "'] in the file");
  const auto labels = analysis::groupingOf(d, args.value("--label"));
  const auto clusters = analysis::groupingOf(d, args.value("--cluster-col"));
  analysis::Grouping batches;
  if (auto batchKey = args.optional("--batch-key")) batches = analysis::groupingOf(d, *batchKey);
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < d.nObs(); ++i)
    if (labels.codes[i] >= 0 && clusters.codes[i] >= 0 && (batches.codes.empty() || batches.codes[i] >= 0)) kept.push_back(i);
  if (kept.size() < 3) throw Error("fewer than 3 cells have a label and a cluster");
  if (kept.size() < static_cast<size_t>(d.nObs()))
    feedback.warning(std::to_string(d.nObs() - static_cast<int64_t>(kept.size())) + " cells with missing values were left out");
  DenseMatrix embedding;
  embedding.rows = static_cast<int64_t>(kept.size());
  embedding.cols = it->second.cols;
  std::vector<int> l, c, b;
  for (int64_t i : kept) {
    embedding.values.insert(embedding.values.end(), it->second.values.begin() + i * embedding.cols,
                            it->second.values.begin() + (i + 1) * embedding.cols);
    l.push_back(labels.codes[i]);
    c.push_back(clusters.codes[i]);
    if (!batches.codes.empty()) b.push_back(batches.codes[i]);
  }
  analysis::ClusteringMetricsOptions options;
  options.k = static_cast<int>(args.integer("--k"));
  return analysis::clusteringToJson(analysis::clusteringMetrics(embedding, l, c, b, options, &feedback));
}

Command makeEvaluateCommand() {
  Command c;
  c.name = "evaluate";
  c.summary = "classification or clustering/integration metrics into metrics.json";
  c.usage =
      "--data FILE --label COL (--pred-col COL [--proba-key cw_proba] | --cluster-col COL --embedding KEY "
      "[--batch-key COL]) -o metrics.json";
  c.options = {{"--output|-o", true, "output JSON"},
               {"--data", true, "data file"},
               {"--label", true, "obs column with the true labels"},
               {"--pred-col", true, "obs column with predicted labels (classification)"},
               {"--proba-key", true, "obsm key with class probabilities (ROC/AUC)", "cw_proba"},
               {"--cluster-col", true, "obs column with clusters (clustering metrics)"},
               {"--embedding", true, "obsm key of the embedding (clustering metrics)"},
               {"--batch-key", true, "obs column with batches (integration metrics)"},
               {"--k", true, "neighbours for the graph metrics", "15"}};
  c.run = [](const Args& args) {
    const std::string output = args.value("--output");  // checked before any work
    const bool classify = args.has("--pred-col"), cluster = args.has("--cluster-col");
    if (classify == cluster) throw UsageError("give either --pred-col (classification) or --cluster-col (clustering)");
    if (cluster && !args.has("--embedding")) throw UsageError("--cluster-col needs --embedding");
    if (args.integer("--k") < 1) throw UsageError("--k must be at least 1");
    Feedback feedback;
    ProgressPrinter printer(feedback);
    io::ReadOptions readOptions;
    readOptions.readLayers = false;
    readOptions.readRaw = false;
    readOptions.readObsp = false;
    const auto dataset = io::readDataset(args.value("--data"), readOptions, &feedback).dataset;
    const nlohmann::json metrics = classify ? classification(dataset, args, feedback) : clustering(dataset, args, feedback);
    writeTextAtomically(output, metrics.dump(2) + "\n");
    if (classify)
      std::cout << "accuracy " << metrics["accuracy"] << ", macro F1 " << metrics["macro_f1"] << "\n";
    else
      std::cout << "NMI " << metrics["nmi"] << ", ARI " << metrics["ari"] << ", avg_bio " << metrics["avg_bio"] << "\n";
    return 0;
  };
  return c;
}

}  // namespace
CELLWRIGHT_REGISTER_COMMAND(makeEvaluateCommand);
}  // namespace cw::cli
