#pragma once
// Cells grouped by an obs column: categorical columns keep their categories; other columns
// are grouped by their text value with sorted categories (as pandas' Categorical).
#include <cstdint>
#include <string>
#include <vector>

#include "cellwright/io/dataset.h"

namespace cw::analysis {

struct Grouping {
  std::vector<int32_t> codes;      // per cell, -1 = missing value
  std::vector<std::string> names;  // categories
};

Grouping groupingOf(const Column& column);
// The dataset's obs[name] as a grouping; throws cw::Error naming the available columns.
Grouping groupingOf(const Dataset& dataset, const std::string& name);

}  // namespace cw::analysis
