#pragma once
// Where a step's time goes: one call under LibTorch's profiler (Kineto), its device kernels by
// total time (step_profile.cpp). For the GPU machine (bench/gpu-profile.sh), where the log's
// cells/s say how fast and this says which kernels to fuse next.
#include <functional>
#include <string>

#include <torch/torch.h>

namespace cw::bench {

// A markdown table of the `top` kernels of one call of `work` (CUDA kernels, copies and sets on
// a GPU; ops, nested ones inside their callers' times, on the CPU), with the calls' wall time
// and the share of it the device was busy (low: the step waits on launches, not on kernels).
std::string profileStep(const torch::Device& device, const std::string& title, const std::function<void()>& work,
                        int top = 15);

}  // namespace cw::bench
