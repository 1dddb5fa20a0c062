#pragma once
// Helpers the model benchmark and its kernel checks share.
#include <chrono>
#include <functional>

#include <torch/torch.h>

#ifdef CELLWRIGHT_BENCH_CUDA
#include <torch/cuda.h>
#endif

namespace cw::bench {

// ‖x − reference‖ / ‖reference‖.
inline double relativeError(const torch::Tensor& x, const torch::Tensor& reference) {
  return ((x.to(torch::kFloat) - reference.to(torch::kFloat)).norm() / reference.to(torch::kFloat).norm().clamp_min(1e-12))
      .item<double>();
}

inline void synchronize(const torch::Device& device) {
#ifdef CELLWRIGHT_BENCH_CUDA
  if (device.is_cuda()) torch::cuda::synchronize();
#endif
}

// Mean milliseconds of `repeats` calls after one warm-up, the device synchronised around.
inline double millisecondsPerCall(const torch::Device& device, const std::function<void()>& call, int repeats = 3) {
  call();
  synchronize(device);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) call();
  synchronize(device);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / repeats;
}

}  // namespace cw::bench
