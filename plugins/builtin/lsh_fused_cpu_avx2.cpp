// lsh_fused_cpu.cpp's loops for AVX2 with FMA (compiled with -mavx2 -mfma -ffp-contract=fast).
#define CW_LSH_CPU cpu_avx2
#include "lsh_fused_cpu.cpp"
