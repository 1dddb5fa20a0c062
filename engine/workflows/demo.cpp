#include "cellwright/workflows/demo.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cellwright/analysis/neighbors.h"
#include "cellwright/analysis/pca.h"
#include "cellwright/analysis/umap.h"
#include "cellwright/core/atomic_file.h"
#include "cellwright/core/errors.h"
#include "cellwright/io/readers.h"
#include "cellwright/plugins/builtin.h"
#include "cellwright/preprocess/pipeline.h"
#include "cellwright/train/finetune.h"
#include "cellwright/train/model_data.h"
#include "cellwright/train/predict.h"
#include "cellwright/train/run_folder.h"

namespace cw::workflows {
namespace fs = std::filesystem;

namespace {

// One stage of the demo seen by the engine part that runs it: its progress is mapped into
// [begin, end] of the whole job, warnings pass through (the trainer's per-epoch lines stay in
// the run's log.txt), and the caller's cancel reaches it at the next poll.
class StageFeedback {
 public:
  StageFeedback(Feedback* outer, double begin, double end, std::string stage)
      : outer_(outer), begin_(begin), end_(end), last_(begin), stage_(std::move(stage)) {
    inner_.setProgressCallback([this](const Progress& p) {
      if (!outer_) return;
      if (outer_->isCanceled()) inner_.cancel();
      // Nested steps may restart their own 0..1 (or report "unknown"): the job's bar never goes back.
      Progress mapped = p;
      if (p.fraction >= 0) last_ = std::max(last_, begin_ + (end_ - begin_) * std::min(p.fraction, 1.0));
      mapped.fraction = last_;
      mapped.stage = stage_;
      outer_->report(mapped);
    });
    inner_.setLogCallback([this](LogLevel level, const std::string& message) {
      if (outer_ && level >= LogLevel::Warning) outer_->log(level, message);
    });
    if (outer_) {
      outer_->setProgress(begin_, stage_);
      if (outer_->isCanceled()) inner_.cancel();
    }
  }
  Feedback* get() { return &inner_; }

 private:
  Feedback inner_;
  Feedback* outer_;
  double begin_, end_, last_;
  std::string stage_;
};

void say(Feedback* feedback, const std::string& line) {
  if (feedback) feedback->info(line);
}

std::string csvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string number(double v) {
  if (!std::isfinite(v)) return "nan";
  std::ostringstream s;
  s.precision(9);
  s << v;
  return s.str();
}

// Replaces `target` with the folder `staging` (the old one goes only after the new one is complete).
void replaceFolder(const fs::path& staging, const fs::path& target) {
  fs::path old = target;
  old += ".old";
  std::error_code ec;
  fs::remove_all(old, ec);
  if (fs::exists(target)) fs::rename(target, old);
  fs::rename(staging, target);
  fs::remove_all(old, ec);
}

DenseMatrix umapOf(const DenseMatrix& representation, const DemoOptions& options, Feedback* feedback) {
  analysis::NeighborsOptions n;
  n.nNeighbors = static_cast<int>(std::min<int64_t>(options.nNeighbors, representation.rows - 1));
  n.seed = options.seed;
  n.threads = 1;
  const auto neighbors = analysis::computeNeighbors(representation, n, feedback);
  analysis::UmapOptions u;
  u.seed = options.seed;
  u.threads = 1;  // bit-for-bit reproducible for a seed
  return analysis::umap(neighbors.connectivities, u, feedback).embedding;
}

// The test set's confusion matrix and ROC points, from a run's metrics.json.
std::string confusionCsv(const nlohmann::json& metrics) {
  const auto labels = metrics.at("confusion").at("labels").get<std::vector<std::string>>();
  const auto matrix = metrics.at("confusion").at("matrix");
  std::string csv = "truth";
  for (const auto& l : labels) csv += "," + csvField(l);
  csv += "\n";
  for (size_t i = 0; i < labels.size(); ++i) {
    csv += csvField(labels[i]);
    for (const auto& v : matrix.at(i)) csv += "," + std::to_string(v.get<int64_t>());
    csv += "\n";
  }
  return csv;
}

std::string rocCsv(const nlohmann::json& metrics) {
  std::string csv = "label,auc,fpr,tpr\n";
  if (!metrics.contains("roc")) return csv;
  for (const auto& label : metrics.at("confusion").at("labels")) {
    const auto name = label.get<std::string>();
    if (!metrics.at("roc").contains(name)) continue;
    const auto& curve = metrics.at("roc").at(name);
    const double auc = curve.at("auc").is_number() ? curve.at("auc").get<double>() : std::nan("");
    const auto& fpr = curve.at("fpr");
    const auto& tpr = curve.at("tpr");
    for (size_t k = 0; k < fpr.size(); ++k)
      csv += csvField(name) + "," + number(auc) + "," + number(fpr.at(k).get<double>()) + "," +
             number(tpr.at(k).get<double>()) + "\n";
  }
  return csv;
}

double jsonNumber(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j.at(key).is_number() ? j.at(key).get<double>() : std::nan("");
}

struct ModelRun {
  std::string name;
  train::FineTuneOptions options;
  train::FineTuneResult fineTune;
  train::PredictResult prediction;
};

}  // namespace

DemoResult runDemo(const DemoOptions& options, Feedback* feedback) {
  pollCancel(feedback);
  auto read = io::readDataset(options.input, {}, nullptr);
  Dataset& data = read.dataset;
  // Bad input is reported before anything is written or printed.
  const auto labels = train::labelCodes(data, options.labelKey);
  if (labels.names.size() < 2)
    throw Error("obs['" + options.labelKey + "'] has fewer than 2 labels: nothing to classify");
  if (!data.counts()) throw Error(options.input.string() + ": no raw counts found (X, layers['counts'] or raw/X)");
  for (const auto& w : read.warnings)
    if (feedback) feedback->warning(w);

  DemoResult result;
  result.outputDir = options.outputDir;
  fs::path staging = options.outputDir;
  staging += ".partial";
  fs::remove_all(staging);
  fs::create_directories(staging / "figures");
  try {
    // 1. Preprocessing and the expression UMAP.
    say(feedback, "[1/5] preprocessing " + options.input.filename().string() + ": QC metrics, genes in < 3 cells dropped, "
                  "normalise to " + number(options.targetSum) + ", log1p, " + std::to_string(options.nTopHvg) +
                  " highly variable genes");
    {
      StageFeedback stage(feedback, 0.0, 0.05, "preprocessing");
      preprocess::PreprocessOptions p;
      p.targetSum = options.targetSum;
      p.filters.minCells = 3;  // scanpy tutorial's gene filter
      p.nTopHvg = std::min<int64_t>(options.nTopHvg, data.nVars());
      const auto pre = preprocess::preprocessDataset(data, p, stage.get());
      for (const auto& w : pre.warnings)
        if (feedback) feedback->warning(w);
      say(feedback, "      " + pre.summary());
      result.nHighlyVariable = pre.nHighlyVariable;
    }
    result.nCells = data.nObs();
    result.nGenes = data.nVars();
    {
      StageFeedback stage(feedback, 0.05, 0.1, "PCA and UMAP of the expression");
      analysis::PcaOptions p;
      const int64_t usable = std::min<int64_t>(data.nObs(), result.nHighlyVariable > 0 ? result.nHighlyVariable : data.nVars());
      p.nComps = static_cast<int>(std::min<int64_t>(options.pcaComponents, usable - 1));
      p.seed = options.seed;
      const auto pca = analysis::pca(data, p, stage.get());
      analysis::storePca(data, pca);
      data.obsm["X_umap"] = umapOf(pca.embedding, options, stage.get());
      say(feedback, "[2/5] PCA (" + std::to_string(p.nComps) + " components on the highly variable genes) and UMAP done");
    }

    // 2. Fine-tuning: the same stratified split for both models (same seed, same labels).
    std::vector<ModelRun> runs(2);
    runs[0].name = "cellpatch";
    runs[1].name = "logreg";
    for (auto& run : runs) {
      auto& o = run.options;
      o.model = run.name;
      o.preset = "small";
      o.labelKey = options.labelKey;
      o.fractions.seed = options.seed;
      o.runDir = staging / run.name;
      o.dataDescription = options.input.string();
      o.trainer.device = "cpu";
      o.trainer.seed = options.seed;
      o.trainer.optimizer = train::OptimizerKind::AdamW;
      o.trainer.monitor = train::Monitor::ValidationLoss;
      if (run.name == "cellpatch") {
        // The small preset's recipe (docs/models.md, CellPatch) scaled to 48 training cells:
        // small batches, the best epoch by validation accuracy, and gene embeddings started
        // from the training cells' PCA loadings (few cells to learn them from).
        o.config = {{"gene_init", "pca"}};
        o.trainer.epochs = options.cellpatchEpochs;
        o.trainer.batchSize = 16;
        o.trainer.learningRate = 3e-3;
        o.trainer.weightDecay = 0.0;
        o.trainer.warmupFraction = 0.1;
        o.trainer.decay = train::DecayKind::Cosine;
        o.trainer.monitor = train::Monitor::ValidationAccuracy;
      } else {
        o.trainer.epochs = options.logregEpochs;
        o.trainer.batchSize = 64;
        o.trainer.learningRate = 1e-2;
        o.trainer.weightDecay = 1e-4;
        o.trainer.decay = train::DecayKind::Constant;
      }
    }
    plugins::PluginRegistry registry;
    plugins::registerBuiltinPlugins(registry);
    const double trainBegin[] = {0.1, 0.6}, trainEnd[] = {0.6, 0.8};
    for (size_t m = 0; m < runs.size(); ++m) {
      auto& run = runs[m];
      run.options.registry = &registry;
      say(feedback, "[3/5] fine-tuning " + run.name + " (small preset, " + std::to_string(run.options.trainer.epochs) +
                        " epochs) on a stratified 0.6/0.2/0.2 split");
      StageFeedback stage(feedback, trainBegin[m], trainEnd[m], "fine-tuning " + run.name);
      run.fineTune = train::fineTune(data, run.options, stage.get());
      const auto& t = run.fineTune.training;
      say(feedback, "      " + run.name + ": best epoch " + std::to_string(t.bestEpoch) + " of " +
                        std::to_string(t.history.size()) + ", test accuracy " +
                        number(jsonNumber(run.fineTune.metrics, "accuracy")) + ", macro-F1 " +
                        number(jsonNumber(run.fineTune.metrics, "macro_f1")));
    }
    {
      const auto split = train::readJsonFile(staging / "cellpatch" / "split.json");
      result.nTrain = static_cast<int64_t>(split.at("train").size());
      result.nValidation = static_cast<int64_t>(split.at("validation").size());
      result.nTest = static_cast<int64_t>(split.at("test").size());
    }

    // 3. Predictions for every cell, CellPatch's cell embedding and its UMAP.
    say(feedback, "[4/5] predicting every cell with both models; UMAP of CellPatch's cell embedding");
    {
      StageFeedback stage(feedback, 0.8, 0.9, "predicting");
      for (auto& run : runs) {
        train::PredictOptions p;
        p.runDir = staging / run.name;
        p.device = "cpu";
        p.registry = &registry;
        run.prediction = train::predict(data, p, stage.get());
      }
      train::annotateDataset(data, runs[0].prediction);
      const auto& logreg = runs[1].prediction;
      std::vector<int32_t> codes;
      std::map<std::string, int32_t> index;
      for (size_t k = 0; k < logreg.classes.size(); ++k) index[logreg.classes[k]] = static_cast<int32_t>(k);
      for (const auto& p : logreg.predictions) codes.push_back(index.at(p));
      data.obs.set("cw_pred_logreg", Column::categorical(std::move(codes), logreg.classes));
      data.obsm["X_umap_cellpatch"] = umapOf(runs[0].prediction.embedding, options, stage.get());
    }
    {
      const auto split = train::splitFromJson(readTextFile(staging / "cellpatch" / "split.json"), data.obs.index);
      std::vector<int32_t> part(static_cast<size_t>(data.nObs()), -1);
      for (auto c : split.train) part[c] = 0;
      for (auto c : split.validation) part[c] = 1;
      for (auto c : split.test) part[c] = 2;
      data.obs.set("cw_split", Column::categorical(std::move(part), {"train", "validation", "test"}));
    }

    // 4. The figures' data and the folder's own run files.
    say(feedback, "[5/5] writing " + options.outputDir.string() + ": demo.h5ad, figures/, logreg/, cellpatch/");
    {
      StageFeedback stage(feedback, 0.9, 1.0, "writing results");
      io::writeH5ad(data, staging / "demo.h5ad", {}, stage.get());
      const auto& umapExpression = data.obsm.at("X_umap");
      const auto& umapModel = data.obsm.at("X_umap_cellpatch");
      const auto& truth = data.obs.at(options.labelKey);
      const auto& split = data.obs.at("cw_split");
      std::string csv = "cell,truth,split,umap_1,umap_2,cellpatch_umap_1,cellpatch_umap_2,pred_cellpatch,pred_logreg\n";
      for (int64_t i = 0; i < data.nObs(); ++i) {
        const auto row = static_cast<size_t>(i);
        csv += csvField(data.obs.index[row]) + "," + csvField(truth.valueAsString(row)) + "," + split.valueAsString(row) +
               "," + number(umapExpression.at(i, 0)) + "," + number(umapExpression.at(i, 1)) + "," +
               number(umapModel.at(i, 0)) + "," + number(umapModel.at(i, 1)) + "," +
               csvField(runs[0].prediction.predictions[row]) + "," + csvField(runs[1].prediction.predictions[row]) + "\n";
      }
      writeTextAtomically(staging / "figures" / "umap.csv", csv);
      nlohmann::json summary = {{"dataset", options.input.string()},
                                {"label", options.labelKey},
                                {"n_cells", result.nCells},
                                {"n_genes", result.nGenes},
                                {"n_highly_variable", result.nHighlyVariable},
                                {"split", {{"train", result.nTrain}, {"validation", result.nValidation}, {"test", result.nTest}}},
                                {"seed", options.seed}};
      for (auto& run : runs) {
        const auto& metrics = run.fineTune.metrics;
        writeTextAtomically(staging / "figures" / ("confusion_" + run.name + ".csv"), confusionCsv(metrics));
        writeTextAtomically(staging / "figures" / ("roc_" + run.name + ".csv"), rocCsv(metrics));
        DemoModelResult r;
        r.model = run.name;
        r.accuracy = jsonNumber(metrics, "accuracy");
        r.macroF1 = jsonNumber(metrics, "macro_f1");
        r.macroAuc = jsonNumber(metrics, "macro_auc");
        r.runDir = options.outputDir / run.name;
        result.models.push_back(r);
        summary["models"][run.name] = {{"accuracy", r.accuracy},
                                       {"macro_f1", r.macroF1},
                                       {"macro_auc", metrics.contains("macro_auc") ? metrics.at("macro_auc") : nlohmann::json()},
                                       {"best_epoch", run.fineTune.training.bestEpoch},
                                       {"epochs", run.fineTune.training.history.size()},
                                       {"run", run.name}};
      }
      summary["files"] = {{"main_run", "cellpatch"},
                          {"dataset", "demo.h5ad"},
                          {"umap", "figures/umap.csv"},
                          {"confusion", {"figures/confusion_cellpatch.csv", "figures/confusion_logreg.csv"}},
                          {"roc", {"figures/roc_cellpatch.csv", "figures/roc_logreg.csv"}}};
      train::writeJsonFile(staging / "summary.json", summary);
      // The folder opens as CellPatch's run (GUI `--run DIR`).
      for (const char* file : {"metrics.json", "predictions.csv", "split.json", "history.json"})
        fs::copy_file(staging / "cellpatch" / file, staging / file, fs::copy_options::overwrite_existing);
      pollCancel(feedback);
    }
    replaceFolder(staging, options.outputDir);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(staging, ec);
    throw;
  }
  if (feedback) feedback->setProgress(1.0, "done");
  return result;
}

}  // namespace cw::workflows
