// `info FILE [--json]`: what a data file holds (any supported format).
#include <iostream>

#include "cellwright/cli/cli.h"
#include "cellwright/cli/progress_printer.h"
#include "cellwright/io/readers.h"
#include "cellwright/io/summary.h"

namespace cw::cli {
namespace {

io::ReadOptions readOptionsFrom(const Args& args) {
  io::ReadOptions options;
  options.geneExpressionOnly = !args.flag("--all-features");
  const std::string orientation = args.value("--orientation");
  if (orientation == "cells-as-rows") options.textOrientation = io::ReadOptions::Orientation::CellsAsRows;
  else if (orientation == "genes-as-rows") options.textOrientation = io::ReadOptions::Orientation::GenesAsRows;
  else if (orientation != "auto") throw UsageError("--orientation must be auto, cells-as-rows or genes-as-rows");
  return options;
}

void printText(const nlohmann::json& j, std::ostream& out) {
  out << j["n_obs"] << " cells x " << j["n_vars"] << " genes, " << j["nnz"] << " stored values ("
      << j["x_dtype"].get<std::string>() << ")\n";
  out << "raw counts: " << (j["counts_source"].is_null() ? "none found" : j["counts_source"].get<std::string>()) << "\n";
  out << "obs columns:\n";
  for (const auto& [name, info] : j["obs"].items()) {
    out << "  " << name << " (" << info["kind"].get<std::string>();
    if (info.contains("n_categories")) out << ", " << info["n_categories"] << " categories";
    out << ")\n";
  }
  out << "var columns: " << j["var_columns"].size() << "\n";
  for (const auto& [key, shape] : j["obsm"].items()) out << "obsm['" << key << "']: " << shape[0] << " x " << shape[1] << "\n";
  for (const auto& layer : j["layers"]) out << "layer: " << layer.get<std::string>() << "\n";
}

Command makeInfoCommand() {
  Command c;
  c.name = "info";
  c.summary = "describe a data file (h5ad, 10x .h5, Matrix Market folder, CSV/TSV)";
  c.usage = "FILE [--json]";
  c.options = {{"--json", false, "print JSON (the contract's keys)"},
               {"--orientation", true, "CSV/TSV: auto, cells-as-rows or genes-as-rows", "auto"},
               {"--all-features", false, "10x: keep every feature type, not only Gene Expression"}};
  c.minPositionals = 1;
  c.maxPositionals = 1;
  c.run = [](const Args& args) {
    const auto options = readOptionsFrom(args);
    Feedback feedback;
    ProgressPrinter printer(feedback);
    auto result = io::readDataset(args.positionals().at(0), options, &feedback);
    const auto summary = io::summarizeDataset(result.dataset);
    if (args.flag("--json")) {
      std::cout << summary.dump(2) << "\n";
    } else {
      printText(summary, std::cout);
    }
    return 0;
  };
  return c;
}

}  // namespace
CELLWRIGHT_REGISTER_COMMAND(makeInfoCommand);
}  // namespace cw::cli
