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

// The exit status after a CUDA fault (an illegal address, say): the context is lost and every
// later call would fail too, so the benchmark stops, and bench/gpu.sh runs it again without the
// newest kernels rather than logging every later row as an error.
inline constexpr int kDeviceLost = 4;

// Whether `device` still computes: false on the CPU, and after errors that leave a CUDA
// context usable (out of memory, a refused launch).
inline bool deviceLost(const torch::Device& device) {
  if (!device.is_cuda()) return false;
  try {
    synchronize(device);
    return torch::ones({1}, torch::TensorOptions().device(device)).sum().item<float>() != 1.0f;
  } catch (const std::exception&) {
    return true;
  }
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
