/*
 * gemm/gemm_impl.h — body of the GEMM driver over the element type T (see
 * runtime/template.h): cache blocking, macro-kernel, small-M path and
 * threading (BLIS/Goto loop order). Included once per type by gemm/gemm.c,
 * which holds the public entry points.
 *
 * Legend: C[M,N] = act(alpha * op(A)[M,K] @ op(B)[K,N] + beta * C + bias[N]);
 * MR/NR from the ISA's table, MC/KC/NC from the CPU's caches
 * (gemm/blocking.c); jc, pc, ic, jr, ir are the five loops over N (step NC),
 * K (KC), M (MC), the NR panels and the MR tiles.
 *
 * Threads: one OpenMP team per call. Each (jc, pc) step packs the KC x NC
 * panel of B once, cooperatively, into a buffer the whole team then shares;
 * each thread owns a rectangle of C tiles and packs its own A blocks. K is
 * never split, so every element of C sees the same sequence of operations
 * for any thread count (bitwise-identical results).
 *
 * Small shapes: A (either layout, full MR-row tiles) and op(B) = B (full NR
 * columns) are read in place instead of packed when they are small enough to
 * stay in cache, which is where packing costs most relative to the product;
 * only edge tiles are packed. With M <= FDL_GEMM_SMALLM_*_MAX nothing of B
 * is packed at all (the small-M kernels stream it). Every choice depends on the
 * shape alone, never on threads.
 */

typedef struct {
    int transa, transb;
    int64_t M, N, K;
    T alpha, beta;
    const T *A;
    int64_t lda;
    const T *B;
    int64_t ldb;
    T *C;
    int64_t ldc;
    const T *bias;
    int relu;
    /* implicit B (gemm/implicit.h): packb writes the B panels, B is unused */
    FN(gemm_packb) packb;
    const void *packb_ctx;
} FN(gemm_args);

/* The active ISA's kernels for T and the blocking derived for them. */
typedef struct {
    const FN(gemm_cfg) *k;
    int64_t mc, kc, nc;
} FN(gemm_plan);

#define ABUF_ELEMS ((int64_t)(FDL_GEMM_ABUF_BYTES / sizeof(T)))
#define BBUF_ELEMS ((int64_t)(FDL_GEMM_BBUF_BYTES / sizeof(T)))

static FN(gemm_plan) FN(gemm_plans)[3];
static int FN(gemm_plan_ready)[3];

static FN(gemm_plan) FN(plan_for_active)(void) {
    const int isa = (int)fdl_active_isa();
    if (!__atomic_load_n(&FN(gemm_plan_ready)[isa], __ATOMIC_ACQUIRE)) {
        /* Idempotent: racing first calls compute and store the same values. */
        const FN(gemm_cfg) *k = &fdl_isa_kernels()->gemm->S;
        FN(gemm_plan) pl = {k, k->mc, k->kc, k->nc};
        fdl_gemm_blocking(k->mr, k->nr, k->a_rep, (int)sizeof(T), ABUF_ELEMS, BBUF_ELEMS,
                          &pl.mc, &pl.kc, &pl.nc);
        FN(gemm_plans)[isa] = pl;
        __atomic_store_n(&FN(gemm_plan_ready)[isa], 1, __ATOMIC_RELEASE);
    }
    return FN(gemm_plans)[isa];
}

/* ---- C = act(beta * C + bias): the K == 0 / alpha == 0 case ------------ */

/* C[M,N] = act(beta * C[M,N] + bias[N]) */
static void FN(scale_c)(const FN(gemm_args) *g) {
    for (int64_t i = 0; i < g->M; ++i) {
        T *c = g->C + i * g->ldc;
        for (int64_t j = 0; j < g->N; ++j) {
            T v = g->beta != (T)0 ? g->beta * c[j] : (T)0;
            if (g->bias) v += g->bias[j];
            if (g->relu && v < (T)0) v = (T)0;
            c[j] = v;
        }
    }
}

/* ---- blocked product on a team of nt threads --------------------------- */

/* The work of thread tid of nth on one product; every thread of the team
 * runs the same jc/pc loops, so all meet at the same barriers. */
static void FN(blocked_thread)(const FN(gemm_plan) *pl, const FN(gemm_args) *g, T *bbuf,
                               T *abufs, int tid, int nth) {
    const FN(gemm_cfg) *cfg = pl->k;
    const int mr = cfg->mr, nr = cfg->nr;
    const int64_t M = g->M, N = g->N, K = g->K;
    const int64_t MC = pl->mc, KC = pl->kc, NC = pl->nc;
    const int rep = cfg->a_rep;
    const int64_t esz = (int64_t)sizeof(T);
    const int direct_a = rep == 1 && M * FDL_MIN(K, KC) * esz <= GEMM_DIRECT_MAX_BYTES;
    const int direct_b = !g->packb && !g->transb &&
        FDL_MIN(K, KC) * FDL_MIN(N, NC) * esz <= GEMM_DIRECT_MAX_BYTES;
    const int64_t mtiles = FDL_CDIV(M, mr);
    /* a panel read in place: full width, or exactly the half kernel's width
     * (N = 16 products, e.g. Winograd on 16 channels: its B was packed whole) */
    const int half_nr = cfg->ukr_half ? nr / 2 : -1;
    T *const abuf = abufs + (size_t)tid * ABUF_ELEMS;
    int tm, tn;
    gemm_split_threads(nth, mtiles, FDL_CDIV(FDL_MIN(N, NC), nr), &tm, &tn);
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
                if (direct_b && (n == nr || n == half_nr)) continue;
                const int64_t j = jc + jt * nr;
                if (g->packb) {
                    g->packb(g->packb_ctx, pc, kc, j, n, nr, bbuf + jt * KC * nr);
                    continue;
                }
                const T *b = g->transb ? g->B + j * g->ldb + pc : g->B + pc * g->ldb + j;
                FN(fdl_gemm_pack_b)(g->transb, b, g->ldb, n, kc, nr, bbuf + jt * KC * nr);
            }
#ifdef _OPENMP
            if (shared) {
#pragma omp barrier
            }
#endif
            FN(gemm_epi) epi = {g->alpha, pc == 0 ? g->beta : (T)1, NULL, last ? g->relu : 0};
            for (int64_t ic = m_lo; ic < m_hi; ic += MC) {
                const int64_t mc = FDL_MIN(MC, m_hi - ic);
                const int64_t mt = FDL_CDIV(mc, mr);
                if (jt_lo >= jt_hi) break;
                for (int64_t it = 0; it < mt; ++it) {
                    const int64_t i = ic + it * mr;
                    const int m = (int)FDL_MIN(mr, M - i);
                    if (direct_a && m == mr) continue;
                    const T *a = g->transa ? g->A + pc * g->lda + i : g->A + i * g->lda + pc;
                    FN(fdl_gemm_pack_a)(g->transa, a, g->lda, m, kc, mr, rep,
                                        abuf + it * kc * mr * rep);
                }
                for (int64_t jt = jt_lo; jt < jt_hi; ++jt) {
                    const int64_t j = jc + jt * nr;
                    const int n = (int)FDL_MIN(nr, nc - jt * nr);
                    const int db = direct_b && (n == nr || n == half_nr);
                    const T *b = db ? g->B + pc * g->ldb + j : bbuf + jt * KC * nr;
                    const int64_t rsb = db ? g->ldb : nr;
                    epi.bias = last && g->bias ? g->bias + j : NULL;
                    const FN(gemm_ukr) ukr =
                        cfg->ukr_half && 2 * n <= nr ? cfg->ukr_half : cfg->ukr;
                    for (int64_t it = 0; it < mt; ++it) {
                        const int64_t i = ic + it * mr;
                        const int m = (int)FDL_MIN(mr, M - i);
                        const T *a = abuf + it * kc * mr * rep;
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

/* buf: one B panel, then nt A blocks (BBUF + nt * ABUF bytes). */
static void FN(gemm_blocked)(const FN(gemm_plan) *pl, const FN(gemm_args) *g, int nt, T *buf) {
    T *const bbuf = buf;
    T *const abufs = buf + BBUF_ELEMS;
    if (nt <= 1) {
        FN(blocked_thread)(pl, g, bbuf, abufs, 0, 1);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
    FN(blocked_thread)(pl, g, bbuf, abufs, omp_get_thread_num(), omp_get_num_threads());
#else
    FN(blocked_thread)(pl, g, bbuf, abufs, 0, 1);
#endif
}

/* ---- small M: stream B, pack nothing of it ------------------------------ */

/* C[:, j0:j1] of the small-M product */
static void FN(smallm_range)(const FN(gemm_cfg) *cfg, const FN(gemm_args) *g, const T *x,
                             int64_t ldx, int64_t j0, int64_t j1) {
    if (j1 <= j0) return;
    FN(gemm_epi) epi = {g->alpha, g->beta, g->bias ? g->bias + j0 : NULL, g->relu};
    if (g->transb)
        cfg->dot(g->M, j1 - j0, g->K, x, ldx, g->B + j0 * g->ldb, g->ldb, g->C + j0, g->ldc,
                 &epi);
    else
        cfg->axpy(g->M, j1 - j0, g->K, x, ldx, g->B + j0, g->ldb, g->C + j0, g->ldc, &epi);
}

/* C[M, N] for a small M, with X = op(A) row-major (copied into xbuf when
 * transa); threads split N into ranges of whole vector chunks. */
static void FN(smallm_product)(const FN(gemm_plan) *pl, const FN(gemm_args) *g, int nt, T *xbuf) {
    const FN(gemm_cfg) *cfg = pl->k;
    const T *x = g->A;
    int64_t ldx = g->lda;
    if (g->transa) {
        for (int64_t i = 0; i < g->M; ++i)
            for (int64_t p = 0; p < g->K; ++p) xbuf[i * g->K + p] = g->A[p * g->lda + i];
        x = xbuf;
        ldx = g->K;
    }
    /* dot works on 4 rows of W, axpy on 4 vectors of columns */
    const int64_t step = g->transb ? 4 : 4 * cfg->smallm_vec;
    const int64_t chunks = FDL_CDIV(g->N, step);
    if (nt > chunks) nt = (int)chunks;
    if (nt <= 1) {
        FN(smallm_range)(cfg, g, x, ldx, 0, g->N);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
    {
        const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
        FN(smallm_range)(cfg, g, x, ldx, FDL_MIN(g->N, tid * chunks / nth * step),
                         FDL_MIN(g->N, (tid + 1) * chunks / nth * step));
    }
#else
    FN(smallm_range)(cfg, g, x, ldx, 0, g->N);
#endif
}

static int FN(threads_for)(const FN(gemm_args) *g) {
    double flops = 2.0 * (double)g->M * (double)g->N * (double)g->K;
    return flops < (double)FDL_GEMM_PAR_MIN_FLOPS ? 1 : fdl_get_num_threads();
}

/* The small-M path applies (see config.h); the axpy form only for N of at
 * least one vector (narrower ones are all tail, where packing won). */
static int FN(use_smallm)(const FN(gemm_plan) *pl, const FN(gemm_args) *g) {
    if (g->packb) return 0;     /* B exists only as packed panels */
    if (g->transb) return g->M <= FDL_GEMM_SMALLM_DOT_MAX;
    return g->M <= FDL_GEMM_SMALLM_AXPY_MAX && g->N >= pl->k->smallm_vec;
}

/* Scratch bytes one product needs on nt threads. */
static size_t FN(scratch_bytes)(const FN(gemm_plan) *pl, const FN(gemm_args) *g, int nt) {
    if (g->K == 0 || g->alpha == (T)0) return 0;
    if (FN(use_smallm)(pl, g))
        return g->transa ? (size_t)(g->M * g->K) * sizeof(T) : 0;
    return (size_t)FDL_GEMM_BBUF_BYTES + (size_t)FDL_GEMM_ABUF_BYTES * (size_t)nt;
}

static void FN(gemm_one)(const FN(gemm_plan) *pl, const FN(gemm_args) *g, int nt, T *buf) {
    if (g->K == 0 || g->alpha == (T)0)
        FN(scale_c)(g);
    else if (FN(use_smallm)(pl, g))
        FN(smallm_product)(pl, g, nt, buf);
    else
        FN(gemm_blocked)(pl, g, nt, buf);
}

/* C_b[M,N] = act(alpha * op(A_b)[M,K] @ op(B_b)[K,N] + beta * C_b + bias[N]),
 * arguments already checked */
static int FN(gemm_batched)(const FN(gemm_args) *g0, int64_t strideA, int64_t strideB,
                            int64_t strideC, int64_t batch) {
    const FN(gemm_plan) pl = FN(plan_for_active)();
    const int nt = FN(threads_for)(g0);
    const int nt_all = fdl_get_num_threads();
    const double flops = 2.0 * (double)g0->M * (double)g0->N * (double)g0->K;
    if (nt == 1 && batch > 1 && nt_all > 1 &&
        flops * (double)batch >= FDL_GEMM_PAR_MIN_FLOPS) {
        /* Small products: one whole product per thread, each with its own
         * scratch unit. */
        const size_t unit = FN(scratch_bytes)(&pl, g0, 1);
        char *buf = unit ? fdl_scratch_get(unit * (size_t)nt_all) : NULL;
        if (unit && !buf) return FDL_ERR_NOMEM;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt_all)
#endif
        for (int64_t b = 0; b < batch; ++b) {
            FN(gemm_args) gb = *g0;
            gb.A = g0->A ? g0->A + b * strideA : NULL;
            gb.B = g0->B ? g0->B + b * strideB : NULL;
            gb.C = g0->C + b * strideC;
#ifdef _OPENMP
            T *mine = buf ? (T *)(buf + unit * (size_t)omp_get_thread_num()) : NULL;
#else
            T *mine = (T *)buf;
#endif
            FN(gemm_one)(&pl, &gb, 1, mine);
        }
        fdl_scratch_put(buf);
        return FDL_OK;
    }
    const size_t bytes = FN(scratch_bytes)(&pl, g0, nt);
    T *buf = NULL;
    if (bytes) {
        buf = fdl_scratch_get(bytes);
        if (!buf) return FDL_ERR_NOMEM;
    }
    for (int64_t b = 0; b < batch; ++b) {
        FN(gemm_args) gb = *g0;
        gb.A = g0->A ? g0->A + b * strideA : NULL;
        gb.B = g0->B ? g0->B + b * strideB : NULL;
        gb.C = g0->C + b * strideC;
        FN(gemm_one)(&pl, &gb, nt, buf);
    }
    fdl_scratch_put(buf);
    return FDL_OK;
}

/* C[M,N] = act(op(A) @ B + beta * C) with B packed by packb (gemm/implicit.h) */
static int FN(gemm_implicit)(int transa, int64_t M, int64_t N, int64_t K, const T *A,
                             int64_t lda, FN(gemm_packb) packb, const void *ctx, T beta, T *C,
                             int64_t ldc, int relu) {
    if (M <= 0 || N <= 0) return FDL_OK;
    FN(gemm_args) g = {transa != 0, 0, M, N, K, (T)1, beta, A, lda, NULL, N, C, ldc, NULL,
                       relu != 0, packb, ctx};
    const FN(gemm_plan) pl = FN(plan_for_active)();
    const int nt = FN(threads_for)(&g);
    const size_t bytes = FN(scratch_bytes)(&pl, &g, nt);
    T *buf = NULL;
    if (bytes) {
        buf = fdl_scratch_get(bytes);
        if (!buf) return FDL_ERR_NOMEM;
    }
    FN(gemm_one)(&pl, &g, nt, buf);
    fdl_scratch_put(buf);
    return FDL_OK;
}

#undef ABUF_ELEMS
#undef BBUF_ELEMS
