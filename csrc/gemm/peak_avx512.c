/*
 * gemm/peak_avx512.c — fp32 FMA peak probe with 512-bit vectors.
 *
 * Legend: iters = loop rounds; each round issues 16 independent 16-lane FMAs
 * (16 chains cover 4-cycle latency on two pipes with room to spare).
 */
#include <immintrin.h>

#include "gemm/gemm_internal.h"

/* returns flops = iters * 16 FMAs * 16 lanes * 2 */
int64_t fdl_fma_loop_avx512(int64_t iters) {
    __m512 x[16];
    const __m512 m = _mm512_set1_ps(0.999999f), s = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 16; ++i) x[i] = _mm512_set1_ps((float)i);
    for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) x[i] = _mm512_fmadd_ps(x[i], m, s);
    }
    /* Keep the results live so the loop is not removed. */
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) __asm__ volatile("" : : "v"(x[i]));
    return iters * 16 * 16 * 2;
}
