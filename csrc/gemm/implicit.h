/*
 * gemm/implicit.h — GEMM with an implicit B operand (internal, not public).
 *
 * The caller supplies no B matrix but a packing function that writes B's
 * packed micro-panels itself: dst[p*nr + j] = op(B)(pc + p, j0 + j) for
 * p < kc, j < n, and zero for columns n <= j < nr (the layout of
 * gemm/pack_impl.h's pack_b). The convolutions use it to gather image
 * patches straight into the panels (implicit GEMM: no im2col buffer). The
 * driver, blocking, threading and micro-kernels are the ordinary GEMM's, so
 * the results are bitwise those of fdl_sgemm on the materialized B, for any
 * thread count. The packing function runs on several threads at once (on
 * disjoint panels): ctx must be read-only.
 *
 *   C[M,N] = act(op(A)[M,K] @ B[K,N] + beta * C[M,N])
 */
#ifndef FDL_GEMM_IMPLICIT_H
#define FDL_GEMM_IMPLICIT_H

#include <stdint.h>

typedef void (*gemm_packb_f32)(const void *ctx, int64_t pc, int64_t kc, int64_t j0, int n,
                               int nr, float *dst);
typedef void (*gemm_packb_f64)(const void *ctx, int64_t pc, int64_t kc, int64_t j0, int n,
                               int nr, double *dst);

/* Arguments as fdl_sgemm's (A, lda, beta, C, ldc), relu 0/1; FDL_ERR_NOMEM
 * when the packing scratch cannot be had. The shapes are not checked. */
int fdl_sgemm_implicit_b(int transa, int64_t M, int64_t N, int64_t K, const float *A,
                         int64_t lda, gemm_packb_f32 packb, const void *ctx, float beta,
                         float *C, int64_t ldc, int relu);
int fdl_dgemm_implicit_b(int transa, int64_t M, int64_t N, int64_t K, const double *A,
                         int64_t lda, gemm_packb_f64 packb, const void *ctx, double beta,
                         double *C, int64_t ldc, int relu);

#endif
