#pragma once
// One gene's value in every cell, read from a CSR matrix (run on the engine thread: it
// touches every stored row).
#include <cstdint>
#include <vector>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"

namespace cw::ui {

std::vector<double> geneValues(const cw::CsrMatrix& matrix, int64_t gene, cw::Feedback* feedback = nullptr);

}  // namespace cw::ui
