#include "cellwright/analysis/grouping.h"

#include <algorithm>
#include <map>

namespace cw::analysis {

Grouping groupingOf(const Column& column) {
  Grouping g;
  if (column.kind == Column::Kind::Categorical) {
    g.codes = column.codes;
    g.names = column.categories;
    return g;
  }
  const size_t n = column.size();
  std::map<std::string, int32_t> ids;
  for (size_t i = 0; i < n; ++i) {
    const std::string v = column.valueAsString(i);
    if (!v.empty()) ids.emplace(v, 0);
  }
  if (column.kind == Column::Kind::Numeric) {
    // Numbers sort by value, not as text.
    std::vector<std::pair<double, std::string>> numbers;
    for (const auto& [text, id] : ids) numbers.emplace_back(std::stod(text), text);
    std::sort(numbers.begin(), numbers.end());
    for (const auto& [value, text] : numbers) g.names.push_back(text);
  } else {
    for (const auto& [text, id] : ids) g.names.push_back(text);
  }
  for (size_t c = 0; c < g.names.size(); ++c) ids[g.names[c]] = static_cast<int32_t>(c);
  g.codes.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string v = column.valueAsString(i);
    g.codes[i] = v.empty() ? -1 : ids[v];
  }
  return g;
}

Grouping groupingOf(const Dataset& dataset, const std::string& name) { return groupingOf(dataset.obs.at(name)); }

}  // namespace cw::analysis
