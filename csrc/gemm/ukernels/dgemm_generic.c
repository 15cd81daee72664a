/*
 * ukernels/dgemm_generic.c — portable dgemm micro-kernels: 6 x 4, and 6 x 2
 * for edge panels at most 2 columns wide.
 *
 * Legend: see gemm/gemm_internal.h (k, a/rsa/csa, b/rsb, c/ldc, m x n).
 *
 * sgemm_generic.c's plan with 2-lane doubles (SSE2 on baseline x86-64, NEON
 * on arm64): 12 accumulators + 2 B vectors + 1 A vector + 1 product fit in 16
 * registers. A arrives packed 2x replicated (csa == 2), so each row's value
 * is one plain 2-lane load. Other compilers get plain loops.
 */
#include <string.h>

#include "gemm/gemm_internal.h"

#define MR FDL_DGEMM_GENERIC_MR
#define NR FDL_DGEMM_GENERIC_NR

/* C[m, n] = epi(acc[m, n]), the part of the tile inside C */
static void store_tile(const double acc[MR][NR], double *restrict c, int64_t ldc, int m,
                       int n, const fdl_dgemm_epi *epi) {
    const double alpha = epi->alpha, beta = epi->beta;
    for (int i = 0; i < m; ++i) {
        double *cr = c + i * ldc;
        for (int j = 0; j < n; ++j) {
            double v = alpha * acc[i][j];
            if (beta != 0.0) v += beta * cr[j];
            if (epi->bias) v += epi->bias[j];
            if (epi->relu && v < 0.0) v = 0.0;  /* NaN stays NaN */
            cr[j] = v;
        }
    }
}

#if defined(__GNUC__)
typedef double v2d __attribute__((vector_size(16), aligned(8)));

static inline v2d load2(const double *p) {
    v2d v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* C[m<=6, n<=4] = epi(A[6, k] @ B[k, 4]) */
void fdl_dgemm_generic_6x4(int64_t k, const double *restrict a, int64_t rsa, int64_t csa,
                           const double *restrict b, int64_t rsb,
                           double *restrict c, int64_t ldc, int m, int n,
                           const fdl_dgemm_epi *epi) {
    (void)csa;  /* 2: A is packed replicated */
    v2d c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0};
    v2d c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
    v2d c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    for (int64_t p = 0; p < k; ++p) {
        const v2d b0 = load2(b), b1 = load2(b + 2);
        const v2d a0 = load2(a), a1 = load2(a + 2), a2 = load2(a + 4);
        const v2d a3 = load2(a + 6), a4 = load2(a + 8), a5 = load2(a + 10);
        c00 += a0 * b0; c01 += a0 * b1;
        c10 += a1 * b0; c11 += a1 * b1;
        c20 += a2 * b0; c21 += a2 * b1;
        c30 += a3 * b0; c31 += a3 * b1;
        c40 += a4 * b0; c41 += a4 * b1;
        c50 += a5 * b0; c51 += a5 * b1;
        a += rsa;
        b += rsb;
    }
    double acc[MR][NR];
    memcpy(acc[0], &c00, 16); memcpy(acc[0] + 2, &c01, 16);
    memcpy(acc[1], &c10, 16); memcpy(acc[1] + 2, &c11, 16);
    memcpy(acc[2], &c20, 16); memcpy(acc[2] + 2, &c21, 16);
    memcpy(acc[3], &c30, 16); memcpy(acc[3] + 2, &c31, 16);
    memcpy(acc[4], &c40, 16); memcpy(acc[4] + 2, &c41, 16);
    memcpy(acc[5], &c50, 16); memcpy(acc[5] + 2, &c51, 16);
    store_tile((const double(*)[NR])acc, c, ldc, m, n, epi);
}

/* C[m<=6, n<=2] = epi(A[6, k] @ B[k, 2]); B rows keep their NR stride */
void fdl_dgemm_generic_6x2(int64_t k, const double *restrict a, int64_t rsa, int64_t csa,
                           const double *restrict b, int64_t rsb,
                           double *restrict c, int64_t ldc, int m, int n,
                           const fdl_dgemm_epi *epi) {
    (void)csa;
    v2d c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0}, c4 = {0}, c5 = {0};
    for (int64_t p = 0; p < k; ++p) {
        const v2d b0 = load2(b);
        c0 += load2(a) * b0;
        c1 += load2(a + 2) * b0;
        c2 += load2(a + 4) * b0;
        c3 += load2(a + 6) * b0;
        c4 += load2(a + 8) * b0;
        c5 += load2(a + 10) * b0;
        a += rsa;
        b += rsb;
    }
    double acc[MR][NR];
    memcpy(acc[0], &c0, 16); memcpy(acc[1], &c1, 16); memcpy(acc[2], &c2, 16);
    memcpy(acc[3], &c3, 16); memcpy(acc[4], &c4, 16); memcpy(acc[5], &c5, 16);
    store_tile((const double(*)[NR])acc, c, ldc, m, n, epi);
}
#else
/* acc[6, w] = A[6, k] @ B[k, w] in plain loops */
static void tile_loops(int64_t k, const double *a, int64_t rsa, int64_t csa, const double *b,
                       int64_t rsb, int w, double acc[MR][NR]) {
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) acc[i][j] = 0.0;
    for (int64_t p = 0; p < k; ++p) {
        for (int i = 0; i < MR; ++i) {
            const double ai = a[i * csa];
            for (int j = 0; j < w; ++j) acc[i][j] += ai * b[j];
        }
        a += rsa;
        b += rsb;
    }
}

/* C[m<=6, n<=4] = epi(A[6, k] @ B[k, 4]) */
void fdl_dgemm_generic_6x4(int64_t k, const double *restrict a, int64_t rsa, int64_t csa,
                           const double *restrict b, int64_t rsb,
                           double *restrict c, int64_t ldc, int m, int n,
                           const fdl_dgemm_epi *epi) {
    double acc[MR][NR];
    tile_loops(k, a, rsa, csa, b, rsb, NR, acc);
    store_tile((const double(*)[NR])acc, c, ldc, m, n, epi);
}

/* C[m<=6, n<=2] = epi(A[6, k] @ B[k, 2]) */
void fdl_dgemm_generic_6x2(int64_t k, const double *restrict a, int64_t rsa, int64_t csa,
                           const double *restrict b, int64_t rsb,
                           double *restrict c, int64_t ldc, int m, int n,
                           const fdl_dgemm_epi *epi) {
    double acc[MR][NR];
    tile_loops(k, a, rsa, csa, b, rsb, NR / 2, acc);
    store_tile((const double(*)[NR])acc, c, ldc, m, n, epi);
}
#endif
