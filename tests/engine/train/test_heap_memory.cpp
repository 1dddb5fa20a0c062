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

// mallopt takes an int, so a trim threshold of INT_MAX still gave a freed top of the heap of
// 2 GiB or more back to the system (CellPatch's inference scores are 2.1 GB), and the next
// batch faulted every page in again. The block is never touched beyond its first page, so
// the test costs address space, not memory.
TEST(HeapMemoryScope, KeepsFreedBlocksOfTwoGiBAndMore) {
  cw::HeapMemoryScope scope;
  const size_t bytes = (size_t{2} << 30) + (size_t{64} << 20);
  const size_t heapBefore = mallinfo2().arena;
  void* block = std::malloc(bytes);
  if (block == nullptr) GTEST_SKIP() << "this machine would not reserve 2 GiB of address space";
  static_cast<volatile char*>(block)[0] = 1;
  const size_t heapWithBlock = mallinfo2().arena;
  ASSERT_GE(heapWithBlock, heapBefore + bytes) << "the block should have grown the heap";
  std::free(block);
  EXPECT_EQ(mallinfo2().arena, heapWithBlock) << "the freed block stays in the heap";
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
