/*
 * ukernels/sgemm_generic.c — portable C sgemm micro-kernel, 4 x 8 tile.
 *
 * Legend: see gemm/gemm_internal.h (k, a/rsa, b/rsb, c/ldc, m x n).
 *
 * Plain C with compile-time trip counts so the compiler keeps the 4 x 8
 * accumulators in vector registers (8 SSE registers on baseline x86-64, 8
 * NEON registers on arm64) and vectorizes the j loop.
 */
#include "gemm/gemm_internal.h"

#define MR FDL_SGEMM_GENERIC_MR
#define NR FDL_SGEMM_GENERIC_NR

/* C[m<=4, n<=8] = epi(A[4, k] @ B[k, 8]) */
void fdl_sgemm_generic_4x8(int64_t k, const float *restrict a, int64_t rsa, int64_t csa,
                           const float *restrict b, int64_t rsb,
                           float *restrict c, int64_t ldc, int m, int n,
                           const fdl_sgemm_epi *epi) {
    float acc[MR][NR];
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) acc[i][j] = 0.0f;

    for (int64_t p = 0; p < k; ++p) {
        for (int i = 0; i < MR; ++i) {
            const float ai = a[i * csa];
            for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
        }
        a += rsa;
        b += rsb;
    }

    const float alpha = epi->alpha, beta = epi->beta;
    for (int i = 0; i < m; ++i) {
        float *cr = c + i * ldc;
        for (int j = 0; j < n; ++j) {
            float v = alpha * acc[i][j];
            if (beta != 0.0f) v += beta * cr[j];
            if (epi->bias) v += epi->bias[j];
            if (epi->relu && v < 0.0f) v = 0.0f;  /* NaN stays NaN */
            cr[j] = v;
        }
    }
}
