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
  c.usage = "[-o DIR] [--data FILE] [--label COL] [--seed S]";
  c.options = {{"--output|-o", true, "results folder", "cellwright-demo"},
               {"--data", true, "dataset to use instead of the bundled demo", CELLWRIGHT_DEMO_DATASET},
               {"--label", true, "obs column with the cell-type labels", "cell_type"},
               {"--seed", true, "seed for the split and the model", "2022"}};
  c.run = [](const Args& args) {
    workflows::DemoOptions options;
    options.outputDir = args.value("--output");
    options.input = args.value("--data");
    options.labelKey = args.value("--label");
    options.seed = static_cast<uint64_t>(args.integer("--seed"));
    Feedback feedback;
    ProgressPrinter printer(feedback);
    const auto result = workflows::runDemo(options, &feedback);
    std::printf("%s on %s: %lld train / %lld validation / %lld test cells, accuracy %.3f, macro-F1 %.3f\n",
                result.model.c_str(), options.input.filename().c_str(), static_cast<long long>(result.nTrain),
                static_cast<long long>(result.nValidation), static_cast<long long>(result.nTest), result.accuracy,
                result.macroF1);
    std::printf("results: %s\n", result.metricsPath.parent_path().c_str());
    return 0;
  };
  return c;
}

}  // namespace
CELLWRIGHT_REGISTER_COMMAND(makeDemoCommand);
}  // namespace cw::cli
