#include "cellwright/train/distributed.h"

#include <cstdlib>

#include "cellwright/core/errors.h"

#if CELLWRIGHT_HAS_GLOO || CELLWRIGHT_HAS_NCCL
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#if CELLWRIGHT_HAS_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if CELLWRIGHT_HAS_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace cw::train {

namespace {

int envInt(const char* name, int fallback) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < 0) throw Error(std::string("environment variable ") + name + "='" + text + "' is not a number");
  return static_cast<int>(value);
}

#if CELLWRIGHT_HAS_GLOO || CELLWRIGHT_HAS_NCCL
// Wraps a c10d process group (ProcessGroup in torch 1.13, Backend in 2.x: both have allreduce).
template <typename Group>
class GroupCommunicator : public Communicator {
 public:
  GroupCommunicator(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<Group> group, int rank, int size)
      : store_(std::move(store)), group_(std::move(group)), rank_(rank), size_(size) {}
  int rank() const override { return rank_; }
  int worldSize() const override { return size_; }
  void allReduceSum(torch::Tensor& tensor) override {
    std::vector<torch::Tensor> tensors{tensor};
    group_->allreduce(tensors)->wait();
  }
  void barrier() override {
    auto t = torch::zeros({1});
    allReduceSum(t);
  }

 private:
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<Group> group_;
  int rank_, size_;
};
#endif

}  // namespace

DistributedOptions distributedOptionsFromEnvironment() {
  DistributedOptions o;
  o.worldSize = envInt("WORLD_SIZE", 1);
  o.rank = envInt("RANK", 0);
  o.localRank = envInt("LOCAL_RANK", 0);
  if (const char* addr = std::getenv("MASTER_ADDR"); addr && *addr) o.masterAddr = addr;
  o.masterPort = envInt("MASTER_PORT", o.masterPort);
  if (o.worldSize < 1) throw Error("WORLD_SIZE must be at least 1");
  if (o.rank >= o.worldSize)
    throw Error("RANK=" + std::to_string(o.rank) + " is not below WORLD_SIZE=" + std::to_string(o.worldSize));
  return o;
}

std::string deviceForRank(const std::string& device, const DistributedOptions& options) {
  if (options.worldSize > 1 && device == "cuda") return "cuda:" + std::to_string(options.localRank);
  return device;
}

std::shared_ptr<Communicator> connectProcessGroup(const DistributedOptions& o, const std::string& device) {
  std::string backend = o.backend;
  if (backend == "auto") backend = device.rfind("cuda", 0) == 0 ? "nccl" : "gloo";
  if (backend != "gloo" && backend != "nccl") throw Error("unknown distributed backend '" + backend + "' (use gloo or nccl)");
#if CELLWRIGHT_HAS_GLOO || CELLWRIGHT_HAS_NCCL
  c10d::TCPStoreOptions storeOptions;
  storeOptions.port = static_cast<std::uint16_t>(o.masterPort);
  storeOptions.isServer = o.rank == 0;
  storeOptions.numWorkers = static_cast<size_t>(o.worldSize);
  storeOptions.timeout = std::chrono::seconds(o.timeoutSeconds);
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(o.masterAddr, storeOptions);
  } catch (const std::exception& e) {
    throw Error("cannot reach the distributed master at " + o.masterAddr + ":" + std::to_string(o.masterPort) + " (" +
                e.what() + ")");
  }
#endif
  if (backend == "gloo") {
#if CELLWRIGHT_HAS_GLOO
    auto options = c10d::ProcessGroupGloo::Options::create(std::chrono::seconds(o.timeoutSeconds));
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(o.masterAddr));
    auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, o.rank, o.worldSize, options);
    return std::make_shared<GroupCommunicator<c10d::ProcessGroupGloo>>(store, group, o.rank, o.worldSize);
#else
    throw NotAvailable("distributed training over Gloo");
#endif
  }
#if CELLWRIGHT_HAS_NCCL
  auto options = c10d::ProcessGroupNCCL::Options::create();
  auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, o.rank, o.worldSize, options);
  return std::make_shared<GroupCommunicator<c10d::ProcessGroupNCCL>>(store, group, o.rank, o.worldSize);
#else
  throw NotAvailable("distributed training over NCCL");
#endif
}

void allReduceGradients(const std::vector<torch::Tensor>& parameters, Communicator& communicator) {
  std::vector<torch::Tensor> grads;
  for (const auto& p : parameters) {
    if (!p.grad().defined()) const_cast<torch::Tensor&>(p).mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  auto flat = torch::cat([&] {
    std::vector<torch::Tensor> views;
    for (auto& g : grads) views.push_back(g.reshape({-1}));
    return views;
  }());
  communicator.allReduceSum(flat);
  int64_t offset = 0;
  torch::NoGradGuard noGrad;
  for (auto& g : grads) {
    const int64_t n = g.numel();
    g.copy_(flat.narrow(0, offset, n).view_as(g));
    offset += n;
  }
}

std::vector<int64_t> shardForRank(const std::vector<int64_t>& globalBatch, int rank, int worldSize) {
  std::vector<int64_t> shard;
  for (size_t i = static_cast<size_t>(rank); i < globalBatch.size(); i += static_cast<size_t>(worldSize))
    shard.push_back(globalBatch[i]);
  return shard;
}

}  // namespace cw::train
