/*
 * rnn_rows.h — one batch row of each recurrent cell, as a template.
 *
 * Legend: n hidden units handled by the call, gs the distance between gate
 * blocks (H for a whole row; a thread that owns units [j0, j0+n) of the
 * hidden state passes pointers offset by j0 and gs = H). One call handles
 * one batch row; the OpenMP split lives in the caller (rnn.c, rnn_layer.h),
 * and these loops vectorize at the
 * width of the file that includes this header (rnn.c generic, rnn_avx2.c,
 * rnn_avx512.c through rnn_isa_rows.h). It is a body of runtime/template.h,
 * included between types_begin.h and types_end.h (T, S; FN(n) = n_f32 or
 * n_f64); float32 uses the vectorizable sigmoid and tanh of rnn_isa.h,
 * float64 libm's.
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

#ifdef NN_F64
#define RNN_SIGM(x) (1.0 / (1.0 + exp(-(x))))
#define RNN_TANH(x) tanh(x)
#else
#define RNN_SIGM(x) FDL_SIGMF(x)
#define RNN_TANH(x) fdl_rnn_tanhf(x)
#endif

/* h[n] = act(pre[n]) */
static void FN(rnn_fwd)(T *h, const T *pre, int64_t n, int relu) {
    if (relu) {
        FDL_IVDEP for (int64_t j = 0; j < n; j++) h[j] = pre[j] < 0 ? (T)0 : pre[j]; /* NaN stays NaN */
    } else {
        FDL_IVDEP for (int64_t j = 0; j < n; j++) h[j] = RNN_TANH(pre[j]);
    }
}

/* dpre[n] = dh * act'(pre), written from the saved output h */
static void FN(rnn_bwd)(T *dpre, const T *h, const T *dh, int64_t n, int relu) {
    if (relu) {
        FDL_IVDEP for (int64_t j = 0; j < n; j++) dpre[j] = h[j] > 0 ? dh[j] : (T)0;
    } else {
        FDL_IVDEP for (int64_t j = 0; j < n; j++) dpre[j] = dh[j] * ((T)1 - h[j] * h[j]);
    }
}

/* gates (i, f, g, o pre-activations, blocks gs apart), c_prev[n] -> h, c,
 * act (blocks gs apart), tanh_c[n] */
static void FN(lstm_fwd)(T *h, T *c, T *act, T *tanh_c,
                          const T *gates, const T *c_prev, int64_t n, int64_t gs) {
    FDL_IVDEP for (int64_t j = 0; j < n; j++) {
        T i = RNN_SIGM(gates[j]);
        T f = RNN_SIGM(gates[gs + j]);
        T g = RNN_TANH(gates[2 * gs + j]);
        T o = RNN_SIGM(gates[3 * gs + j]);
        T cn = f * c_prev[j] + i * g;
        T tc = RNN_TANH(cn);
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
static void FN(lstm_bwd)(T *dgates, T *dc_prev, const T *act, const T *tanh_c,
                          const T *c_prev, const T *dh, const T *dc, int64_t n,
                          int64_t gs) {
    FDL_IVDEP for (int64_t j = 0; j < n; j++) {
        T i = act[j], f = act[gs + j], g = act[2 * gs + j], o = act[3 * gs + j];
        T tc = tanh_c[j];
        T dcj = dh[j] * o * ((T)1 - tc * tc) + (dc ? dc[j] : (T)0);
        dgates[j] = dcj * g * i * ((T)1 - i);
        dgates[gs + j] = dcj * c_prev[j] * f * ((T)1 - f);
        dgates[2 * gs + j] = dcj * i * ((T)1 - g * g);
        dgates[3 * gs + j] = dh[j] * tc * o * ((T)1 - o);
        dc_prev[j] = dcj * f;
    }
}

/* gi, gh (r, z, n blocks gs apart), h_prev[n] -> h[n], act (r, z, n), ghn[n] */
static void FN(gru_fwd)(T *h, T *act, T *ghn, const T *gi, const T *gh,
                         const T *h_prev, int64_t n, int64_t gs) {
    FDL_IVDEP for (int64_t j = 0; j < n; j++) {
        T r = RNN_SIGM(gi[j] + gh[j]);
        T z = RNN_SIGM(gi[gs + j] + gh[gs + j]);
        T hn = gh[2 * gs + j];
        T n = RNN_TANH(gi[2 * gs + j] + r * hn);
        act[j] = r;
        act[gs + j] = z;
        act[2 * gs + j] = n;
        ghn[j] = hn;
        h[j] = n + z * (h_prev[j] - n);
    }
}

/* dh[n] -> dgi, dgh (blocks gs apart); dh_prev[n] += dh * z (NULL: skipped) */
static void FN(gru_bwd)(T *dgi, T *dgh, T *dh_prev, const T *act, const T *ghn,
                         const T *h_prev, const T *dh, int64_t n, int64_t gs) {
    FDL_IVDEP for (int64_t j = 0; j < n; j++) {
        T r = act[j], z = act[gs + j], n = act[2 * gs + j];
        T d = dh[j];
        T dn = d * ((T)1 - z) * ((T)1 - n * n);
        T dz = d * (h_prev[j] - n) * z * ((T)1 - z);
        T dr = dn * ghn[j] * r * ((T)1 - r);
        dgi[j] = dr;
        dgi[gs + j] = dz;
        dgi[2 * gs + j] = dn;
        dgh[j] = dr;
        dgh[gs + j] = dz;
        dgh[2 * gs + j] = dn * r;
        if (dh_prev) dh_prev[j] += d * z;
    }
}

#undef RNN_SIGM
#undef RNN_TANH
