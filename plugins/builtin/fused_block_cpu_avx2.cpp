// fused_block_cpu.cpp's loops for AVX2 with FMA (compiled with -mavx2 -mfma -ffp-contract=fast).
#define CW_FUSED_CPU cpu_avx2
#include "fused_block_cpu.cpp"
