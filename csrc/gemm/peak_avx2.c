/*
 * gemm/peak_avx2.c — fp32 FMA peak probe with 256-bit vectors.
 *
 * Legend: iters = loop rounds; each round issues 12 independent 8-lane FMAs.
 */
#include <immintrin.h>

#include "gemm/gemm_internal.h"

/* returns flops = iters * 12 FMAs * 8 lanes * 2 */
int64_t fdl_fma_loop_avx2(int64_t iters) {
    __m256 x[12];
    const __m256 m = _mm256_set1_ps(0.999999f), s = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; ++i) x[i] = _mm256_set1_ps((float)i);
    for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; ++i) x[i] = _mm256_fmadd_ps(x[i], m, s);
    }
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) __asm__ volatile("" : : "x"(x[i]));
    return iters * 12 * 8 * 2;
}
