#include "cellwright/io/summary.h"

namespace cw::io {

const char* columnKindName(Column::Kind kind) {
  switch (kind) {
    case Column::Kind::Categorical: return "categorical";
    case Column::Kind::Numeric: return "numeric";
    case Column::Kind::String: return "string";
    case Column::Kind::Bool: return "bool";
  }
  return "string";
}

nlohmann::json summarizeDataset(const Dataset& d) {
  using nlohmann::json;
  json j;
  j["n_obs"] = d.nObs();
  j["n_vars"] = d.nVars();
  j["nnz"] = d.X.nnz();  // dense X was made sparse on reading: its stored entries are its non-zeros
  j["x_dtype"] = d.xDtype;
  j["counts_source"] = d.countsSource == CountsSource::None ? json(nullptr) : json(countsSourceName(d.countsSource));
  json obs = json::object();
  for (const auto& name : d.obs.columnOrder) {
    const Column& c = d.obs.at(name);
    json entry{{"kind", columnKindName(c.kind)}};
    if (c.kind == Column::Kind::Categorical) entry["n_categories"] = c.categories.size();
    obs[name] = entry;
  }
  j["obs"] = obs;
  j["var_columns"] = d.var.columnOrder;
  json obsm = json::object();
  for (const auto& [key, m] : d.obsm) obsm[key] = {m.rows, m.cols};
  j["obsm"] = obsm;
  json layers = json::array();
  for (const auto& [key, m] : d.layers) layers.push_back(key);
  j["layers"] = layers;
  return j;
}

}  // namespace cw::io
