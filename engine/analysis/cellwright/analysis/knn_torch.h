#pragma once
// Exact k-nearest neighbours on a torch device (a CUDA GPU when there is one): blocked
// distance products and top-k on the device, exact distances of the chosen neighbours
// recomputed in double on the CPU. Same result layout as findNeighbors().
// Lives in its own target (cellwright::engine_analysis_torch) to keep torch out of the rest.
#include <string>

#include "cellwright/analysis/knn.h"

namespace cw::analysis {

// `device`: "auto" (CUDA when available), "cuda" or "cpu".
KnnResult findNeighborsTorch(const DenseMatrix& data, const KnnOptions& options = {}, const std::string& device = "auto",
                             Feedback* feedback = nullptr);

}  // namespace cw::analysis
