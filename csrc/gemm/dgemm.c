/*
 * gemm/dgemm.c — float64 GEMM: portable, cache-blocked, threaded over rows.
 *
 * Legend: C[M,N] = act(alpha * op(A)[M,K] @ op(B)[K,N] + beta * C + bias[N]);
 * KC x NC block of op(B) and MC x KC block of op(A) are copied row-major into
 * thread-local buffers (any transposition is resolved there), so the inner
 * loop is a unit-stride axpy over j that any compiler vectorizes.
 *
 * float64 serves gradient checks and float64 tensors, where correctness and
 * reasonable speed matter, not peak: no ISA kernels here.
 */
#include "runtime/internal.h"
#include "gemm/gemm_internal.h"

#define MC FDL_DGEMM_MC
#define KC FDL_DGEMM_KC
#define NC FDL_DGEMM_NC

/* Scratch from the pool (runtime/pool.c): one KC x NC panel of B, then one
 * MC x KC block of A per thread. */
#define DBUF_B ((size_t)KC * NC)
#define DBUF_A ((size_t)MC * KC)

/* C[mc, nc] += alpha * Ab[mc, kc] @ Bb[kc, nc], row-major blocks */
static void dgemm_block(int64_t mc, int64_t nc, int64_t kc, double alpha,
                        const double *restrict a, const double *restrict b,
                        double *restrict c, int64_t ldc) {
    for (int64_t i = 0; i < mc; ++i) {
        double *restrict cr = c + i * ldc;
        const double *ar = a + i * kc;
        for (int64_t p = 0; p < kc; ++p) {
            const double s = alpha * ar[p];
            const double *restrict br = b + p * nc;
            for (int64_t j = 0; j < nc; ++j) cr[j] += s * br[j];
        }
    }
}

/* C[M,N] = act(alpha * op(A)[M,K] @ op(B)[K,N] + beta * C[M,N] + bias[N]) */
int fdl_dgemm_ex(int transa, int transb, int64_t M, int64_t N, int64_t K,
                 double alpha, const double *A, int64_t lda,
                 const double *B, int64_t ldb,
                 double beta, double *C, int64_t ldc,
                 const double *bias, fdl_act act) {
    if (M < 0 || N < 0 || K < 0) return FDL_ERR_ARG;
    if (act != FDL_ACT_NONE && act != FDL_ACT_RELU) return FDL_ERR_ARG;
    if (M == 0 || N == 0) return FDL_OK;
    if (ldc < N || lda < FDL_MAX(transa ? M : K, 1) || ldb < FDL_MAX(transb ? K : N, 1))
        return FDL_ERR_SHAPE;
    if (!C) return FDL_ERR_NULL;
    const int compute = K > 0 && alpha != 0.0;
    if (compute && (!A || !B)) return FDL_ERR_NULL;

    const int nt = 2.0 * M * N * K < FDL_GEMM_PAR_MIN_FLOPS ? 1 : fdl_get_num_threads();
    double *buf = NULL;
    if (compute) {
        buf = fdl_scratch_get(sizeof(double) * (DBUF_B + DBUF_A * (size_t)nt));
        if (!buf) return FDL_ERR_NOMEM;
    }
    /* beta is applied first so a beta == 0 never reads C. */
    for (int64_t i = 0; i < M; ++i) {
        double *c = C + i * ldc;
        for (int64_t j = 0; j < N; ++j) c[j] = beta != 0.0 ? beta * c[j] : 0.0;
    }
    double *const bb = buf;
    for (int64_t jc = 0; compute && jc < N; jc += NC) {
        const int64_t nc = FDL_MIN(NC, N - jc);
        for (int64_t pc = 0; pc < K; pc += KC) {
            const int64_t kc = FDL_MIN(KC, K - pc);
            for (int64_t p = 0; p < kc; ++p)
                for (int64_t j = 0; j < nc; ++j)
                    bb[p * nc + j] = transb ? B[(jc + j) * ldb + pc + p]
                                            : B[(pc + p) * ldb + jc + j];
            const int64_t nblk = FDL_CDIV(M, MC);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
            for (int64_t ib = 0; ib < nblk; ++ib) {
#ifdef _OPENMP
                double *const ab = buf + DBUF_B + DBUF_A * (size_t)omp_get_thread_num();
#else
                double *const ab = buf + DBUF_B;
#endif
                const int64_t ic = ib * MC, mc = FDL_MIN(MC, M - ic);
                for (int64_t i = 0; i < mc; ++i)
                    for (int64_t p = 0; p < kc; ++p)
                        ab[i * kc + p] = transa ? A[(pc + p) * lda + ic + i]
                                                : A[(ic + i) * lda + pc + p];
                dgemm_block(mc, nc, kc, alpha, ab, bb, C + ic * ldc + jc, ldc);
            }
        }
    }
    fdl_scratch_put(buf);
    if (bias || act == FDL_ACT_RELU) {
        for (int64_t i = 0; i < M; ++i) {
            double *c = C + i * ldc;
            for (int64_t j = 0; j < N; ++j) {
                double v = c[j] + (bias ? bias[j] : 0.0);
                c[j] = act == FDL_ACT_RELU && v < 0.0 ? 0.0 : v;
            }
        }
    }
    return FDL_OK;
}

/* C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C[M,N] */
int fdl_dgemm(int transa, int transb, int64_t M, int64_t N, int64_t K,
              double alpha, const double *A, int64_t lda,
              const double *B, int64_t ldb,
              double beta, double *C, int64_t ldc) {
    return fdl_dgemm_ex(transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                        NULL, FDL_ACT_NONE);
}
