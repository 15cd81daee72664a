/*
 * gemm/gemm_ref.c — portable reference sgemm with the fused epilogue.
 *
 * Legend: C[M,N] = act(alpha * op(A)[M,K] @ op(B)[K,N] + beta * C + bias[N]).
 *
 * Plain loops, float64 accumulation, one thread, no blocking: the oracle the
 * fast paths are checked against, so it stays obviously correct.
 */
#include "runtime/internal.h"

/* C[M,N] = act(alpha * op(A)[M,K] @ op(B)[K,N] + beta * C[M,N] + bias[N]) */
int fdl_sgemm_ref(int transa, int transb, int64_t M, int64_t N, int64_t K,
                  float alpha, const float *A, int64_t lda,
                  const float *B, int64_t ldb,
                  float beta, float *C, int64_t ldc,
                  const float *bias, fdl_act act) {
    if (M < 0 || N < 0 || K < 0) return FDL_ERR_ARG;
    if (M == 0 || N == 0) return FDL_OK;
    if (ldc < N || lda < (transa ? M : K) || ldb < (transb ? K : N))
        return FDL_ERR_SHAPE;
    if (!C || (K > 0 && alpha != 0.0f && (!A || !B))) return FDL_ERR_NULL;
    for (int64_t i = 0; i < M; ++i) {
        for (int64_t j = 0; j < N; ++j) {
            double s = 0.0;
            if (alpha != 0.0f)
                for (int64_t p = 0; p < K; ++p) {
                    double a = transa ? A[p * lda + i] : A[i * lda + p];
                    double b = transb ? B[j * ldb + p] : B[p * ldb + j];
                    s += a * b;
                }
            double v = (double)alpha * s;
            if (beta != 0.0f) v += (double)beta * C[i * ldc + j];
            if (bias) v += bias[j];
            float f = (float)v;
            if (act == FDL_ACT_RELU && f < 0.0f) f = 0.0f;
            C[i * ldc + j] = f;
        }
    }
    return FDL_OK;
}
