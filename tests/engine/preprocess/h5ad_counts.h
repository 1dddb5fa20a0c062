#pragma once
// Test-only: reads X (CSR) and one categorical obs column's codes from an anndata h5ad
// with the HDF5 C API, so the HVG reference tests do not depend on the io reader.
#include <cstdint>
#include <string>
#include <vector>

#include "cellwright/io/dataset.h"

namespace cw::test {
CsrMatrix readH5adCsr(const std::string& path);
std::vector<int32_t> readH5adCategoryCodes(const std::string& path, const std::string& column);
}  // namespace cw::test
