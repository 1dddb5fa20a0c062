// `preprocess IN -o OUT.h5ad ...`: QC, filters, normalise, log1p, highly variable genes.
#include <iostream>

#include "cellwright/cli/cli.h"
#include "cellwright/cli/progress_printer.h"
#include "cellwright/core/errors.h"
#include "cellwright/io/readers.h"
#include "cellwright/preprocess/pipeline.h"

namespace cw::cli {
namespace {

preprocess::PreprocessOptions optionsFrom(const Args& args) {
  preprocess::PreprocessOptions o;
  o.targetSum = args.number("--target-sum");
  o.log1p = !args.flag("--no-log1p");
  o.assumeNormalized = args.flag("--assume-normalized");
  if (args.has("--hvg")) {
    o.nTopHvg = args.integer("--hvg");
    if (o.nTopHvg <= 0) throw UsageError("--hvg needs a positive number of genes");
  }
  try {
    o.hvgFlavor = preprocess::parseHvgFlavor(args.value("--hvg-flavor"));
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  if (args.has("--hvg-flavor") && !args.has("--hvg")) throw UsageError("--hvg-flavor needs --hvg N");
  if (auto key = args.optional("--batch-key")) o.batchKey = *key;
  if (args.has("--min-genes")) o.filters.minGenes = args.integer("--min-genes");
  if (args.has("--min-cells")) o.filters.minCells = args.integer("--min-cells");
  if (args.has("--max-pct-mito")) {
    o.filters.maxPctMito = args.number("--max-pct-mito");
    if (o.filters.maxPctMito < 0 || o.filters.maxPctMito > 100) throw UsageError("--max-pct-mito must be between 0 and 100");
  }
  if (o.filters.minGenes < 0 || o.filters.minCells < 0) throw UsageError("filter thresholds must not be negative");
  return o;
}

Command makePreprocessCommand() {
  Command c;
  c.name = "preprocess";
  c.summary = "QC, normalise, log1p and flag highly variable genes (raw counts kept in layers['counts'])";
  c.usage = "IN -o OUT.h5ad [--target-sum 1e4] [--no-log1p] [--hvg N --hvg-flavor seurat|cell_ranger|seurat_v3] "
            "[--batch-key COL] [--min-genes N] [--min-cells N] [--max-pct-mito F] [--assume-normalized]";
  c.options = {{"--output|-o", true, "output h5ad"},
               {"--target-sum", true, "counts per cell after normalisation (0 = median of totals)", "1e4"},
               {"--no-log1p", false, "skip the log1p transform"},
               {"--hvg", true, "flag this many highly variable genes"},
               {"--hvg-flavor", true, "seurat, cell_ranger or seurat_v3", "seurat"},
               {"--batch-key", true, "obs column: select highly variable genes per batch"},
               {"--min-genes", true, "drop cells expressing fewer genes"},
               {"--min-cells", true, "drop genes expressed in fewer cells"},
               {"--max-pct-mito", true, "drop cells with a higher percentage of mitochondrial counts"},
               {"--assume-normalized", false, "X is already normalised: skip normalisation and log1p"}};
  c.minPositionals = 1;
  c.maxPositionals = 1;
  c.run = [](const Args& args) {
    const auto options = optionsFrom(args);
    const std::string output = args.value("--output");
    Feedback feedback;
    ProgressPrinter printer(feedback);
    auto read = io::readDataset(args.positionals().at(0), {}, &feedback);
    for (const auto& w : read.warnings) std::cerr << "warning: " << w << "\n";
    const auto result = preprocess::preprocessDataset(read.dataset, options, &feedback);
    for (const auto& w : result.warnings) std::cerr << "warning: " << w << "\n";
    io::writeH5ad(read.dataset, output, {}, &feedback);
    std::cout << result.summary() << "\n";
    return 0;
  };
  return c;
}

}  // namespace
CELLWRIGHT_REGISTER_COMMAND(makePreprocessCommand);
}  // namespace cw::cli
