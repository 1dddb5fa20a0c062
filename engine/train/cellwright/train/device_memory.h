#pragma once
// Device memory figures for progress displays, and releasing the CUDA cache after an
// out-of-memory error. CPU devices report nothing.
#include <torch/torch.h>

namespace cw::train {

// GiB allocated by torch on a CUDA device; -1 for the CPU or a build without CUDA.
double deviceMemoryGib(const torch::Device& device);
// Returns cached CUDA blocks to the driver (no-op on the CPU).
void releaseCachedDeviceMemory(const torch::Device& device);

}  // namespace cw::train
