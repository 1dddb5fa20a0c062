#pragma once
// Data-parallel training across processes with torch.distributed (c10d): Gloo on CPU, NCCL
// on CUDA builds. Processes find each other through torchrun's environment variables
// RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (LOCAL_RANK picks the GPU).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace cw::train {

// What the trainer needs from a process group: who we are and a summing all-reduce.
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int worldSize() const = 0;
  // Sums `tensor` in place across all processes (blocking).
  virtual void allReduceSum(torch::Tensor& tensor) = 0;
  virtual void barrier() = 0;
};

struct DistributedOptions {
  std::string backend = "auto";  // "gloo", "nccl", or "auto" (nccl for cuda devices, else gloo)
  int rank = 0;
  int worldSize = 1;
  int localRank = 0;             // LOCAL_RANK: the GPU of this process on its machine
  std::string masterAddr = "127.0.0.1";
  int masterPort = 29500;
  int timeoutSeconds = 300;
};

// Reads RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT. Returns worldSize 1 when WORLD_SIZE is
// unset. Throws cw::Error on malformed values.
DistributedOptions distributedOptionsFromEnvironment();

// "cuda" becomes "cuda:<localRank>" when several processes run; other devices stay.
std::string deviceForRank(const std::string& device, const DistributedOptions& options);

// Joins the process group (blocks until all ranks arrive). `device` is "cpu" or "cuda".
// Throws cw::NotAvailable when the backend was left out of this build.
std::shared_ptr<Communicator> connectProcessGroup(const DistributedOptions& options, const std::string& device);

// The one place gradients are combined: flattens every gradient of `parameters` into one
// buffer, sums it across processes and writes it back. Callers scale each process's loss so
// the sum is the global-batch mean.
void allReduceGradients(const std::vector<torch::Tensor>& parameters, Communicator& communicator);

// The cells of one global batch that `rank` processes: positions rank, rank+W, rank+2W ...
std::vector<int64_t> shardForRank(const std::vector<int64_t>& globalBatch, int rank, int worldSize);

}  // namespace cw::train
