/*
 * fastdl/gemm.h — single-precision matrix products (BLAS sgemm semantics,
 * row-major).
 *
 *   C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C
 *   op(X) = X when trans == 0, X^T when trans != 0.
 *   A is M x K (lda >= K) when transa == 0, K x M (lda >= M) otherwise;
 *   B is K x N (ldb >= N) when transb == 0, N x K (ldb >= K) otherwise.
 *   beta == 0 means C is write-only: NaN/Inf already in C do not propagate.
 */
#ifndef FASTDL_GEMM_H
#define FASTDL_GEMM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int fdl_sgemm(int transa, int transb, int64_t M, int64_t N, int64_t K,
              float alpha, const float *A, int64_t lda,
              const float *B, int64_t ldb,
              float beta, float *C, int64_t ldc);

#ifdef __cplusplus
}
#endif

#endif
