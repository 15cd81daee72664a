/*
 * ukernels/sgemm_avx2.c — AVX2+FMA sgemm micro-kernel, 6 x 16 tile.
 *
 * Legend: see gemm/gemm_internal.h (k, a/rsa, b/rsb, c/ldc, m x n).
 *
 * 12 ymm accumulators + 2 B vectors + 1 broadcast = 15 of 16 registers;
 * 12 independent FMA chains cover 4-cycle latency on two pipes. Edges only
 * change the store (maskstore), outside the k loop.
 */
#include <immintrin.h>

#include "gemm/gemm_internal.h"

/* Lane j of loadu(mask_tab + 16 - n) is on iff j < n (n in 0..16). */
static const int32_t mask_tab[32] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

#define ROW_FMA(r)                                              \
    do {                                                        \
        __m256 ar = _mm256_broadcast_ss(a + (r));               \
        c##r##0 = _mm256_fmadd_ps(ar, b0, c##r##0);             \
        c##r##1 = _mm256_fmadd_ps(ar, b1, c##r##1);             \
    } while (0)

#define ROW_FMA_IN(r, base, off)                                \
    do {                                                        \
        __m256 ar = _mm256_broadcast_ss(base + (off));          \
        c##r##0 = _mm256_fmadd_ps(ar, b0, c##r##0);             \
        c##r##1 = _mm256_fmadd_ps(ar, b1, c##r##1);             \
    } while (0)

#define ROW_STORE(r)                                                        \
    do {                                                                    \
        if ((r) < m) {                                                      \
            float *cr = c + (int64_t)(r) * ldc;                             \
            __m256 v0 = _mm256_mul_ps(c##r##0, valpha);                     \
            __m256 v1 = _mm256_mul_ps(c##r##1, valpha);                     \
            if (beta != 0.0f) {                                             \
                v0 = _mm256_fmadd_ps(vbeta, _mm256_maskload_ps(cr, k0), v0);      \
                v1 = _mm256_fmadd_ps(vbeta, _mm256_maskload_ps(cr + 8, k1), v1);  \
            }                                                               \
            if (bias) {                                                     \
                v0 = _mm256_add_ps(v0, bias0);                              \
                v1 = _mm256_add_ps(v1, bias1);                              \
            }                                                               \
            if (relu) {                                                     \
                v0 = _mm256_max_ps(zero, v0);                               \
                v1 = _mm256_max_ps(zero, v1);                               \
            }                                                               \
            if (full) {                                                     \
                _mm256_storeu_ps(cr, v0);                                   \
                _mm256_storeu_ps(cr + 8, v1);                               \
            } else {                                                        \
                _mm256_maskstore_ps(cr, k0, v0);                            \
                _mm256_maskstore_ps(cr + 8, k1, v1);                        \
            }                                                               \
        }                                                                   \
    } while (0)

/* C[m<=6, n<=16] = epi(A[6, k] @ B[k, 16]) */
void fdl_sgemm_avx2_6x16(int64_t k, const float *restrict a, int64_t rsa, int64_t csa,
                         const float *restrict b, int64_t rsb,
                         float *restrict c, int64_t ldc, int m, int n,
                         const fdl_sgemm_epi *epi) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00;
    __m256 c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    __m256 c40 = c00, c41 = c00, c50 = c00, c51 = c00;

    for (int r = 0; r < m; ++r) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 15), _MM_HINT_T0);
    }

    if (csa == 1) {
#pragma GCC unroll 4
        for (int64_t p = 0; p < k; ++p) {
            __m256 b0 = _mm256_loadu_ps(b);
            __m256 b1 = _mm256_loadu_ps(b + 8);
            ROW_FMA(0); ROW_FMA(1); ROW_FMA(2);
            ROW_FMA(3); ROW_FMA(4); ROW_FMA(5);
            a += rsa;
            b += rsb;
        }
    } else {
        /* Rows of A read in place, as base + {0,1,2}*csa. */
        const float *a0 = a, *a3 = a + 3 * csa;
        const int64_t c2 = 2 * csa;
#pragma GCC unroll 4
        for (int64_t p = 0; p < k; ++p) {
            __m256 b0 = _mm256_loadu_ps(b);
            __m256 b1 = _mm256_loadu_ps(b + 8);
            ROW_FMA_IN(0, a0, 0); ROW_FMA_IN(1, a0, csa); ROW_FMA_IN(2, a0, c2);
            ROW_FMA_IN(3, a3, 0); ROW_FMA_IN(4, a3, csa); ROW_FMA_IN(5, a3, c2);
            a0 += rsa; a3 += rsa;
            b += rsb;
        }
    }

    const float beta = epi->beta;
    const float *bias = epi->bias;
    const int relu = epi->relu;
    const int full = n >= 16;
    const __m256 valpha = _mm256_set1_ps(epi->alpha);
    const __m256 vbeta = _mm256_set1_ps(beta);
    const __m256 zero = _mm256_setzero_ps();
    const int nn = n >= 16 ? 16 : n;
    const __m256i k0 = _mm256_loadu_si256((const __m256i *)(mask_tab + 16 - nn));
    const __m256i k1 = _mm256_loadu_si256((const __m256i *)(mask_tab + 24 - nn));
    __m256 bias0 = zero, bias1 = zero;
    if (bias) {
        bias0 = _mm256_maskload_ps(bias, k0);
        bias1 = _mm256_maskload_ps(bias + 8, k1);
    }
    ROW_STORE(0); ROW_STORE(1); ROW_STORE(2);
    ROW_STORE(3); ROW_STORE(4); ROW_STORE(5);
}
