// `neighbors IN -o OUT.h5ad [--n-neighbors 15] [--use-rep X_pca]`: scanpy's pp.neighbors (umap).
#include <iostream>

#include "cellwright/analysis/knn_torch.h"
#include "cellwright/analysis/neighbors.h"
#include "cellwright/cli/cli.h"
#include "cellwright/cli/progress_printer.h"
#include "cellwright/io/readers.h"

namespace cw::cli {
namespace {

Command makeNeighborsCommand() {
  Command c;
  c.name = "neighbors";
  c.summary = "k-nearest-neighbour graph with UMAP connectivities";
  c.usage = "IN -o OUT.h5ad [--n-neighbors 15] [--use-rep X_pca] [--metric euclidean|cosine] [--method auto|exact|hnsw]";
  c.options = {{"--output|-o", true, "output .h5ad"},
               {"--n-neighbors", true, "neighbours per cell, the cell itself included", "15"},
               {"--use-rep", true, "obsm key of the representation", "X_pca"},
               {"--metric", true, "euclidean or cosine", "euclidean"},
               {"--method", true, "auto (exact up to 20,000 cells), exact, hnsw or torch (exact on --device)", "auto"},
               {"--device", true, "with --method torch: auto, cuda or cpu", "auto"},
               {"--seed", true, "random seed (hnsw index)", "0"}};
  c.minPositionals = 1;
  c.maxPositionals = 1;
  c.run = [](const Args& args) {
    const std::string output = args.value("--output");  // checked before any work
    analysis::NeighborsOptions options;
    options.nNeighbors = static_cast<int>(args.integer("--n-neighbors"));
    if (options.nNeighbors < 2) throw UsageError("--n-neighbors must be at least 2");
    const std::string metric = args.value("--metric"), method = args.value("--method");
    if (metric == "cosine") options.metric = analysis::Metric::Cosine;
    else if (metric != "euclidean") throw UsageError("--metric must be euclidean or cosine");
    if (method == "exact") options.method = analysis::KnnMethod::Exact;
    else if (method == "hnsw") options.method = analysis::KnnMethod::Hnsw;
    else if (method != "auto" && method != "torch") throw UsageError("--method must be auto, exact, hnsw or torch");
    options.seed = static_cast<uint64_t>(args.integer("--seed"));
    const std::string useRep = args.value("--use-rep");
    Feedback feedback;
    ProgressPrinter printer(feedback);
    auto dataset = io::readDataset(args.positionals().at(0), {}, &feedback).dataset;
    const auto& rep = analysis::representation(dataset, useRep);
    analysis::NeighborsResult result;
    if (method == "torch") {
      analysis::KnnOptions knnOptions;
      knnOptions.k = options.nNeighbors;
      knnOptions.metric = options.metric;
      result = analysis::neighborsFromKnn(analysis::findNeighborsTorch(rep, knnOptions, args.value("--device"), &feedback), options);
    } else {
      result = analysis::computeNeighbors(rep, options, &feedback);
    }
    analysis::storeNeighbors(dataset, result, options, useRep);
    io::writeH5ad(dataset, output, {}, &feedback);
    std::cout << "neighbors: " << options.nNeighbors << " per cell on " << useRep << " ("
              << (result.knn.approximate ? "approximate" : "exact") << "), " << result.connectivities.nnz()
              << " connections\n";
    return 0;
  };
  return c;
}

}  // namespace
CELLWRIGHT_REGISTER_COMMAND(makeNeighborsCommand);
}  // namespace cw::cli
