#pragma once
// What the fused kernels' host code (lsh_fused.cpp, fused_block.cpp) shares: the element
// and accumulator types it runs for a tensor type, and which build of the CPU loops it takes.
#include <torch/torch.h>

#include "fused_scalar.h"

namespace cw::plugins::fused {

// Calls f(T{}, Acc{}): bf16 as it comes (autocast) summed in fp32, double for checks, else fp32.
template <typename F>
void withKernelTypes(torch::ScalarType t, F&& f) {
  if (t == torch::kDouble)
    f(double{}, double{});
  else if (t == torch::kBFloat16)
    f(Bf16{}, float{});
  else
    f(float{}, float{});
}

// Whether the fused CPU loops (LSH attention's and the block steps') may take their AVX2
// build where the processor has AVX2 and FMA (default true). Process-wide; tests turn it off
// to check the baseline build beside it.
void allowAvx2Loops(bool allowed);

// Whether the CPU loops take their AVX2 build: this build has one, the processor has AVX2
// and FMA, and allowAvx2Loops has not turned it off.
bool avx2LoopsTaken();

}  // namespace cw::plugins::fused
