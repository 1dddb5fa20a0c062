// `umap IN -o OUT.h5ad [--min-dist 0.5] [--spread 1.0] [--epochs E] [--seed S]`: scanpy's tl.umap.
#include <iostream>

#include "cellwright/analysis/umap.h"
#include "cellwright/cli/cli.h"
#include "cellwright/cli/progress_printer.h"
#include "cellwright/core/errors.h"
#include "cellwright/io/readers.h"

namespace cw::cli {
namespace {

Command makeUmapCommand() {
  Command c;
  c.name = "umap";
  c.summary = "2-D UMAP embedding of the neighbour graph";
  c.usage = "IN -o OUT.h5ad [--min-dist 0.5] [--spread 1.0] [--epochs E] [--seed S] [--threads T]";
  c.options = {{"--output|-o", true, "output .h5ad"},
               {"--min-dist", true, "minimum distance between embedded points", "0.5"},
               {"--spread", true, "scale of the embedded points", "1.0"},
               {"--epochs", true, "optimisation epochs (default: 500 up to 10,000 cells, else 200)"},
               {"--seed", true, "random seed", "0"},
               {"--threads", true, "layout threads (1 reproduces a seed exactly; default all cores)", "0"}};
  c.minPositionals = 1;
  c.maxPositionals = 1;
  c.run = [](const Args& args) {
    const std::string output = args.value("--output");  // checked before any work
    analysis::UmapOptions options;
    options.minDist = args.number("--min-dist");
    options.spread = args.number("--spread");
    if (args.has("--epochs")) {
      options.epochs = static_cast<int>(args.integer("--epochs"));
      if (options.epochs < 1) throw UsageError("--epochs must be at least 1");
    }
    options.seed = static_cast<uint64_t>(args.integer("--seed"));
    options.threads = static_cast<int>(args.integer("--threads"));
    Feedback feedback;
    ProgressPrinter printer(feedback);
    auto dataset = io::readDataset(args.positionals().at(0), {}, &feedback).dataset;
    auto it = dataset.obsp.find("connectivities");
    if (it == dataset.obsp.end()) throw Error("no neighbour graph (obsp['connectivities']) in the file; run `neighbors` first");
    const auto result = analysis::umap(it->second, options, &feedback);
    dataset.obsm["X_umap"] = result.embedding;
    UnsDict params;
    params["a"].value = result.a;
    params["b"].value = result.b;
    UnsDict umapInfo;
    umapInfo["params"].value = params;
    dataset.uns["umap"].value = umapInfo;
    io::writeH5ad(dataset, output, {}, &feedback);
    std::cout << "UMAP: " << result.epochs << " epochs, " << result.initialization << " initialisation\n";
    return 0;
  };
  return c;
}

}  // namespace
CELLWRIGHT_REGISTER_COMMAND(makeUmapCommand);
}  // namespace cw::cli
