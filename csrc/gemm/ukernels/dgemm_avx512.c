/*
 * ukernels/dgemm_avx512.c — AVX-512 dgemm micro-kernels: 12 x 16, and 12 x 8
 * for edge panels at most 8 columns wide.
 *
 * Legend: see gemm/gemm_internal.h (k, a/rsa, b/rsb, c/ldc, m x n).
 *
 * The sgemm 12 x 32 register plan with 8-lane doubles: 24 zmm accumulators
 * (12 rows x 2 vectors) + 2 B vectors; the 12 broadcasts fold into the FMAs'
 * memory operand ({1to8}): 2 loads + 24 FMAs per k step.
 * Edges (m < 12, n < 16) only change the store: masked stores, outside the
 * k loop.
 */
#include <immintrin.h>

#include "gemm/gemm_internal.h"

#define ROW_FMA(r)                                              \
    do {                                                        \
        __m512d ar = _mm512_set1_pd(a[r]);                       \
        c##r##0 = _mm512_fmadd_pd(ar, b0, c##r##0);             \
        c##r##1 = _mm512_fmadd_pd(ar, b1, c##r##1);             \
    } while (0)

/* Rows of A read in place: row r at ar[r*csa]; four base pointers keep the
 * twelve addresses as base + {0,1,2}*csa, which x86 addressing encodes. */
#define ROW_FMA_IN(r, base, off)                                \
    do {                                                        \
        __m512d ar = _mm512_set1_pd(base[off]);                  \
        c##r##0 = _mm512_fmadd_pd(ar, b0, c##r##0);             \
        c##r##1 = _mm512_fmadd_pd(ar, b1, c##r##1);             \
    } while (0)

#define ROW_STORE(r)                                                      \
    do {                                                                  \
        if ((r) < m) {                                                    \
            double *cr = c + (int64_t)(r) * ldc;                           \
            __m512d v0 = _mm512_mul_pd(c##r##0, valpha);                   \
            __m512d v1 = _mm512_mul_pd(c##r##1, valpha);                   \
            if (beta != 0.0) {                                           \
                v0 = _mm512_fmadd_pd(vbeta, _mm512_maskz_loadu_pd(m0, cr), v0);      \
                v1 = _mm512_fmadd_pd(vbeta, _mm512_maskz_loadu_pd(m1, cr + 8), v1); \
            }                                                             \
            if (bias) {                                                   \
                v0 = _mm512_add_pd(v0, bias0);                            \
                v1 = _mm512_add_pd(v1, bias1);                            \
            }                                                             \
            if (relu) { /* max(0, v) returns v when v is NaN */           \
                v0 = _mm512_max_pd(zero, v0);                             \
                v1 = _mm512_max_pd(zero, v1);                             \
            }                                                             \
            _mm512_mask_storeu_pd(cr, m0, v0);                            \
            _mm512_mask_storeu_pd(cr + 8, m1, v1);                       \
        }                                                                 \
    } while (0)

/* C[m<=12, n<=16] = epi(A[12, k] @ B[k, 16]) */
void fdl_dgemm_avx512_12x16(int64_t k, const double *restrict a, int64_t rsa, int64_t csa,
                            const double *restrict b, int64_t rsb,
                            double *restrict c, int64_t ldc, int m, int n,
                            const fdl_dgemm_epi *epi) {
    __m512d c00 = _mm512_setzero_pd(), c01 = c00, c10 = c00, c11 = c00;
    __m512d c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00;
    __m512d c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    __m512d c80 = c00, c81 = c00, c90 = c00, c91 = c00;
    __m512d c100 = c00, c101 = c00, c110 = c00, c111 = c00;

    /* The C tile is written once at the end; start fetching it now so the
     * epilogue does not stall on 24 cold lines. */
    for (int r = 0; r < m; ++r) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 15), _MM_HINT_T0);
    }

    if (csa == 1) {
#pragma GCC unroll 4
        for (int64_t p = 0; p < k; ++p) {
            __m512d b0 = _mm512_loadu_pd(b);
            __m512d b1 = _mm512_loadu_pd(b + 8);
            ROW_FMA(0); ROW_FMA(1); ROW_FMA(2); ROW_FMA(3);
            ROW_FMA(4); ROW_FMA(5); ROW_FMA(6); ROW_FMA(7);
            ROW_FMA(8); ROW_FMA(9); ROW_FMA(10); ROW_FMA(11);
            a += rsa;
            b += rsb;
        }
    } else {
        const double *a0 = a, *a3 = a + 3 * csa, *a6 = a + 6 * csa, *a9 = a + 9 * csa;
        const int64_t c2 = 2 * csa;
#pragma GCC unroll 4
        for (int64_t p = 0; p < k; ++p) {
            __m512d b0 = _mm512_loadu_pd(b);
            __m512d b1 = _mm512_loadu_pd(b + 8);
            ROW_FMA_IN(0, a0, 0); ROW_FMA_IN(1, a0, csa); ROW_FMA_IN(2, a0, c2);
            ROW_FMA_IN(3, a3, 0); ROW_FMA_IN(4, a3, csa); ROW_FMA_IN(5, a3, c2);
            ROW_FMA_IN(6, a6, 0); ROW_FMA_IN(7, a6, csa); ROW_FMA_IN(8, a6, c2);
            ROW_FMA_IN(9, a9, 0); ROW_FMA_IN(10, a9, csa); ROW_FMA_IN(11, a9, c2);
            a0 += rsa; a3 += rsa; a6 += rsa; a9 += rsa;
            b += rsb;
        }
    }

    const double beta = epi->beta;
    const double *bias = epi->bias;
    const int relu = epi->relu;
    const __m512d valpha = _mm512_set1_pd(epi->alpha);
    const __m512d vbeta = _mm512_set1_pd(beta);
    const __m512d zero = _mm512_setzero_pd();
    __mmask8 m0, m1;
    if (n >= 16) { m0 = 0xFF; m1 = 0xFF; }
    else if (n > 8) { m0 = 0xFF; m1 = (__mmask8)((1u << (n - 8)) - 1); }
    else { m0 = (__mmask8)((1u << n) - 1); m1 = 0; }
    __m512d bias0 = zero, bias1 = zero;
    if (bias) {
        bias0 = _mm512_maskz_loadu_pd(m0, bias);
        bias1 = _mm512_maskz_loadu_pd(m1, bias + 8);
    }
    ROW_STORE(0); ROW_STORE(1); ROW_STORE(2); ROW_STORE(3);
    ROW_STORE(4); ROW_STORE(5); ROW_STORE(6); ROW_STORE(7);
    ROW_STORE(8); ROW_STORE(9); ROW_STORE(10); ROW_STORE(11);
}

/* ---- 12 x 8: the narrow edge panel (n <= 8) ----
 * Same loop with one B vector per k: half the FMAs of 12x16 are not wasted
 * on zero padding. 12 chains still cover the FMA latency. */

#define ROW_FMA1(r)                                             \
    do {                                                        \
        __m512d ar = _mm512_set1_pd(a[r]);                       \
        c##r = _mm512_fmadd_pd(ar, b0, c##r);                   \
    } while (0)

#define ROW_FMA1_IN(r, base, off)                               \
    do {                                                        \
        __m512d ar = _mm512_set1_pd(base[off]);                  \
        c##r = _mm512_fmadd_pd(ar, b0, c##r);                   \
    } while (0)

#define ROW_STORE1(r)                                                     \
    do {                                                                  \
        if ((r) < m) {                                                    \
            double *cr = c + (int64_t)(r) * ldc;                           \
            __m512d v0 = _mm512_mul_pd(c##r, valpha);                      \
            if (beta != 0.0)                                             \
                v0 = _mm512_fmadd_pd(vbeta, _mm512_maskz_loadu_pd(m0, cr), v0); \
            if (bias) v0 = _mm512_add_pd(v0, bias0);                      \
            if (relu) v0 = _mm512_max_pd(zero, v0);                       \
            _mm512_mask_storeu_pd(cr, m0, v0);                            \
        }                                                                 \
    } while (0)

/* C[m<=12, n<=8] = epi(A[12, k] @ B[k, 8]) */
void fdl_dgemm_avx512_12x8(int64_t k, const double *restrict a, int64_t rsa, int64_t csa,
                            const double *restrict b, int64_t rsb,
                            double *restrict c, int64_t ldc, int m, int n,
                            const fdl_dgemm_epi *epi) {
    __m512d c0 = _mm512_setzero_pd(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    __m512d c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;

    for (int r = 0; r < m; ++r) _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);

    if (csa == 1) {
#pragma GCC unroll 4
        for (int64_t p = 0; p < k; ++p) {
            __m512d b0 = _mm512_loadu_pd(b);
            ROW_FMA1(0); ROW_FMA1(1); ROW_FMA1(2); ROW_FMA1(3);
            ROW_FMA1(4); ROW_FMA1(5); ROW_FMA1(6); ROW_FMA1(7);
            ROW_FMA1(8); ROW_FMA1(9); ROW_FMA1(10); ROW_FMA1(11);
            a += rsa;
            b += rsb;
        }
    } else {
        const double *a0 = a, *a3 = a + 3 * csa, *a6 = a + 6 * csa, *a9 = a + 9 * csa;
        const int64_t s2 = 2 * csa;
#pragma GCC unroll 4
        for (int64_t p = 0; p < k; ++p) {
            __m512d b0 = _mm512_loadu_pd(b);
            ROW_FMA1_IN(0, a0, 0); ROW_FMA1_IN(1, a0, csa); ROW_FMA1_IN(2, a0, s2);
            ROW_FMA1_IN(3, a3, 0); ROW_FMA1_IN(4, a3, csa); ROW_FMA1_IN(5, a3, s2);
            ROW_FMA1_IN(6, a6, 0); ROW_FMA1_IN(7, a6, csa); ROW_FMA1_IN(8, a6, s2);
            ROW_FMA1_IN(9, a9, 0); ROW_FMA1_IN(10, a9, csa); ROW_FMA1_IN(11, a9, s2);
            a0 += rsa; a3 += rsa; a6 += rsa; a9 += rsa;
            b += rsb;
        }
    }

    const double beta = epi->beta;
    const double *bias = epi->bias;
    const int relu = epi->relu;
    const __m512d valpha = _mm512_set1_pd(epi->alpha);
    const __m512d vbeta = _mm512_set1_pd(beta);
    const __m512d zero = _mm512_setzero_pd();
    const __mmask8 m0 = n >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << n) - 1);
    const __m512d bias0 = bias ? _mm512_maskz_loadu_pd(m0, bias) : zero;
    ROW_STORE1(0); ROW_STORE1(1); ROW_STORE1(2); ROW_STORE1(3);
    ROW_STORE1(4); ROW_STORE1(5); ROW_STORE1(6); ROW_STORE1(7);
    ROW_STORE1(8); ROW_STORE1(9); ROW_STORE1(10); ROW_STORE1(11);
}
