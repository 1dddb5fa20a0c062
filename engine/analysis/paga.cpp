#include "cellwright/analysis/paga.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

#include "cellwright/core/errors.h"

#ifdef CELLWRIGHT_WITH_IGRAPH
#include "igraph_support.h"
#endif

namespace cw::analysis {
namespace {

// Kruskal on the upper triangle of `cost` (0 = no edge), ties broken by (i, j) order.
std::vector<std::pair<int, int>> minimumSpanningTree(const std::vector<std::vector<double>>& cost) {
  const int k = static_cast<int>(cost.size());
  std::vector<std::tuple<double, int, int>> edges;
  for (int i = 0; i < k; ++i)
    for (int j = i + 1; j < k; ++j)
      if (cost[i][j] > 0) edges.emplace_back(cost[i][j], i, j);
  std::stable_sort(edges.begin(), edges.end(), [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  std::vector<int> parent(k);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  std::vector<std::pair<int, int>> tree;
  for (const auto& [w, i, j] : edges) {
    const int a = find(i), b = find(j);
    if (a == b) continue;
    parent[a] = b;
    tree.emplace_back(i, j);
  }
  std::sort(tree.begin(), tree.end());
  return tree;
}

CsrMatrix denseToCsr(const std::vector<std::vector<double>>& m) {
  CsrMatrix out;
  out.rows = out.cols = static_cast<int64_t>(m.size());
  out.indptr.assign(1, 0);
  for (const auto& row : m) {
    for (size_t j = 0; j < row.size(); ++j)
      if (row[j] != 0) {
        out.indices.push_back(static_cast<int32_t>(j));
        out.data.push_back(static_cast<float>(row[j]));
      }
    out.indptr.push_back(static_cast<int64_t>(out.data.size()));
  }
  return out;
}

}  // namespace

PagaResult paga(const CsrMatrix& graph, const std::vector<int32_t>& groups, const std::vector<std::string>& groupNames,
                const PagaOptions& options, Feedback* feedback) {
  if (graph.rows != graph.cols || static_cast<int64_t>(groups.size()) != graph.rows)
    throw Error("the neighbour graph and the grouping have different numbers of cells; run `neighbors` on this file first");
  const int k = static_cast<int>(groupNames.size());
  if (k < 1) throw Error("the grouping column has no categories");
  for (int32_t g : groups)
    if (g >= k) throw Error("a group code is outside the column's categories");
  PagaResult r;
  r.groups = groupNames;
  r.groupSizes.assign(k, 0);
  for (int32_t g : groups)
    if (g >= 0) ++r.groupSizes[g];
  // Directed edge counts (every stored entry is one edge), as scanpy's igraph of the adjacency.
  std::vector<std::vector<double>> between(k, std::vector<double>(k, 0.0));
  std::vector<double> inner(k, 0.0);
  for (int64_t i = 0; i < graph.rows; ++i) {
    if (groups[i] < 0) continue;
    for (int64_t p = graph.indptr[i]; p < graph.indptr[i + 1]; ++p) {
      const int32_t gj = groups[graph.indices[p]];
      if (graph.data[p] == 0 || gj < 0) continue;
      if (gj == groups[i])
        inner[gj] += 1;
      else
        between[groups[i]][gj] += 1;
    }
  }
  pollCancel(feedback);
  std::vector<double> edgesOf(k, 0.0);  // edges leaving from group i: inner + outgoing
  for (int i = 0; i < k; ++i) edgesOf[i] = inner[i] + std::accumulate(between[i].begin(), between[i].end(), 0.0);
  const double n = static_cast<double>(std::accumulate(r.groupSizes.begin(), r.groupSizes.end(), int64_t{0}));
  r.connectivities.assign(k, std::vector<double>(k, 0.0));
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) {
      const double observed = between[i][j] + between[j][i];
      if (i == j || observed == 0) continue;
      // Expected edges between i and j if each group's edges went to random cells.
      const double expected = (edgesOf[i] * r.groupSizes[j] + edgesOf[j] * r.groupSizes[i]) / (n - 1);
      r.connectivities[i][j] = expected != 0 ? std::min(1.0, observed / expected) : 1.0;
    }
  std::vector<std::vector<double>> inverse(k, std::vector<double>(k, 0.0));
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j)
      if (r.connectivities[i][j] > 0) inverse[i][j] = 1.0 / r.connectivities[i][j];
  r.tree = minimumSpanningTree(inverse);
  r.connectivitiesTree.assign(k, std::vector<double>(k, 0.0));
  for (const auto& [i, j] : r.tree) r.connectivitiesTree[i][j] = r.connectivities[i][j];

#ifdef CELLWRIGHT_WITH_IGRAPH
  if (options.layout && k > 1) {
    std::vector<std::pair<int64_t, int64_t>> edges;
    std::vector<double> weights;
    for (int i = 0; i < k; ++i)
      for (int j = i + 1; j < k; ++j)
        if (r.connectivities[i][j] > 0) {
          edges.emplace_back(i, j);
          weights.push_back(r.connectivities[i][j]);
        }
    detail::IgraphGraph g(k, edges, weights);
    igraph_matrix_t pos;
    detail::checkIgraph(igraph_matrix_init(&pos, k, 2), "allocation");
    igraph_rng_seed(igraph_rng_default(), static_cast<igraph_uint_t>(options.seed));
    const igraph_error_t code = igraph_layout_fruchterman_reingold(&g.g, &pos, false, 500, std::sqrt(static_cast<double>(k)),
                                                                   IGRAPH_LAYOUT_NOGRID, &g.weights.v, nullptr, nullptr,
                                                                   nullptr, nullptr);
    if (code == IGRAPH_SUCCESS) {
      r.positions.rows = k;
      r.positions.cols = 2;
      for (int i = 0; i < k; ++i) {
        r.positions.values.push_back(MATRIX(pos, i, 0));
        r.positions.values.push_back(MATRIX(pos, i, 1));
      }
    }
    igraph_matrix_destroy(&pos);
    detail::checkIgraph(code, "the PAGA layout");
  }
#else
  (void)options;
#endif
  return r;
}

void storePaga(Dataset& dataset, const PagaResult& r, const std::string& groupsKey) {
  UnsDict node;
  node["connectivities"].value = denseToCsr(r.connectivities);
  node["connectivities_tree"].value = denseToCsr(r.connectivitiesTree);
  node["groups"].value = groupsKey;
  if (r.positions.rows > 0) node["pos"].value = r.positions;
  dataset.uns["paga"].value = node;
  dataset.uns[groupsKey + "_sizes"].value = r.groupSizes;
}

nlohmann::json pagaToJson(const PagaResult& r) {
  nlohmann::json tree = nlohmann::json::array();
  for (const auto& [i, j] : r.tree) tree.push_back({i, j});
  nlohmann::json out = {{"groups", r.groups}, {"connectivities", r.connectivities}, {"tree", tree}};
  if (r.positions.rows > 0) {
    nlohmann::json pos = nlohmann::json::array();
    for (int64_t i = 0; i < r.positions.rows; ++i) pos.push_back({r.positions.at(i, 0), r.positions.at(i, 1)});
    out["positions"] = pos;
  }
  return out;
}

}  // namespace cw::analysis
