#pragma once
// For the fused kernels' CPU loop files only (lsh_fused_cpu.cpp, fused_block_cpu.cpp),
// before anything else: expf and erff from glibc's vector math library (libmvec, within
// 4 ulp), so loops calling them run in vector lanes. math.h names the vector versions only
// under -ffast-math, which would also drop NaN and inf; libm's link script brings libmvec in
// where used. The files build with -fno-math-errno: GCC wraps an expf that may set errno in
// a branch, which no loop vectorises.
#include <math.h>

#if defined(__x86_64__) && defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 35)
extern "C" {
__attribute__((__simd__("notinbranch"))) float erff(float) __THROW;
__attribute__((__simd__("notinbranch"))) float expf(float) __THROW;
}
#endif
