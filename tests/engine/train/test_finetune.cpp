#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cellwright/core/atomic_file.h"
#include "cellwright/core/errors.h"
#include "cellwright/core/strings.h"
#include "cellwright/io/readers.h"
#include "cellwright/plugins/builtin.h"
#include "cellwright/train/finetune.h"
#include "cellwright/train/model_data.h"
#include "cellwright/train/predict.h"
#include "cellwright/train/run_folder.h"

using namespace cw::train;
namespace fs = std::filesystem;

namespace {

const cw::Dataset& demo() {
  static const cw::Dataset dataset =
      cw::io::readDataset(std::string(CELLWRIGHT_SHARED_DATA_DIR) + "/seurat_pbmc_small_80.h5ad").dataset;
  return dataset;
}

fs::path runDir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("cw_finetune_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

FineTuneOptions logregOptions(const fs::path& dir) {
  cw::plugins::registerBuiltinPlugins();
  FineTuneOptions o;
  o.model = "logreg";
  o.labelKey = "cell_type";
  o.runDir = dir;
  o.trainer.epochs = 4;
  o.trainer.batchSize = 16;
  o.trainer.learningRate = 0.01;
  o.trainer.device = "cpu";
  return o;
}

std::vector<std::vector<std::string>> readCsv(const fs::path& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(cw::readTextFile(path));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields;
    std::istringstream l(line);
    for (std::string f; std::getline(l, f, ',');) fields.push_back(f);
    rows.push_back(fields);
  }
  return rows;
}

}  // namespace

TEST(FineTune, WritesTheRunFolderOfTheContract) {
  const auto dir = runDir("contract");
  auto result = fineTune(demo(), logregOptions(dir));
  for (const char* f : {"config.json", "log.txt", "split.json", "genes.txt", "checkpoints/best.ckpt",
                        "checkpoints/last.ckpt", "metrics.json", "history.json", "predictions.csv"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  EXPECT_EQ(result.preset, "small");  // CPU default
  // Stratified 0.6/0.2/0.2 of 36/25/19 cells: test 7+5+4, validation 7+5+4, train the rest.
  auto split = readJsonFile(dir / "split.json");
  EXPECT_EQ(split["test"].size(), 16u);
  EXPECT_EQ(split["validation"].size(), 16u);
  EXPECT_EQ(split["train"].size(), 48u);
  // The accuracy in metrics.json is what predictions.csv says.
  auto rows = readCsv(dir / "predictions.csv");
  ASSERT_EQ(rows.size(), 17u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"cell", "truth", "prediction", "confidence"}));
  int correct = 0;
  for (size_t i = 1; i < rows.size(); ++i) correct += rows[i][1] == rows[i][2];
  auto metrics = readJsonFile(dir / "metrics.json");
  EXPECT_DOUBLE_EQ(metrics["accuracy"].get<double>(), correct / 16.0);
  EXPECT_TRUE(metrics.contains("macro_auc"));
  EXPECT_EQ(readJsonFile(dir / "history.json")["epochs"].size(), 4u);
  EXPECT_EQ(cw::splitString(cw::readTextFile(dir / "genes.txt"), '\n').size() >= 230u, true);
}

TEST(FineTune, ExistingRunFolderNeedsForceOrResume) {
  const auto dir = runDir("guard");
  auto o = logregOptions(dir);
  auto first = fineTune(demo(), o);
  EXPECT_THROW(fineTune(demo(), o), cw::Error);
  o.resume = true;  // every epoch is done: resuming restores the best model and re-tests it
  auto resumed = fineTune(demo(), o);
  EXPECT_EQ(resumed.metrics["accuracy"], first.metrics["accuracy"]);
  EXPECT_TRUE(resumed.training.resumed);
  o.resume = false;
  o.force = true;
  o.trainer.epochs = 2;
  fineTune(demo(), o);
  EXPECT_EQ(readJsonFile(dir / "history.json")["epochs"].size(), 2u);
}

TEST(FineTune, BatchSplitReportsLabelsAbsentFromTraining) {
  // Drop label "2" from batch g1, so it exists only in the test batch g2.
  const auto& d = demo();
  const auto& type = d.obs.at("cell_type");
  const auto& batch = d.obs.at("batch");
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < d.nObs(); ++i)
    if (!(type.valueAsString(i) == "2" && batch.valueAsString(i) == "g1")) keep.push_back(i);
  auto subset = d.selectObs(keep);
  const auto dir = runDir("batch");
  auto o = logregOptions(dir);
  o.split = SplitMode::Batch;
  o.batchKey = "batch";
  o.testBatch = "g2";
  auto result = fineTune(subset, o);
  EXPECT_EQ(result.metrics["excluded_labels"], nlohmann::json::array({"2"}));
  EXPECT_EQ(result.metrics["train_batches"], nlohmann::json::array({"g1"}));
  EXPECT_EQ(result.metrics["test_batch"], "g2");
  EXPECT_EQ(result.metrics["n_test"], 16 + 11);  // g2 cells of labels 0 and 1
}

TEST(FineTune, BatchSplitTrainsOnlyOnLabelsOfTheTestBatch) {
  // Drop label "2" from the test batch g2: its g1 cells must leave training and validation.
  const auto& d = demo();
  const auto& type = d.obs.at("cell_type");
  const auto& batch = d.obs.at("batch");
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < d.nObs(); ++i)
    if (!(type.valueAsString(i) == "2" && batch.valueAsString(i) == "g2")) keep.push_back(i);
  auto subset = d.selectObs(keep);
  const auto dir = runDir("batch_shared");
  auto o = logregOptions(dir);
  o.split = SplitMode::Batch;
  o.batchKey = "batch";
  o.testBatch = "g2";
  auto result = fineTune(subset, o);
  EXPECT_EQ(result.metrics["excluded_train_labels"], nlohmann::json::array({"2"}));
  EXPECT_EQ(result.metrics["excluded_labels"], nlohmann::json::array());
  const auto split = readJsonFile(dir / "split.json");
  std::map<std::string, std::string> labelOf;
  for (int64_t i = 0; i < subset.nObs(); ++i) labelOf[subset.obs.index[i]] = subset.obs.at("cell_type").valueAsString(i);
  size_t used = 0;
  for (const char* part : {"train", "validation"})
    for (const auto& name : split[part]) {
      EXPECT_NE(labelOf.at(name.get<std::string>()), "2");
      EXPECT_EQ(subset.obs.at("batch").valueAsString(std::find(subset.obs.index.begin(), subset.obs.index.end(),
                                                                name.get<std::string>()) - subset.obs.index.begin()),
                "g1");
      ++used;
    }
  size_t g1Shared = 0;
  for (int64_t i = 0; i < subset.nObs(); ++i)
    if (subset.obs.at("batch").valueAsString(i) == "g1" && labelOf[subset.obs.index[i]] != "2") ++g1Shared;
  EXPECT_EQ(used, g1Shared);
}

TEST(FineTune, CrossValidationReportsMeanAndSd) {
  const auto dir = runDir("cv");
  auto o = logregOptions(dir);
  o.split = SplitMode::CrossValidation;
  o.folds = 3;
  auto result = fineTune(demo(), o);
  const auto& folds = result.metrics["folds"];
  ASSERT_EQ(folds.size(), 3u);
  double sum = 0, sq = 0;
  for (const auto& f : folds) sum += f["accuracy"].get<double>();
  const double mean = sum / 3;
  for (const auto& f : folds) sq += std::pow(f["accuracy"].get<double>() - mean, 2);
  EXPECT_NEAR(result.metrics["accuracy"].get<double>(), mean, 1e-12);
  EXPECT_NEAR(result.metrics["sd"]["accuracy"].get<double>(), std::sqrt(sq / 2), 1e-12);
  EXPECT_EQ(result.metrics["n_test"], 80);  // every cell tested once
  EXPECT_EQ(readJsonFile(dir / "split.json")["folds"].size(), 3u);
  EXPECT_TRUE(fs::exists(dir / "checkpoints" / "best.ckpt"));
}

TEST(Predict, ConfidenceThresholdAndContractKeys) {
  const auto dir = runDir("predict");
  fineTune(demo(), logregOptions(dir));
  PredictOptions p;
  p.runDir = dir;
  p.device = "cpu";
  auto all = predict(demo(), p);
  ASSERT_EQ(all.predictions.size(), 80u);
  std::vector<double> sorted = all.confidence;
  std::sort(sorted.begin(), sorted.end());
  p.minConfidence = sorted[40];
  auto thresholded = predict(demo(), p);
  int unassigned = 0, expected = 0;
  for (size_t i = 0; i < 80; ++i) {
    unassigned += thresholded.predictions[i] == kUnassigned;
    expected += all.confidence[i] < p.minConfidence;
    // confidence is the top probability of the row
    double top = 0;
    for (int64_t k = 0; k < all.probabilities.cols; ++k) top = std::max(top, all.probabilities.at(static_cast<int64_t>(i), k));
    EXPECT_NEAR(all.confidence[i], top, 1e-6);
  }
  EXPECT_EQ(unassigned, expected);
  EXPECT_EQ(unassigned, 40);
  auto annotated = demo();
  annotateDataset(annotated, thresholded);
  EXPECT_EQ(annotated.obs.at("cw_pred").categories.back(), kUnassigned);
  EXPECT_EQ(annotated.obsm.at("cw_proba").cols, 3);
  EXPECT_EQ(annotated.obsm.count("X_cw_logreg"), 0u);  // logistic regression has no embedding
}

TEST(FineTune, BadInputIsRefusedBeforeTheRunFolderIsTouched) {
  const auto dir = runDir("bad");
  auto o = logregOptions(dir);
  o.labelKey = "no_such_column";
  EXPECT_THROW(fineTune(demo(), o), cw::Error);
  EXPECT_FALSE(fs::exists(dir));
  o = logregOptions(dir);
  o.model = "no_such_model";
  EXPECT_THROW(fineTune(demo(), o), cw::Error);
}

TEST(PcaGeneEmbeddings, RowsAreTheGenesLoadingsScaledToTheRequestedSd) {
  // Log-normalised values x_i = t_i * (1, 2, 0): the one principal axis is (1, 2, 0) / sqrt(5)
  // (up to sign), so gene rows 1..3 of the table are proportional to 1, 2, 0; padding row 0
  // and the spare row 4 stay zero.
  ModelData data;
  data.valuesAreLogNormalized = true;
  const std::vector<double> t = {0.5, 1.0, 1.5, 2.0, 3.0};
  data.values.rows = static_cast<int64_t>(t.size());
  data.values.cols = 3;
  data.values.indptr = {0};
  for (double ti : t) {
    data.values.indices.push_back(0);
    data.values.data.push_back(ti);
    data.values.indices.push_back(1);
    data.values.data.push_back(2 * ti);
    data.values.indptr.push_back(static_cast<int64_t>(data.values.indices.size()));
  }
  const auto table = pcaGeneEmbeddings(data, {0, 1, 2, 3, 4}, 1, 5, 0.5, 100.0, 0);
  ASSERT_EQ(table.sizes(), (std::vector<int64_t>{5, 1}));
  const auto a = table.accessor<float, 2>();
  EXPECT_EQ(a[0][0], 0.0f);
  EXPECT_EQ(a[4][0], 0.0f);
  EXPECT_NEAR(a[3][0], 0.0, 1e-5);
  EXPECT_NEAR(a[2][0] / a[1][0], 2.0, 1e-4);
  // Sample SD of (l, 2l, 0) is 0.5 by construction: l = 0.5 / sd(1, 2, 0) = 0.5.
  EXPECT_NEAR(std::abs(a[1][0]), 0.5, 1e-4);
}
