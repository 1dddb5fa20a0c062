// `paga IN -o OUT.h5ad --groups COL [--json OUT.json]`: scanpy's tl.paga (v1.2 connectivities).
#include <iostream>

#include "cellwright/analysis/grouping.h"
#include "cellwright/analysis/paga.h"
#include "cellwright/cli/cli.h"
#include "cellwright/cli/progress_printer.h"
#include "cellwright/core/atomic_file.h"
#include "cellwright/core/errors.h"
#include "cellwright/io/readers.h"

namespace cw::cli {
namespace {

Command makePagaCommand() {
  Command c;
  c.name = "paga";
  c.summary = "partition-based graph abstraction: how groups of cells connect";
  c.usage = "IN -o OUT.h5ad --groups COL [--json OUT.json] [--seed S]";
  c.options = {{"--output|-o", true, "output .h5ad"},
               {"--groups", true, "obs column whose groups become PAGA nodes"},
               {"--json", true, "also write groups, connectivities and tree as JSON"},
               {"--seed", true, "random seed of the node layout", "0"}};
  c.minPositionals = 1;
  c.maxPositionals = 1;
  c.run = [](const Args& args) {
    const std::string output = args.value("--output");  // checked before any work
    const std::string groupsKey = args.value("--groups");
    analysis::PagaOptions options;
    options.seed = static_cast<uint64_t>(args.integer("--seed"));
    Feedback feedback;
    ProgressPrinter printer(feedback);
    auto dataset = io::readDataset(args.positionals().at(0), {}, &feedback).dataset;
    auto it = dataset.obsp.find("connectivities");
    if (it == dataset.obsp.end()) throw Error("no neighbour graph (obsp['connectivities']) in the file; run `neighbors` first");
    const auto grouping = analysis::groupingOf(dataset, groupsKey);
    const auto result = analysis::paga(it->second, grouping.codes, grouping.names, options, &feedback);
    analysis::storePaga(dataset, result, groupsKey);
    io::writeH5ad(dataset, output, {}, &feedback);
    if (auto json = args.optional("--json")) writeTextAtomically(*json, analysis::pagaToJson(result).dump(2) + "\n");
    std::cout << "paga: " << result.groups.size() << " groups of obs['" << groupsKey << "'], " << result.tree.size()
              << " tree edges\n";
    return 0;
  };
  return c;
}

}  // namespace
CELLWRIGHT_REGISTER_COMMAND(makePagaCommand);
}  // namespace cw::cli
