/* activation_impl.h — activation and softmax drivers over T; see activation.c. */

static void FDL_CAT(act_forward, S)(int op, T *out, const T *x, int64_t n, T p0, T p1) {
    const nn_act_rows *rows = nn_act_rows_active();
    int nt_ = fdl_threads_for(n);
    NN_OMP_FOR
    for (int t = 0; t < nt_; t++) {
        /* cuts on multiples of 64 keep every thread on whole vectors */
        int64_t lo = (n * t / nt_) & ~(int64_t)63, hi = t == nt_ - 1 ? n : (n * (t + 1) / nt_) & ~(int64_t)63;
        if (hi > lo) rows->FDL_CAT(fwd, S)(op, hi - lo, out + lo, x + lo, p0, p1);
    }
}

static void FDL_CAT(act_backward, S)(int op, T *dx, const T *x, const T *out, const T *dout,
                                    int64_t n, T p0, T p1) {
    const nn_act_rows *rows = nn_act_rows_active();
    int nt_ = fdl_threads_for(n);
    NN_OMP_FOR
    for (int t = 0; t < nt_; t++) {
        int64_t lo = (n * t / nt_) & ~(int64_t)63, hi = t == nt_ - 1 ? n : (n * (t + 1) / nt_) & ~(int64_t)63;
        if (hi > lo)
            rows->FDL_CAT(bwd, S)(op, hi - lo, dx + lo, x ? x + lo : NULL, out ? out + lo : NULL,
                                 dout + lo, p0, p1);
    }
}

/* x[N] -> out[N] */
static void FN(nn_relu_forward)(T *out, const T *x, int64_t n) {
    FDL_CAT(act_forward, S)(NN_RELU, out, x, n, 0, 0);
}
/* dx[N] = dout * (x > 0) */
static void FN(nn_relu_backward)(T *dx, const T *x, const T *dout, int64_t n) {
    FDL_CAT(act_backward, S)(NN_RELU, dx, x, NULL, dout, n, 0, 0);
}
static void FN(nn_leaky_relu_forward)(T *out, const T *x, int64_t n, T negative_slope) {
    FDL_CAT(act_forward, S)(NN_LEAKY_RELU, out, x, n, negative_slope, 0);
}
static void FN(nn_leaky_relu_backward)(T *dx, const T *x, const T *dout, int64_t n, T negative_slope) {
    FDL_CAT(act_backward, S)(NN_LEAKY_RELU, dx, x, NULL, dout, n, negative_slope, 0);
}
static void FN(nn_elu_forward)(T *out, const T *x, int64_t n, T alpha) {
    FDL_CAT(act_forward, S)(NN_ELU, out, x, n, alpha, 0);
}
static void FN(nn_elu_backward)(T *dx, const T *x, const T *dout, int64_t n, T alpha) {
    FDL_CAT(act_backward, S)(NN_ELU, dx, x, NULL, dout, n, alpha, 0);
}
static void FN(nn_gelu_forward)(T *out, const T *x, int64_t n, int approximate_tanh) {
    FDL_CAT(act_forward, S)(approximate_tanh ? NN_GELU_TANH : NN_GELU, out, x, n, 0, 0);
}
static void FN(nn_gelu_backward)(T *dx, const T *x, const T *dout, int64_t n, int approximate_tanh) {
    FDL_CAT(act_backward, S)(approximate_tanh ? NN_GELU_TANH : NN_GELU, dx, x, NULL, dout, n, 0, 0);
}
static void FN(nn_sigmoid_forward)(T *out, const T *x, int64_t n) {
    FDL_CAT(act_forward, S)(NN_SIGMOID, out, x, n, 0, 0);
}
/* uses the forward output */
static void FN(nn_sigmoid_backward)(T *dx, const T *out, const T *dout, int64_t n) {
    FDL_CAT(act_backward, S)(NN_SIGMOID, dx, NULL, out, dout, n, 0, 0);
}
static void FN(nn_tanh_forward)(T *out, const T *x, int64_t n) {
    FDL_CAT(act_forward, S)(NN_TANH, out, x, n, 0, 0);
}
static void FN(nn_tanh_backward)(T *dx, const T *out, const T *dout, int64_t n) {
    FDL_CAT(act_backward, S)(NN_TANH, dx, NULL, out, dout, n, 0, 0);
}
static void FN(nn_softplus_forward)(T *out, const T *x, int64_t n, T beta, T threshold) {
    FDL_CAT(act_forward, S)(NN_SOFTPLUS, out, x, n, beta, threshold);
}
static void FN(nn_softplus_backward)(T *dx, const T *x, const T *dout, int64_t n, T beta, T threshold) {
    FDL_CAT(act_backward, S)(NN_SOFTPLUS, dx, x, NULL, dout, n, beta, threshold);
}
static void FN(nn_silu_forward)(T *out, const T *x, int64_t n) {
    FDL_CAT(act_forward, S)(NN_SILU, out, x, n, 0, 0);
}
static void FN(nn_silu_backward)(T *dx, const T *x, const T *dout, int64_t n) {
    FDL_CAT(act_backward, S)(NN_SILU, dx, x, NULL, dout, n, 0, 0);
}

/* Softmax over the middle axis of (outer, dim, inner). inner == 1 is the
 * contiguous-row case; otherwise columns are handled NN_COLS at a time with
 * stack scratch so the loops run along the contiguous inner axis. */
#define NN_COLS 128

static void FDL_CAT(softmax_cols, S)(int is_log, T *out, const T *x, int64_t dim, int64_t inner,
                                    int64_t c0, int64_t nc) {
    T m[NN_COLS], s[NN_COLS];
    for (int64_t j = 0; j < nc; j++) { m[j] = x[c0 + j]; s[j] = 0; }
    for (int64_t k = 1; k < dim; k++) {
        const T *xr = x + k * inner + c0;
        for (int64_t j = 0; j < nc; j++) m[j] = xr[j] > m[j] ? xr[j] : m[j];
    }
    for (int64_t k = 0; k < dim; k++) {
        const T *xr = x + k * inner + c0;
        T *orow = out + k * inner + c0;
        for (int64_t j = 0; j < nc; j++) {
            T e = EXP(xr[j] - m[j]);
            if (!is_log) orow[j] = e;
            s[j] += e;
        }
    }
    if (is_log) {
        for (int64_t j = 0; j < nc; j++) s[j] = LOG(s[j]);
        for (int64_t k = 0; k < dim; k++)
            for (int64_t j = 0; j < nc; j++)
                out[k * inner + c0 + j] = (x[k * inner + c0 + j] - m[j]) - s[j];
    } else {
        for (int64_t j = 0; j < nc; j++) s[j] = (T)1 / s[j];
        for (int64_t k = 0; k < dim; k++)
            for (int64_t j = 0; j < nc; j++) out[k * inner + c0 + j] *= s[j];
    }
}

static void FDL_CAT(softmax_bwd_cols, S)(int is_log, T *dx, const T *out, const T *dout,
                                        int64_t dim, int64_t inner, int64_t c0, int64_t nc) {
    T s[NN_COLS];
    for (int64_t j = 0; j < nc; j++) s[j] = 0;
    for (int64_t k = 0; k < dim; k++) {
        const T *g = dout + k * inner + c0, *o = out + k * inner + c0;
        if (is_log) for (int64_t j = 0; j < nc; j++) s[j] += g[j];
        else for (int64_t j = 0; j < nc; j++) s[j] += g[j] * o[j];
    }
    for (int64_t k = 0; k < dim; k++) {
        const T *g = dout + k * inner + c0, *o = out + k * inner + c0;
        T *d = dx + k * inner + c0;
        if (is_log) for (int64_t j = 0; j < nc; j++) d[j] = g[j] - EXP(o[j]) * s[j];
        else for (int64_t j = 0; j < nc; j++) d[j] = o[j] * (g[j] - s[j]);
    }
}

static void FDL_CAT(softmax_any, S)(int is_log, T *out, const T *x, int64_t outer, int64_t dim,
                                   int64_t inner) {
    const nn_act_rows *rows = nn_act_rows_active();
    int64_t nblk = FDL_CDIV(inner, NN_COLS);
    int nt_ = fdl_threads_for(outer * dim * inner * 2);
    NN_OMP_FOR
    for (int64_t u = 0; u < outer * nblk; u++) {
        int64_t o = u / nblk, b = u % nblk;
        const T *xo = x + o * dim * inner;
        T *oo = out + o * dim * inner;
        if (inner == 1) rows->FDL_CAT(softmax, S)(is_log, dim, oo, xo);
        else FDL_CAT(softmax_cols, S)(is_log, oo, xo, dim, inner, b * NN_COLS,
                                     FDL_MIN(NN_COLS, inner - b * NN_COLS));
    }
}

static void FDL_CAT(softmax_bwd_any, S)(int is_log, T *dx, const T *out, const T *dout,
                                       int64_t outer, int64_t dim, int64_t inner) {
    const nn_act_rows *rows = nn_act_rows_active();
    int64_t nblk = FDL_CDIV(inner, NN_COLS);
    int nt_ = fdl_threads_for(outer * dim * inner * 2);
    NN_OMP_FOR
    for (int64_t u = 0; u < outer * nblk; u++) {
        int64_t o = u / nblk, b = u % nblk, off = o * dim * inner;
        if (inner == 1) rows->FDL_CAT(softmax_bwd, S)(is_log, dim, dx + off, out + off, dout + off);
        else FDL_CAT(softmax_bwd_cols, S)(is_log, dx + off, out + off, dout + off, dim, inner,
                                         b * NN_COLS, FDL_MIN(NN_COLS, inner - b * NN_COLS));
    }
}

/* x[outer, dim, inner] -> out, softmax over dim */
static void FN(nn_softmax_forward)(T *out, const T *x, int64_t outer, int64_t dim, int64_t inner) {
    FDL_CAT(softmax_any, S)(0, out, x, outer, dim, inner);
}
/* dx = out * (dout - sum_dim(dout * out)) */
static void FN(nn_softmax_backward)(T *dx, const T *out, const T *dout, int64_t outer, int64_t dim,
                              int64_t inner) {
    FDL_CAT(softmax_bwd_any, S)(0, dx, out, dout, outer, dim, inner);
}
static void FN(nn_log_softmax_forward)(T *out, const T *x, int64_t outer, int64_t dim, int64_t inner) {
    FDL_CAT(softmax_any, S)(1, out, x, outer, dim, inner);
}
/* dx = dout - exp(out) * sum_dim(dout) */
static void FN(nn_log_softmax_backward)(T *dx, const T *out, const T *dout, int64_t outer,
                                  int64_t dim, int64_t inner) {
    FDL_CAT(softmax_bwd_any, S)(1, dx, out, dout, outer, dim, inner);
}
