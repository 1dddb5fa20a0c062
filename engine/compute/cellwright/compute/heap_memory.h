#pragma once
// Keeps large CPU allocations in malloc's heap while training or predicting.

namespace cw {

// While one is alive (they nest, from any thread), glibc's malloc serves every allocation
// from its heap and keeps freed memory there, instead of mapping each block over 32 MB anew
// and unmapping it on free. LibTorch's CPU tensors of that size (attention scores,
// activations) come and go every step, and every page of a fresh mapping costs a page fault
// on first touch; on a VM that hands freed memory back to its host the fault is expensive
// (a BioFormer fine-tuning epoch: 492 s without, 75 s with). When the last scope ends the
// defaults come back and malloc_trim returns the freed memory to the system. A no-op
// without glibc.
class HeapMemoryScope {
 public:
  HeapMemoryScope();
  ~HeapMemoryScope();
  HeapMemoryScope(const HeapMemoryScope&) = delete;
  HeapMemoryScope& operator=(const HeapMemoryScope&) = delete;

  static bool active();
};

}  // namespace cw
