#include "fused_dispatch.h"

#include <atomic>

namespace cw::plugins::fused {

namespace {
std::atomic<bool> avx2Allowed{true};
}

void allowAvx2Loops(bool allowed) { avx2Allowed = allowed; }

bool avx2LoopsTaken() {
#if CELLWRIGHT_FUSED_AVX2
  static const bool present = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return present && avx2Allowed.load();
#else
  return false;
#endif
}

}  // namespace cw::plugins::fused
