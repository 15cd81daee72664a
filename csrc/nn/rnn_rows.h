/*
 * rnn_rows.h — one batch row of each recurrent cell, as a template.
 *
 * Legend: n hidden units handled by the call, gs the distance between gate
 * blocks (H for a whole row; a thread that owns units [j0, j0+n) of the
 * hidden state passes pointers offset by j0 and gs = H). One call handles
 * one batch row; the OpenMP split lives in the caller (rnn.c, rnn_layer.h),
 * and these loops vectorize at the
 * width of the file that includes this header (rnn.c generic, rnn_avx2.c,
 * rnn_avx512.c). Before including, define:
 *   FT        the element type (float or double)
 *   ROW(n)    the name of row function n for this type and ISA
 *   SIGM(x)   logistic sigmoid, TANH(x) hyperbolic tangent, for FT
 *
 * In-place use (act == gates in lstm_fwd, act == gi in gru_fwd, dpre == dh in
 * rnn_bwd, dc_prev == dc in lstm_bwd) is exact aliasing: every iteration
 * reads all its inputs before it writes, and different j never touch the
 * same element. FDL_IVDEP tells gcc so; without it the vectorizer would add
 * run-time overlap checks that fail for the in-place case and fall back to
 * scalar code.
 */
#ifndef FDL_IVDEP
#if defined(__GNUC__) && !defined(__clang__)
#define FDL_IVDEP _Pragma("GCC ivdep")
#else
#define FDL_IVDEP
#endif
#endif

/* h[n] = act(pre[n]) */
static void ROW(rnn_fwd)(FT *h, const FT *pre, int64_t n, int relu) {
    if (relu) {
        FDL_IVDEP for (int64_t j = 0; j < n; j++) h[j] = pre[j] < 0 ? (FT)0 : pre[j]; /* NaN stays NaN */
    } else {
        FDL_IVDEP for (int64_t j = 0; j < n; j++) h[j] = TANH(pre[j]);
    }
}

/* dpre[n] = dh * act'(pre), written from the saved output h */
static void ROW(rnn_bwd)(FT *dpre, const FT *h, const FT *dh, int64_t n, int relu) {
    if (relu) {
        FDL_IVDEP for (int64_t j = 0; j < n; j++) dpre[j] = h[j] > 0 ? dh[j] : (FT)0;
    } else {
        FDL_IVDEP for (int64_t j = 0; j < n; j++) dpre[j] = dh[j] * ((FT)1 - h[j] * h[j]);
    }
}

/* gates (i, f, g, o pre-activations, blocks gs apart), c_prev[n] -> h, c,
 * act (blocks gs apart), tanh_c[n] */
static void ROW(lstm_fwd)(FT *h, FT *c, FT *act, FT *tanh_c,
                          const FT *gates, const FT *c_prev, int64_t n, int64_t gs) {
    FDL_IVDEP for (int64_t j = 0; j < n; j++) {
        FT i = SIGM(gates[j]);
        FT f = SIGM(gates[gs + j]);
        FT g = TANH(gates[2 * gs + j]);
        FT o = SIGM(gates[3 * gs + j]);
        FT cn = f * c_prev[j] + i * g;
        FT tc = TANH(cn);
        act[j] = i;
        act[gs + j] = f;
        act[2 * gs + j] = g;
        act[3 * gs + j] = o;
        c[j] = cn;
        tanh_c[j] = tc;
        h[j] = o * tc;
    }
}

/* dh, dc (NULL: 0) -> dgates (d pre-activations, blocks gs apart), dc_prev[n] */
static void ROW(lstm_bwd)(FT *dgates, FT *dc_prev, const FT *act, const FT *tanh_c,
                          const FT *c_prev, const FT *dh, const FT *dc, int64_t n,
                          int64_t gs) {
    FDL_IVDEP for (int64_t j = 0; j < n; j++) {
        FT i = act[j], f = act[gs + j], g = act[2 * gs + j], o = act[3 * gs + j];
        FT tc = tanh_c[j];
        FT dcj = dh[j] * o * ((FT)1 - tc * tc) + (dc ? dc[j] : (FT)0);
        dgates[j] = dcj * g * i * ((FT)1 - i);
        dgates[gs + j] = dcj * c_prev[j] * f * ((FT)1 - f);
        dgates[2 * gs + j] = dcj * i * ((FT)1 - g * g);
        dgates[3 * gs + j] = dh[j] * tc * o * ((FT)1 - o);
        dc_prev[j] = dcj * f;
    }
}

/* gi, gh (r, z, n blocks gs apart), h_prev[n] -> h[n], act (r, z, n), ghn[n] */
static void ROW(gru_fwd)(FT *h, FT *act, FT *ghn, const FT *gi, const FT *gh,
                         const FT *h_prev, int64_t n, int64_t gs) {
    FDL_IVDEP for (int64_t j = 0; j < n; j++) {
        FT r = SIGM(gi[j] + gh[j]);
        FT z = SIGM(gi[gs + j] + gh[gs + j]);
        FT hn = gh[2 * gs + j];
        FT n = TANH(gi[2 * gs + j] + r * hn);
        act[j] = r;
        act[gs + j] = z;
        act[2 * gs + j] = n;
        ghn[j] = hn;
        h[j] = n + z * (h_prev[j] - n);
    }
}

/* dh[n] -> dgi, dgh (blocks gs apart); dh_prev[n] += dh * z (NULL: skipped) */
static void ROW(gru_bwd)(FT *dgi, FT *dgh, FT *dh_prev, const FT *act, const FT *ghn,
                         const FT *h_prev, const FT *dh, int64_t n, int64_t gs) {
    FDL_IVDEP for (int64_t j = 0; j < n; j++) {
        FT r = act[j], z = act[gs + j], n = act[2 * gs + j];
        FT d = dh[j];
        FT dn = d * ((FT)1 - z) * ((FT)1 - n * n);
        FT dz = d * (h_prev[j] - n) * z * ((FT)1 - z);
        FT dr = dn * ghn[j] * r * ((FT)1 - r);
        dgi[j] = dr;
        dgi[gs + j] = dz;
        dgi[2 * gs + j] = dn;
        dgh[j] = dr;
        dgh[gs + j] = dz;
        dgh[2 * gs + j] = dn * r;
        if (dh_prev) dh_prev[j] += d * z;
    }
}
