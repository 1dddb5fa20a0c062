#pragma once
// A quick synthetic count matrix for benchmarks: per-cell gene counts around a mean,
// genes drawn with a skew towards low indices (a few highly expressed genes), counts
// geometric. Not the contract's simulator: just realistic sparsity and sizes.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cellwright/io/dataset.h"
#include "cellwright/tokenize/cell_source.h"

namespace cw::bench {

inline CsrMatrix simulateCounts(int64_t cells, int64_t genes, int64_t meanGenesPerCell, uint64_t seed) {
  tokenize::Rng rng(seed);
  CsrMatrix m;
  m.rows = cells;
  m.cols = genes;
  m.indptr.reserve(cells + 1);
  m.indices.reserve(static_cast<size_t>(cells * meanGenesPerCell * 1.1));
  m.data.reserve(m.indices.capacity());
  std::vector<int32_t> row;
  std::vector<char> used(genes, 0);
  for (int64_t c = 0; c < cells; ++c) {
    const auto n = static_cast<int64_t>(meanGenesPerCell * (0.5 + rng.uniform()));
    row.clear();
    while (static_cast<int64_t>(row.size()) < std::min(n, genes / 2)) {
      const double u = rng.uniform();
      const auto g = static_cast<int32_t>(static_cast<double>(genes) * u * u);  // skewed to low ids
      if (used[g]) continue;
      used[g] = 1;
      row.push_back(g);
    }
    std::sort(row.begin(), row.end());
    for (int32_t g : row) {
      used[g] = 0;
      m.indices.push_back(g);
      const double scale = g < genes / 50 ? 8.0 : 1.0;
      m.data.push_back(static_cast<float>(1 + std::floor(-std::log(1 - rng.uniform()) * scale)));
    }
    m.indptr.push_back(static_cast<int64_t>(m.indices.size()));
  }
  return m;
}

}  // namespace cw::bench
