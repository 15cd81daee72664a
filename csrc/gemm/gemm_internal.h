/*
 * gemm/gemm_internal.h — contracts between the GEMM layers (not public).
 *
 * Legend: m x n is one C tile (m <= MR, n <= NR); k its reduction depth.
 *   a: A tile, element (i, p) at a[i*csa + p*rsa]: (csa, rsa) == (1, MR) when
 *      packed, (1, lda) when op(A) = A^T is read in place, (lda, 1) when
 *      op(A) = A is read in place. The generic kernels instead take A packed
 *      with every element `rep` times (4 floats or 2 doubles: one SSE2
 *      vector), (csa, rsa) == (rep, rep*MR), and never read A in place.
 *   b: B micro-panel, element (p, j) at b[p*rsb + j]; rsb == NR when packed,
 *      ldb when B is read in place. Always NR valid columns (edges packed).
 *   c: C tile, element (i, j) at c[i*ldc + j]; only m x n is touched.
 *
 * Types are named by their element suffix (_f32 / _f64) so the driver body
 * gemm/gemm_impl.h can name them with FN(); fdl_sgemm_* / fdl_dgemm_* are the
 * micro-kernels' own names (BLIS style: type, ISA, tile).
 */
#ifndef FDL_GEMM_INTERNAL_H
#define FDL_GEMM_INTERNAL_H

#include <stdint.h>
#include "fastdl.h"
#include "gemm/config.h"

/* Epilogue of one tile pass: C = act(alpha*AB + beta*C + bias). Earlier K
 * blocks run with beta == 1, bias == NULL and act NONE. */
typedef struct {
    float alpha;
    float beta;
    const float *bias;     /* bias of this tile's first column, or NULL */
    int relu;
} fdl_sgemm_epi;

typedef struct {
    double alpha;
    double beta;
    const double *bias;
    int relu;
} fdl_dgemm_epi;

typedef fdl_sgemm_epi gemm_epi_f32;
typedef fdl_dgemm_epi gemm_epi_f64;

/* One shared micro-kernel signature per type; a kernel reads exactly MR rows
 * of a and NR columns of b for each of the k steps. */
typedef void (*gemm_ukr_f32)(int64_t k, const float *a, int64_t rsa, int64_t csa,
                             const float *b, int64_t rsb, float *c, int64_t ldc, int m, int n,
                             const fdl_sgemm_epi *epi);
typedef void (*gemm_ukr_f64)(int64_t k, const double *a, int64_t rsa, int64_t csa,
                             const double *b, int64_t rsb, double *c, int64_t ldc, int m,
                             int n, const fdl_dgemm_epi *epi);

/* Small-M kernels (no packing; gemm/smallm_impl.h), X[m, k] row-major:
 *   dot:  C[m, n] = epi(X[m, k] @ W[n, k]^T), W row j at w + j*ldw
 *   axpy: C[m, n] = epi(X[m, k] @ B[k, n]),   B row p at b + p*ldb
 * epi->bias is the bias of column 0 of this C range, beta applies as usual. */
typedef void (*gemm_smallm_f32)(int64_t m, int64_t n, int64_t k, const float *x, int64_t ldx,
                                const float *w, int64_t ldw, float *c, int64_t ldc,
                                const fdl_sgemm_epi *epi);
typedef void (*gemm_smallm_f64)(int64_t m, int64_t n, int64_t k, const double *x,
                                int64_t ldx, const double *w, int64_t ldw, double *c,
                                int64_t ldc, const fdl_dgemm_epi *epi);

/* One ISA's GEMM configuration for one type: micro-kernels and tiles, the
 * fallback blocking used when the CPU reports no cache sizes, and the
 * small-M kernels. */
typedef struct {
    gemm_ukr_f32 ukr;
    gemm_ukr_f32 ukr_half;      /* for edge panels n <= nr/2, or NULL */
    int a_rep;                  /* copies of each packed A element */
    int mr, nr;
    int64_t mc, kc, nc;         /* fallback blocking (config.h) */
    gemm_smallm_f32 dot, axpy;
    int64_t smallm_vec;         /* elements per vector of the small-M kernels */
    const char *name;
} gemm_cfg_f32;

typedef struct {
    gemm_ukr_f64 ukr;
    gemm_ukr_f64 ukr_half;
    int a_rep;
    int mr, nr;
    int64_t mc, kc, nc;
    gemm_smallm_f64 dot, axpy;
    int64_t smallm_vec;
    const char *name;
} gemm_cfg_f64;

/* The GEMM entry of one ISA's kernel table (runtime/dispatch.c). */
typedef struct {
    gemm_cfg_f32 f32;
    gemm_cfg_f64 f64;
} fdl_gemm_kernels;

extern const fdl_gemm_kernels fdl_gemm_kernels_generic;
extern const fdl_gemm_kernels fdl_gemm_kernels_avx2;
extern const fdl_gemm_kernels fdl_gemm_kernels_avx512;

void fdl_sgemm_generic_6x4(int64_t k, const float *a, int64_t rsa, int64_t csa,
                           const float *b, int64_t rsb, float *c, int64_t ldc, int m, int n,
                           const fdl_sgemm_epi *epi);
void fdl_sgemm_generic_6x8(int64_t k, const float *a, int64_t rsa, int64_t csa,
                           const float *b, int64_t rsb, float *c, int64_t ldc, int m, int n,
                           const fdl_sgemm_epi *epi);
void fdl_sgemm_avx2_6x16(int64_t k, const float *a, int64_t rsa, int64_t csa,
                         const float *b, int64_t rsb, float *c, int64_t ldc, int m, int n,
                         const fdl_sgemm_epi *epi);
void fdl_sgemm_avx512_12x16(int64_t k, const float *a, int64_t rsa, int64_t csa,
                            const float *b, int64_t rsb, float *c, int64_t ldc, int m, int n,
                            const fdl_sgemm_epi *epi);
void fdl_sgemm_avx512_12x32(int64_t k, const float *a, int64_t rsa, int64_t csa,
                            const float *b, int64_t rsb, float *c, int64_t ldc, int m, int n,
                            const fdl_sgemm_epi *epi);
void fdl_dgemm_generic_6x2(int64_t k, const double *a, int64_t rsa, int64_t csa,
                           const double *b, int64_t rsb, double *c, int64_t ldc, int m, int n,
                           const fdl_dgemm_epi *epi);
void fdl_dgemm_generic_6x4(int64_t k, const double *a, int64_t rsa, int64_t csa,
                           const double *b, int64_t rsb, double *c, int64_t ldc, int m, int n,
                           const fdl_dgemm_epi *epi);
void fdl_dgemm_avx2_6x8(int64_t k, const double *a, int64_t rsa, int64_t csa,
                        const double *b, int64_t rsb, double *c, int64_t ldc, int m, int n,
                        const fdl_dgemm_epi *epi);
void fdl_dgemm_avx512_12x8(int64_t k, const double *a, int64_t rsa, int64_t csa,
                           const double *b, int64_t rsb, double *c, int64_t ldc, int m, int n,
                           const fdl_dgemm_epi *epi);
void fdl_dgemm_avx512_12x16(int64_t k, const double *a, int64_t rsa, int64_t csa,
                            const double *b, int64_t rsb, double *c, int64_t ldc, int m, int n,
                            const fdl_dgemm_epi *epi);

/* Packing (pack.c). op(A)(i, p) is a[i*lda + p] (transa == 0) or
 * a[p*lda + i]; op(B)(p, j) is b[p*ldb + j] (transb == 0) or b[j*ldb + p].
 * Pointers arrive already offset to the block's first element. */
/* dst[kc][mr][rep] <- op(A)[m, kc], rows m..mr-1 zero */
void fdl_gemm_pack_a_f32(int transa, const float *a, int64_t lda, int m, int64_t kc, int mr,
                         int rep, float *dst);
void fdl_gemm_pack_a_f64(int transa, const double *a, int64_t lda, int m, int64_t kc, int mr,
                         int rep, double *dst);
/* dst[kc][nr] <- op(B)[kc, n], columns n..nr-1 zero */
void fdl_gemm_pack_b_f32(int transb, const float *b, int64_t ldb, int n, int64_t kc, int nr,
                         float *dst);
void fdl_gemm_pack_b_f64(int transb, const double *b, int64_t ldb, int n, int64_t kc, int nr,
                         double *dst);

/* Cache sizes in bytes (0 when unknown), read once (gemm/blocking.c). */
void fdl_gemm_cache_sizes(int64_t *l1d, int64_t *l2, int64_t *l3);
/* MC/KC/NC for a kernel from the cache sizes; unchanged when unknown. */
void fdl_gemm_blocking(int mr, int nr, int rep, int esize, int64_t abuf, int64_t bbuf,
                       int64_t *mc, int64_t *kc, int64_t *nc);

/* FMA peak probes, one per ISA file; return flops done by one thread. */
int64_t fdl_fma_loop_generic(int64_t iters);
int64_t fdl_fma_loop_avx2(int64_t iters);
int64_t fdl_fma_loop_avx512(int64_t iters);

#endif
