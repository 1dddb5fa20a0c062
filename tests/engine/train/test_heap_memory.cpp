#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "cellwright/compute/heap_memory.h"
#include "cellwright/train/trainer.h"
#include "tiny_model.h"

using namespace cw::train;
using namespace cw::train::testing;

#if defined(__GLIBC__)
namespace {

constexpr size_t kBlock = size_t{64} << 20;  // above glibc's largest mmap threshold (32 MB)

size_t mappedBytes() { return mallinfo2().hblkhd; }

// Bytes malloc mapped for one block of `bytes` while it was alive.
size_t mappedForOneBlock(size_t bytes = kBlock) {
  const size_t before = mappedBytes();
  void* block = std::malloc(bytes);
  static_cast<volatile char*>(block)[0] = 1;  // a block the compiler cannot elide
  const size_t during = mappedBytes();
  std::free(block);
  return during - before;
}

size_t residentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t total = 0, resident = 0;
  statm >> total >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

TEST(HeapMemoryScope, BigBlocksComeFromTheHeapOnlyWhileAScopeIsOpen) {
  ASSERT_FALSE(cw::HeapMemoryScope::active());
  EXPECT_GE(mappedForOneBlock(), kBlock);  // glibc's default: a mapping of its own
  size_t residentWithFreedTensor = 0;
  {
    cw::HeapMemoryScope scope;
    {
      cw::HeapMemoryScope nested;
    }
    EXPECT_TRUE(cw::HeapMemoryScope::active()) << "the outer scope is still open";
    EXPECT_EQ(mappedForOneBlock(), 0u);
    const size_t before = mappedBytes();
    {
      auto tensor = torch::ones({static_cast<int64_t>(kBlock / sizeof(float))});  // touches every page
      EXPECT_EQ(mappedBytes(), before) << "LibTorch's CPU tensors go through malloc too";
    }
    residentWithFreedTensor = residentBytes();  // the freed pages stay with the process
  }
  EXPECT_FALSE(cw::HeapMemoryScope::active());
  // Closing the last scope gives the freed memory back (malloc_trim) ...
  EXPECT_LT(residentBytes() + kBlock / 2, residentWithFreedTensor);
  // ... and a block bigger than any freed in the heap gets a mapping of its own again.
  EXPECT_GE(mappedForOneBlock(4 * kBlock), 4 * kBlock);
}
#endif

TEST(HeapMemoryScope, OpenDuringTrainingUnlessTurnedOff) {
  SyntheticData data(40);
  for (bool reuse : {true, false}) {
    TinyClassifier model(1);
    TrainerOptions o;
    o.epochs = 1;
    o.batchSize = 8;
    o.reuseFreedMemory = reuse;
    cw::Feedback feedback;
    int reports = 0, whileActive = 0;
    feedback.setProgressCallback([&](const cw::Progress&) {
      ++reports;
      whileActive += cw::HeapMemoryScope::active() ? 1 : 0;
    });
    trainModel(model, data.split(30), o, &feedback);
    ASSERT_GT(reports, 0);
    EXPECT_EQ(whileActive, reuse ? reports : 0) << "reuseFreedMemory " << reuse;
    EXPECT_FALSE(cw::HeapMemoryScope::active());
  }
}
