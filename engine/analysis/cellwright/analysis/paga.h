#pragma once
// PAGA (Wolf et al. 2019), scanpy's "v1.2" connectivities: how much more two groups are
// linked in the kNN graph than expected under random edges, capped at 1.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"

namespace cw::analysis {

struct PagaOptions {
  uint64_t seed = 0;        // for the node layout
  bool layout = true;       // node positions by Fruchterman-Reingold (needs igraph)
};

struct PagaResult {
  std::vector<std::string> groups;                 // the grouping column's categories, in order
  std::vector<std::vector<double>> connectivities; // k × k, symmetric, zero diagonal
  std::vector<std::pair<int, int>> tree;           // minimum spanning tree of 1/connectivities, i < j
  std::vector<std::vector<double>> connectivitiesTree;  // k × k, tree edges at (i, j) with i < j
  DenseMatrix positions;                           // k × 2 (empty without igraph or when layout is off)
  std::vector<int64_t> groupSizes;
};

// `graph`: the n × n kNN graph (only its non-zero pattern counts, as in scanpy).
// `groups`: per-cell codes into `groupNames` (-1: cell left out).
PagaResult paga(const CsrMatrix& graph, const std::vector<int32_t>& groups, const std::vector<std::string>& groupNames,
                const PagaOptions& options = {}, Feedback* feedback = nullptr);

// uns['paga'] {connectivities (sparse), connectivities_tree (sparse), groups, pos}.
void storePaga(Dataset& dataset, const PagaResult& result, const std::string& groupsKey);

// {"groups": [...], "connectivities": [[...]], "tree": [[i, j], ...]} (+ "positions" when laid out).
nlohmann::json pagaToJson(const PagaResult& result);

}  // namespace cw::analysis
