// The CPU loops of fused LSH attention over a range of chunks. Built twice: as is for the
// baseline x86-64, and by lsh_fused_cpu_avx2.cpp with -mavx2 -mfma (lsh_fused.cpp picks
// at run time). No torch here: inline torch code built for AVX2 could be taken by the
// linker for every caller, also on a machine without AVX2.
#ifndef CW_LSH_CPU
#define CW_LSH_CPU cpu_baseline
#endif
#define CW_LSH_ISA CW_LSH_CPU
#include "cpu_vector_math.h"
#include "lsh_fused_math.h"

namespace cw::plugins::lsh::fused::CW_LSH_CPU {

namespace {

template <int D, typename T, typename Acc>
void loop(const Problem<T, Acc>& p, Pass pass, int64_t beginChunk, int64_t endChunk) {
  const int64_t perRow = static_cast<int64_t>(p.rounds) * p.length;
  for (int64_t slot = beginChunk * p.bucket; slot < endChunk * p.bucket; ++slot) {
    const auto row = static_cast<int32_t>(slot / perRow), s = static_cast<int32_t>(slot % perRow);
    switch (pass) {
      case Pass::Forward: forwardSlot<D>(p, row, s); break;
      case Pass::QueryGradients: queryGradientSlot<D>(p, row, s); break;
      case Pass::KeyGradients: keyGradientSlot<D>(p, row, s); break;
    }
  }
}

}  // namespace

template <typename T, typename Acc>
void runChunks(const Problem<T, Acc>& p, int64_t d, Pass pass, int64_t beginChunk, int64_t endChunk) {
  switch (d) {  // lsh_fused.cpp only calls with a compiled width (headWidthCompiled)
    case 4: return loop<4>(p, pass, beginChunk, endChunk);
    case 8: return loop<8>(p, pass, beginChunk, endChunk);
    case 16: return loop<16>(p, pass, beginChunk, endChunk);
    case 32: return loop<32>(p, pass, beginChunk, endChunk);
    case 64: return loop<64>(p, pass, beginChunk, endChunk);
    case 128: return loop<128>(p, pass, beginChunk, endChunk);
  }
}

template void runChunks<float, float>(const Problem<float, float>&, int64_t, Pass, int64_t, int64_t);
template void runChunks<double, double>(const Problem<double, double>&, int64_t, Pass, int64_t, int64_t);
template void runChunks<Bf16, float>(const Problem<Bf16, float>&, int64_t, Pass, int64_t, int64_t);

}  // namespace cw::plugins::lsh::fused::CW_LSH_CPU
