#pragma once
// The fused kernels on the benchmark's device (fused_checks.cpp).
#include <string>

#include <torch/torch.h>

namespace cw::bench {

// Checks the fused LSH attention, the fused transformer-block steps and the fused AdamW
// step against the torch code they replace, and times them: one note line each. Clears
// `agrees` where one disagrees beyond its tolerance or fails.
std::string checkFusedKernels(const torch::Device& device, bool& agrees);

}  // namespace cw::bench
