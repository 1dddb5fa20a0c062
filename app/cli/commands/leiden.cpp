// `leiden IN -o OUT.h5ad [--resolution 1.0] [--seed S] [--key leiden]`: scanpy's tl.leiden.
#include <iostream>

#include "cellwright/analysis/leiden.h"
#include "cellwright/cli/cli.h"
#include "cellwright/cli/progress_printer.h"
#include "cellwright/core/errors.h"
#include "cellwright/io/readers.h"

namespace cw::cli {
namespace {

Command makeLeidenCommand() {
  Command c;
  c.name = "leiden";
  c.summary = "Leiden clusters of the neighbour graph";
  c.usage = "IN -o OUT.h5ad [--resolution 1.0] [--seed S] [--key leiden] [--iterations -1]";
  c.options = {{"--output|-o", true, "output .h5ad"},
               {"--resolution", true, "higher gives more, smaller clusters", "1.0"},
               {"--seed", true, "random seed", "0"},
               {"--key", true, "obs column to write", "leiden"},
               {"--iterations", true, "Leiden iterations; negative: until stable", "-1"}};
  c.minPositionals = 1;
  c.maxPositionals = 1;
  c.run = [](const Args& args) {
    const std::string output = args.value("--output");  // checked before any work
    if (!analysis::igraphAvailable()) throw NotAvailable("Leiden clustering (igraph)");
    analysis::LeidenOptions options;
    options.resolution = args.number("--resolution");
    if (!(options.resolution > 0)) throw UsageError("--resolution must be positive");
    options.seed = static_cast<uint64_t>(args.integer("--seed"));
    options.iterations = static_cast<int>(args.integer("--iterations"));
    const std::string key = args.value("--key");
    Feedback feedback;
    ProgressPrinter printer(feedback);
    auto dataset = io::readDataset(args.positionals().at(0), {}, &feedback).dataset;
    auto it = dataset.obsp.find("connectivities");
    if (it == dataset.obsp.end()) throw Error("no neighbour graph (obsp['connectivities']) in the file; run `neighbors` first");
    const auto result = analysis::leiden(it->second, options, &feedback);
    analysis::storeClusters(dataset, result.membership, key);
    io::writeH5ad(dataset, output, {}, &feedback);
    std::cout << "leiden: " << result.nClusters << " clusters in obs['" << key << "'], modularity " << result.modularity
              << "\n";
    return 0;
  };
  return c;
}

}  // namespace
CELLWRIGHT_REGISTER_COMMAND(makeLeidenCommand);
}  // namespace cw::cli
