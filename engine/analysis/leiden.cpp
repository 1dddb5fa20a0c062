#include "cellwright/analysis/leiden.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "cellwright/core/errors.h"

#ifdef CELLWRIGHT_WITH_IGRAPH
#include "igraph_support.h"
#endif

namespace cw::analysis {
namespace {

// Undirected edges (i < j) of a square matrix; the larger of (i, j) and (j, i) when both exist.
void undirectedEdges(const CsrMatrix& graph, std::vector<std::pair<int64_t, int64_t>>& edges, std::vector<double>& weights) {
  if (graph.rows != graph.cols) throw Error("the neighbour graph is not square");
  std::map<std::pair<int64_t, int64_t>, double> merged;
  for (int64_t i = 0; i < graph.rows; ++i)
    for (int64_t p = graph.indptr[i]; p < graph.indptr[i + 1]; ++p) {
      const int64_t j = graph.indices[p];
      if (j == i || graph.data[p] <= 0) continue;
      auto& w = merged[{std::min(i, j), std::max(i, j)}];
      w = std::max(w, static_cast<double>(graph.data[p]));
    }
  edges.clear();
  weights.clear();
  for (const auto& [e, w] : merged) {
    edges.push_back(e);
    weights.push_back(w);
  }
}

// Renumbers clusters by decreasing size (ties: first appearance), as leidenalg does.
int renumberBySize(std::vector<int32_t>& membership) {
  std::map<int32_t, int64_t> sizes;
  std::map<int32_t, size_t> first;
  for (size_t i = 0; i < membership.size(); ++i) {
    ++sizes[membership[i]];
    first.emplace(membership[i], i);
  }
  std::vector<int32_t> ids;
  for (const auto& [id, size] : sizes) ids.push_back(id);
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
    return sizes[a] != sizes[b] ? sizes[a] > sizes[b] : first[a] < first[b];
  });
  std::map<int32_t, int32_t> rename;
  for (size_t r = 0; r < ids.size(); ++r) rename[ids[r]] = static_cast<int32_t>(r);
  for (auto& m : membership) m = rename[m];
  return static_cast<int>(ids.size());
}

}  // namespace

bool igraphAvailable() {
#ifdef CELLWRIGHT_WITH_IGRAPH
  return true;
#else
  return false;
#endif
}

double modularity(const CsrMatrix& graph, const std::vector<int32_t>& membership, double resolution) {
  if (static_cast<int64_t>(membership.size()) != graph.rows) throw Error("one cluster per cell expected");
  std::vector<std::pair<int64_t, int64_t>> edges;
  std::vector<double> weights;
  undirectedEdges(graph, edges, weights);
  const int32_t k = membership.empty() ? 0 : *std::max_element(membership.begin(), membership.end()) + 1;
  std::vector<double> inside(k, 0.0), degree(k, 0.0);
  double total = 0;
  for (size_t e = 0; e < edges.size(); ++e) {
    const int32_t a = membership[edges[e].first], b = membership[edges[e].second];
    if (a == b) inside[a] += weights[e];
    degree[a] += weights[e];
    degree[b] += weights[e];
    total += weights[e];
  }
  if (total <= 0) return 0.0;
  double q = 0;
  for (int32_t c = 0; c < k; ++c) q += inside[c] / total - resolution * (degree[c] / (2 * total)) * (degree[c] / (2 * total));
  return q;
}

LeidenResult leiden(const CsrMatrix& graph, const LeidenOptions& options, Feedback* feedback) {
#ifndef CELLWRIGHT_WITH_IGRAPH
  (void)graph;
  (void)options;
  (void)feedback;
  throw NotAvailable("Leiden clustering (igraph)");
#else
  if (graph.rows < 1) throw Error("the neighbour graph is empty");
  if (!(options.resolution > 0)) throw Error("the Leiden resolution must be positive");
  std::vector<std::pair<int64_t, int64_t>> edges;
  std::vector<double> weights;
  undirectedEdges(graph, edges, weights);
  if (!options.useWeights) std::fill(weights.begin(), weights.end(), 1.0);
  if (edges.empty()) throw Error("the neighbour graph has no edges; run `neighbors` first");
  pollCancel(feedback);
  if (feedback) feedback->setProgress(0.1, "Leiden");
  detail::IgraphGraph g(graph.rows, edges, weights);
  detail::IgraphVector strength;
  detail::checkIgraph(igraph_strength(&g.g, &strength.v, igraph_vss_all(), IGRAPH_ALL, IGRAPH_LOOPS, &g.weights.v),
                      "node strengths");
  const double totalWeight = std::accumulate(weights.begin(), weights.end(), 0.0);
  detail::IgraphIntVector membership(graph.rows);
  igraph_integer_t clusters = 0;
  igraph_real_t quality = 0;
  igraph_rng_seed(igraph_rng_default(), static_cast<igraph_uint_t>(options.seed));
  // Modularity as a CPM-style quality: node weights = strengths, resolution / 2m.
  detail::checkIgraph(igraph_community_leiden(&g.g, &g.weights.v, &strength.v, options.resolution / (2.0 * totalWeight),
                                              options.beta, false, options.iterations, &membership.v, &clusters, &quality),
                      "Leiden clustering");
  pollCancel(feedback);
  LeidenResult r;
  r.membership.resize(graph.rows);
  for (int64_t i = 0; i < graph.rows; ++i) r.membership[i] = static_cast<int32_t>(VECTOR(membership.v)[i]);
  r.nClusters = renumberBySize(r.membership);
  r.modularity = modularity(graph, r.membership, 1.0);
  if (feedback) feedback->setProgress(1.0, "Leiden");
  return r;
#endif
}

void storeClusters(Dataset& dataset, const std::vector<int32_t>& membership, const std::string& key) {
  if (static_cast<int64_t>(membership.size()) != dataset.nObs()) throw Error("one cluster per cell expected");
  const int32_t k = membership.empty() ? 0 : *std::max_element(membership.begin(), membership.end()) + 1;
  std::vector<std::string> names;
  for (int32_t c = 0; c < k; ++c) names.push_back(std::to_string(c));
  dataset.obs.set(key, Column::categorical(membership, names));
}

}  // namespace cw::analysis
