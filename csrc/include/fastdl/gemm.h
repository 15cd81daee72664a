/*
 * fastdl/gemm.h — single-precision matrix products (BLAS sgemm semantics,
 * row-major).
 *
 *   C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C
 *   op(X) = X when trans == 0, X^T when trans != 0.
 *   A is M x K (lda >= K) when transa == 0, K x M (lda >= M) otherwise;
 *   B is K x N (ldb >= N) when transb == 0, N x K (ldb >= K) otherwise.
 *   beta == 0 means C is write-only: NaN/Inf already in C do not propagate.
 *   alpha == 0 means A and B are not read (BLAS rule).
 *   K == 0 gives C = beta * C (then the epilogue, for the _ex variants).
 *
 * Status: FDL_OK, FDL_ERR_ARG (negative size or batch), FDL_ERR_SHAPE (a
 * leading dimension or batch stride too small), FDL_ERR_NULL (a pointer the
 * sizes require is NULL).
 *
 * Buffers and threads: the packing buffers (about 4.3 MiB for one thread,
 * plus 256 KiB per extra OpenMP worker; none on the small-M path, M <= 8 with
 * transb and M <= 4 otherwise, where B is read in place) come from libfastdl's scratch pool:
 * taken at the start of a call, given back at its end, cached for the next
 * call until fdl_empty_cache() frees them. The caller passes no workspace.
 * Status FDL_ERR_NOMEM when the pool cannot allocate. Two OS threads may call
 * these functions at the same time: each call uses its own blocks. Work is
 * split over independent blocks of C and never over K, so
 * the result is bitwise identical for any fdl_get_num_threads().
 */
#ifndef FASTDL_GEMM_H
#define FASTDL_GEMM_H

#include <stdint.h>

#include "fastdl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Activation applied last by the fused-epilogue variants. */
typedef enum {
    FDL_ACT_NONE = 0,
    FDL_ACT_RELU = 1       /* max(x, 0); NaN stays NaN */
} fdl_act;

/* C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C[M,N] */
FDL_API int fdl_sgemm(int transa, int transb, int64_t M, int64_t N, int64_t K,
              float alpha, const float *A, int64_t lda,
              const float *B, int64_t ldb,
              float beta, float *C, int64_t ldc);

/* C[M,N] = act(alpha * op(A)[M,K] @ op(B)[K,N] + beta * C[M,N] + bias[N])
 * bias may be NULL (no bias). The epilogue is applied in registers, once per
 * element, after the whole K reduction. */
FDL_API int fdl_sgemm_ex(int transa, int transb, int64_t M, int64_t N, int64_t K,
                 float alpha, const float *A, int64_t lda,
                 const float *B, int64_t ldb,
                 float beta, float *C, int64_t ldc,
                 const float *bias, fdl_act act);

/* For b in [0, batch):
 *   C_b[M,N] = alpha * op(A_b)[M,K] @ op(B_b)[K,N] + beta * C_b[M,N]
 * with X_b = X + b * strideX (in elements). strideA or strideB may be 0 (the
 * operand is shared by every product); the C_b must not overlap. */
FDL_API int fdl_sgemm_strided_batched(int transa, int transb,
                              int64_t M, int64_t N, int64_t K, float alpha,
                              const float *A, int64_t lda, int64_t strideA,
                              const float *B, int64_t ldb, int64_t strideB,
                              float beta, float *C, int64_t ldc, int64_t strideC,
                              int64_t batch);

/* As fdl_sgemm_strided_batched, with the epilogue of fdl_sgemm_ex
 * (the same bias[N] for every product). */
FDL_API int fdl_sgemm_strided_batched_ex(int transa, int transb,
                                 int64_t M, int64_t N, int64_t K, float alpha,
                                 const float *A, int64_t lda, int64_t strideA,
                                 const float *B, int64_t ldb, int64_t strideB,
                                 float beta, float *C, int64_t ldc, int64_t strideC,
                                 int64_t batch, const float *bias, fdl_act act);

/* Portable reference of fdl_sgemm_ex: plain loops, float64 accumulation,
 * one thread. Slow; it is the oracle for the C tests. */
FDL_API int fdl_sgemm_ref(int transa, int transb, int64_t M, int64_t N, int64_t K,
                  float alpha, const float *A, int64_t lda,
                  const float *B, int64_t ldb,
                  float beta, float *C, int64_t ldc,
                  const float *bias, fdl_act act);

/* float64: C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C[M,N]
 * Same rules, buffers and threading as fdl_sgemm, with its own micro-kernels
 * per ISA. */
FDL_API int fdl_dgemm(int transa, int transb, int64_t M, int64_t N, int64_t K,
              double alpha, const double *A, int64_t lda,
              const double *B, int64_t ldb,
              double beta, double *C, int64_t ldc);

/* float64: C[M,N] = act(alpha * op(A) @ op(B) + beta * C + bias[N]) */
FDL_API int fdl_dgemm_ex(int transa, int transb, int64_t M, int64_t N, int64_t K,
                 double alpha, const double *A, int64_t lda,
                 const double *B, int64_t ldb,
                 double beta, double *C, int64_t ldc,
                 const double *bias, fdl_act act);

/* Name of the sgemm micro-kernel the active ISA uses, e.g.
 * "sgemm_avx512_12x32"; for show_config(). */
FDL_API const char *fdl_sgemm_kernel_name(void);

/* Name of the dgemm micro-kernel the active ISA uses, e.g.
 * "dgemm_avx512_12x16". */
FDL_API const char *fdl_dgemm_kernel_name(void);

/* The GEMM blocking of the active ISA for float (f64 == 0) or double:
 * out[0..4] = MR, NR, MC, KC, NC (elements), out[5..7] = the L1d, L2 and L3
 * sizes in bytes they were derived from (0: unknown, so MC/KC/NC are the
 * compiled defaults). FDL_ERR_NULL when out is NULL. */
FDL_API int fdl_gemm_blocking_info(int f64, int64_t out[8]);

/* Peak probe: runs `iters` rounds of independent fp32 FMAs with the widest
 * vectors of the active ISA on `nthreads` threads (OpenMP; clamped to >= 1)
 * and returns the floating-point operations done (2 per FMA lane). The
 * caller times it; flops / seconds is the machine's fp32 FMA peak. */
FDL_API int64_t fdl_fma_loop(int64_t iters, int nthreads);

#ifdef __cplusplus
}
#endif

#endif
