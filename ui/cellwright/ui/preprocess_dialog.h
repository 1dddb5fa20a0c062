#pragma once
// Preprocess dialog: QC histograms (genes per cell, counts per cell, percent mitochondrial)
// with the filter thresholds drawn on them as they are edited, then normalise + log1p and
// highly variable genes with scanpy's defaults. The QC metrics are computed by a job on the
// engine thread when the dialog opens; the preprocessing itself is a dataset edit job.
#include <QDialog>

#include <cstdint>
#include <vector>

#include "cellwright/preprocess/pipeline.h"
#include "cellwright/ui/analysis_steps.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QSpinBox;

namespace cw::ui {

class Document;
class JobQueue;
class QcHistogram;

// Per-cell QC values of the dataset's raw counts (computed on the engine thread).
struct QcValues {
  std::vector<double> genesPerCell, countsPerCell, pctMito;
  int64_t nMitoGenes = 0;
};
// Throws cw::Error when the dataset holds no raw counts.
QcValues computeQcValues(const cw::Dataset& dataset);

struct PreprocessRequest {
  cw::preprocess::PreprocessOptions options;  // filters (min genes, min cells, max % mito), normalise, HVG
  // Cell filters the engine's pipeline does not take, applied first (0 = off).
  int64_t maxGenes = 0;
  double minCounts = 0, maxCounts = 0;
};
// The edit: the extra cell filters, then cw::preprocess::preprocessDataset.
DatasetEdit preprocessStep(const PreprocessRequest& request);

class PreprocessDialog : public QDialog {
  Q_OBJECT
 public:
  PreprocessDialog(Document* document, JobQueue* jobs, QWidget* parent = nullptr);

  PreprocessRequest request() const;
  bool qcReady() const { return qcReady_; }
  QcHistogram* genesHistogram() const { return genes_; }
  QcHistogram* countsHistogram() const { return counts_; }
  QcHistogram* mitoHistogram() const { return mito_; }
  QSpinBox* minGenesBox() const { return minGenes_; }
  QSpinBox* maxGenesBox() const { return maxGenes_; }
  QDoubleSpinBox* minCountsBox() const { return minCounts_; }
  QDoubleSpinBox* maxCountsBox() const { return maxCounts_; }
  QDoubleSpinBox* maxPctMitoBox() const { return maxPctMito_; }
  QSpinBox* minCellsBox() const { return minCells_; }
  QDoubleSpinBox* targetSumBox() const { return targetSum_; }
  QCheckBox* log1pBox() const { return log1p_; }
  QGroupBox* hvgGroup() const { return hvg_; }
  QSpinBox* hvgCountBox() const { return nTopHvg_; }
  QComboBox* hvgFlavorBox() const { return flavor_; }
  // Queues the preprocessing job (what OK does after remembering the values).
  JobId run();

 Q_SIGNALS:
  void qcComputed();

 private:
  void updateThresholds();
  void updateKeptCount();
  void restoreDefaults();
  void remember() const;
  void restore();

  Document* document_;
  JobQueue* jobs_;
  bool qcReady_ = false;
  QcHistogram *genes_, *counts_, *mito_;
  QSpinBox *minGenes_, *maxGenes_, *minCells_, *nTopHvg_;
  QDoubleSpinBox *minCounts_, *maxCounts_, *maxPctMito_, *targetSum_;
  QCheckBox* log1p_;
  QGroupBox* hvg_;
  QComboBox *flavor_, *batchKey_;
  QLabel* summary_;
};

}  // namespace cw::ui
