// `demo [-o DIR]`: the main job on the bundled demo dataset, end to end.
#include <cstdio>
#include <iostream>

#include "cellwright/cli/cli.h"
#include "cellwright/cli/progress_printer.h"
#include "cellwright/workflows/demo.h"

namespace cw::cli {
namespace {

Command makeDemoCommand() {
  Command c;
  c.name = "demo";
  c.summary = "run the main job on the bundled demo dataset (results folder replaced each run)";
  c.usage = "[-o DIR] [--data FILE] [--label COL] [--seed S] [--epochs E]";
  c.options = {{"--output|-o", true, "results folder", "cellwright-demo"},
               {"--data", true, "dataset to use instead of the bundled demo", CELLWRIGHT_DEMO_DATASET},
               {"--label", true, "obs column with the cell-type labels", "cell_type"},
               {"--seed", true, "seed for the split, the models and the UMAPs", "2022"},
               {"--epochs", true, "CellPatch fine-tuning epochs", "40"}};
  c.run = [](const Args& args) {
    workflows::DemoOptions options;
    options.outputDir = args.value("--output");
    options.input = args.value("--data");
    options.labelKey = args.value("--label");
    options.seed = static_cast<uint64_t>(args.integer("--seed"));
    options.cellpatchEpochs = static_cast<int>(args.integer("--epochs"));
    if (options.cellpatchEpochs <= 0) throw UsageError("--epochs must be positive");
    Feedback feedback;
    // Verbose: the demo is the main job a person watches, so its stage lines are printed.
    ProgressPrinter printer(feedback, true);
    const auto result = workflows::runDemo(options, &feedback);
    std::printf("%s: %lld cells, %lld genes (%lld highly variable); %lld train / %lld validation / %lld test cells\n",
                options.input.filename().c_str(), static_cast<long long>(result.nCells),
                static_cast<long long>(result.nGenes), static_cast<long long>(result.nHighlyVariable),
                static_cast<long long>(result.nTrain), static_cast<long long>(result.nValidation),
                static_cast<long long>(result.nTest));
    for (const auto& m : result.models)
      std::printf("%-9s test accuracy %.3f, macro-F1 %.3f, macro AUC %.3f  (%s)\n", m.model.c_str(), m.accuracy,
                  m.macroF1, m.macroAuc, m.runDir.c_str());
    std::printf("results: %s\n", result.outputDir.c_str());
    return 0;
  };
  return c;
}

}  // namespace
CELLWRIGHT_REGISTER_COMMAND(makeDemoCommand);
}  // namespace cw::cli
