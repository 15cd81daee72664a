/* norm_impl.h — batch_norm and layer_norm over T, compiled once per ISA
 * (norm_isa.h); see norm.c for the legend.
 *
 * Sums run in NORM_LANES double lanes (set by norm_isa.h per ISA: enough
 * independent vector accumulators to hide the add latency), combined in a
 * fixed order, so a result depends on the shape and the ISA, never on the
 * thread count.
 *
 * batch_norm's work items are (channel, block) pairs: a channel's M = N * S
 * values are split into norm_blocks(C, M) blocks of consecutive (n, s)
 * positions, a number chosen from the shape only. With many channels each
 * channel is one block and one thread runs both passes of it; with few
 * channels and many values the blocks give every thread work: block partial
 * sums are stored, then every item of a channel adds its channel's partials
 * in block order (the same order for any thread count). */

#define NL NORM_LANES

/* NV = NL / 4 doubles per vector, four vectors per sum. Loads: T[NV] as a
 * double vector (float widened exactly); x - mu formed in T first, as the
 * scalar tails do; g masked with a bitwise and by the forward's output > 0,
 * recomputed as the forward computes it: (x - mu) * a + b, with a = rstd *
 * weight and b = bias (the same expression in the same file under the same
 * flags, so the same sign bit for bit). */
#define NV (NL / 4)
static inline norm_vd FN(norm_ld)(const T *p) {
#ifdef NN_F64
    norm_vd v;
    memcpy(&v, p, sizeof v);
    return v;
#else
    norm_vfh v;
    memcpy(&v, p, sizeof v);
    return norm_widen(v);
#endif
}

static inline norm_vd FN(norm_ld_sub)(const T *p, T mu) {
#ifdef NN_F64
    norm_vd v;
    memcpy(&v, p, sizeof v);
    return v - mu;
#else
    norm_vfh v;
    memcpy(&v, p, sizeof v);
    return norm_widen(v - mu);
#endif
}

static inline norm_vd FN(norm_ld_mask)(const T *g, const T *x, T mu, T am, T bm) {
#ifdef NN_F64
    norm_vd v, w;
    memcpy(&v, g, sizeof v);
    memcpy(&w, x, sizeof w);
    w = (w - mu) * am + bm;
    return (norm_vd)((norm_vil)v & (w > 0));
#else
    norm_vfh v, w;
    memcpy(&v, g, sizeof v);
    memcpy(&w, x, sizeof w);
    w = (w - mu) * am + bm;
    return norm_widen((norm_vfh)((norm_vih)v & (w > 0)));
#endif
}

/* Software prefetch of the NL values pf values after p: the same offset in the
 * channel's next segment. A channel's segments lie C * S values apart; a segment of
 * a 32x32 map is one 4 KiB page, where the hardware prefetchers stop, so without it
 * each segment starts on cache misses (batch_norm over 128x16x32x32 floats out of
 * cache, 1 thread: forward 1.02 -> 0.78 ms, backward 1.39 -> 1.09 ms). A prefetch
 * never faults, so the address may lie past the array (formed as an integer, not a
 * pointer out of bounds). */
static inline void FN(norm_prefetch)(const T *p, int64_t pf) {
    uintptr_t a = (uintptr_t)p + (uintptr_t)(pf * (int64_t)sizeof(T));
    for (size_t o = 0; o < NL * sizeof(T); o += 64) __builtin_prefetch((const void *)(a + o));
}

/* sum and sum of squares of (x[k] - shift) over one segment, added into the
 * vector accumulators s / q (four each: lane l of the NL lanes gets the k with
 * k % NL == l) and, for the last n % NL values, the scalar lanes t1 / t2. The
 * accumulators live in the caller across segments (registers, once inlined). */
static inline void FN(seg_stats)(norm_vd *s, norm_vd *q, double *t1, double *t2, const T *x,
                                 int64_t n, double shift, int64_t pf) {
    int64_t k = 0;
    for (; k + NL <= n; k += NL) {
        FN(norm_prefetch)(x + k, pf);
        for (int v = 0; v < 4; v++) {
            norm_vd d = FN(norm_ld)(x + k + v * NV) - shift;
            s[v] += d;
            q[v] += d * d;
        }
    }
    for (; k < n; k++) {
        double d = (double)x[k] - shift;
        t1[k & (NL - 1)] += d;
        t2[k & (NL - 1)] += d * d;
    }
}

/* sum of (x[k] - shift) (sq: its square) over one segment, added into acc */
static inline void FN(seg_sum)(double *acc, const T *x, int64_t n, double shift, int sq) {
    int64_t k = 0;
    if (sq) {
        for (; k + NL <= n; k += NL)
            for (int l = 0; l < NL; l++) { double d = (double)x[k + l] - shift; acc[l] += d * d; }
        for (; k < n; k++) { double d = (double)x[k] - shift; acc[k & (NL - 1)] += d * d; }
    } else {
        for (; k + NL <= n; k += NL)
            for (int l = 0; l < NL; l++) acc[l] += (double)x[k + l] - shift;
        for (; k < n; k++) acc[k & (NL - 1)] += (double)x[k] - shift;
    }
}

/* sum of g[k] and of g[k] * (x[k] - mu) over one segment (relu: only where
 * (x[k] - mu) * am + bm > 0), accumulated as in seg_stats */
static inline void FN(seg_gsum)(norm_vd *s, norm_vd *q, double *t1, double *t2, const T *g,
                                const T *x, int relu, int64_t n, T mu, T am, T bm, int64_t pf) {
    int64_t k = 0;
    if (relu) {
        for (; k + NL <= n; k += NL) {
            FN(norm_prefetch)(g + k, pf);
            FN(norm_prefetch)(x + k, pf);
            for (int v = 0; v < 4; v++) {
                norm_vd gv = FN(norm_ld_mask)(g + k + v * NV, x + k + v * NV, mu, am, bm);
                s[v] += gv;
                q[v] += gv * FN(norm_ld_sub)(x + k + v * NV, mu);
            }
        }
    } else {
        for (; k + NL <= n; k += NL) {
            FN(norm_prefetch)(g + k, pf);
            FN(norm_prefetch)(x + k, pf);
            for (int v = 0; v < 4; v++) {
                norm_vd gv = FN(norm_ld)(g + k + v * NV);
                s[v] += gv;
                q[v] += gv * FN(norm_ld_sub)(x + k + v * NV, mu);
            }
        }
    }
    for (; k < n; k++) {
        T gm = (!relu || (x[k] - mu) * am + bm > 0) ? g[k] : (T)0;
        t1[k & (NL - 1)] += (double)gm;
        t2[k & (NL - 1)] += (double)gm * (double)(x[k] - mu);
    }
}

/* out = (x - mu) * a + b over one segment, then max(., 0) when relu (NaN stays NaN) */
static inline void FN(seg_affine)(T *out, const T *x, int64_t n, T mu, T a, T b, int relu) {
    if (relu) {
        for (int64_t k = 0; k < n; k++) {
            T v = (x[k] - mu) * a + b;
            out[k] = v < 0 ? (T)0 : v;
        }
    } else {
        for (int64_t k = 0; k < n; k++) out[k] = (x[k] - mu) * a + b;
    }
}

/* dx = a * (g' - mg - (x - mu) * rs * mgx) over one segment, g' = g, or with relu
 * g where (x - mu) * am + bm > 0 */
static inline void FN(seg_dx)(T *dx, const T *g, const T *x, int relu, int64_t n, T mu, T a,
                              T rsmgx, T mg, T am, T bm) {
    if (relu) {
        for (int64_t k = 0; k < n; k++) {
            T gm = (x[k] - mu) * am + bm > 0 ? g[k] : (T)0;
            dx[k] = a * (gm - mg - (x[k] - mu) * rsmgx);
        }
    } else {
        for (int64_t k = 0; k < n; k++) dx[k] = a * (g[k] - mg - (x[k] - mu) * rsmgx);
    }
}

static inline double FN(lanes_total)(double *acc) {
    for (int w = NL / 2; w >= 4; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    return (acc[0] + acc[2]) + (acc[1] + acc[3]);
}

/* the total of vector accumulators v[4] and scalar lanes t[NL], in a fixed order */
static inline double FN(acc_total)(const norm_vd *v, double *t) {
    double a[NL];
    memcpy(a, v, sizeof a);
    for (int l = 0; l < NL; l++) a[l] += t[l];
    return FN(lanes_total)(a);
}

/* The segments of channel c's flat positions [m0, m1) (m = n * S + s): runs
 * BODY with p = the offset of the segment's first element and len its length. */
#ifndef NORM_SEGMENTS
#define NORM_SEGMENTS(m0, m1, BODY)                                              \
    {                                                                           \
        int64_t m_ = (m0), e_ = (m1), n_ = m_ / S, s_ = m_ - n_ * S;            \
        while (m_ < e_) {                                                       \
            int64_t len = S - s_ < e_ - m_ ? S - s_ : e_ - m_;                  \
            int64_t p = (n_ * C + c) * S + s_;                                  \
            BODY;                                                               \
            m_ += len;                                                          \
            n_++;                                                               \
            s_ = 0;                                                             \
        }                                                                       \
    }
/* The same segments, last first: the elementwise second passes run backward, so
 * they start on the values the first pass left in cache. */
#define NORM_SEGMENTS_REV(m0, m1, BODY)                                          \
    {                                                                           \
        int64_t b_ = (m0), e_ = (m1), n_ = (e_ - 1) / S;                        \
        while (e_ > b_) {                                                       \
            int64_t st_ = n_ * S > b_ ? n_ * S : b_, len = e_ - st_;            \
            int64_t p = (n_ * C + c) * S + (st_ - n_ * S);                      \
            BODY;                                                               \
            e_ = st_;                                                           \
            n_--;                                                               \
        }                                                                       \
    }
#endif

/* batch_norm forward, block b of channel c: its sums of x - x0 and (x - x0)^2 */
static inline void FN(bn_fwd_sums)(double *part, const T *x, int64_t N, int64_t C, int64_t S,
                                   int64_t nb, int64_t c, int64_t b) {
    int64_t M = N * S;
    norm_vd vs[4] = {0}, vq[4] = {0};
    double t1[NL] = {0}, t2[NL] = {0};
    double shift = (double)x[c * S];
    NORM_SEGMENTS(M * b / nb, M * (b + 1) / nb,
                  FN(seg_stats)(vs, vq, t1, t2, x + p, len, shift, C * S))
    part[0] = FN(acc_total)(vs, t1);
    part[1] = FN(acc_total)(vq, t2);
}

/* batch_norm forward, block b of channel c: the statistics from the channel's nb
 * partial sums cpart (added in block order), then the output */
static inline void FN(bn_fwd_apply)(T *out, T *mean, T *rstd, T *running_mean, T *running_var,
                                    const T *x, const T *weight, const T *bias, int64_t N,
                                    int64_t C, int64_t S, int training, T momentum, T eps,
                                    int relu, const double *cpart, int64_t nb, int64_t c,
                                    int64_t b) {
    int64_t M = N * S;
    T mu, rs;
    if (training) {
        double s1 = 0, s2 = 0;
        for (int64_t j = 0; j < nb; j++) {
            s1 += cpart[2 * j];
            s2 += cpart[2 * j + 1];
        }
        double d = s1 / (double)M, m = (double)x[c * S] + d;
        double q = s2 - s1 * d;
        if (q < 0) q = 0;
        double var = q / (double)M;
        mu = (T)m;
        rs = (T)(1.0 / sqrt(var + (double)eps));
        if (b == 0) {
            if (running_mean)
                running_mean[c] = (T)((1.0 - momentum) * running_mean[c] + momentum * m);
            if (running_var)
                running_var[c] = (T)((1.0 - momentum) * running_var[c]
                                     + momentum * (M > 1 ? q / (double)(M - 1) : var));
        }
    } else {
        mu = running_mean[c];
        rs = (T)(1.0 / sqrt((double)running_var[c] + (double)eps));
    }
    if (b == 0) {
        mean[c] = mu;
        rstd[c] = rs;
    }
    T a = rs * (weight ? weight[c] : (T)1), bb = bias ? bias[c] : (T)0;
    NORM_SEGMENTS_REV(M * b / nb, M * (b + 1) / nb,
                      FN(seg_affine)(out + p, x + p, len, mu, a, bb, relu))
}

/* x[N, C, S] -> out (relu(out) when relu); mean[C], rstd[C] saved. training:
 * batch statistics, and running_mean/var (either may be NULL) updated in
 * place with momentum, the variance unbiased; eval: the running statistics.
 * weight/bias may be NULL. The statistics take one pass: sums of x - x0 and
 * (x - x0)^2 in double, x0 the channel's first value, which bounds the
 * cancellation in sum2 - sum1^2 / M by (x0 - mean)^2 <= M var (relative error
 * about M * 1e-16). One block per channel: a thread runs both passes of a
 * channel back to back (its slice is still in cache for the second); several:
 * all blocks' sums, a barrier, then the outputs. Returns FDL_ERR_NOMEM when
 * the partial sums cannot be allocated. */
static int FN(nn_batch_norm_forward)(T *out, T *mean, T *rstd, T *running_mean, T *running_var,
                                     const T *x, const T *weight, const T *bias, int64_t N,
                                     int64_t C, int64_t S, int training, T momentum, T eps,
                                     int relu) {
    int64_t M = N * S;
    if (M == 0 || C == 0) return FDL_OK;
    int64_t nb = norm_blocks(C, M), items = C * nb;
    int nt_ = fdl_threads_for(M * C * 2);
    if (nt_ > items) nt_ = (int)items;
    if (nb == 1) {
        NN_OMP_FOR
        for (int64_t c = 0; c < C; c++) {
            double pc[2] = {0, 0};
            if (training) FN(bn_fwd_sums)(pc, x, N, C, S, 1, c, 0);
            FN(bn_fwd_apply)(out, mean, rstd, running_mean, running_var, x, weight, bias, N, C,
                             S, training, momentum, eps, relu, pc, 1, c, 0);
        }
        return FDL_OK;
    }
    double *part = (double *)fdl_scratch_get((size_t)items * 2 * sizeof(double));
    if (!part) return FDL_ERR_NOMEM;
    (void)nt_;
#pragma omp parallel num_threads(nt_) if (nt_ > 1)
    {
        if (training) {
#pragma omp for schedule(static)
            for (int64_t it = 0; it < items; it++)
                FN(bn_fwd_sums)(part + 2 * it, x, N, C, S, nb, it / nb, it % nb);
        }
#pragma omp for schedule(static)
        for (int64_t it = 0; it < items; it++) {
            int64_t c = it / nb;
            FN(bn_fwd_apply)(out, mean, rstd, running_mean, running_var, x, weight, bias, N, C,
                             S, training, momentum, eps, relu, part + 2 * c * nb, nb, c,
                             it % nb);
        }
    }
    fdl_scratch_put(part);
    return FDL_OK;
}

/* batch_norm backward, block b of channel c: sums of g' and g' (x - mu) */
static inline void FN(bn_bwd_sums)(double *part, const T *mean, const T *rstd, const T *x,
                                   const T *weight, const T *bias, const T *dout, int relu,
                                   int64_t N, int64_t C, int64_t S, int64_t nb, int64_t c,
                                   int64_t b) {
    int64_t M = N * S;
    norm_vd vs[4] = {0}, vq[4] = {0};
    double t1[NL] = {0}, t2[NL] = {0};
    T mu = mean[c];
    T am = rstd[c] * (weight ? weight[c] : (T)1), bm = bias ? bias[c] : (T)0;
    NORM_SEGMENTS(M * b / nb, M * (b + 1) / nb,
                  FN(seg_gsum)(vs, vq, t1, t2, dout + p, x + p, relu, len, mu, am, bm,
                                C * S))
    part[0] = FN(acc_total)(vs, t1);
    part[1] = FN(acc_total)(vq, t2);
}

/* batch_norm backward, block b of channel c: dweight/dbias (block 0) and dx from the
 * channel's nb partial sums cpart, added in block order */
static inline void FN(bn_bwd_apply)(T *dx, T *dweight, T *dbias, const T *mean, const T *rstd,
                                    const T *x, const T *weight, const T *bias, const T *dout,
                                    int relu, int64_t N, int64_t C, int64_t S, int training,
                                    const double *cpart, int64_t nb, int64_t c, int64_t b) {
    int64_t M = N * S;
    double sg = 0, sgx = 0;
    for (int64_t j = 0; j < nb; j++) {
        sg += cpart[2 * j];
        sgx += cpart[2 * j + 1];
    }
    T mu = mean[c], rs = rstd[c];
    sgx *= (double)rs;
    if (b == 0) {
        if (dweight) dweight[c] += (T)sgx;
        if (dbias) dbias[c] += (T)sg;
    }
    if (!dx) return;
    T a = rs * (weight ? weight[c] : (T)1), bm = bias ? bias[c] : (T)0;
    T mg = training ? (T)(sg / (double)M) : (T)0;
    T rsmgx = training ? rs * (T)(sgx / (double)M) : (T)0;
    NORM_SEGMENTS_REV(M * b / nb, M * (b + 1) / nb,
                      FN(seg_dx)(dx + p, dout + p, x + p, relu, len, mu, a, rsmgx, mg, a, bm))
}

/* dx[N, C, S] = ... (written: the input gradient is fresh, so no zeroing pass and
 * no read of dx), dweight[C] += sum dout xhat, dbias[C] += sum dout; any of dx,
 * dweight, dbias may be NULL. relu: the forward was relu(bn(x)) (bias is its
 * bias, may be NULL), and dout counts only where bn(x) > 0, recomputed from x.
 * Work split as in the forward. */
static int FN(nn_batch_norm_backward)(T *dx, T *dweight, T *dbias, const T *mean, const T *rstd,
                                      const T *x, const T *weight, const T *bias,
                                      const T *dout, int64_t N, int64_t C, int64_t S,
                                      int training, int relu) {
    int64_t M = N * S;
    if (M == 0 || C == 0) return FDL_OK;
    int64_t nb = norm_blocks(C, M), items = C * nb;
    int nt_ = fdl_threads_for(M * C * (dx ? 4 : 2));
    if (nt_ > items) nt_ = (int)items;
    if (nb == 1) {
        NN_OMP_FOR
        for (int64_t c = 0; c < C; c++) {
            double pc[2];
            FN(bn_bwd_sums)(pc, mean, rstd, x, weight, bias, dout, relu, N, C, S, 1, c, 0);
            FN(bn_bwd_apply)(dx, dweight, dbias, mean, rstd, x, weight, bias, dout, relu, N, C,
                             S, training, pc, 1, c, 0);
        }
        return FDL_OK;
    }
    double *part = (double *)fdl_scratch_get((size_t)items * 2 * sizeof(double));
    if (!part) return FDL_ERR_NOMEM;
    (void)nt_;
#pragma omp parallel num_threads(nt_) if (nt_ > 1)
    {
#pragma omp for schedule(static)
        for (int64_t it = 0; it < items; it++)
            FN(bn_bwd_sums)(part + 2 * it, mean, rstd, x, weight, bias, dout, relu, N, C, S, nb,
                            it / nb, it % nb);
#pragma omp for schedule(static)
        for (int64_t it = 0; it < items; it++) {
            int64_t c = it / nb;
            FN(bn_bwd_apply)(dx, dweight, dbias, mean, rstd, x, weight, bias, dout, relu, N, C,
                             S, training, part + 2 * c * nb, nb, c, it % nb);
        }
    }
    fdl_scratch_put(part);
    return FDL_OK;
}

/* x[R, D] -> out, normalized over D; mean[R], rstd[R] saved */
static void FN(nn_layer_norm_forward)(T *out, T *mean, T *rstd, const T *x, const T *weight,
                                const T *bias, int64_t R, int64_t D, T eps) {
    int nt_ = fdl_threads_for(R * D * 3);
    NN_OMP_FOR
    for (int64_t r = 0; r < R; r++) {
        const T *xr = x + r * D;
        T *orow = out + r * D;
        double acc[NL] = {0}, accq[NL] = {0};
        FN(seg_sum)(acc, xr, D, 0, 0);
        double m = FN(lanes_total)(acc) / (double)D;
        FN(seg_sum)(accq, xr, D, m, 1);
        double q = FN(lanes_total)(accq);
        T mu = (T)m, rs = (T)(1.0 / sqrt(q / (double)D + (double)eps));
        mean[r] = mu;
        rstd[r] = rs;
        for (int64_t j = 0; j < D; j++) {
            T v = (xr[j] - mu) * rs;
            orow[j] = v * (weight ? weight[j] : (T)1) + (bias ? bias[j] : (T)0);
        }
    }
}
/* Two loop nests writing disjoint memory: rows for dx, column blocks for
 * dweight/dbias (each column summed over rows in order by one thread). */
static void FN(nn_layer_norm_backward)(T *dx, T *dweight, T *dbias, const T *mean, const T *rstd,
                                 const T *x, const T *weight, const T *dout, int64_t R,
                                 int64_t D) {
    if (dx) {
        int nt_ = fdl_threads_for(R * D * 3);
        NN_OMP_FOR
        for (int64_t r = 0; r < R; r++) {
            const T *xr = x + r * D, *gr = dout + r * D;
            T *dr = dx + r * D;
            T mu = mean[r], rs = rstd[r];
            double a = 0, b = 0;
            for (int64_t j = 0; j < D; j++) {
                T gw = gr[j] * (weight ? weight[j] : (T)1);
                a += gw;
                b += gw * ((xr[j] - mu) * rs);
            }
            T ma = (T)(a / (double)D), mb = (T)(b / (double)D);
            for (int64_t j = 0; j < D; j++) {
                T gw = gr[j] * (weight ? weight[j] : (T)1);
                dr[j] += rs * (gw - ma - (xr[j] - mu) * rs * mb);
            }
        }
    }
    if (dweight || dbias) {
        int nt_ = fdl_threads_for(R * D * 2);
        if (D < 64 * nt_) nt_ = 1;
        NN_OMP_FOR
        for (int t = 0; t < nt_; t++) {
            int64_t j0 = D * t / nt_, j1 = D * (t + 1) / nt_;
            for (int64_t r = 0; r < R; r++) {
                const T *xr = x + r * D, *gr = dout + r * D;
                T mu = mean[r], rs = rstd[r];
                if (dweight) for (int64_t j = j0; j < j1; j++) dweight[j] += gr[j] * ((xr[j] - mu) * rs);
                if (dbias) for (int64_t j = j0; j < j1; j++) dbias[j] += gr[j];
            }
        }
    }
}
#undef NL
#undef NV
