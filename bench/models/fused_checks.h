#pragma once
// The fused kernels on the benchmark's device (fused_checks.cpp).
#include <string>

#include <torch/torch.h>

namespace cw::bench {

// Checks the fused LSH attention, the fused transformer-block steps and the fused AdamW
// step against the torch code they replace, and times them: one note line each. Clears
// `agrees` where one disagrees beyond its tolerance or fails. `timed` false: small sizes and
// no timings (each check in seconds, even under compute-sanitizer).
std::string checkFusedKernels(const torch::Device& device, bool timed, bool& agrees);

}  // namespace cw::bench
