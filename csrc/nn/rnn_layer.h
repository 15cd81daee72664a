/*
 * rnn_layer.h — one recurrent layer, one direction, forward and backward
 * through time, as a template over the element type (included by rnn.c).
 *
 * Legend: Ts time steps, B batch, I input, H hidden, G = gates * H,
 * BH = B*H. Buffers are indexed by time t; step s of the recurrence handles
 * t = s (forward) or t = Ts-1-s (reverse). In hs/cs (Ts+1 slots) the state
 * before time t sits in slot ip(t) and the state after it in slot io(t):
 *   forward  ip = t,   io = t+1;     reverse  ip = t+1,  io = t.
 * So the previous states of all steps, hs + (reverse ? BH : 0), form one
 * (Ts*B, H) matrix aligned row by row with the gate buffers, and dW_hh is a
 * single GEMM over all steps.
 *
 * Threads: the time loop is ONE parallel region. Each thread owns a fixed
 * slice [j0, j1) of the hidden units (16-unit blocks) and, every step, runs
 * the GEMM columns and the cell math of its own units; one barrier per step
 * publishes h_t (forward) or d(gates)_t (backward) to the other threads.
 * A region per GEMM and per cell call would cost 4 to 10 fork/joins and
 * barriers per step, and each of them stalls for a whole time slice when
 * another process holds a core. The GEMMs inside run on their thread only
 * (nested regions are inactive). Every output element is computed by the
 * same operations in the same order whatever the slices are, so results are
 * bitwise identical for any thread count. GEMM errors cannot happen with the
 * sizes checked here; one would be reported after the loop.
 *
 * Included between runtime/types_begin.h and types_end.h (T, S; FN(name) is
 * name_f32 or name_f64); rnn.c defines gemm_ex_f32/_f64 (fdl_sgemm_ex,
 * fdl_dgemm_ex) and rows_f32/_f64 (the cell row table) before including.
 */

#define IP(t) (reverse ? (t) + 1 : (t))
#define IO(t) (reverse ? (t) : (t) + 1)
#define STEP_T(s) (reverse ? Ts - 1 - (s) : (s))
#define LD(n) FDL_MAX((n), 1)

#ifdef _OPENMP
#define TEAM_BEGIN(nt)                                                                   \
    _Pragma("omp parallel num_threads(nt) if(nt > 1)")                                   \
    {                                                                                    \
        const int tid_ = omp_get_thread_num(), nth_ = omp_get_num_threads();
#define TEAM_BARRIER()                                                                   \
    do {                                                                                 \
        if (nth_ > 1) { _Pragma("omp barrier") }    /* a team of one skips the call */   \
    } while (0)
#else
#define TEAM_BEGIN(nt) {                                                                 \
        const int tid_ = 0, nth_ = 1;
#define TEAM_BARRIER()
#endif
#define TEAM_END() }
#define NOTE_ERR(status, st)                                                             \
    do {                                                                                 \
        if (st) {                                                                        \
            _Pragma("omp critical")                                                    \
            status = status ? status : st;                                               \
        }                                                                                \
    } while (0)

/* db[C] += column sums of m (R, C), and db2 += the same sums (db2 may be
 * NULL). Threads own column blocks and add rows in order, so the sum is the
 * same for any thread count. */
static void FN(colsum_add)(T *db, T *db2, const T *m, int64_t R, int64_t C) {
    enum { CB = 64 };
    int64_t nb = FDL_CDIV(C, CB);
    int nt = (int)FDL_MIN(fdl_threads_for(R * C), nb);
    #pragma omp parallel for schedule(static) num_threads(nt) if(nt > 1)
    for (int64_t blk = 0; blk < nb; blk++) {
        int64_t j0 = blk * CB, n = FDL_MIN(CB, C - j0);
        T acc[CB] = {0};
        for (int64_t r = 0; r < R; r++) {
            const T *row = m + r * C + j0;
            for (int64_t j = 0; j < n; j++) acc[j] += row[j];
        }
        if (db) for (int64_t j = 0; j < n; j++) db[j0 + j] += acc[j];
        if (db2) for (int64_t j = 0; j < n; j++) db2[j0 + j] += acc[j];
    }
}

/* dst (C, R) = src (R, C)^T, in 32x32 tiles; threads own row-tiles of dst. */
static void FN(transpose)(T *dst, const T *src, int64_t R, int64_t C) {
    enum { TB = 32 };
    int64_t nb = FDL_CDIV(C, TB);
    int nt = (int)FDL_MIN(fdl_threads_for(R * C), nb);
    #pragma omp parallel for schedule(static) num_threads(nt) if(nt > 1)
    for (int64_t cb = 0; cb < nb; cb++) {
        int64_t c1 = FDL_MIN(C, (cb + 1) * TB);
        for (int64_t r0 = 0; r0 < R; r0 += TB) {
            int64_t r1 = FDL_MIN(R, r0 + TB);
            for (int64_t c = cb * TB; c < c1; c++)
                for (int64_t r = r0; r < r1; r++) dst[c * R + r] = src[r * C + c];
        }
    }
}

/* The prelude every layer shares: the input projection of all Ts steps as one
 * GEMM, out[Ts*B, G] = x[Ts*B, I] w_ih^T + b_ih, and w_hh (G, H) transposed
 * into w_hh_t (H, G), the layout whose per-step GEMM packs fastest. */
static int FN(project_inputs)(T *out, T *w_hh_t, const T *x, const T *w_ih,
                              const T *b_ih, const T *w_hh, int64_t Ts, int64_t B,
                              int64_t I, int64_t G, int64_t H) {
    int st = FN(gemm_ex)(0, 1, Ts * B, G, I, 1, x, LD(I), w_ih, LD(I), 0, out, G, b_ih,
                     FDL_ACT_NONE);
    if (st) return st;
    if (w_hh_t) FN(transpose)(w_hh_t, w_hh, G, H);
    return FDL_OK;
}

/* Small batches (the small-M GEMM's dot form) read W_hh's rows in place; larger
 * ones multiply by the transposed copy w_hh_t, which project_inputs makes. */
static int FN(step_direct)(int64_t B) {
    return B <= FDL_GEMM_SMALLM_DOT_MAX;
}

/* out[:, col:col+n] = beta * out + h_prev W_hh[col:col+n]^T (+ bias[col:col+n]),
 * rows of stride G: the recurrent GEMM of one block of gate columns. */
static int FN(step_gemm)(int64_t B, int64_t n, int64_t H, int64_t G, int64_t col,
                         const T *hp, const T *w_hh, const T *w_hh_t, T beta, T *out,
                         const T *bias) {
    if (!w_hh_t)
        return FN(gemm_ex)(0, 1, B, n, H, 1, hp, H, w_hh + col * H, H, beta, out + col, G,
                           bias ? bias + col : NULL, FDL_ACT_NONE);
    return FN(gemm_ex)(0, 0, B, n, H, 1, hp, H, w_hh_t + col, G, beta, out + col, G,
                       bias ? bias + col : NULL, FDL_ACT_NONE);
}

static void FN(add_to)(T *dst, const T *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] += src[i];
}

/* dH (Ts*B, H) = dy (rows of stride ldy) or 0, then dH[t_last] += dh_n */
static void FN(init_dh)(T *dH, const T *dy, int64_t ldy, const T *dh_n,
                        int64_t Ts, int64_t B, int64_t H, int reverse) {
    if (dy) {
        for (int64_t r = 0; r < Ts * B; r++) memcpy(dH + r * H, dy + r * ldy, H * sizeof(T));
    } else {
        memset(dH, 0, Ts * B * H * sizeof(T));
    }
    if (dh_n) FN(add_to)(dH + (reverse ? 0 : Ts - 1) * B * H, dh_n, B * H);
}

static void FN(set_state)(T *slot, const T *init, int64_t n) {
    if (init) memcpy(slot, init, n * sizeof(T));
    else memset(slot, 0, n * sizeof(T));
}

/* The shared tail of every backward: dW_ih, dW_hh, dx and the biases from
 * the gate gradients of all steps at once. dgi, dgh (Ts*B, G); dgh may equal dgi. */
static int FN(weight_grads)(T *dx, T *dw_ih, T *dw_hh, T *db_ih, T *db_hh,
                            const T *dgi, const T *dgh, const T *hprev, const T *x,
                            const T *w_ih, int64_t Ts, int64_t B, int64_t I, int64_t H,
                            int64_t G) {
    int64_t R = Ts * B;
    int st;
    if (dw_hh && (st = FN(gemm_ex)(1, 0, G, H, R, 1, dgh, LD(G), hprev, LD(H), 1, dw_hh, LD(H),
                               NULL, FDL_ACT_NONE)))
        return st;
    if (dw_ih && (st = FN(gemm_ex)(1, 0, G, I, R, 1, dgi, LD(G), x, LD(I), 1, dw_ih, LD(I),
                               NULL, FDL_ACT_NONE)))
        return st;
    if (dx && (st = FN(gemm_ex)(0, 0, R, I, G, 1, dgi, LD(G), w_ih, LD(I), 1, dx, LD(I),
                            NULL, FDL_ACT_NONE)))
        return st;
    if (dgi == dgh) {               /* RNN, LSTM: both biases get the same sums */
        if (db_ih || db_hh) FN(colsum_add)(db_ih, db_hh, dgi, R, G);
    } else {
        if (db_ih) FN(colsum_add)(db_ih, NULL, dgi, R, G);
        if (db_hh) FN(colsum_add)(db_hh, NULL, dgh, R, G);
    }
    return FDL_OK;
}

/* ---- Elman RNN ---------------------------------------------------------------------- */
/* x (Ts,B,I) -> hs (Ts+1,B,H). The input projection is written straight into
 * the output slots, and each step adds h_prev W_hh^T + b_hh there and
 * activates in place. */
static int FN(rnn_layer_forward)(T *hs, T *work, const T *x, const T *h0,
                              const T *w_ih, const T *w_hh, const T *b_ih, const T *b_hh,
                              int64_t Ts, int64_t B, int64_t I, int64_t H,
                              int reverse, int relu) {
    const int64_t BH = B * H;
    FN(set_state)(hs + (reverse ? Ts : 0) * BH, h0, BH);
    if (Ts == 0 || BH == 0) return FDL_OK;
    T *out = hs + (reverse ? 0 : BH), *w_hh_t = work;
    int st = FN(project_inputs)(out, w_hh_t, x, w_ih, b_ih, w_hh, Ts, B, I, H, H);
    if (st) return st;
    const FN(fdl_rnn_rows) *R = FN(rows)();
    const int nt = step_threads(B, H, H);
    int status = FDL_OK;
    TEAM_BEGIN(nt)
    int64_t j0, j1;
    unit_range(H, tid_, nth_, &j0, &j1);
    const int64_t n = j1 - j0;
    for (int64_t s = 0; s < Ts; s++) {
        int64_t t = STEP_T(s);
        T *ht = hs + IO(t) * BH;
        if (n > 0) {
            int e = FN(gemm_ex)(0, 0, B, n, H, 1, hs + IP(t) * BH, H, w_hh_t + j0, H, 1, ht + j0, H,
                            b_hh ? b_hh + j0 : NULL, FDL_ACT_NONE);
            NOTE_ERR(status, e);
            for (int64_t b = 0; b < B; b++) R->rnn_fwd(ht + b * H + j0, ht + b * H + j0, n, relu);
        }
        TEAM_BARRIER();
    }
    TEAM_END()
    return status;
}

/* work: Ts*B*H (dH, turned into d pre-activations in place) */
static int FN(rnn_layer_backward)(T *dx, T *dh0, T *dw_ih, T *dw_hh, T *db_ih, T *db_hh,
                               T *work, const T *hs, const T *x,
                               const T *w_ih, const T *w_hh,
                               const T *dy, int64_t ldy, const T *dh_n,
                               int64_t Ts, int64_t B, int64_t I, int64_t H,
                               int reverse, int relu) {
    const int64_t BH = B * H;
    if (Ts == 0) {                              /* h_n is h0 */
        if (dh0 && dh_n) FN(add_to)(dh0, dh_n, BH);
        return FDL_OK;
    }
    if (BH == 0) return FDL_OK;
    T *dH = work;
    FN(init_dh)(dH, dy, ldy, dh_n, Ts, B, H, reverse);
    const FN(fdl_rnn_rows) *R = FN(rows)();
    const int nt = step_threads(B, H, H);
    int status = FDL_OK;
    TEAM_BEGIN(nt)
    int64_t j0, j1;
    unit_range(H, tid_, nth_, &j0, &j1);
    const int64_t n = j1 - j0;
    for (int64_t s = Ts - 1; s >= 0; s--) {
        int64_t t = STEP_T(s);
        T *dp = dH + t * BH;
        const T *ht = hs + IO(t) * BH;
        for (int64_t b = 0; b < B && n > 0; b++)
            R->rnn_bwd(dp + b * H + j0, ht + b * H + j0, dp + b * H + j0, n, relu);
        TEAM_BARRIER();
        T *dst = s > 0 ? dH + STEP_T(s - 1) * BH : dh0;
        if (dst && n > 0) {
            int e = FN(gemm_ex)(0, 0, B, n, H, 1, dp, H, w_hh + j0, H, 1, dst + j0, H, NULL,
                            FDL_ACT_NONE);
            NOTE_ERR(status, e);
        }
    }
    TEAM_END()
    if (status) return status;
    return FN(weight_grads)(dx, dw_ih, dw_hh, db_ih, db_hh, dH, dH, hs + (reverse ? BH : 0),
                            x, w_ih, Ts, B, I, H, H);
}

/* ---- LSTM --------------------------------------------------------------------------- */
/* x (Ts,B,I) -> hs, cs (Ts+1,B,H), act (Ts,B,4H), tanh_c (Ts,B,H).
 * act first holds the pre-activations (projection, then + h_prev W_hh^T + b_hh
 * per step); the cell kernel activates them in place. */
static int FN(lstm_layer_forward)(T *hs, T *cs, T *act, T *tanh_c, T *work,
                               const T *x, const T *h0, const T *c0,
                               const T *w_ih, const T *w_hh, const T *b_ih, const T *b_hh,
                               int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse) {
    const int64_t BH = B * H, G = 4 * H;
    FN(set_state)(hs + (reverse ? Ts : 0) * BH, h0, BH);
    FN(set_state)(cs + (reverse ? Ts : 0) * BH, c0, BH);
    if (Ts == 0 || BH == 0) return FDL_OK;
    T *w_hh_t = FN(step_direct)(B) ? NULL : work;
    int st = FN(project_inputs)(act, w_hh_t, x, w_ih, b_ih, w_hh, Ts, B, I, G, H);
    if (st) return st;
    const FN(fdl_rnn_rows) *R = FN(rows)();
    const int nt = step_threads(B, G, H);
    int status = FDL_OK;
    TEAM_BEGIN(nt)
    int64_t j0, j1;
    unit_range(H, tid_, nth_, &j0, &j1);
    const int64_t n = j1 - j0;
    for (int64_t s = 0; s < Ts; s++) {
        int64_t t = STEP_T(s);
        T *gt = act + t * B * G;
        const T *hp = hs + IP(t) * BH, *cp = cs + IP(t) * BH;
        T *ho = hs + IO(t) * BH, *co = cs + IO(t) * BH, *tc = tanh_c + t * BH;
        if (n == H) {   /* one thread owns every unit: the four gate blocks in one GEMM */
            int e = FN(step_gemm)(B, G, H, G, 0, hp, w_hh, w_hh_t, 1, gt, b_hh);
            NOTE_ERR(status, e);
        } else {
            for (int64_t g = 0; g < 4 && n > 0; g++) {
                int e = FN(step_gemm)(B, n, H, G, g * H + j0, hp, w_hh, w_hh_t, 1, gt, b_hh);
                NOTE_ERR(status, e);
            }
        }
        for (int64_t b = 0; b < B && n > 0; b++) {
            T *gb = gt + b * G + j0;
            R->lstm_fwd(ho + b * H + j0, co + b * H + j0, gb, tc + b * H + j0, gb,
                        cp + b * H + j0, n, H);
        }
        TEAM_BARRIER();
    }
    TEAM_END()
    return status;
}

/* work: Ts*B*4H (dG) + Ts*B*H (dH) + B*H (dc) */
static int FN(lstm_layer_backward)(T *dx, T *dh0, T *dc0, T *dw_ih, T *dw_hh,
                                T *db_ih, T *db_hh, T *work,
                                const T *hs, const T *cs, const T *act, const T *tanh_c,
                                const T *x, const T *w_ih, const T *w_hh,
                                const T *dy, int64_t ldy, const T *dh_n, const T *dc_n,
                                int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse) {
    const int64_t BH = B * H, G = 4 * H;
    if (Ts == 0) {
        if (dh0 && dh_n) FN(add_to)(dh0, dh_n, BH);
        if (dc0 && dc_n) FN(add_to)(dc0, dc_n, BH);
        return FDL_OK;
    }
    if (BH == 0) return FDL_OK;
    T *dG = work, *dH = dG + Ts * B * G, *dc = dH + Ts * BH;
    FN(init_dh)(dH, dy, ldy, dh_n, Ts, B, H, reverse);
    FN(set_state)(dc, dc_n, BH);
    const FN(fdl_rnn_rows) *R = FN(rows)();
    const int nt = step_threads(B, G, H);
    int status = FDL_OK;
    TEAM_BEGIN(nt)
    int64_t j0, j1;
    unit_range(H, tid_, nth_, &j0, &j1);
    const int64_t n = j1 - j0;
    for (int64_t s = Ts - 1; s >= 0; s--) {
        int64_t t = STEP_T(s);
        T *dgt = dG + t * B * G;
        const T *at = act + t * B * G, *tc = tanh_c + t * BH, *cp = cs + IP(t) * BH;
        const T *dh = dH + t * BH;
        for (int64_t b = 0; b < B && n > 0; b++) {
            int64_t o = b * H + j0;
            R->lstm_bwd(dgt + b * G + j0, dc + o, at + b * G + j0, tc + o, cp + o, dh + o,
                        dc + o, n, H);
        }
        TEAM_BARRIER();
        T *dst = s > 0 ? dH + STEP_T(s - 1) * BH : dh0;
        if (dst && n > 0) {
            int e = FN(gemm_ex)(0, 0, B, n, G, 1, dgt, G, w_hh + j0, H, 1, dst + j0, H, NULL,
                            FDL_ACT_NONE);
            NOTE_ERR(status, e);
        }
    }
    TEAM_END()
    if (status) return status;
    if (dc0) FN(add_to)(dc0, dc, BH);
    return FN(weight_grads)(dx, dw_ih, dw_hh, db_ih, db_hh, dG, dG, hs + (reverse ? BH : 0),
                            x, w_ih, Ts, B, I, H, G);
}

/* ---- GRU ---------------------------------------------------------------------------- */
/* x (Ts,B,I) -> hs (Ts+1,B,H), act (Ts,B,3H) (r, z, n), ghn (Ts,B,H).
 * work: W_hh^T (H,3H), then gh (B,3H) = h_prev W_hh^T + b_hh, which stays
 * apart from the input projection because r multiplies only its n block. */
static int FN(gru_layer_forward)(T *hs, T *act, T *ghn, T *work,
                              const T *x, const T *h0,
                              const T *w_ih, const T *w_hh, const T *b_ih, const T *b_hh,
                              int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse) {
    const int64_t BH = B * H, G = 3 * H;
    FN(set_state)(hs + (reverse ? Ts : 0) * BH, h0, BH);
    if (Ts == 0 || BH == 0) return FDL_OK;
    T *w_hh_t = FN(step_direct)(B) ? NULL : work, *gh = work + G * H;
    int st = FN(project_inputs)(act, w_hh_t, x, w_ih, b_ih, w_hh, Ts, B, I, G, H);
    if (st) return st;
    const FN(fdl_rnn_rows) *R = FN(rows)();
    const int nt = step_threads(B, G, H);
    int status = FDL_OK;
    TEAM_BEGIN(nt)
    int64_t j0, j1;
    unit_range(H, tid_, nth_, &j0, &j1);
    const int64_t n = j1 - j0;
    for (int64_t s = 0; s < Ts; s++) {
        int64_t t = STEP_T(s);
        T *at = act + t * B * G, *ho = hs + IO(t) * BH, *gn = ghn + t * BH;
        const T *hp = hs + IP(t) * BH;
        if (n == H) {   /* one thread owns every unit: the three gate blocks in one GEMM */
            int e = FN(step_gemm)(B, G, H, G, 0, hp, w_hh, w_hh_t, 0, gh, b_hh);
            NOTE_ERR(status, e);
        } else {
            for (int64_t g = 0; g < 3 && n > 0; g++) {
                int e = FN(step_gemm)(B, n, H, G, g * H + j0, hp, w_hh, w_hh_t, 0, gh, b_hh);
                NOTE_ERR(status, e);
            }
        }
        for (int64_t b = 0; b < B && n > 0; b++) {
            int64_t o = b * H + j0;
            R->gru_fwd(ho + o, at + b * G + j0, gn + o, at + b * G + j0, gh + b * G + j0,
                       hp + o, n, H);
        }
        TEAM_BARRIER();
    }
    TEAM_END()
    return status;
}

/* work: 2 * Ts*B*3H (dgi, dgh) + Ts*B*H (dH) */
static int FN(gru_layer_backward)(T *dx, T *dh0, T *dw_ih, T *dw_hh, T *db_ih, T *db_hh,
                               T *work, const T *hs, const T *act, const T *ghn,
                               const T *x, const T *w_ih, const T *w_hh,
                               const T *dy, int64_t ldy, const T *dh_n,
                               int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse) {
    const int64_t BH = B * H, G = 3 * H;
    if (Ts == 0) {
        if (dh0 && dh_n) FN(add_to)(dh0, dh_n, BH);
        return FDL_OK;
    }
    if (BH == 0) return FDL_OK;
    T *dgi = work, *dgh = dgi + Ts * B * G, *dH = dgh + Ts * B * G;
    FN(init_dh)(dH, dy, ldy, dh_n, Ts, B, H, reverse);
    const FN(fdl_rnn_rows) *R = FN(rows)();
    const int nt = step_threads(B, G, H);
    int status = FDL_OK;
    TEAM_BEGIN(nt)
    int64_t j0, j1;
    unit_range(H, tid_, nth_, &j0, &j1);
    const int64_t n = j1 - j0;
    for (int64_t s = Ts - 1; s >= 0; s--) {
        int64_t t = STEP_T(s);
        T *dst = s > 0 ? dH + STEP_T(s - 1) * BH : dh0;
        T *dgit = dgi + t * B * G, *dght = dgh + t * B * G;
        const T *at = act + t * B * G, *gn = ghn + t * BH, *hp = hs + IP(t) * BH;
        const T *dh = dH + t * BH;
        for (int64_t b = 0; b < B && n > 0; b++) {
            int64_t o = b * H + j0;
            R->gru_bwd(dgit + b * G + j0, dght + b * G + j0, dst ? dst + o : NULL,
                       at + b * G + j0, gn + o, hp + o, dh + o, n, H);
        }
        TEAM_BARRIER();
        if (dst && n > 0) {
            int e = FN(gemm_ex)(0, 0, B, n, G, 1, dght, G, w_hh + j0, H, 1, dst + j0, H, NULL,
                            FDL_ACT_NONE);
            NOTE_ERR(status, e);
        }
    }
    TEAM_END()
    if (status) return status;
    return FN(weight_grads)(dx, dw_ih, dw_hh, db_ih, db_hh, dgi, dgh, hs + (reverse ? BH : 0),
                            x, w_ih, Ts, B, I, H, G);
}

#undef IP
#undef IO
#undef STEP_T
#undef LD
#undef TEAM_BEGIN
#undef TEAM_BARRIER
#undef TEAM_END
#undef NOTE_ERR
