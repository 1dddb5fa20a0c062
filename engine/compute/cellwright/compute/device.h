#pragma once
// What this build and machine can compute with (the `doctor` command, the GUI status bar).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cw {

struct GpuDevice {
  std::string name;
  double memoryGib = 0.0;
};

struct BuildCapabilities {
  std::string version;        // Cellwright
  std::string torchVersion;   // e.g. "1.13.0"
  bool cudaAvailable = false; // a CUDA device is usable now
  std::vector<GpuDevice> devices;
  int threads = 1;            // torch intra-op threads
  bool gui = false;
  bool igraph = false, hnswlib = false, distributedGloo = false, distributedNccl = false;
  // Result of running a small matrix product on each device ("ok" or the error).
  std::vector<std::string> smokeTests;
};

// Probes torch and runs a small tensor op on the CPU and on every CUDA device.
BuildCapabilities probeCapabilities(bool guiBuilt);
// The contract's doctor JSON (keys: version, torch_version, cuda_available, devices, threads,
// gui, backends{igraph, hnswlib, distributed_gloo, distributed_nccl}) plus smoke_tests.
nlohmann::json capabilitiesToJson(const BuildCapabilities& caps);

// Torch intra-op threads: `requested` <= 0 means all cores. Returns the count now in effect.
int configureThreads(int requested);
// "CPU (8 threads)" or "NVIDIA H100 (79.1 GiB)": one line for status bars and logs.
std::string computeDeviceSummary();
// "cuda" when available and requested is "auto"/"cuda", else "cpu". Throws cw::Error when
// "cuda" is requested but unavailable.
std::string resolveDevice(const std::string& requested);

}  // namespace cw
