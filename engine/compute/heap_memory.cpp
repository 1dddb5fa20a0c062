#include "cellwright/compute/heap_memory.h"

#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace cw {

namespace {
std::mutex scopeMutex;
int openScopes = 0;

#if defined(__GLIBC__)
// glibc's documented defaults (mallopt(3)). The mmap threshold itself is left alone; any
// mallopt call stops glibc from raising it dynamically, which a process that keeps freeing
// big tensors does not miss.
constexpr int kDefaultMmapMax = 65536;
constexpr int kDefaultTrimThreshold = 128 * 1024;
#endif
}  // namespace

HeapMemoryScope::HeapMemoryScope() {
  std::lock_guard<std::mutex> lock(scopeMutex);
  if (openScopes++ > 0) return;
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, 0);
  // -1 turns trimming off (mallopt(3)); INT_MAX would still trim a freed top of 2 GiB or
  // more, which one batch's attention scores reach, and every page would fault in again.
  mallopt(M_TRIM_THRESHOLD, -1);
#endif
}

HeapMemoryScope::~HeapMemoryScope() {
  std::lock_guard<std::mutex> lock(scopeMutex);
  if (--openScopes > 0) return;
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, kDefaultMmapMax);
  mallopt(M_TRIM_THRESHOLD, kDefaultTrimThreshold);
  malloc_trim(0);
#endif
}

bool HeapMemoryScope::active() {
  std::lock_guard<std::mutex> lock(scopeMutex);
  return openScopes > 0;
}

}  // namespace cw
