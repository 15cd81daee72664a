/*
 * ukernels/sgemm_generic.c — portable sgemm micro-kernels: 6 x 8, and 6 x 4
 * for edge panels at most 4 columns wide.
 *
 * Legend: see gemm/gemm_internal.h (k, a/rsa/csa, b/rsb, c/ldc, m x n).
 *
 * With GCC or Clang the tile is held in 4-lane vector-extension values: the
 * compilers' auto-vectorizer does not find the register tile by itself (it
 * vectorized across k and spilled the accumulators, 10 GFLOP/s), while
 * explicit 4-lane values lower to SSE2 on baseline x86-64 and NEON on arm64
 * (12 accumulators + 2 B vectors + 1 A vector + 1 product fit in 16
 * registers). A arrives packed 4x replicated (csa == 4, see gemm_internal.h):
 * SSE2 has no broadcast load, and a scalar load + shuffle per row took the
 * shuffle pipes the multiplies and adds need. Other compilers get the same
 * arithmetic in plain loops.
 */
#include <string.h>

#include "gemm/gemm_internal.h"

#define MR FDL_SGEMM_GENERIC_MR
#define NR FDL_SGEMM_GENERIC_NR

/* C[m, n] = epi(acc[m, n]), the part of the tile inside C */
static void store_tile(const float acc[MR][NR], float *restrict c, int64_t ldc, int m, int n,
                       const fdl_sgemm_epi *epi) {
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

#if defined(__GNUC__)
typedef float v4f __attribute__((vector_size(16), aligned(4)));

static inline v4f load4(const float *p) {
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* C[m<=6, n<=8] = epi(A[6, k] @ B[k, 8]) */
void fdl_sgemm_generic_6x8(int64_t k, const float *restrict a, int64_t rsa, int64_t csa,
                           const float *restrict b, int64_t rsb,
                           float *restrict c, int64_t ldc, int m, int n,
                           const fdl_sgemm_epi *epi) {
    (void)csa;  /* 4: A is packed replicated */
    v4f c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0};
    v4f c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
    v4f c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    for (int64_t p = 0; p < k; ++p) {
        const v4f b0 = load4(b), b1 = load4(b + 4);
        const v4f a0 = load4(a), a1 = load4(a + 4), a2 = load4(a + 8);
        const v4f a3 = load4(a + 12), a4 = load4(a + 16), a5 = load4(a + 20);
        c00 += a0 * b0; c01 += a0 * b1;
        c10 += a1 * b0; c11 += a1 * b1;
        c20 += a2 * b0; c21 += a2 * b1;
        c30 += a3 * b0; c31 += a3 * b1;
        c40 += a4 * b0; c41 += a4 * b1;
        c50 += a5 * b0; c51 += a5 * b1;
        a += rsa;
        b += rsb;
    }
    float acc[MR][NR];
    memcpy(acc[0], &c00, 16); memcpy(acc[0] + 4, &c01, 16);
    memcpy(acc[1], &c10, 16); memcpy(acc[1] + 4, &c11, 16);
    memcpy(acc[2], &c20, 16); memcpy(acc[2] + 4, &c21, 16);
    memcpy(acc[3], &c30, 16); memcpy(acc[3] + 4, &c31, 16);
    memcpy(acc[4], &c40, 16); memcpy(acc[4] + 4, &c41, 16);
    memcpy(acc[5], &c50, 16); memcpy(acc[5] + 4, &c51, 16);
    store_tile((const float(*)[NR])acc, c, ldc, m, n, epi);
}

/* C[m<=6, n<=4] = epi(A[6, k] @ B[k, 4]); B rows keep their NR stride */
void fdl_sgemm_generic_6x4(int64_t k, const float *restrict a, int64_t rsa, int64_t csa,
                           const float *restrict b, int64_t rsb,
                           float *restrict c, int64_t ldc, int m, int n,
                           const fdl_sgemm_epi *epi) {
    (void)csa;
    v4f c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0}, c4 = {0}, c5 = {0};
    for (int64_t p = 0; p < k; ++p) {
        const v4f b0 = load4(b);
        c0 += load4(a) * b0;
        c1 += load4(a + 4) * b0;
        c2 += load4(a + 8) * b0;
        c3 += load4(a + 12) * b0;
        c4 += load4(a + 16) * b0;
        c5 += load4(a + 20) * b0;
        a += rsa;
        b += rsb;
    }
    float acc[MR][NR];
    memcpy(acc[0], &c0, 16); memcpy(acc[1], &c1, 16); memcpy(acc[2], &c2, 16);
    memcpy(acc[3], &c3, 16); memcpy(acc[4], &c4, 16); memcpy(acc[5], &c5, 16);
    store_tile((const float(*)[NR])acc, c, ldc, m, n, epi);
}
#else
/* acc[6, w] = A[6, k] @ B[k, w] in plain loops */
static void tile_loops(int64_t k, const float *a, int64_t rsa, int64_t csa, const float *b,
                       int64_t rsb, int w, float acc[MR][NR]) {
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) acc[i][j] = 0.0f;
    for (int64_t p = 0; p < k; ++p) {
        for (int i = 0; i < MR; ++i) {
            const float ai = a[i * csa];
            for (int j = 0; j < w; ++j) acc[i][j] += ai * b[j];
        }
        a += rsa;
        b += rsb;
    }
}

/* C[m<=6, n<=8] = epi(A[6, k] @ B[k, 8]) */
void fdl_sgemm_generic_6x8(int64_t k, const float *restrict a, int64_t rsa, int64_t csa,
                           const float *restrict b, int64_t rsb,
                           float *restrict c, int64_t ldc, int m, int n,
                           const fdl_sgemm_epi *epi) {
    float acc[MR][NR];
    tile_loops(k, a, rsa, csa, b, rsb, NR, acc);
    store_tile((const float(*)[NR])acc, c, ldc, m, n, epi);
}

/* C[m<=6, n<=4] = epi(A[6, k] @ B[k, 4]) */
void fdl_sgemm_generic_6x4(int64_t k, const float *restrict a, int64_t rsa, int64_t csa,
                           const float *restrict b, int64_t rsb,
                           float *restrict c, int64_t ldc, int m, int n,
                           const fdl_sgemm_epi *epi) {
    float acc[MR][NR];
    tile_loops(k, a, rsa, csa, b, rsb, NR / 2, acc);
    store_tile((const float(*)[NR])acc, c, ldc, m, n, epi);
}
#endif
