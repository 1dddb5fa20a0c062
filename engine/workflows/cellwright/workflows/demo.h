#pragma once
// The main job on the bundled demo dataset, end to end, on the CPU:
//   1. preprocess (QC metrics, normalise + log1p, highly variable genes), PCA, neighbours, UMAP;
//   2. fine-tune a small CellPatch and the logistic-regression baseline on the same stratified
//      split (cw::train::fineTune: run folders with checkpoints, metrics, history, predictions);
//   3. predict every cell with both, embed the cells with CellPatch and lay that out with UMAP;
//   4. write the figures' data.
// The results folder (replaced on each run) holds:
//   logreg/, cellpatch/        the two run folders (the contract's run-folder layout)
//   metrics.json, predictions.csv, split.json, history.json
//                              CellPatch's, so the folder itself opens as a run (`cellwright --run DIR`)
//   summary.json               both models' headline numbers, the dataset and the file list
//   demo.h5ad                  the preprocessed data with obsm X_pca, X_umap (expression),
//                              X_cw_cellpatch and X_umap_cellpatch, CellPatch's cw_pred /
//                              cw_confidence / cw_proba, obs cw_pred_logreg and cw_split
//   figures/umap.csv           cell, truth, split, both UMAPs' coordinates, both predictions
//   figures/confusion_<model>.csv  test-set confusion matrix (rows truth, columns prediction)
//   figures/roc_<model>.csv    one-vs-rest ROC points of the test set: label, auc, fpr, tpr
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cellwright/core/feedback.h"

namespace cw::workflows {

struct DemoOptions {
  std::filesystem::path input;                                // the dataset (default: the bundled demo)
  std::filesystem::path outputDir = "cellwright-demo";        // replaced on each run
  std::string labelKey = "cell_type";                         // obs column with the labels
  uint64_t seed = 2022;                                       // split, models and UMAP seed
  double targetSum = 1e4;                                     // normalize_total target
  int64_t nTopHvg = 100;                                      // highly variable genes flagged (PCA uses them)
  int pcaComponents = 20;                                     // capped at cells - 1 and HVGs - 1
  int nNeighbors = 15;                                        // for both UMAPs
  int cellpatchEpochs = 40;                                   // pbmc_small is 80 cells: seconds
  int logregEpochs = 100;
};

struct DemoModelResult {
  std::string model;                    // "cellpatch" or "logreg"
  double accuracy = 0, macroF1 = 0, macroAuc = 0;
  std::filesystem::path runDir;
};

struct DemoResult {
  int64_t nCells = 0, nGenes = 0, nHighlyVariable = 0;
  int64_t nTrain = 0, nValidation = 0, nTest = 0;
  std::vector<DemoModelResult> models;  // cellpatch first, then logreg
  std::filesystem::path outputDir;
};

// Throws cw::Error on bad input (before the results folder is touched), cw::Canceled on
// cancel (the previous results folder stays).
DemoResult runDemo(const DemoOptions& options, Feedback* feedback = nullptr);

}  // namespace cw::workflows
