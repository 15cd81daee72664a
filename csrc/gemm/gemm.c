/*
 * gemm/gemm.c — sgemm and dgemm: argument checks and the public entry points.
 * The driver (blocking, packing calls, macro-kernel, small-M path, threads)
 * is gemm/gemm_impl.h, compiled here once per type; the micro-kernels come
 * from the active ISA's table (runtime/dispatch.c), the block sizes from the
 * CPU's caches (gemm/blocking.c).
 *
 * Legend: C[M,N] = act(alpha * op(A)[M,K] @ op(B)[K,N] + beta * C + bias[N]).
 *
 * Small-M thresholds (FDL_GEMM_SMALLM_*_MAX): see config.h and the measurements
 * in benchmarks/bench_gemm.py.
 */
#include <string.h>

#include "runtime/internal.h"
#include "runtime/template.h"
#include "runtime/dispatch.h"
#include "gemm/gemm_internal.h"
#include "gemm/implicit.h"

/* Operands read in place must stay cache-resident across the tiles that
 * reuse them; above this size a packed copy is faster (set aliasing from
 * large leading dimensions). */
#define GEMM_DIRECT_MAX_BYTES (512 << 10)

const char *fdl_sgemm_kernel_name(void) { return fdl_isa_kernels()->gemm->f32.name; }
const char *fdl_dgemm_kernel_name(void) { return fdl_isa_kernels()->gemm->f64.name; }

/* ---- argument checks -------------------------------------------------- */

static int check_args(int transa, int transb, int64_t M, int64_t N, int64_t K,
                      int alpha_zero, const void *A, int64_t lda, const void *B,
                      int64_t ldb, const void *C, int64_t ldc, int act) {
    if (M < 0 || N < 0 || K < 0) return FDL_ERR_ARG;
    if (act != FDL_ACT_NONE && act != FDL_ACT_RELU) return FDL_ERR_ARG;
    if (M == 0 || N == 0) return FDL_OK;
    if (ldc < N) return FDL_ERR_SHAPE;
    if (lda < FDL_MAX(transa ? M : K, 1) || ldb < FDL_MAX(transb ? K : N, 1))
        return FDL_ERR_SHAPE;
    if (!C) return FDL_ERR_NULL;
    if (K > 0 && !alpha_zero && (!A || !B)) return FDL_ERR_NULL;
    return FDL_OK;
}

static int check_batch(int64_t M, int64_t N, int64_t ldc, int64_t strideA, int64_t strideB,
                       int64_t strideC, int64_t batch) {
    if (batch < 0 || strideA < 0 || strideB < 0 || strideC < 0) return FDL_ERR_ARG;
    if (batch > 1 && M > 0 && N > 0 && strideC < (M - 1) * ldc + N) return FDL_ERR_SHAPE;
    return FDL_OK;
}

/* Factor nth = tm * tn threads over the row tiles and column panels of C so
 * that the busiest thread has the fewest tiles; ties go to more row groups,
 * which keeps each thread's packed A block its own (no duplicated packing). */
static void gemm_split_threads(int nth, int64_t mtiles, int64_t ntiles, int *tm, int *tn) {
    int64_t best = -1;
    *tm = nth;
    *tn = 1;
    for (int r = nth; r >= 1; --r) {
        if (nth % r) continue;
        int64_t load = FDL_CDIV(mtiles, r) * FDL_CDIV(ntiles, nth / r);
        if (best < 0 || load < best) {
            best = load;
            *tm = r;
            *tn = nth / r;
        }
    }
}

#include "runtime/types_begin.h"
#include "gemm/gemm_impl.h"
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#include "gemm/gemm_impl.h"
#include "runtime/types_end.h"

/* ---- public entry points ----------------------------------------------- */

/* C_b[M,N] = act(alpha * op(A_b)[M,K] @ op(B_b)[K,N] + beta * C_b + bias[N]) */
int fdl_sgemm_strided_batched_ex(int transa, int transb,
                                 int64_t M, int64_t N, int64_t K, float alpha,
                                 const float *A, int64_t lda, int64_t strideA,
                                 const float *B, int64_t ldb, int64_t strideB,
                                 float beta, float *C, int64_t ldc, int64_t strideC,
                                 int64_t batch, const float *bias, fdl_act act) {
    int st = check_args(transa, transb, M, N, K, alpha == 0.0f, A, lda, B, ldb, C, ldc, act);
    if (st == FDL_OK) st = check_batch(M, N, ldc, strideA, strideB, strideC, batch);
    if (st != FDL_OK || batch == 0 || M == 0 || N == 0) return st;
    gemm_args_f32 g = {transa != 0, transb != 0, M, N, K, alpha, beta, A, lda,
                       B, ldb, C, ldc, bias, act == FDL_ACT_RELU, NULL, NULL};
    return gemm_batched_f32(&g, strideA, strideB, strideC, batch);
}

/* C_b[M,N] = alpha * op(A_b)[M,K] @ op(B_b)[K,N] + beta * C_b[M,N] */
int fdl_sgemm_strided_batched(int transa, int transb,
                              int64_t M, int64_t N, int64_t K, float alpha,
                              const float *A, int64_t lda, int64_t strideA,
                              const float *B, int64_t ldb, int64_t strideB,
                              float beta, float *C, int64_t ldc, int64_t strideC,
                              int64_t batch) {
    return fdl_sgemm_strided_batched_ex(transa, transb, M, N, K, alpha, A, lda, strideA,
                                        B, ldb, strideB, beta, C, ldc, strideC, batch,
                                        NULL, FDL_ACT_NONE);
}

/* C[M,N] = act(alpha * op(A)[M,K] @ op(B)[K,N] + beta * C[M,N] + bias[N]) */
int fdl_sgemm_ex(int transa, int transb, int64_t M, int64_t N, int64_t K,
                 float alpha, const float *A, int64_t lda,
                 const float *B, int64_t ldb,
                 float beta, float *C, int64_t ldc,
                 const float *bias, fdl_act act) {
    return fdl_sgemm_strided_batched_ex(transa, transb, M, N, K, alpha, A, lda, 0,
                                        B, ldb, 0, beta, C, ldc, 0, 1, bias, act);
}

/* C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C[M,N] */
int fdl_sgemm(int transa, int transb, int64_t M, int64_t N, int64_t K,
              float alpha, const float *A, int64_t lda,
              const float *B, int64_t ldb,
              float beta, float *C, int64_t ldc) {
    return fdl_sgemm_strided_batched_ex(transa, transb, M, N, K, alpha, A, lda, 0,
                                        B, ldb, 0, beta, C, ldc, 0, 1, NULL, FDL_ACT_NONE);
}

/* C[M,N] = act(alpha * op(A)[M,K] @ op(B)[K,N] + beta * C[M,N] + bias[N]) */
int fdl_dgemm_ex(int transa, int transb, int64_t M, int64_t N, int64_t K,
                 double alpha, const double *A, int64_t lda,
                 const double *B, int64_t ldb,
                 double beta, double *C, int64_t ldc,
                 const double *bias, fdl_act act) {
    int st = check_args(transa, transb, M, N, K, alpha == 0.0, A, lda, B, ldb, C, ldc, act);
    if (st != FDL_OK || M == 0 || N == 0) return st;
    gemm_args_f64 g = {transa != 0, transb != 0, M, N, K, alpha, beta, A, lda,
                       B, ldb, C, ldc, bias, act == FDL_ACT_RELU, NULL, NULL};
    return gemm_batched_f64(&g, 0, 0, 0, 1);
}

/* C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C[M,N] */
int fdl_dgemm(int transa, int transb, int64_t M, int64_t N, int64_t K,
              double alpha, const double *A, int64_t lda,
              const double *B, int64_t ldb,
              double beta, double *C, int64_t ldc) {
    return fdl_dgemm_ex(transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                        NULL, FDL_ACT_NONE);
}

/* C[M,N] = act(op(A)[M,K] @ B[K,N] + beta * C) with B packed by packb (gemm/implicit.h) */
int fdl_sgemm_implicit_b(int transa, int64_t M, int64_t N, int64_t K, const float *A,
                         int64_t lda, gemm_packb_f32 packb, const void *ctx, float beta,
                         float *C, int64_t ldc, int relu) {
    return gemm_implicit_f32(transa, M, N, K, A, lda, packb, ctx, beta, C, ldc, relu);
}

int fdl_dgemm_implicit_b(int transa, int64_t M, int64_t N, int64_t K, const double *A,
                         int64_t lda, gemm_packb_f64 packb, const void *ctx, double beta,
                         double *C, int64_t ldc, int relu) {
    return gemm_implicit_f64(transa, M, N, K, A, lda, packb, ctx, beta, C, ldc, relu);
}

/* out = {MR, NR, MC, KC, NC, L1d, L2, L3} of the active ISA's GEMM for float
 * (f64 == 0) or double */
int fdl_gemm_blocking_info(int f64, int64_t out[8]) {
    if (!out) return FDL_ERR_NULL;
    int64_t mr, nr, mc, kc, nc;
    if (f64) {
        const gemm_plan_f64 p = plan_for_active_f64();
        mr = p.k->mr, nr = p.k->nr, mc = p.mc, kc = p.kc, nc = p.nc;
    } else {
        const gemm_plan_f32 p = plan_for_active_f32();
        mr = p.k->mr, nr = p.k->nr, mc = p.mc, kc = p.kc, nc = p.nc;
    }
    out[0] = mr, out[1] = nr, out[2] = mc, out[3] = kc, out[4] = nc;
    fdl_gemm_cache_sizes(&out[5], &out[6], &out[7]);
    return FDL_OK;
}
