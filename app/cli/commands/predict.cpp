// `predict --run RUN --data FILE -o OUT.h5ad [--csv OUT.csv] [--min-confidence P]`.
#include <iostream>

#include "cellwright/cli/cli.h"
#include "cellwright/cli/progress_printer.h"
#include "cellwright/core/atomic_file.h"
#include "cellwright/io/readers.h"
#include "cellwright/plugins/builtin.h"
#include "cellwright/train/predict.h"

namespace cw::cli {
namespace {

int runPredict(const Args& args) {
  plugins::registerBuiltinPlugins();
  train::PredictOptions o;
  o.runDir = args.value("--run");
  o.minConfidence = args.number("--min-confidence");
  if (o.minConfidence < 0 || o.minConfidence > 1) throw UsageError("--min-confidence must be between 0 and 1");
  o.batchSize = static_cast<int>(args.integer("--batch-size"));
  o.device = args.value("--device");
  Feedback feedback;
  ProgressPrinter printer(feedback, false);
  auto read = io::readDataset(args.value("--data"), {}, &feedback);
  auto result = train::predict(read.dataset, o, &feedback);
  train::annotateDataset(read.dataset, result);
  io::writeH5ad(read.dataset, args.value("--output"), {}, &feedback);
  if (auto csv = args.optional("--csv")) writeTextAtomically(*csv, train::predictionsToCsv(read.dataset, result));
  size_t unassigned = 0;
  for (const auto& p : result.predictions) unassigned += p == train::kUnassigned;
  std::cerr << result.predictions.size() << " cells predicted with " << result.modelName << " (" << unassigned
            << " unassigned); genes: " << result.alignmentSummary << "\n";
  return 0;
}

Command makePredictCommand() {
  Command c;
  c.name = "predict";
  c.summary = "annotate cells with a fine-tuned run (cw_pred, cw_confidence, cw_proba, X_cw_<model>)";
  c.usage = "--run RUN --data FILE -o OUT.h5ad [--csv OUT.csv] [--min-confidence P]";
  c.options = {
      {"--run", true, "fine-tuning run folder"},
      {"--data", true, "input file"},
      {"--output|-o", true, "output h5ad"},
      {"--csv", true, "also write cell, prediction, confidence and probabilities as CSV"},
      {"--min-confidence", true, "cells below this top probability become \"Unassigned\"", "0"},
      {"--batch-size", true, "cells per inference batch", "256"},
      {"--device", true, "cpu, cuda or auto", "auto"},
  };
  c.run = runPredict;
  return c;
}

}  // namespace
CELLWRIGHT_REGISTER_COMMAND(makePredictCommand);
}  // namespace cw::cli
