#pragma once
// Small RAII helpers around igraph's C API (only compiled with CELLWRIGHT_WITH_IGRAPH).
#include <cstdint>
#include <string>
#include <vector>

#include <igraph/igraph.h>

#include "cellwright/core/errors.h"
#include "cellwright/io/dataset.h"

namespace cw::analysis::detail {

// igraph aborts on errors by default; ours turn into cw::Error instead.
inline void checkIgraph(igraph_error_t code, const char* what) {
  if (code != IGRAPH_SUCCESS) throw Error(std::string(what) + " failed inside igraph (" + igraph_strerror(code) + ")");
}

inline void useIgnoringErrorHandler() {
  static const bool once = [] {
    igraph_set_error_handler(igraph_error_handler_ignore);
    igraph_set_warning_handler(igraph_warning_handler_ignore);
    return true;
  }();
  (void)once;
}

struct IgraphVector {
  igraph_vector_t v;
  explicit IgraphVector(igraph_integer_t n = 0) { checkIgraph(igraph_vector_init(&v, n), "allocation"); }
  ~IgraphVector() { igraph_vector_destroy(&v); }
  IgraphVector(const IgraphVector&) = delete;
  IgraphVector& operator=(const IgraphVector&) = delete;
};

struct IgraphIntVector {
  igraph_vector_int_t v;
  explicit IgraphIntVector(igraph_integer_t n = 0) { checkIgraph(igraph_vector_int_init(&v, n), "allocation"); }
  ~IgraphIntVector() { igraph_vector_int_destroy(&v); }
  IgraphIntVector(const IgraphIntVector&) = delete;
  IgraphIntVector& operator=(const IgraphIntVector&) = delete;
};

// An undirected weighted graph from (i < j) edge lists.
struct IgraphGraph {
  igraph_t g;
  IgraphVector weights;
  IgraphGraph(int64_t n, const std::vector<std::pair<int64_t, int64_t>>& edges, const std::vector<double>& w)
      : weights(static_cast<igraph_integer_t>(w.size())) {
    useIgnoringErrorHandler();
    IgraphIntVector list(static_cast<igraph_integer_t>(2 * edges.size()));
    for (size_t e = 0; e < edges.size(); ++e) {
      VECTOR(list.v)[2 * e] = edges[e].first;
      VECTOR(list.v)[2 * e + 1] = edges[e].second;
      VECTOR(weights.v)[e] = w[e];
    }
    checkIgraph(igraph_create(&g, &list.v, static_cast<igraph_integer_t>(n), IGRAPH_UNDIRECTED), "building the graph");
  }
  ~IgraphGraph() { igraph_destroy(&g); }
  IgraphGraph(const IgraphGraph&) = delete;
  IgraphGraph& operator=(const IgraphGraph&) = delete;
};

}  // namespace cw::analysis::detail
