#include "cellwright/train/device_memory.h"

#if CELLWRIGHT_HAS_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace cw::train {

double deviceMemoryGib(const torch::Device& device) {
#if CELLWRIGHT_HAS_CUDA
  if (device.is_cuda()) {
    const int index = device.has_index() ? device.index() : 0;
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(index);
    // Index 0 is StatType::AGGREGATE (all pools); the enum moved namespaces across torch 2.x.
    return static_cast<double>(stats.allocated_bytes[0].current) / (1024.0 * 1024.0 * 1024.0);
  }
#endif
  (void)device;
  return -1.0;
}

void releaseCachedDeviceMemory(const torch::Device& device) {
#if CELLWRIGHT_HAS_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::emptyCache();
#endif
  (void)device;
}

}  // namespace cw::train
