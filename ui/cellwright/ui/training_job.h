#pragma once
// What the training panel asks for, and the engine job that does it: fine-tune a model
// plugin on the current dataset into a run folder, then predict every cell so that the
// predictions and their confidence become annotations.
#include <QString>

#include <memory>

#include "cellwright/io/dataset.h"
#include "cellwright/ui/job.h"

namespace cw::ui {

struct TrainingRequest {
  QString model = QStringLiteral("logreg");
  QString init;                                   // pre-trained run or checkpoint; empty: from scratch
  QString label = QStringLiteral("cell_type");    // obs column with the labels
  enum class Split { Fractions, KFold, HoldOutBatch } split = Split::Fractions;
  double trainFraction = 0.6, validationFraction = 0.2, testFraction = 0.2;
  int folds = 5;
  QString batchKey, testBatch;                    // HoldOutBatch
  int epochs = 10;
  int batchSize = 32;
  double learningRate = 1e-3;
  QString device = QStringLiteral("auto");        // auto, cpu, cuda, cuda:N
  QString runDir;                                 // required; replaced if it exists
};

struct TrainingOutcome {
  std::shared_ptr<const cw::Dataset> annotated;   // obs cw_pred / cw_confidence added
  QString runDir;
  double accuracy = 0;
};

// The job: runs on the engine thread with the snapshot taken when Start was pressed.
JobFunction trainingJob(std::shared_ptr<const cw::Dataset> snapshot, const TrainingRequest& request);

}  // namespace cw::ui
