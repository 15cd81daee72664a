/* loss_impl.h — loss kernels over T; see loss.c for the legend. */

/* ---- pointwise losses ---------------------------------------------------- */

/* Per-element loss L(v = x[i], y = y[i]) and its derivative G = dL/dx.
 * d = v - y; params: p0 (delta, beta, margin), ip (log_target). */
#define PL_CASES(CASE)                                                           \
    CASE(NN_MSE, T d = v - y;, d * d, (T)2 * d)                                  \
    CASE(NN_L1, T d = v - y;, FABS(d), (T)((d > 0) - (d < 0)))                   \
    CASE(NN_HUBER, T d = v - y; T a = FABS(d); (void)a;,                                  \
         a < p0 ? (T)0.5 * d * d : p0 * (a - (T)0.5 * p0),                       \
         d < -p0 ? -p0 : (d > p0 ? p0 : d))                                      \
    CASE(NN_SMOOTH_L1, T d = v - y; T a = FABS(d);,                              \
         a < p0 ? (T)0.5 * d * d / p0 : a - (T)0.5 * p0,                         \
         a < p0 ? d / p0 : (T)((d > 0) - (d < 0)))                               \
    CASE(NN_BCE, T lx = LOG(v); T l1x = LOG((T)1 - v);                           \
         lx = lx < (T)NN_LOG_CLAMP ? (T)NN_LOG_CLAMP : lx;                       \
         l1x = l1x < (T)NN_LOG_CLAMP ? (T)NN_LOG_CLAMP : l1x;                    \
         T den = ((T)1 - v) * v; den = den < (T)1e-12 ? (T)1e-12 : den;,         \
         -(y * lx + ((T)1 - y) * l1x), (v - y) / den)                            \
    CASE(NN_BCE_LOGITS, T z = EXP(-FABS(v)); T r = (T)1 / ((T)1 + z);            \
         T pwv = pw ? pw[i] : (T)1; T c = (T)1 + (pwv - (T)1) * y; (void)r;,              \
         ((T)1 - y) * v + c * (LOG1P(z) + (v < 0 ? -v : (T)0)),                  \
         ((T)1 - y) - c * (v >= 0 ? z * r : r))                                  \
    CASE(NN_HINGE, T m = (T)1 - y * v;, m > 0 ? m : (T)0, m > 0 ? -y : (T)0)     \
    CASE(NN_HINGE_EMB, T m = p0 - v;,                                            \
         (y == (T)1 ? v : (T)0) + (y == (T)-1 && m > 0 ? m : (T)0),              \
         (y == (T)1 ? (T)1 : (T)0) + (y == (T)-1 && m > 0 ? (T)-1 : (T)0))       \
    CASE(NN_KL_DIV, T ey = ip ? EXP(y) : y;,                                     \
         ip ? ey * (y - v) : (y > 0 ? y * (LOG(y) - v) : (T)0 * v), -ey)

#define PL_FWD_CASE(OP, PRE, LOSS, GRAD)                                         \
    case OP:                                                                     \
        for (int64_t i = lo; i < hi; i++) {                                      \
            T v = x[i], y = yv[i]; PRE (void)v;                                  \
            T l = (LOSS); loss[i] = w ? w[i] * l : l;                            \
        }                                                                        \
        break;
#define PL_BWD_CASE(OP, PRE, LOSS, GRAD)                                         \
    case OP:                                                                     \
        for (int64_t i = lo; i < hi; i++) {                                      \
            T v = x[i], y = yv[i]; PRE (void)v;                                  \
            T g = dout[i * ds] * scale; g = w ? w[i] * g : g;                    \
            dx[i] += g * (GRAD);                                                 \
        }                                                                        \
        break;

static void FDL_CAT(ploss_fwd, S)(int op, T *loss, const T *x, const T *yv, const T *w,
                                 const T *pw, int64_t n, T p0, int ip) {
    int nt_ = fdl_threads_for(n * 4);
    NN_OMP_FOR
    for (int t = 0; t < nt_; t++) {
        int64_t lo = n * t / nt_, hi = n * (t + 1) / nt_;
        switch (op) { PL_CASES(PL_FWD_CASE) default: break; }
    }
    (void)pw; (void)ip; (void)p0;
}

static void FDL_CAT(ploss_bwd, S)(int op, T *dx, const T *x, const T *yv, const T *w,
                                 const T *pw, const T *dout, int64_t n, int64_t ds, T scale,
                                 T p0, int ip) {
    int nt_ = fdl_threads_for(n * 4);
    NN_OMP_FOR
    for (int t = 0; t < nt_; t++) {
        int64_t lo = n * t / nt_, hi = n * (t + 1) / nt_;
        switch (op) { PL_CASES(PL_BWD_CASE) default: break; }
    }
    (void)pw; (void)ip; (void)p0;
}

/* loss[N] = (x - y)^2 */
static void FN(nn_mse_loss_forward)(T *loss, const T *x, const T *y, int64_t n) {
    FDL_CAT(ploss_fwd, S)(NN_MSE, loss, x, y, NULL, NULL, n, 0, 0);
}
/* dx[N] += dout[i * ds] * scale * dL/dx (ds = 0: one scalar grad for a reduced loss) */
static void FN(nn_mse_loss_backward)(T *dx, const T *x, const T *y, const T *dout, int64_t n,
                               int64_t ds, T scale) {
    FDL_CAT(ploss_bwd, S)(NN_MSE, dx, x, y, NULL, NULL, dout, n, ds, scale, 0, 0);
}
static void FN(nn_l1_loss_forward)(T *loss, const T *x, const T *y, int64_t n) {
    FDL_CAT(ploss_fwd, S)(NN_L1, loss, x, y, NULL, NULL, n, 0, 0);
}
static void FN(nn_l1_loss_backward)(T *dx, const T *x, const T *y, const T *dout, int64_t n,
                              int64_t ds, T scale) {
    FDL_CAT(ploss_bwd, S)(NN_L1, dx, x, y, NULL, NULL, dout, n, ds, scale, 0, 0);
}
static void FN(nn_huber_loss_forward)(T *loss, const T *x, const T *y, int64_t n, T delta) {
    FDL_CAT(ploss_fwd, S)(NN_HUBER, loss, x, y, NULL, NULL, n, delta, 0);
}
static void FN(nn_huber_loss_backward)(T *dx, const T *x, const T *y, const T *dout, int64_t n,
                                 int64_t ds, T scale, T delta) {
    FDL_CAT(ploss_bwd, S)(NN_HUBER, dx, x, y, NULL, NULL, dout, n, ds, scale, delta, 0);
}
/* beta == 0 is l1_loss */
static void FN(nn_smooth_l1_loss_forward)(T *loss, const T *x, const T *y, int64_t n, T beta) {
    FDL_CAT(ploss_fwd, S)(beta > 0 ? NN_SMOOTH_L1 : NN_L1, loss, x, y, NULL, NULL, n, beta, 0);
}
static void FN(nn_smooth_l1_loss_backward)(T *dx, const T *x, const T *y, const T *dout, int64_t n,
                                     int64_t ds, T scale, T beta) {
    FDL_CAT(ploss_bwd, S)(beta > 0 ? NN_SMOOTH_L1 : NN_L1, dx, x, y, NULL, NULL, dout, n, ds,
                         scale, beta, 0);
}
/* x in [0, 1], y in [0, 1], weight[N] or NULL; logs clamped at -100 */
static void FN(nn_binary_cross_entropy_forward)(T *loss, const T *x, const T *y, const T *weight,
                                          int64_t n) {
    FDL_CAT(ploss_fwd, S)(NN_BCE, loss, x, y, weight, NULL, n, 0, 0);
}
static void FN(nn_binary_cross_entropy_backward)(T *dx, const T *x, const T *y, const T *weight,
                                           const T *dout, int64_t n, int64_t ds, T scale) {
    FDL_CAT(ploss_bwd, S)(NN_BCE, dx, x, y, weight, NULL, dout, n, ds, scale, 0, 0);
}
/* weight[N], pos_weight[N] (broadcast by the caller) or NULL */
static void FN(nn_binary_cross_entropy_with_logits_forward)(T *loss, const T *x, const T *y,
                                                      const T *weight, const T *pos_weight,
                                                      int64_t n) {
    FDL_CAT(ploss_fwd, S)(NN_BCE_LOGITS, loss, x, y, weight, pos_weight, n, 0, 0);
}
static void FN(nn_binary_cross_entropy_with_logits_backward)(T *dx, const T *x, const T *y,
                                                       const T *weight, const T *pos_weight,
                                                       const T *dout, int64_t n, int64_t ds,
                                                       T scale) {
    FDL_CAT(ploss_bwd, S)(NN_BCE_LOGITS, dx, x, y, weight, pos_weight, dout, n, ds, scale, 0, 0);
}
/* y in {-1, +1}: max(0, 1 - y x) */
static void FN(nn_hinge_loss_forward)(T *loss, const T *x, const T *y, int64_t n) {
    FDL_CAT(ploss_fwd, S)(NN_HINGE, loss, x, y, NULL, NULL, n, 0, 0);
}
static void FN(nn_hinge_loss_backward)(T *dx, const T *x, const T *y, const T *dout, int64_t n,
                                 int64_t ds, T scale) {
    FDL_CAT(ploss_bwd, S)(NN_HINGE, dx, x, y, NULL, NULL, dout, n, ds, scale, 0, 0);
}
static void FN(nn_hinge_embedding_loss_forward)(T *loss, const T *x, const T *y, int64_t n, T margin) {
    FDL_CAT(ploss_fwd, S)(NN_HINGE_EMB, loss, x, y, NULL, NULL, n, margin, 0);
}
static void FN(nn_hinge_embedding_loss_backward)(T *dx, const T *x, const T *y, const T *dout,
                                           int64_t n, int64_t ds, T scale, T margin) {
    FDL_CAT(ploss_bwd, S)(NN_HINGE_EMB, dx, x, y, NULL, NULL, dout, n, ds, scale, margin, 0);
}
/* x = log-probabilities; y = probabilities (or log-probabilities if log_target) */
static void FN(nn_kl_div_forward)(T *loss, const T *x, const T *y, int64_t n, int log_target) {
    FDL_CAT(ploss_fwd, S)(NN_KL_DIV, loss, x, y, NULL, NULL, n, 0, log_target);
}
static void FN(nn_kl_div_backward)(T *dx, const T *x, const T *y, const T *dout, int64_t n,
                             int64_t ds, T scale, int log_target) {
    FDL_CAT(ploss_bwd, S)(NN_KL_DIV, dx, x, y, NULL, NULL, dout, n, ds, scale, 0, log_target);
}

/* ---- class losses over rows x[N, C] ---------------------------------------- */

/* loss[N] = w[t] (lse - x[t]) mixed with label smoothing; lse[N] saved.
 * Ignored rows get loss 0. Per-row losses are not divided by anything:
 * the caller applies the reduction. */
static T FN(ce_row_loss)(T l, const T *xr, int64_t t, const T *weight, int64_t C,
                          T label_smoothing) {
    T wy = weight ? weight[t] : (T)1;
    T out = wy * (l - xr[t]);
    if (label_smoothing > 0) {
        T sm = 0;
        if (weight) for (int64_t c = 0; c < C; c++) sm += weight[c] * (l - xr[c]);
        else for (int64_t c = 0; c < C; c++) sm += l - xr[c];
        out = ((T)1 - label_smoothing) * out + label_smoothing / (T)C * sm;
    }
    return out;
}

static void FN(nn_cross_entropy_forward)(T *loss, T *lse, const T *x, const int64_t *target,
                                   const T *weight, int64_t N, int64_t C, int64_t ignore_index,
                                   T label_smoothing) {
    const nn_act_rows *rows = nn_act_rows_active();
    int nt_ = fdl_threads_for(N * C);
    if (C >= 1 && C <= 16) {
        /* few classes: the log-sum-exps of 16 rows at once, one vector lane per row
         * (bitwise the per-row values; see act_rows.h lse16) */
        const int64_t nb = FDL_CDIV(N, 16);
        NN_OMP_FOR
        for (int64_t b = 0; b < nb; b++) {
            const int64_t i0 = b * 16, i1 = FDL_MIN(N, i0 + 16);
            rows->FDL_CAT(lse16, S)(i1 - i0, C, x + i0 * C, lse + i0);
            for (int64_t i = i0; i < i1; i++) {
                int64_t t = target[i];
                loss[i] = t == ignore_index ? (T)0
                    : FN(ce_row_loss)(lse[i], x + i * C, t, weight, C, label_smoothing);
            }
        }
        return;
    }
    NN_OMP_FOR
    for (int64_t i = 0; i < N; i++) {
        const T *xr = x + i * C;
        T l = rows->FDL_CAT(lse, S)(C, xr);
        lse[i] = l;
        int64_t t = target[i];
        loss[i] = t == ignore_index ? (T)0
            : FN(ce_row_loss)(l, xr, t, weight, C, label_smoothing);
    }
}

/* dx[N, C] += g_i ((1 - e) w_t (p - onehot) + e / C (W p - w)), g_i = dout[i ds] scale */
static void FN(nn_cross_entropy_backward)(T *dx, const T *lse, const T *x, const int64_t *target,
                                    const T *weight, const T *dout, int64_t N, int64_t C,
                                    int64_t ds, T scale, int64_t ignore_index,
                                    T label_smoothing) {
    const nn_act_rows *rows = nn_act_rows_active();
    T W = (T)C;
    if (weight) { W = 0; for (int64_t c = 0; c < C; c++) W += weight[c]; }
    int nt_ = fdl_threads_for(N * C);
    NN_OMP_FOR
    for (int64_t i = 0; i < N; i++) {
        int64_t t = target[i];
        if (t == ignore_index) continue;
        T *d = dx + i * C;
        T g = dout[i * ds] * scale;
        T a = g * ((T)1 - label_smoothing) * (weight ? weight[t] : (T)1);
        T e = g * label_smoothing / (T)C;
        rows->FDL_CAT(expadd, S)(C, d, x + i * C, lse[i], a + e * W);
        if (weight && label_smoothing > 0) for (int64_t c = 0; c < C; c++) d[c] -= e * weight[c];
        else if (label_smoothing > 0) for (int64_t c = 0; c < C; c++) d[c] -= e;
        d[t] -= a;
    }
}

/* probability targets tp[N, C]: loss = sum_c w_c t'_c (lse - x_c), t' = (1 - e) t + e / C */
static void FN(nn_cross_entropy_prob_forward)(T *loss, T *lse, const T *x, const T *tp,
                                        const T *weight, int64_t N, int64_t C,
                                        T label_smoothing) {
    const nn_act_rows *rows = nn_act_rows_active();
    int nt_ = fdl_threads_for(N * C);
    NN_OMP_FOR
    for (int64_t i = 0; i < N; i++) {
        const T *xr = x + i * C, *tr = tp + i * C;
        T l = rows->FDL_CAT(lse, S)(C, xr), s = 0;
        lse[i] = l;
        for (int64_t c = 0; c < C; c++) {
            T tc = ((T)1 - label_smoothing) * tr[c] + label_smoothing / (T)C;
            s += (weight ? weight[c] : (T)1) * tc * (l - xr[c]);
        }
        loss[i] = s;
    }
}

/* dx += g_i ((sum_k w_k t'_k) p_c - w_c t'_c) */
static void FN(nn_cross_entropy_prob_backward)(T *dx, const T *lse, const T *x, const T *tp,
                                         const T *weight, const T *dout, int64_t N, int64_t C,
                                         int64_t ds, T scale, T label_smoothing) {
    const nn_act_rows *rows = nn_act_rows_active();
    int nt_ = fdl_threads_for(N * C);
    NN_OMP_FOR
    for (int64_t i = 0; i < N; i++) {
        const T *xr = x + i * C, *tr = tp + i * C;
        T *d = dx + i * C;
        T g = dout[i * ds] * scale, l = lse[i], sw = 0;
        T e = label_smoothing / (T)C, k = (T)1 - label_smoothing;
        for (int64_t c = 0; c < C; c++) sw += (weight ? weight[c] : (T)1) * (k * tr[c] + e);
        rows->FDL_CAT(expadd, S)(C, d, xr, l, g * sw);
        for (int64_t c = 0; c < C; c++) d[c] -= g * (weight ? weight[c] : (T)1) * (k * tr[c] + e);
    }
}

/* x[N, C] log-probabilities: loss[N] = -w[t] x[t]; ignored rows 0 */
static void FN(nn_nll_loss_forward)(T *loss, const T *x, const int64_t *target, const T *weight,
                              int64_t N, int64_t C, int64_t ignore_index) {
    for (int64_t i = 0; i < N; i++) {
        int64_t t = target[i];
        loss[i] = t == ignore_index ? (T)0 : -(weight ? weight[t] : (T)1) * x[i * C + t];
    }
}

static void FN(nn_nll_loss_backward)(T *dx, const int64_t *target, const T *weight, const T *dout,
                               int64_t N, int64_t C, int64_t ds, T scale, int64_t ignore_index) {
    for (int64_t i = 0; i < N; i++) {
        int64_t t = target[i];
        if (t != ignore_index) dx[i * C + t] -= (weight ? weight[t] : (T)1) * dout[i * ds] * scale;
    }
}

/* loss[N] = sum_{c != t} w_t max(0, margin - x_t + x_c)^p / C, p in {1, 2} */
static void FN(nn_multi_margin_loss_forward)(T *loss, const T *x, const int64_t *target,
                                       const T *weight, int64_t N, int64_t C, int p, T margin) {
    int nt_ = fdl_threads_for(N * C);
    NN_OMP_FOR
    for (int64_t i = 0; i < N; i++) {
        const T *xr = x + i * C;
        int64_t t = target[i];
        T s = 0;
        for (int64_t c = 0; c < C; c++) {
            T h = margin - xr[t] + xr[c];
            if (c != t && h > 0) s += p == 2 ? h * h : h;
        }
        loss[i] = (weight ? weight[t] : (T)1) * s / (T)C;
    }
}

static void FN(nn_multi_margin_loss_backward)(T *dx, const T *x, const int64_t *target,
                                        const T *weight, const T *dout, int64_t N, int64_t C,
                                        int64_t ds, T scale, int p, T margin) {
    int nt_ = fdl_threads_for(N * C);
    NN_OMP_FOR
    for (int64_t i = 0; i < N; i++) {
        const T *xr = x + i * C;
        T *d = dx + i * C;
        int64_t t = target[i];
        T g = dout[i * ds] * scale * (weight ? weight[t] : (T)1) / (T)C, st = 0;
        for (int64_t c = 0; c < C; c++) {
            T h = margin - xr[t] + xr[c];
            if (c != t && h > 0) {
                T v = p == 2 ? (T)2 * h * g : g;
                d[c] += v;
                st += v;
            }
        }
        d[t] -= st;
    }
}

/* ||a - b + eps||_p of one row */
static T FDL_CAT(pdist, S)(const T *a, const T *b, int64_t D, T p, T eps) {
    T s = 0;
    if (p == 2) { for (int64_t j = 0; j < D; j++) { T v = a[j] - b[j] + eps; s += v * v; } return SQRT(s); }
    if (p == 1) { for (int64_t j = 0; j < D; j++) s += FABS(a[j] - b[j] + eps); return s; }
    for (int64_t j = 0; j < D; j++) s += POW(FABS(a[j] - b[j] + eps), p);
    return POW(s, (T)1 / p);
}

/* ga[j] += g d||v||_p / dv_j, gb[j] -= the same, v = a - b + eps, dist = ||v||_p */
static void FDL_CAT(pdist_grad, S)(T *ga, T *gb, const T *a, const T *b, int64_t D, T p, T eps,
                                  T dist, T g) {
    if (dist == 0) return;
    for (int64_t j = 0; j < D; j++) {
        T v = a[j] - b[j] + eps, sg = (T)((v > 0) - (v < 0)), dv;
        if (p == 2) dv = v / dist;
        else if (p == 1) dv = sg;
        else dv = sg * POW(FABS(v), p - 1) / POW(dist, p - 1);
        ga[j] += g * dv;
        gb[j] -= g * dv;
    }
}

/* a, pos, neg [N, D]; dist[N, 3] saved = (d(a,pos), d(a,neg), d(pos,neg));
 * loss[N] = max(0, d(a,pos) - d_neg + margin), d_neg = swap ? min(d(a,neg), d(pos,neg)) : d(a,neg) */
static void FN(nn_triplet_margin_loss_forward)(T *loss, T *dist, const T *a, const T *pos,
                                         const T *neg, int64_t N, int64_t D, T margin, T p,
                                         T eps, int swap) {
    int nt_ = fdl_threads_for(N * D * 3);
    NN_OMP_FOR
    for (int64_t i = 0; i < N; i++) {
        const T *ai = a + i * D, *pi = pos + i * D, *ni = neg + i * D;
        T dap = FDL_CAT(pdist, S)(ai, pi, D, p, eps), dan = FDL_CAT(pdist, S)(ai, ni, D, p, eps);
        T dpn = swap ? FDL_CAT(pdist, S)(pi, ni, D, p, eps) : dan;
        T dneg = dpn < dan ? dpn : dan;
        T l = dap - dneg + margin;
        dist[3 * i] = dap; dist[3 * i + 1] = dan; dist[3 * i + 2] = dpn;
        loss[i] = l > 0 ? l : (T)0;
    }
}

static void FN(nn_triplet_margin_loss_backward)(T *da, T *dp, T *dn, const T *dist, const T *a,
                                          const T *pos, const T *neg, const T *dout, int64_t N,
                                          int64_t D, int64_t ds, T scale, T margin, T p, T eps,
                                          int swap) {
    int nt_ = fdl_threads_for(N * D * 3);
    NN_OMP_FOR
    for (int64_t i = 0; i < N; i++) {
        const T *ai = a + i * D, *pi = pos + i * D, *ni = neg + i * D;
        T dap = dist[3 * i], dan = dist[3 * i + 1], dpn = dist[3 * i + 2];
        T dneg = dpn < dan ? dpn : dan;
        if (dap - dneg + margin <= 0) continue;
        T g = dout[i * ds] * scale;
        FDL_CAT(pdist_grad, S)(da + i * D, dp + i * D, ai, pi, D, p, eps, dap, g);
        if (swap && dpn < dan)
            FDL_CAT(pdist_grad, S)(dp + i * D, dn + i * D, pi, ni, D, p, eps, dpn, -g);
        else
            FDL_CAT(pdist_grad, S)(da + i * D, dn + i * D, ai, ni, D, p, eps, dan, -g);
    }
}

/* x1, x2 [N, D], y[N] in {-1, 1}; saved[N, 3] = (dot, |x1|^2 + 1e-12, |x2|^2 + 1e-12);
 * loss = 1 - cos (y = 1), max(0, cos - margin) (y = -1) */
static void FN(nn_cosine_embedding_loss_forward)(T *loss, T *saved, const T *x1, const T *x2,
                                           const T *y, int64_t N, int64_t D, T margin) {
    int nt_ = fdl_threads_for(N * D * 2);
    NN_OMP_FOR
    for (int64_t i = 0; i < N; i++) {
        const T *a = x1 + i * D, *b = x2 + i * D;
        T dot = 0, m1 = 0, m2 = 0;
        for (int64_t j = 0; j < D; j++) { dot += a[j] * b[j]; m1 += a[j] * a[j]; m2 += b[j] * b[j]; }
        m1 += (T)1e-12; m2 += (T)1e-12;
        T cs = dot / SQRT(m1 * m2);
        saved[3 * i] = dot; saved[3 * i + 1] = m1; saved[3 * i + 2] = m2;
        T neg = cs - margin;
        loss[i] = y[i] == (T)1 ? (T)1 - cs : (y[i] == (T)-1 && neg > 0 ? neg : (T)0);
    }
}

static void FN(nn_cosine_embedding_loss_backward)(T *dx1, T *dx2, const T *saved, const T *x1,
                                            const T *x2, const T *y, const T *dout, int64_t N,
                                            int64_t D, int64_t ds, T scale, T margin) {
    int nt_ = fdl_threads_for(N * D * 2);
    NN_OMP_FOR
    for (int64_t i = 0; i < N; i++) {
        const T *a = x1 + i * D, *b = x2 + i * D;
        T dot = saved[3 * i], m1 = saved[3 * i + 1], m2 = saved[3 * i + 2];
        T den = SQRT(m1 * m2), cs = dot / den, g = dout[i * ds] * scale, gc;
        if (y[i] == (T)1) gc = -g;
        else if (y[i] == (T)-1 && cs - margin > 0) gc = g;
        else continue;
        for (int64_t j = 0; j < D; j++) {
            dx1[i * D + j] += gc * (b[j] / den - cs * a[j] / m1);
            dx2[i * D + j] += gc * (a[j] / den - cs * b[j] / m2);
        }
    }
}
