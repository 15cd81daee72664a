/*
 * ukernels/dgemm_avx2.c — AVX2+FMA dgemm micro-kernel, 6 x 8 tile.
 *
 * Legend: see gemm/gemm_internal.h (k, a/rsa, b/rsb, c/ldc, m x n).
 *
 * sgemm's 6 x 16 register plan with 4-lane doubles: 12 ymm accumulators + 2 B
 * vectors + 1 broadcast = 15 of 16 registers. Edges only change the store
 * (maskstore), outside the k loop.
 */
#include <immintrin.h>

#include "gemm/gemm_internal.h"

/* 64-bit lane j of loadu(mask_tab + 8 - n) is on iff j < n (n in 0..8). */
static const int64_t mask_tab[16] = {
    -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

#define ROW_FMA(r)                                              \
    do {                                                        \
        __m256d ar = _mm256_broadcast_sd(a + (r));               \
        c##r##0 = _mm256_fmadd_pd(ar, b0, c##r##0);             \
        c##r##1 = _mm256_fmadd_pd(ar, b1, c##r##1);             \
    } while (0)

#define ROW_FMA_IN(r, base, off)                                \
    do {                                                        \
        __m256d ar = _mm256_broadcast_sd(base + (off));          \
        c##r##0 = _mm256_fmadd_pd(ar, b0, c##r##0);             \
        c##r##1 = _mm256_fmadd_pd(ar, b1, c##r##1);             \
    } while (0)

#define ROW_STORE(r)                                                        \
    do {                                                                    \
        if ((r) < m) {                                                      \
            double *cr = c + (int64_t)(r) * ldc;                             \
            __m256d v0 = _mm256_mul_pd(c##r##0, valpha);                     \
            __m256d v1 = _mm256_mul_pd(c##r##1, valpha);                     \
            if (beta != 0.0) {                                             \
                v0 = _mm256_fmadd_pd(vbeta, _mm256_maskload_pd(cr, k0), v0);      \
                v1 = _mm256_fmadd_pd(vbeta, _mm256_maskload_pd(cr + 4, k1), v1);  \
            }                                                               \
            if (bias) {                                                     \
                v0 = _mm256_add_pd(v0, bias0);                              \
                v1 = _mm256_add_pd(v1, bias1);                              \
            }                                                               \
            if (relu) {                                                     \
                v0 = _mm256_max_pd(zero, v0);                               \
                v1 = _mm256_max_pd(zero, v1);                               \
            }                                                               \
            if (full) {                                                     \
                _mm256_storeu_pd(cr, v0);                                   \
                _mm256_storeu_pd(cr + 4, v1);                               \
            } else {                                                        \
                _mm256_maskstore_pd(cr, k0, v0);                            \
                _mm256_maskstore_pd(cr + 4, k1, v1);                        \
            }                                                               \
        }                                                                   \
    } while (0)

/* C[m<=6, n<=8] = epi(A[6, k] @ B[k, 8]) */
void fdl_dgemm_avx2_6x8(int64_t k, const double *restrict a, int64_t rsa, int64_t csa,
                         const double *restrict b, int64_t rsb,
                         double *restrict c, int64_t ldc, int m, int n,
                         const fdl_dgemm_epi *epi) {
    __m256d c00 = _mm256_setzero_pd(), c01 = c00, c10 = c00, c11 = c00;
    __m256d c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    __m256d c40 = c00, c41 = c00, c50 = c00, c51 = c00;

    for (int r = 0; r < m; ++r) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 7), _MM_HINT_T0);
    }

    if (csa == 1) {
#pragma GCC unroll 4
        for (int64_t p = 0; p < k; ++p) {
            __m256d b0 = _mm256_loadu_pd(b);
            __m256d b1 = _mm256_loadu_pd(b + 4);
            ROW_FMA(0); ROW_FMA(1); ROW_FMA(2);
            ROW_FMA(3); ROW_FMA(4); ROW_FMA(5);
            a += rsa;
            b += rsb;
        }
    } else {
        /* Rows of A read in place, as base + {0,1,2}*csa. */
        const double *a0 = a, *a3 = a + 3 * csa;
        const int64_t c2 = 2 * csa;
#pragma GCC unroll 4
        for (int64_t p = 0; p < k; ++p) {
            __m256d b0 = _mm256_loadu_pd(b);
            __m256d b1 = _mm256_loadu_pd(b + 4);
            ROW_FMA_IN(0, a0, 0); ROW_FMA_IN(1, a0, csa); ROW_FMA_IN(2, a0, c2);
            ROW_FMA_IN(3, a3, 0); ROW_FMA_IN(4, a3, csa); ROW_FMA_IN(5, a3, c2);
            a0 += rsa; a3 += rsa;
            b += rsb;
        }
    }

    const double beta = epi->beta;
    const double *bias = epi->bias;
    const int relu = epi->relu;
    const int full = n >= 8;
    const __m256d valpha = _mm256_set1_pd(epi->alpha);
    const __m256d vbeta = _mm256_set1_pd(beta);
    const __m256d zero = _mm256_setzero_pd();
    const int nn = n >= 8 ? 8 : n;
    const __m256i k0 = _mm256_loadu_si256((const __m256i *)(mask_tab + 8 - nn));
    const __m256i k1 = _mm256_loadu_si256((const __m256i *)(mask_tab + 12 - nn));
    __m256d bias0 = zero, bias1 = zero;
    if (bias) {
        bias0 = _mm256_maskload_pd(bias, k0);
        bias1 = _mm256_maskload_pd(bias + 4, k1);
    }
    ROW_STORE(0); ROW_STORE(1); ROW_STORE(2);
    ROW_STORE(3); ROW_STORE(4); ROW_STORE(5);
}
