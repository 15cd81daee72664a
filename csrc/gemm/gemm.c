/*
 * gemm/gemm.c — sgemm driver: argument checks, dispatch, cache blocking,
 * macro-kernel and threading (BLIS/Goto loop order).
 *
 * Legend: C[M,N] = act(alpha * op(A)[M,K] @ op(B)[K,N] + beta * C + bias[N]);
 * MR/NR/MC/KC/NC as in config.h; jc, pc, ic, jr, ir are the five loops
 * over N (step NC), K (KC), M (MC), the NR panels and the MR tiles.
 *
 * Threads: one OpenMP team per call. Each (jc, pc) step packs the KC x NC
 * panel of B once, cooperatively, into the calling thread's buffer, which the
 * whole team then shares; each thread owns a rectangle of C tiles and packs
 * its own A blocks. K is never split, so every element of C sees the same
 * sequence of operations for any thread count (bitwise-identical results).
 *
 * Small shapes: A (either layout, full MR-row tiles) and op(B) = B (full NR
 * columns) are read in place instead of packed when they are small enough to
 * stay in cache, which is where packing costs most relative to the product;
 * only edge tiles are packed. The choice depends on the shape alone, never on threads.
 */
#include <string.h>

#include "runtime/internal.h"
#include "gemm/gemm_internal.h"

typedef struct {
    fdl_sgemm_ukr_fn ukr;
    fdl_sgemm_ukr_fn ukr_half;   /* for edge panels n <= nr/2, or NULL */
    int a_rep;                   /* copies of each packed A element (1 or 4) */
    int mr, nr;
    int64_t mc, kc, nc;
    const char *name;
} sgemm_cfg;

#define CFG(isa, fn, half, rep, tile)                                       \
    {fn, half, rep, FDL_SGEMM_##isa##_MR, FDL_SGEMM_##isa##_NR, FDL_SGEMM_##isa##_MC,  \
     FDL_SGEMM_##isa##_KC, FDL_SGEMM_##isa##_NC, tile}

/* The dispatch table, indexed by fdl_isa. */
static const sgemm_cfg g_cfg[3] = {
    [FDL_ISA_GENERIC] = CFG(GENERIC, fdl_sgemm_generic_6x8, fdl_sgemm_generic_6x4, 4, "sgemm_generic_6x8"),
#if defined(__x86_64__) || defined(__i386__)
    [FDL_ISA_AVX2] = CFG(AVX2, fdl_sgemm_avx2_6x16, NULL, 1, "sgemm_avx2_6x16"),
    [FDL_ISA_AVX512] = CFG(AVX512, fdl_sgemm_avx512_12x32, fdl_sgemm_avx512_12x16, 1, "sgemm_avx512_12x32"),
#else
    [FDL_ISA_AVX2] = CFG(GENERIC, fdl_sgemm_generic_6x8, fdl_sgemm_generic_6x4, 4, "sgemm_generic_6x8"),
    [FDL_ISA_AVX512] = CFG(GENERIC, fdl_sgemm_generic_6x8, fdl_sgemm_generic_6x4, 4, "sgemm_generic_6x8"),
#endif
};

/* Packing buffers come from the scratch pool (runtime/pool.c), taken for
 * one call and given back at its end. A team shares one B panel; each
 * thread packs its own A block. One scratch unit is one B panel followed by
 * one A block per thread. */
#define BBUF_BYTES ((size_t)FDL_SGEMM_BBUF_FLOATS * sizeof(float))
#define ABUF_BYTES ((size_t)FDL_SGEMM_ABUF_FLOATS * sizeof(float))

/* Operands read in place must stay cache-resident across the tiles that
 * reuse them; above this size a packed copy is faster (set aliasing from
 * large leading dimensions). */
#define DIRECT_MAX_BYTES (512 << 10)

typedef struct {
    int transa, transb;
    int64_t M, N, K;
    float alpha, beta;
    const float *A;
    int64_t lda;
    const float *B;
    int64_t ldb;
    float *C;
    int64_t ldc;
    const float *bias;
    int relu;
} sgemm_args;

const char *fdl_sgemm_kernel_name(void) { return g_cfg[fdl_active_isa()].name; }

/* ---- argument checks -------------------------------------------------- */

static int check_args(int transa, int transb, int64_t M, int64_t N, int64_t K,
                      float alpha, const void *A, int64_t lda, const void *B,
                      int64_t ldb, const void *C, int64_t ldc, int act) {
    if (M < 0 || N < 0 || K < 0) return FDL_ERR_ARG;
    if (act != FDL_ACT_NONE && act != FDL_ACT_RELU) return FDL_ERR_ARG;
    if (M == 0 || N == 0) return FDL_OK;
    if (ldc < N) return FDL_ERR_SHAPE;
    if (lda < FDL_MAX(transa ? M : K, 1) || ldb < FDL_MAX(transb ? K : N, 1))
        return FDL_ERR_SHAPE;
    if (!C) return FDL_ERR_NULL;
    if (K > 0 && alpha != 0.0f && (!A || !B)) return FDL_ERR_NULL;
    return FDL_OK;
}

/* ---- C = act(beta * C + bias): the K == 0 / alpha == 0 case ------------ */

/* C[M,N] = act(beta * C[M,N] + bias[N]) */
static void scale_c(const sgemm_args *g) {
    for (int64_t i = 0; i < g->M; ++i) {
        float *c = g->C + i * g->ldc;
        for (int64_t j = 0; j < g->N; ++j) {
            float v = g->beta != 0.0f ? g->beta * c[j] : 0.0f;
            if (g->bias) v += g->bias[j];
            if (g->relu && v < 0.0f) v = 0.0f;
            c[j] = v;
        }
    }
}

/* ---- blocked product on a team of nt threads --------------------------- */

/* Factor nth = tm * tn threads over the row tiles and column panels of C so
 * that the busiest thread has the fewest tiles; ties go to more row groups,
 * which keeps each thread's packed A block its own (no duplicated packing). */
static void split_threads(int nth, int64_t mtiles, int64_t ntiles, int *tm, int *tn) {
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

/* The work of thread tid of nth on one product; every thread of the team
 * runs the same jc/pc loops, so all meet at the same barriers. */
static void blocked_thread(const sgemm_cfg *cfg, const sgemm_args *g, float *bbuf,
                           float *abufs, int tid, int nth) {
    const int mr = cfg->mr, nr = cfg->nr;
    const int64_t M = g->M, N = g->N, K = g->K;
    const int64_t MC = cfg->mc, KC = cfg->kc, NC = cfg->nc;
    const int rep = cfg->a_rep;
    const int direct_a = rep == 1 && M * FDL_MIN(K, KC) * 4 <= DIRECT_MAX_BYTES;
    const int direct_b = !g->transb && FDL_MIN(K, KC) * FDL_MIN(N, NC) * 4 <= DIRECT_MAX_BYTES;
    const int64_t mtiles = FDL_CDIV(M, mr);
    float *const abuf = abufs + (size_t)tid * FDL_SGEMM_ABUF_FLOATS;
    int tm, tn;
    split_threads(nth, mtiles, FDL_CDIV(FDL_MIN(N, NC), nr), &tm, &tn);
    const int ti = tid % tm, tj = tid / tm;
    const int64_t m_lo = (ti * mtiles / tm) * mr;
    const int64_t m_hi = FDL_MIN(M, ((ti + 1) * mtiles / tm) * mr);

    const int shared = tm > 1;
    for (int64_t jc = 0; jc < N; jc += NC) {
        const int64_t nc = FDL_MIN(NC, N - jc);
        const int64_t ntiles = FDL_CDIV(nc, nr);
        const int64_t jt_lo = tj * ntiles / tn, jt_hi = (tj + 1) * ntiles / tn;
        for (int64_t pc = 0; pc < K; pc += KC) {
            const int64_t kc = FDL_MIN(KC, K - pc);
            const int last = pc + kc >= K;

            /* With columns split only (tm == 1) each thread packs and
             * reads just its own panels: no B data crosses threads and
             * no barrier is needed. Otherwise the team packs contiguous
             * shares of the panel that everyone reads. Panel jt always
             * sits at jt * KC * nr, whatever this block's kc: with a
             * kc-dependent stride a thread already packing the next
             * (shorter) K block would overwrite panels a slower thread is
             * still reading. */
            const int64_t pk_lo = shared ? tid * ntiles / nth : jt_lo;
            const int64_t pk_hi = shared ? (tid + 1) * ntiles / nth : jt_hi;
            for (int64_t jt = pk_lo; jt < pk_hi; ++jt) {
                const int n = (int)FDL_MIN(nr, nc - jt * nr);
                if (direct_b && n == nr) continue;
                const int64_t j = jc + jt * nr;
                const float *b = g->transb ? g->B + j * g->ldb + pc : g->B + pc * g->ldb + j;
                fdl_sgemm_pack_b(g->transb, b, g->ldb, n, kc, nr, bbuf + jt * KC * nr);
            }
#ifdef _OPENMP
            if (shared) {
#pragma omp barrier
            }
#endif
            fdl_sgemm_epi epi = {g->alpha, pc == 0 ? g->beta : 1.0f, NULL,
                                 last ? g->relu : 0};
            for (int64_t ic = m_lo; ic < m_hi; ic += MC) {
                const int64_t mc = FDL_MIN(MC, m_hi - ic);
                const int64_t mt = FDL_CDIV(mc, mr);
                if (jt_lo >= jt_hi) break;
                for (int64_t it = 0; it < mt; ++it) {
                    const int64_t i = ic + it * mr;
                    const int m = (int)FDL_MIN(mr, M - i);
                    if (direct_a && m == mr) continue;
                    const float *a = g->transa ? g->A + pc * g->lda + i : g->A + i * g->lda + pc;
                    if (rep == 1)
                        fdl_sgemm_pack_a(g->transa, a, g->lda, m, kc, mr, abuf + it * kc * mr);
                    else
                        fdl_sgemm_pack_a_rep4(g->transa, a, g->lda, m, kc, mr,
                                              abuf + it * kc * mr * 4);
                }
                for (int64_t jt = jt_lo; jt < jt_hi; ++jt) {
                    const int64_t j = jc + jt * nr;
                    const int n = (int)FDL_MIN(nr, nc - jt * nr);
                    const int db = direct_b && n == nr;
                    const float *b = db ? g->B + pc * g->ldb + j : bbuf + jt * KC * nr;
                    const int64_t rsb = db ? g->ldb : nr;
                    epi.bias = last && g->bias ? g->bias + j : NULL;
                    const fdl_sgemm_ukr_fn ukr =
                        cfg->ukr_half && 2 * n <= nr ? cfg->ukr_half : cfg->ukr;
                    for (int64_t it = 0; it < mt; ++it) {
                        const int64_t i = ic + it * mr;
                        const int m = (int)FDL_MIN(mr, M - i);
                        const float *a = abuf + it * kc * mr * rep;
                        int64_t rsa = mr * rep, csa = rep;
                        if (direct_a && m == mr) {
                            a = g->transa ? g->A + pc * g->lda + i : g->A + i * g->lda + pc;
                            rsa = g->transa ? g->lda : 1;
                            csa = g->transa ? 1 : g->lda;
                        }
                        ukr(kc, a, rsa, csa, b, rsb, g->C + i * g->ldc + j, g->ldc, m, n,
                            &epi);
                    }
                }
            }
#ifdef _OPENMP
            /* bbuf is repacked next step; nobody may still be reading it. */
            if (shared) {
#pragma omp barrier
            }
#endif
        }
#ifdef _OPENMP
        /* Column-split teams need no barrier inside a jc block, but the
         * next block splits its (possibly fewer) panels differently, so a
         * thread's new slots may be another thread's current ones. */
        if (!shared && nth > 1 && jc + NC < N) {
#pragma omp barrier
        }
#endif
    }
}

/* buf: one B panel, then nt A blocks (BBUF_BYTES + nt * ABUF_BYTES). */
static void sgemm_blocked(const sgemm_cfg *cfg, const sgemm_args *g, int nt, float *buf) {
    float *const bbuf = buf;
    float *const abufs = buf + FDL_SGEMM_BBUF_FLOATS;
    if (nt <= 1) {
        blocked_thread(cfg, g, bbuf, abufs, 0, 1);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
    blocked_thread(cfg, g, bbuf, abufs, omp_get_thread_num(), omp_get_num_threads());
#else
    blocked_thread(cfg, g, bbuf, abufs, 0, 1);
#endif
}

static int threads_for(const sgemm_args *g) {
    double flops = 2.0 * (double)g->M * (double)g->N * (double)g->K;
    return flops < (double)FDL_GEMM_PAR_MIN_FLOPS ? 1 : fdl_get_num_threads();
}

static void sgemm_one(const sgemm_cfg *cfg, const sgemm_args *g, int nt, float *buf) {
    if (g->K == 0 || g->alpha == 0.0f) {
        scale_c(g);
        return;
    }
    sgemm_blocked(cfg, g, nt, buf);
}

/* ---- public entry points ----------------------------------------------- */

/* C_b[M,N] = act(alpha * op(A_b)[M,K] @ op(B_b)[K,N] + beta * C_b + bias[N]) */
int fdl_sgemm_strided_batched_ex(int transa, int transb,
                                 int64_t M, int64_t N, int64_t K, float alpha,
                                 const float *A, int64_t lda, int64_t strideA,
                                 const float *B, int64_t ldb, int64_t strideB,
                                 float beta, float *C, int64_t ldc, int64_t strideC,
                                 int64_t batch, const float *bias, fdl_act act) {
    int st = check_args(transa, transb, M, N, K, alpha, A, lda, B, ldb, C, ldc, act);
    if (st != FDL_OK) return st;
    if (batch < 0 || strideA < 0 || strideB < 0 || strideC < 0) return FDL_ERR_ARG;
    if (batch == 0 || M == 0 || N == 0) return FDL_OK;
    if (batch > 1 && strideC < (M - 1) * ldc + N) return FDL_ERR_SHAPE;

    const sgemm_cfg *cfg = &g_cfg[fdl_active_isa()];
    sgemm_args g = {transa != 0, transb != 0, M, N, K, alpha, beta, A, lda,
                    B, ldb, C, ldc, bias, act == FDL_ACT_RELU};
    const int nt = threads_for(&g);
    const int nt_all = fdl_get_num_threads();
    if (nt == 1 && batch > 1 && nt_all > 1 &&
        2.0 * (double)M * (double)N * (double)K * (double)batch >= FDL_GEMM_PAR_MIN_FLOPS) {
        /* Small products: one whole product per thread, each with its own
         * scratch unit. */
        const size_t unit = BBUF_BYTES + ABUF_BYTES;
        char *buf = fdl_scratch_get(unit * (size_t)nt_all);
        if (!buf) return FDL_ERR_NOMEM;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt_all)
#endif
        for (int64_t b = 0; b < batch; ++b) {
            sgemm_args gb = g;
            gb.A = A ? A + b * strideA : NULL;
            gb.B = B ? B + b * strideB : NULL;
            gb.C = C + b * strideC;
#ifdef _OPENMP
            float *mine = (float *)(buf + unit * (size_t)omp_get_thread_num());
#else
            float *mine = (float *)buf;
#endif
            sgemm_one(cfg, &gb, 1, mine);
        }
        fdl_scratch_put(buf);
        return FDL_OK;
    }
    float *buf = NULL;
    if (K > 0 && alpha != 0.0f) {
        buf = fdl_scratch_get(BBUF_BYTES + ABUF_BYTES * (size_t)nt);
        if (!buf) return FDL_ERR_NOMEM;
    }
    for (int64_t b = 0; b < batch; ++b) {
        sgemm_args gb = g;
        gb.A = A ? A + b * strideA : NULL;
        gb.B = B ? B + b * strideB : NULL;
        gb.C = C + b * strideC;
        sgemm_one(cfg, &gb, nt, buf);
    }
    fdl_scratch_put(buf);
    return FDL_OK;
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
