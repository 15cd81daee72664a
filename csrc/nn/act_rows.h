/*
 * act_rows.h — contiguous row loops for activations and softmax, written
 * once over T (see types_begin.h) and compiled per ISA by act_<isa>.c, so
 * gcc vectorizes the same plain loops at that file's vector width.
 *
 * Legend: n = row length; x input, out forward output, dout/dx gradients.
 * Backward loops write dx (=): an activation's input gradient is fresh, so
 * neither a zeroing pass nor a read of dx is paid. dx may be dout itself
 * (autograd hands over a gradient nothing else holds): each element is read
 * before it is written, and softmax reads its row sums before writing.
 */
#define ROW(EXPR) for (int64_t i = 0; i < n; i++) { T v = x[i]; out[i] = (EXPR); }
/* dx == dout (the gradient written over the incoming one) gets its own loop:
 * the two-array loop's overlap test would send it to the scalar fallback */
#define ROWB(EXPR) if (dx == dout) { \
        for (int64_t i = 0; i < n; i++) { T v = x[i], g = dx[i]; (void)v; dx[i] = (EXPR); } \
    } else for (int64_t i = 0; i < n; i++) { T v = x[i], g = dout[i]; (void)v; dx[i] = (EXPR); }
#define ROWBO(EXPR) if (dx == dout) { \
        for (int64_t i = 0; i < n; i++) { T o = out[i], g = dx[i]; dx[i] = (EXPR); } \
    } else for (int64_t i = 0; i < n; i++) { T o = out[i], g = dout[i]; dx[i] = (EXPR); }

/* 1/sqrt(2), 1/sqrt(2 pi), sqrt(2/pi) */
#define NN_SQRT1_2 0.70710678118654752440
#define NN_INV_SQRT_2PI 0.39894228040143267794
#define NN_SQRT_2_PI 0.79788456080286535588

static void FDL_CAT(act_fwd, S)(int op, int64_t n, T *out, const T *x, T p0, T p1) {
    switch (op) {
    case NN_RELU: ROW(v > 0 ? v : (v == v ? (T)0 : v)); break;
    case NN_LEAKY_RELU: ROW(v > 0 ? v : v * p0); break;
    case NN_ELU: ROW(v > 0 ? v : p0 * EXPM1(v)); break;
    /* Phi(x) (see PHI) keeps full relative accuracy for x << 0, where
     * 1 + erf(x / sqrt 2) cancels */
    case NN_GELU: ROW(v * PHI(v)); break;
    case NN_GELU_TANH:
        /* 0.5 (1 + tanh(u)) == sigmoid(2u): exp-only, so the loop vectorizes */
        for (int64_t i = 0; i < n; i++) {
            T v = x[i], u2 = (T)(2 * NN_SQRT_2_PI) * (v + (T)0.044715 * v * v * v);
            T z = EXP(-FABS(u2)), r = (T)1 / ((T)1 + z);
            out[i] = v * (u2 >= 0 ? r : z * r);
        }
        break;
    case NN_SIGMOID: {
        /* exp of -|x| never overflows; both branches are exact ratios */
        for (int64_t i = 0; i < n; i++) {
            T v = x[i], z = EXP(-FABS(v)), r = (T)1 / ((T)1 + z);
            out[i] = v >= 0 ? r : z * r;
        }
        break;
    }
    case NN_TANH: ROW(TANH(v)); break;
    case NN_SOFTPLUS:
        /* log1p(exp(bx)) = max(bx, 0) + log1p(exp(-|bx|)) never overflows */
        for (int64_t i = 0; i < n; i++) {
            T v = x[i], b = v * p0;
            T sp = (b > 0 ? b : (T)0) + LOG1P(EXP(-FABS(b)));
            out[i] = b > p1 ? v : sp / p0;
        }
        break;
    case NN_SILU:
        for (int64_t i = 0; i < n; i++) {
            T v = x[i], z = EXP(-FABS(v)), r = (T)1 / ((T)1 + z);
            out[i] = v * (v >= 0 ? r : z * r);
        }
        break;
    default: break;
    }
}

static void FDL_CAT(act_bwd, S)(int op, int64_t n, T *dx, const T *x, const T *out,
                               const T *dout, T p0, T p1) {
    switch (op) {
    case NN_RELU: ROWB(v > 0 ? g : (T)0); break;
    case NN_LEAKY_RELU: ROWB(v > 0 ? g : g * p0); break;
    case NN_ELU: ROWB(v > 0 ? g : g * p0 * EXP(v)); break;
    case NN_GELU:
        ROWB(g * (PHI(v)
                  + v * (T)NN_INV_SQRT_2PI * EXP((T)-0.5 * v * v)));
        break;
    case NN_GELU_TANH:
        /* d/dx x s(2u) = s + 2 x s (1 - s) u', s = sigmoid(2u) */
        for (int64_t i = 0; i < n; i++) {
            T v = x[i], g = dout[i];
            T u2 = (T)(2 * NN_SQRT_2_PI) * (v + (T)0.044715 * v * v * v);
            T z = EXP(-FABS(u2)), r = (T)1 / ((T)1 + z), sg = u2 >= 0 ? r : z * r;
            T du = (T)NN_SQRT_2_PI * ((T)1 + (T)3 * (T)0.044715 * v * v);
            dx[i] = g * (sg + (T)2 * v * sg * ((T)1 - sg) * du);
        }
        break;
    case NN_SIGMOID: ROWBO(g * o * ((T)1 - o)); break;
    case NN_TANH: ROWBO(g * ((T)1 - o * o)); break;
    case NN_SOFTPLUS:
        for (int64_t i = 0; i < n; i++) {
            T b = x[i] * p0, z = EXP(-FABS(b)), r = (T)1 / ((T)1 + z);
            T s = b >= 0 ? r : z * r;
            dx[i] = b > p1 ? dout[i] : dout[i] * s;
        }
        break;
    case NN_SILU:
        for (int64_t i = 0; i < n; i++) {
            T v = x[i], z = EXP(-FABS(v)), r = (T)1 / ((T)1 + z);
            T s = v >= 0 ? r : z * r;
            dx[i] = dout[i] * s * ((T)1 + v * ((T)1 - s));
        }
        break;
    default: break;
    }
}

/* Row sums use 16 independent lanes combined in a fixed order: vectorizable
 * without -ffast-math, and the same for any thread count and ISA. The max is
 * exact in any order, so it is an OpenMP simd reduction (gcc does not
 * vectorize the 16-lane form of a max: it ran scalar, as long as the exp pass). */
static T FDL_CAT(row_max, S)(int64_t n, const T *x) {
    T m = x[0];
#pragma omp simd reduction(max:m)
    for (int64_t i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

static T FDL_CAT(lanes_sum, S)(T *acc) {
    for (int l = 0; l < 8; l++) acc[l] += acc[l + 8];
    for (int l = 0; l < 4; l++) acc[l] += acc[l + 4];
    return (acc[0] + acc[2]) + (acc[1] + acc[3]);
}

static T FDL_CAT(row_dot, S)(int64_t n, const T *a, const T *b);

/* sum of exp(x - m); stores the exponentials in e when e != NULL (then as two
 * loops: the fused one kept its 16 sums in memory, a store-to-load chain) */
static T FDL_CAT(row_sumexp, S)(int64_t n, T *e, const T *x, T m) {
    if (e) {
        for (int64_t i = 0; i < n; i++) e[i] = EXP(x[i] - m);
        return FDL_CAT(row_dot, S)(n, e, NULL);
    }
    T acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) acc[l] += EXP(x[i + l] - m);
    if (i < n) {
        /* the tail as one 16-lane step over a padded copy (a scalar loop indexed
         * acc[i & 15] ran the exps one at a time: most of a 10-class cross
         * entropy); padding lanes add +0, which leaves their sums as they were */
        const int r = (int)(n - i);
        T t[16];
        for (int l = 0; l < 16; l++) t[l] = l < r ? x[i + l] : m;
        for (int l = 0; l < 16; l++) {
            T e = EXP(t[l] - m);
            acc[l] += l < r ? e : (T)0;
        }
    }
    return FDL_CAT(lanes_sum, S)(acc);
}

static T FDL_CAT(row_dot, S)(int64_t n, const T *a, const T *b) {
    T acc[16] = {0};
    int64_t i = 0;
    if (b) {
        for (; i + 16 <= n; i += 16)
            for (int l = 0; l < 16; l++) acc[l] += a[i + l] * b[i + l];
        for (; i < n; i++) acc[i & 15] += a[i] * b[i];
    } else {
        for (; i + 16 <= n; i += 16)
            for (int l = 0; l < 16; l++) acc[l] += a[i + l];
        for (; i < n; i++) acc[i & 15] += a[i];
    }
    return FDL_CAT(lanes_sum, S)(acc);
}

/* logsumexp of a row; -inf max (all -inf) gives -inf, not NaN */
static T FDL_CAT(row_lse, S)(int64_t n, const T *x) {
    T m = FDL_CAT(row_max, S)(n, x);
    if (m == -(T)INFINITY) return m;
    return m + LOG(FDL_CAT(row_sumexp, S)(n, NULL, x, m));
}

/* lse[r] = row_lse(C, x + r C) for n <= 16 rows of 1 <= C <= 16 values, one lane
 * per row: the same max, exps, 16-lane sum order (lanes_sum over row_sumexp's
 * padded tail: lane c holds exp(x_c - m), lanes >= C hold 0) and log, so each
 * value is bitwise row_lse's. Row by row the max-exp-sum-log chain was
 * latency-bound: 60 ns a row of 10, most of a small classifier's loss. */
static void FDL_CAT(lse16, S)(int64_t n, int64_t C, const T *x, T *lse) {
    T v[16][16], m[16], e[16][16];
    for (int c = 0; c < 16; c++)
        for (int r = 0; r < 16; r++) v[c][r] = (T)0;
    for (int64_t r = 0; r < n; r++)
        for (int64_t c = 0; c < C; c++) v[c][r] = x[r * C + c];
    for (int r = 0; r < 16; r++) m[r] = v[0][r];
    for (int64_t c = 1; c < C; c++)
        for (int r = 0; r < 16; r++) m[r] = v[c][r] > m[r] ? v[c][r] : m[r];
    for (int c = 0; c < 16; c++)
        for (int r = 0; r < 16; r++) {
            T ex = EXP(v[c][r] - m[r]);
            e[c][r] = c < C ? ex : (T)0;
        }
    for (int l = 0; l < 8; l++)
        for (int r = 0; r < 16; r++) e[l][r] += e[l + 8][r];
    for (int l = 0; l < 4; l++)
        for (int r = 0; r < 16; r++) e[l][r] += e[l + 4][r];
    T out[16];
    for (int r = 0; r < 16; r++) {
        T s = (e[0][r] + e[2][r]) + (e[1][r] + e[3][r]);
        out[r] = m[r] == -(T)INFINITY ? m[r] : m[r] + LOG(s);
    }
    for (int64_t r = 0; r < n; r++) lse[r] = out[r];
}

static void FDL_CAT(softmax_row, S)(int is_log, int64_t n, T *out, const T *x) {
    T m = FDL_CAT(row_max, S)(n, x);
    if (is_log) {
        /* (x - m) - log(sum) keeps the result exact for large equal logits */
        T c = LOG(FDL_CAT(row_sumexp, S)(n, NULL, x, m));
        for (int64_t i = 0; i < n; i++) out[i] = (x[i] - m) - c;
    } else {
        T r = (T)1 / FDL_CAT(row_sumexp, S)(n, out, x, m);
        for (int64_t i = 0; i < n; i++) out[i] *= r;
    }
}

static void FDL_CAT(softmax_bwd_row, S)(int is_log, int64_t n, T *dx, const T *out,
                                       const T *dout) {
    if (is_log) {
        T s = FDL_CAT(row_dot, S)(n, dout, NULL);
        if (dx == dout)
            for (int64_t i = 0; i < n; i++) dx[i] = dx[i] - EXP(out[i]) * s;
        else
            for (int64_t i = 0; i < n; i++) dx[i] = dout[i] - EXP(out[i]) * s;
    } else {
        T s = FDL_CAT(row_dot, S)(n, dout, out);
        if (dx == dout)         /* in place: one array, so the loop vectorizes without a test */
            for (int64_t i = 0; i < n; i++) dx[i] = out[i] * (dx[i] - s);
        else
            for (int64_t i = 0; i < n; i++) dx[i] = out[i] * (dout[i] - s);
    }
}

static void FDL_CAT(expadd_row, S)(int64_t n, T *restrict d, const T *restrict x, T shift, T a) {
    for (int64_t i = 0; i < n; i++) d[i] += a * EXP(x[i] - shift);
}

#undef ROW
#undef ROWB
#undef ROWBO
