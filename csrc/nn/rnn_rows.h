/*
 * rnn_rows.h — one batch row of each recurrent cell, as a template.
 *
 * Legend: H hidden features; one call handles one batch row, so the OpenMP
 * loop over rows lives in the caller (rnn.c) and these loops vectorize at the
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

/* h[H] = act(pre[H]) */
static void ROW(rnn_fwd)(FT *h, const FT *pre, int64_t H, int relu) {
    if (relu) {
        FDL_IVDEP for (int64_t j = 0; j < H; j++) h[j] = pre[j] < 0 ? (FT)0 : pre[j]; /* NaN stays NaN */
    } else {
        FDL_IVDEP for (int64_t j = 0; j < H; j++) h[j] = TANH(pre[j]);
    }
}

/* dpre[H] = dh * act'(pre), written from the saved output h */
static void ROW(rnn_bwd)(FT *dpre, const FT *h, const FT *dh, int64_t H, int relu) {
    if (relu) {
        FDL_IVDEP for (int64_t j = 0; j < H; j++) dpre[j] = h[j] > 0 ? dh[j] : (FT)0;
    } else {
        FDL_IVDEP for (int64_t j = 0; j < H; j++) dpre[j] = dh[j] * ((FT)1 - h[j] * h[j]);
    }
}

/* gates[4H] (i, f, g, o pre-activations), c_prev[H] -> h, c, act[4H], tanh_c[H] */
static void ROW(lstm_fwd)(FT *h, FT *c, FT *act, FT *tanh_c,
                          const FT *gates, const FT *c_prev, int64_t H) {
    FDL_IVDEP for (int64_t j = 0; j < H; j++) {
        FT i = SIGM(gates[j]);
        FT f = SIGM(gates[H + j]);
        FT g = TANH(gates[2 * H + j]);
        FT o = SIGM(gates[3 * H + j]);
        FT cn = f * c_prev[j] + i * g;
        FT tc = TANH(cn);
        act[j] = i;
        act[H + j] = f;
        act[2 * H + j] = g;
        act[3 * H + j] = o;
        c[j] = cn;
        tanh_c[j] = tc;
        h[j] = o * tc;
    }
}

/* dh, dc (NULL: 0) -> dgates[4H] (d pre-activations), dc_prev[H] */
static void ROW(lstm_bwd)(FT *dgates, FT *dc_prev, const FT *act, const FT *tanh_c,
                          const FT *c_prev, const FT *dh, const FT *dc, int64_t H) {
    FDL_IVDEP for (int64_t j = 0; j < H; j++) {
        FT i = act[j], f = act[H + j], g = act[2 * H + j], o = act[3 * H + j];
        FT tc = tanh_c[j];
        FT dcj = dh[j] * o * ((FT)1 - tc * tc) + (dc ? dc[j] : (FT)0);
        dgates[j] = dcj * g * i * ((FT)1 - i);
        dgates[H + j] = dcj * c_prev[j] * f * ((FT)1 - f);
        dgates[2 * H + j] = dcj * i * ((FT)1 - g * g);
        dgates[3 * H + j] = dh[j] * tc * o * ((FT)1 - o);
        dc_prev[j] = dcj * f;
    }
}

/* gi, gh[3H] (r, z, n), h_prev[H] -> h[H], act[3H] = (r, z, n), ghn[H] */
static void ROW(gru_fwd)(FT *h, FT *act, FT *ghn, const FT *gi, const FT *gh,
                         const FT *h_prev, int64_t H) {
    FDL_IVDEP for (int64_t j = 0; j < H; j++) {
        FT r = SIGM(gi[j] + gh[j]);
        FT z = SIGM(gi[H + j] + gh[H + j]);
        FT hn = gh[2 * H + j];
        FT n = TANH(gi[2 * H + j] + r * hn);
        act[j] = r;
        act[H + j] = z;
        act[2 * H + j] = n;
        ghn[j] = hn;
        h[j] = n + z * (h_prev[j] - n);
    }
}

/* dh[H] -> dgi, dgh[3H]; dh_prev[H] += dh * z (NULL: skipped) */
static void ROW(gru_bwd)(FT *dgi, FT *dgh, FT *dh_prev, const FT *act, const FT *ghn,
                         const FT *h_prev, const FT *dh, int64_t H) {
    FDL_IVDEP for (int64_t j = 0; j < H; j++) {
        FT r = act[j], z = act[H + j], n = act[2 * H + j];
        FT d = dh[j];
        FT dn = d * ((FT)1 - z) * ((FT)1 - n * n);
        FT dz = d * (h_prev[j] - n) * z * ((FT)1 - z);
        FT dr = dn * ghn[j] * r * ((FT)1 - r);
        dgi[j] = dr;
        dgi[H + j] = dz;
        dgi[2 * H + j] = dn;
        dgh[j] = dr;
        dgh[H + j] = dz;
        dgh[2 * H + j] = dn * r;
        if (dh_prev) dh_prev[j] += d * z;
    }
}
