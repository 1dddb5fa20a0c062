#include "cellwright/compute/device.h"

#include <thread>

#include <torch/torch.h>
#include <torch/version.h>
#ifdef CELLWRIGHT_HAS_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

#include "cellwright/core/errors.h"
#include "cellwright/core/version.h"

namespace cw {

static std::string smokeTest(const torch::Device& device) {
  try {
    auto a = torch::arange(1, 7, torch::TensorOptions().dtype(torch::kFloat32).device(device)).reshape({2, 3});
    auto product = torch::matmul(a, a.t()).cpu();  // [[14, 32], [32, 77]]
    const bool ok = product[0][0].item<float>() == 14.0f && product[1][1].item<float>() == 77.0f;
    return ok ? "ok" : "wrong result";
  } catch (const std::exception& e) {
    return std::string("failed: ") + e.what();
  }
}

BuildCapabilities probeCapabilities(bool guiBuilt) {
  BuildCapabilities caps;
  caps.version = kVersion;
  caps.torchVersion = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                      std::to_string(TORCH_VERSION_PATCH);
  caps.threads = at::get_num_threads();
  caps.gui = guiBuilt;
  caps.igraph = CELLWRIGHT_HAS_IGRAPH;
  caps.hnswlib = CELLWRIGHT_HAS_HNSWLIB;
  caps.distributedGloo = CELLWRIGHT_HAS_GLOO;
  caps.distributedNccl = CELLWRIGHT_HAS_NCCL;
  caps.smokeTests.push_back("cpu: " + smokeTest(torch::Device(torch::kCPU)));
  caps.cudaAvailable = torch::cuda::is_available();
  if (caps.cudaAvailable) {
    const int n = static_cast<int>(torch::cuda::device_count());
    for (int i = 0; i < n; ++i) {
      GpuDevice dev;
#ifdef CELLWRIGHT_HAS_CUDA
      const auto* props = at::cuda::getDeviceProperties(i);
      dev.name = props->name;
      dev.memoryGib = static_cast<double>(props->totalGlobalMem) / (1024.0 * 1024.0 * 1024.0);
#else
      dev.name = "cuda:" + std::to_string(i);
#endif
      caps.devices.push_back(dev);
      caps.smokeTests.push_back("cuda:" + std::to_string(i) + ": " +
                                smokeTest(torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(i))));
    }
  }
  return caps;
}

nlohmann::json capabilitiesToJson(const BuildCapabilities& caps) {
  nlohmann::json devices = nlohmann::json::array();
  for (const auto& d : caps.devices) devices.push_back({{"name", d.name}, {"memory_gib", d.memoryGib}});
  return {
      {"version", caps.version},
      {"torch_version", caps.torchVersion},
      {"cuda_available", caps.cudaAvailable},
      {"devices", devices},
      {"threads", caps.threads},
      {"gui", caps.gui},
      {"backends",
       {{"igraph", caps.igraph},
        {"hnswlib", caps.hnswlib},
        {"distributed_gloo", caps.distributedGloo},
        {"distributed_nccl", caps.distributedNccl}}},
      {"smoke_tests", caps.smokeTests},
  };
}

int configureThreads(int requested) {
  int n = requested > 0 ? requested : static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  at::set_num_threads(n);
  return at::get_num_threads();
}

std::string computeDeviceSummary() {
  if (torch::cuda::is_available()) {
#ifdef CELLWRIGHT_HAS_CUDA
    const auto* props = at::cuda::getDeviceProperties(0);
    char memory[32];
    std::snprintf(memory, sizeof memory, "%.1f GiB",
                  static_cast<double>(props->totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
    return std::string(props->name) + " (" + memory + ")";
#else
    return "CUDA";
#endif
  }
  return "CPU (" + std::to_string(at::get_num_threads()) + " threads)";
}

std::string resolveDevice(const std::string& requested) {
  const bool cuda = torch::cuda::is_available();
  if (requested == "cuda" || requested.rfind("cuda:", 0) == 0) {
    if (!cuda) throw Error("--device cuda was requested but no CUDA device is available in this build/machine");
    return requested;
  }
  if (requested == "cpu") return "cpu";
  if (requested.empty() || requested == "auto") return cuda ? "cuda" : "cpu";
  throw Error("unknown device '" + requested + "' (use cpu, cuda or auto)");
}

}  // namespace cw
