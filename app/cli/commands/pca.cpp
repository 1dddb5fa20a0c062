// `pca IN -o OUT.h5ad [--n-comps 50] [--all-genes] [--scale]`: scanpy's pp.pca.
#include <iostream>

#include "cellwright/analysis/pca.h"
#include "cellwright/cli/cli.h"
#include "cellwright/cli/progress_printer.h"
#include "cellwright/io/readers.h"

namespace cw::cli {
namespace {

Command makePcaCommand() {
  Command c;
  c.name = "pca";
  c.summary = "principal components of X (highly variable genes when flagged)";
  c.usage = "IN -o OUT.h5ad [--n-comps 50] [--all-genes] [--scale] [--seed S]";
  c.options = {{"--output|-o", true, "output .h5ad"},
               {"--n-comps", true, "number of components", "50"},
               {"--all-genes", false, "use every gene even when var['highly_variable'] exists"},
               {"--use-hvg", false, "use the highly variable genes (the default when flagged)"},
               {"--scale", false, "scale genes to unit variance, clipped at 10, before PCA"},
               {"--seed", true, "random seed of the randomised SVD", "0"}};
  c.minPositionals = 1;
  c.maxPositionals = 1;
  c.run = [](const Args& args) {
    const std::string output = args.value("--output");  // checked before any work
    if (args.flag("--all-genes") && args.flag("--use-hvg")) throw UsageError("--all-genes and --use-hvg exclude each other");
    analysis::PcaOptions options;
    options.nComps = static_cast<int>(args.integer("--n-comps"));
    if (options.nComps < 1) throw UsageError("--n-comps must be at least 1");
    options.allGenes = args.flag("--all-genes");
    options.scale = args.flag("--scale");
    options.seed = static_cast<uint64_t>(args.integer("--seed"));
    Feedback feedback;
    ProgressPrinter printer(feedback);
    auto dataset = io::readDataset(args.positionals().at(0), {}, &feedback).dataset;
    const auto result = analysis::pca(dataset, options, &feedback);
    analysis::storePca(dataset, result);
    io::writeH5ad(dataset, output, {}, &feedback);
    double explained = 0;
    for (double r : result.varianceRatio) explained += r;
    std::cout << "PCA: " << result.embedding.cols << " components of " << result.genesUsed.size() << " genes explain "
              << explained * 100 << "% of the variance\n";
    return 0;
  };
  return c;
}

}  // namespace
CELLWRIGHT_REGISTER_COMMAND(makePcaCommand);
}  // namespace cw::cli
