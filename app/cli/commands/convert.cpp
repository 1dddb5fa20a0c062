// `convert IN OUT.h5ad`: any supported format to an h5ad that anndata and scanpy read.
#include <iostream>

#include "cellwright/cli/cli.h"
#include "cellwright/cli/progress_printer.h"
#include "cellwright/core/strings.h"
#include "cellwright/io/readers.h"

namespace cw::cli {
namespace {

Command makeConvertCommand() {
  Command c;
  c.name = "convert";
  c.summary = "convert h5ad, 10x .h5, a Matrix Market folder or CSV/TSV to h5ad";
  c.usage = "IN OUT.h5ad [--compress] [--orientation auto|cells-as-rows|genes-as-rows] [--all-features]";
  c.options = {{"--compress", false, "gzip the matrices (smaller, slower to read)"},
               {"--orientation", true, "CSV/TSV: auto, cells-as-rows or genes-as-rows", "auto"},
               {"--all-features", false, "10x: keep every feature type, not only Gene Expression"}};
  c.minPositionals = 2;
  c.maxPositionals = 2;
  c.run = [](const Args& args) {
    const std::string in = args.positionals().at(0);
    const std::string out = args.positionals().at(1);
    if (!endsWith(toLower(out), ".h5ad")) throw UsageError("the output must be an .h5ad file, got '" + out + "'");
    io::ReadOptions options;
    options.geneExpressionOnly = !args.flag("--all-features");
    const std::string orientation = args.value("--orientation");
    if (orientation == "cells-as-rows") options.textOrientation = io::ReadOptions::Orientation::CellsAsRows;
    else if (orientation == "genes-as-rows") options.textOrientation = io::ReadOptions::Orientation::GenesAsRows;
    else if (orientation != "auto") throw UsageError("--orientation must be auto, cells-as-rows or genes-as-rows");
    Feedback feedback;
    ProgressPrinter printer(feedback);
    auto result = io::readDataset(in, options, &feedback);
    io::WriteOptions writeOptions;
    writeOptions.compress = args.flag("--compress");
    io::writeH5ad(result.dataset, out, writeOptions, &feedback);
    std::cout << "wrote " << out << ": " << result.dataset.nObs() << " cells x " << result.dataset.nVars() << " genes\n";
    return 0;
  };
  return c;
}

}  // namespace
CELLWRIGHT_REGISTER_COMMAND(makeConvertCommand);
}  // namespace cw::cli
