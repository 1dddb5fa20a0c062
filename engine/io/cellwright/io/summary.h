#pragma once
// A dataset described in the terms of the CLI contract's `info --json` (also used by the GUI's
// file overview): shape, nnz, X dtype, counts source, column kinds, obsm shapes, layers.
#include <nlohmann/json.hpp>

#include "cellwright/io/dataset.h"

namespace cw::io {

const char* columnKindName(Column::Kind kind);  // "categorical", "numeric", "string", "bool"
nlohmann::json summarizeDataset(const Dataset& dataset);

}  // namespace cw::io
