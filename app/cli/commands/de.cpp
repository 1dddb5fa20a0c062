// `de IN --groupby COL [--group G] [--reference rest|G2] [--method wilcoxon|t-test] -o de.csv`.
#include <iostream>

#include "cellwright/analysis/de.h"
#include "cellwright/cli/cli.h"
#include "cellwright/cli/progress_printer.h"
#include "cellwright/core/atomic_file.h"
#include "cellwright/io/readers.h"

namespace cw::cli {
namespace {

Command makeDeCommand() {
  Command c;
  c.name = "de";
  c.summary = "differential expression: marker genes of groups of cells";
  c.usage = "IN --groupby COL [--group G] [--reference rest|G2] [--method wilcoxon|t-test] -o de.csv";
  c.options = {{"--output|-o", true, "output CSV"},
               {"--groupby", true, "obs column defining the groups"},
               {"--group", true, "test only this group (default: every group)"},
               {"--reference", true, "'rest' or the name of another group", "rest"},
               {"--method", true, "wilcoxon or t-test", "wilcoxon"},
               {"--no-tie-correct", false, "Wilcoxon without the tie correction"}};
  c.minPositionals = 1;
  c.maxPositionals = 1;
  c.run = [](const Args& args) {
    const std::string output = args.value("--output");  // checked before any work
    analysis::DeOptions options;
    const std::string method = args.value("--method");
    if (method == "t-test" || method == "t-test_overestim_var" || method == "ttest") options.method = analysis::DeMethod::TTest;
    else if (method != "wilcoxon") throw UsageError("--method must be wilcoxon or t-test");
    options.tieCorrect = !args.flag("--no-tie-correct");
    const std::string groupby = args.value("--groupby");
    Feedback feedback;
    ProgressPrinter printer(feedback);
    io::ReadOptions readOptions;
    readOptions.readObsp = false;
    readOptions.readUns = false;
    const auto dataset = io::readDataset(args.positionals().at(0), readOptions, &feedback).dataset;
    const auto comparisons =
        analysis::rankGenesGroups(dataset, groupby, args.optional("--group"), args.value("--reference"), options, &feedback);
    writeTextAtomically(output, analysis::deToCsv(comparisons, dataset.var.index));
    std::cout << "de: " << comparisons.size() << " comparison(s) x " << dataset.nVars() << " genes\n";
    return 0;
  };
  return c;
}

}  // namespace
CELLWRIGHT_REGISTER_COMMAND(makeDeCommand);
}  // namespace cw::cli
