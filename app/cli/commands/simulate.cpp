// `simulate --cells N --genes G --types K --batches B --seed S -o OUT.h5ad`: synthetic counts,
// streamed to disk (see cellwright/io/simulate.h for the model).
#include <iostream>

#include "cellwright/cli/cli.h"
#include "cellwright/cli/progress_printer.h"
#include "cellwright/io/simulate.h"

namespace cw::cli {
namespace {

Command makeSimulateCommand() {
  const io::SimulateOptions defaults;
  Command c;
  c.name = "simulate";
  c.summary = "write synthetic single-cell counts (cell types, batches, negative-binomial noise)";
  c.usage = "--cells N --genes G --types K --batches B --seed S -o OUT.h5ad";
  c.options = {{"--cells", true, "number of cells", std::to_string(defaults.cells)},
               {"--genes", true, "number of genes", std::to_string(defaults.genes)},
               {"--types", true, "number of cell types", std::to_string(defaults.types)},
               {"--batches", true, "number of batches", std::to_string(defaults.batches)},
               {"--seed", true, "random seed", std::to_string(defaults.seed)},
               {"--output|-o", true, "output .h5ad"},
               {"--dispersion", true, "negative-binomial dispersion", "0.3"},
               {"--compress", false, "gzip X"},
               {"--threads", true, "worker threads (0 = all cores)", "0"}};
  c.run = [](const Args& args) {
    io::SimulateOptions o;
    o.cells = args.integer("--cells");
    o.genes = args.integer("--genes");
    o.types = static_cast<int>(args.integer("--types"));
    o.batches = static_cast<int>(args.integer("--batches"));
    if (o.cells < 1 || o.genes < 1 || o.types < 1 || o.batches < 1)
      throw UsageError("--cells, --genes, --types and --batches must be at least 1");
    const long long seed = args.integer("--seed");
    if (seed < 0) throw UsageError("--seed must be a non-negative integer");
    o.seed = static_cast<uint64_t>(seed);
    o.dispersion = args.number("--dispersion");
    o.compress = args.flag("--compress");
    o.threads = static_cast<int>(args.integer("--threads"));
    Feedback feedback;
    ProgressPrinter printer(feedback);
    const auto result = io::simulateToH5ad(o, args.value("--output"), &feedback);
    std::cout << "wrote " << args.value("--output") << ": " << result.cells << " cells x " << result.genes
              << " genes, " << result.nnz << " non-zeros (" << static_cast<int>(result.zeroFraction * 1000) / 10.0
              << "% zeros)\n";
    return 0;
  };
  return c;
}

}  // namespace
CELLWRIGHT_REGISTER_COMMAND(makeSimulateCommand);
}  // namespace cw::cli
