/*
 * gemm/gemm_internal.h — contracts between the GEMM layers (not public).
 *
 * Legend: m x n is one C tile (m <= MR, n <= NR); k its reduction depth.
 *   a: A tile, element (i, p) at a[i*csa + p*rsa]: (csa, rsa) == (1, MR) when
 *      packed, (1, lda) when op(A) = A^T is read in place, (lda, 1) when
 *      op(A) = A is read in place. The generic kernel instead takes A packed
 *      with every element 4 times, (csa, rsa) == (4, 4*MR), and never reads
 *      A in place (sgemm_cfg.a_rep == 4).
 *   b: B micro-panel, element (p, j) at b[p*rsb + j]; rsb == NR when packed,
 *      ldb when B is read in place. Always NR valid columns (edges packed).
 *   c: C tile, element (i, j) at c[i*ldc + j]; only m x n is touched.
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

/* One shared micro-kernel signature; a kernel reads exactly MR rows of a and
 * NR columns of b for each of the k steps. */
typedef void (*fdl_sgemm_ukr_fn)(int64_t k, const float *a, int64_t rsa, int64_t csa,
                                 const float *b, int64_t rsb,
                                 float *c, int64_t ldc, int m, int n,
                                 const fdl_sgemm_epi *epi);

void fdl_sgemm_generic_6x4(int64_t k, const float *a, int64_t rsa, int64_t csa,
                           const float *b, int64_t rsb, float *c, int64_t ldc,
                           int m, int n, const fdl_sgemm_epi *epi);
void fdl_sgemm_generic_6x8(int64_t k, const float *a, int64_t rsa, int64_t csa,
                           const float *b, int64_t rsb, float *c, int64_t ldc,
                           int m, int n, const fdl_sgemm_epi *epi);
void fdl_sgemm_avx2_6x16(int64_t k, const float *a, int64_t rsa, int64_t csa,
                         const float *b, int64_t rsb, float *c, int64_t ldc,
                         int m, int n, const fdl_sgemm_epi *epi);
void fdl_sgemm_avx512_12x16(int64_t k, const float *a, int64_t rsa, int64_t csa,
                            const float *b, int64_t rsb, float *c, int64_t ldc,
                            int m, int n, const fdl_sgemm_epi *epi);
void fdl_sgemm_avx512_12x32(int64_t k, const float *a, int64_t rsa, int64_t csa,
                            const float *b, int64_t rsb, float *c, int64_t ldc,
                            int m, int n, const fdl_sgemm_epi *epi);

/* Packing (pack.c). op(A)(i, p) is a[i*lda + p] (transa == 0) or
 * a[p*lda + i]; op(B)(p, j) is b[p*ldb + j] (transb == 0) or b[j*ldb + p].
 * Pointers arrive already offset to the block's first element. */
/* dst[kc][mr] <- op(A)[m, kc], rows m..mr-1 zero */
void fdl_sgemm_pack_a(int transa, const float *a, int64_t lda, int m,
                      int64_t kc, int mr, float *dst);
/* dst[kc][mr][4] <- op(A)[m, kc], each element 4 times (csa == 4) */
void fdl_sgemm_pack_a_rep4(int transa, const float *a, int64_t lda, int m,
                           int64_t kc, int mr, float *dst);
/* dst[kc][nr] <- op(B)[kc, n], columns n..nr-1 zero */
void fdl_sgemm_pack_b(int transb, const float *b, int64_t ldb, int n,
                      int64_t kc, int nr, float *dst);

/* FMA peak probes, one per ISA file; return flops done by one thread. */
int64_t fdl_fma_loop_generic(int64_t iters);
int64_t fdl_fma_loop_avx2(int64_t iters);
int64_t fdl_fma_loop_avx512(int64_t iters);

#endif
