#include "cellwright/ui/training_job.h"

#include "cellwright/core/errors.h"
#include "cellwright/plugins/builtin.h"
#include "cellwright/train/finetune.h"
#include "cellwright/train/predict.h"

namespace cw::ui {

JobFunction trainingJob(std::shared_ptr<const cw::Dataset> snapshot, const TrainingRequest& request) {
  return [snapshot, request](cw::Feedback& feedback) -> std::any {
    if (!snapshot) throw cw::Error("open a dataset before training");
    if (request.runDir.isEmpty()) throw cw::Error("choose a folder for the run");
    cw::plugins::registerBuiltinPlugins();
    cw::train::FineTuneOptions o;
    o.model = request.model.toStdString();
    o.labelKey = request.label.toStdString();
    switch (request.split) {
      case TrainingRequest::Split::Fractions:
        o.split = cw::train::SplitMode::Random;
        o.fractions.trainFraction = request.trainFraction;
        o.fractions.validationFraction = request.validationFraction;
        o.fractions.testFraction = request.testFraction;
        break;
      case TrainingRequest::Split::KFold:
        o.split = cw::train::SplitMode::CrossValidation;
        o.folds = request.folds;
        break;
      case TrainingRequest::Split::HoldOutBatch:
        o.split = cw::train::SplitMode::Batch;
        o.batchKey = request.batchKey.toStdString();
        o.testBatch = request.testBatch.toStdString();
        break;
    }
    o.init = request.init.toStdString();
    o.trainer.epochs = request.epochs;
    o.trainer.batchSize = request.batchSize;
    o.trainer.learningRate = request.learningRate;
    o.trainer.device = request.device.toStdString();
    o.runDir = request.runDir.toStdString();
    o.force = true;  // the panel asked before replacing an existing folder
    o.dataDescription = "Cellwright GUI";
    const auto tuned = cw::train::fineTune(*snapshot, o, &feedback);

    feedback.setProgress(1.0, "predicting every cell");
    cw::train::PredictOptions p;
    p.runDir = o.runDir;
    p.device = o.trainer.device;
    const auto predicted = cw::train::predict(*snapshot, p, &feedback);
    auto copy = std::make_shared<cw::Dataset>(*snapshot);
    cw::train::annotateDataset(*copy, predicted);
    TrainingOutcome outcome;
    outcome.annotated = std::move(copy);
    outcome.runDir = request.runDir;
    outcome.accuracy = tuned.metrics.value("accuracy", 0.0);
    return outcome;
  };
}

}  // namespace cw::ui
