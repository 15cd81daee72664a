/*
 * rnn.c — recurrent cells and layers (see fastdl/rnn.h for the equations).
 *
 * Legend: Ts time steps, B batch, I input features, H hidden features,
 * G gates per cell (RNN 1, LSTM 4, GRU 3), BH = B*H.
 *
 * Cell kernels: OpenMP over batch rows (independent), each row one call of
 * the per-ISA row loop of rnn_rows.h. Layer kernels: the template
 * rnn_layer.h, instantiated for float (fdl_sgemm_ex) and double
 * (fdl_dgemm_ex).
 */
#include <math.h>
#include <string.h>

#include "gemm/config.h"
#include "runtime/internal.h"
#include "runtime/template.h"
#include "nn/rnn_isa.h"
#include "runtime/dispatch.h"

/* ---- row loops: generic float32 (the ISA table's fallback) and float64 ---------- */
#define FDL_SFX generic
#include "nn/rnn_isa_rows.h"

#define NN_F64
#include "runtime/types_begin.h"
#include "nn/rnn_rows.h"
#include "runtime/types_end.h"

static const fdl_rnn_rows_f64 rows_f64_table = {rnn_fwd_f64, rnn_bwd_f64, lstm_fwd_f64,
                                                 lstm_bwd_f64, gru_fwd_f64, gru_bwd_f64};

static const fdl_rnn_rows_f64 *rows_f64(void) { return &rows_f64_table; }

static const fdl_rnn_rows_f32 *rows_f32(void) { return fdl_isa_kernels()->rnn_f32; }

/* Threads for B rows of G*H gate elements each. A transcendental costs
 * about as much as 8 streamed elements, hence the weight. */
static inline int cell_threads(int64_t B, int64_t GH) {
    return B > 1 ? (int)FDL_MIN(fdl_threads_for(8 * B * GH), B) : 1;
}

#define ROWS_LOOP(B, GH, body)                                                        \
    do {                                                                              \
        int nt_ = cell_threads(B, GH);                                                \
        _Pragma("omp parallel for schedule(static) num_threads(nt_) if(nt_ > 1)")     \
        for (int64_t b = 0; b < (B); b++) { body; }                                   \
    } while (0)

/* ---- cell kernels ---------------------------------------------------------------- */
/* pre, h: (B,H) */
static int rnn_cell_forward_f32(float *h, const float *pre, int64_t B, int64_t H,
                              int relu) {
    if (B < 0 || H < 0) return FDL_ERR_ARG;
    if (B * H > 0 && (!h || !pre)) return FDL_ERR_NULL;
    const fdl_rnn_rows_f32 *r = rows_f32();
    ROWS_LOOP(B, H, r->rnn_fwd(h + b * H, pre + b * H, H, relu));
    return FDL_OK;
}
static int rnn_cell_forward_f64(double *h, const double *pre, int64_t B, int64_t H,
                              int relu) {
    if (B < 0 || H < 0) return FDL_ERR_ARG;
    if (B * H > 0 && (!h || !pre)) return FDL_ERR_NULL;
    ROWS_LOOP(B, H, rnn_fwd_f64(h + b * H, pre + b * H, H, relu));
    return FDL_OK;
}
/* dpre, h, dh: (B,H) */
static int rnn_cell_backward_f32(float *dpre, const float *h, const float *dh, int64_t B,
                               int64_t H, int relu) {
    if (B < 0 || H < 0) return FDL_ERR_ARG;
    if (B * H > 0 && (!dpre || !h || !dh)) return FDL_ERR_NULL;
    const fdl_rnn_rows_f32 *r = rows_f32();
    ROWS_LOOP(B, H, r->rnn_bwd(dpre + b * H, h + b * H, dh + b * H, H, relu));
    return FDL_OK;
}
static int rnn_cell_backward_f64(double *dpre, const double *h, const double *dh, int64_t B,
                               int64_t H, int relu) {
    if (B < 0 || H < 0) return FDL_ERR_ARG;
    if (B * H > 0 && (!dpre || !h || !dh)) return FDL_ERR_NULL;
    ROWS_LOOP(B, H, rnn_bwd_f64(dpre + b * H, h + b * H, dh + b * H, H, relu));
    return FDL_OK;
}

/* gates, act: (B,4H); h, c, tanh_c, c_prev: (B,H) */
#define LSTM_FWD_ARGS() h + b * H, c + b * H, act + b * 4 * H, tanh_c + b * H,             \
                         gates + b * 4 * H, c_prev + b * H, H, H
int fdl_lstm_cell_forward_f32(float *h, float *c, float *act, float *tanh_c,
                               const float *gates, const float *c_prev, int64_t B, int64_t H) {
    if (B < 0 || H < 0) return FDL_ERR_ARG;
    if (B * H > 0 && (!h || !c || !act || !tanh_c || !gates || !c_prev)) return FDL_ERR_NULL;
    const fdl_rnn_rows_f32 *r = rows_f32();
    ROWS_LOOP(B, 4 * H, r->lstm_fwd(LSTM_FWD_ARGS()));
    return FDL_OK;
}
int fdl_lstm_cell_forward_f64(double *h, double *c, double *act, double *tanh_c,
                               const double *gates, const double *c_prev, int64_t B,
                               int64_t H) {
    if (B < 0 || H < 0) return FDL_ERR_ARG;
    if (B * H > 0 && (!h || !c || !act || !tanh_c || !gates || !c_prev)) return FDL_ERR_NULL;
    ROWS_LOOP(B, 4 * H, lstm_fwd_f64(LSTM_FWD_ARGS()));
    return FDL_OK;
}

/* dgates, act: (B,4H); the rest (B,H) */
#define LSTM_BWD_ARGS() dgates + b * 4 * H, dc_prev + b * H, act + b * 4 * H,                \
                        tanh_c + b * H, c_prev + b * H, dh + b * H, dc ? dc + b * H : NULL, H, H
int fdl_lstm_cell_backward_f32(float *dgates, float *dc_prev, const float *act,
                                const float *tanh_c, const float *c_prev, const float *dh,
                                const float *dc, int64_t B, int64_t H) {
    if (B < 0 || H < 0) return FDL_ERR_ARG;
    if (B * H > 0 && (!dgates || !dc_prev || !act || !tanh_c || !c_prev || !dh)) return FDL_ERR_NULL;
    const fdl_rnn_rows_f32 *r = rows_f32();
    ROWS_LOOP(B, 4 * H, r->lstm_bwd(LSTM_BWD_ARGS()));
    return FDL_OK;
}
int fdl_lstm_cell_backward_f64(double *dgates, double *dc_prev, const double *act,
                                const double *tanh_c, const double *c_prev, const double *dh,
                                const double *dc, int64_t B, int64_t H) {
    if (B < 0 || H < 0) return FDL_ERR_ARG;
    if (B * H > 0 && (!dgates || !dc_prev || !act || !tanh_c || !c_prev || !dh)) return FDL_ERR_NULL;
    ROWS_LOOP(B, 4 * H, lstm_bwd_f64(LSTM_BWD_ARGS()));
    return FDL_OK;
}

/* gi, gh, act: (B,3H); h, ghn, h_prev: (B,H) */
#define GRU_FWD_ARGS() h + b * H, act + b * 3 * H, ghn + b * H, gi + b * 3 * H,             \
                       gh + b * 3 * H, h_prev + b * H, H, H
int fdl_gru_cell_forward_f32(float *h, float *act, float *ghn, const float *gi,
                              const float *gh, const float *h_prev, int64_t B, int64_t H) {
    if (B < 0 || H < 0) return FDL_ERR_ARG;
    if (B * H > 0 && (!h || !act || !ghn || !gi || !gh || !h_prev)) return FDL_ERR_NULL;
    const fdl_rnn_rows_f32 *r = rows_f32();
    ROWS_LOOP(B, 3 * H, r->gru_fwd(GRU_FWD_ARGS()));
    return FDL_OK;
}
int fdl_gru_cell_forward_f64(double *h, double *act, double *ghn, const double *gi,
                              const double *gh, const double *h_prev, int64_t B, int64_t H) {
    if (B < 0 || H < 0) return FDL_ERR_ARG;
    if (B * H > 0 && (!h || !act || !ghn || !gi || !gh || !h_prev)) return FDL_ERR_NULL;
    ROWS_LOOP(B, 3 * H, gru_fwd_f64(GRU_FWD_ARGS()));
    return FDL_OK;
}

/* dgi, dgh, act: (B,3H); the rest (B,H) */
#define GRU_BWD_ARGS() dgi + b * 3 * H, dgh + b * 3 * H, dh_prev ? dh_prev + b * H : NULL,    \
                       act + b * 3 * H, ghn + b * H, h_prev + b * H, dh + b * H, H, H
int fdl_gru_cell_backward_f32(float *dgi, float *dgh, float *dh_prev, const float *act,
                               const float *ghn, const float *h_prev, const float *dh,
                               int64_t B, int64_t H) {
    if (B < 0 || H < 0) return FDL_ERR_ARG;
    if (B * H > 0 && (!dgi || !dgh || !act || !ghn || !h_prev || !dh)) return FDL_ERR_NULL;
    const fdl_rnn_rows_f32 *r = rows_f32();
    ROWS_LOOP(B, 3 * H, r->gru_bwd(GRU_BWD_ARGS()));
    return FDL_OK;
}
int fdl_gru_cell_backward_f64(double *dgi, double *dgh, double *dh_prev, const double *act,
                               const double *ghn, const double *h_prev, const double *dh,
                               int64_t B, int64_t H) {
    if (B < 0 || H < 0) return FDL_ERR_ARG;
    if (B * H > 0 && (!dgi || !dgh || !act || !ghn || !h_prev || !dh)) return FDL_ERR_NULL;
    ROWS_LOOP(B, 3 * H, gru_bwd_f64(GRU_BWD_ARGS()));
    return FDL_OK;
}

/* ---- layer kernels ----------------------------------------------------------------- */
int64_t fdl_rnn_layer_forward_workspace(int64_t B, int64_t H) {
    (void)B;
    return H * H;                               /* W_hh^T */
}
int64_t fdl_lstm_layer_forward_workspace(int64_t B, int64_t H) {
    (void)B;
    return 4 * H * H;                           /* W_hh^T */
}
int64_t fdl_gru_layer_forward_workspace(int64_t B, int64_t H) {
    return 3 * H * H + B * 3 * H;               /* W_hh^T, gh */
}
int64_t fdl_rnn_layer_backward_workspace(int64_t Ts, int64_t B, int64_t H) {
    return Ts * B * H;                          /* dH, turned into dpre in place */
}
int64_t fdl_lstm_layer_backward_workspace(int64_t Ts, int64_t B, int64_t H) {
    return Ts * B * 4 * H + Ts * B * H + B * H; /* dG, dH, dc */
}
int64_t fdl_gru_layer_backward_workspace(int64_t Ts, int64_t B, int64_t H) {
    return 2 * Ts * B * 3 * H + Ts * B * H;     /* dgi, dgh, dH */
}

/* Per-step work (2*B*G*H flops) below which the time loop runs on one thread. */
#define RNN_STEP_PAR_MIN_FLOPS (1 << 21)

/* Threads for the time loop: each owns at least one 16-unit block of h. */
static int step_threads(int64_t B, int64_t G, int64_t H) {
    if (2 * B * G * H < RNN_STEP_PAR_MIN_FLOPS) return 1;
    return (int)FDL_MIN((int64_t)fdl_get_num_threads(), FDL_CDIV(H, 16));
}

/* Hidden units [*j0, *j1) of thread tid of nth, cut on 16-unit blocks. */
static void unit_range(int64_t H, int tid, int nth, int64_t *j0, int64_t *j1) {
    int64_t nb = FDL_CDIV(H, 16);
    *j0 = FDL_MIN(H, (tid * nb / nth) * 16);
    *j1 = FDL_MIN(H, ((tid + 1) * nb / nth) * 16);
}

/* the layer template's GEMM per type */
#define gemm_ex_f32 fdl_sgemm_ex
#define gemm_ex_f64 fdl_dgemm_ex

#include "runtime/types_begin.h"
#include "nn/rnn_layer.h"
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#include "nn/rnn_layer.h"
#include "runtime/types_end.h"

/* ---- the public layer kernels (fastdl/rnn.h); the bodies check their arguments */

static int rnn_layer_forward_checked_f32(float *hs, float *work, const float *x, const float *h0, const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh, int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse, int relu) {
    if (Ts < 0 || B < 0 || I < 0 || H < 0) return FDL_ERR_ARG;
    if (Ts > 0 && B > 0 && H > 0 && (!hs || !work || !w_hh)) return FDL_ERR_NULL;
    if (Ts > 0 && B > 0 && H > 0 && I > 0 && (!x || !w_ih)) return FDL_ERR_NULL;
    return rnn_layer_forward_f32(hs, work, x, h0, w_ih, w_hh, b_ih, b_hh, Ts, B, I, H, reverse, relu);
}

static int rnn_layer_forward_checked_f64(double *hs, double *work, const double *x, const double *h0, const double *w_ih, const double *w_hh, const double *b_ih, const double *b_hh, int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse, int relu) {
    if (Ts < 0 || B < 0 || I < 0 || H < 0) return FDL_ERR_ARG;
    if (Ts > 0 && B > 0 && H > 0 && (!hs || !work || !w_hh)) return FDL_ERR_NULL;
    if (Ts > 0 && B > 0 && H > 0 && I > 0 && (!x || !w_ih)) return FDL_ERR_NULL;
    return rnn_layer_forward_f64(hs, work, x, h0, w_ih, w_hh, b_ih, b_hh, Ts, B, I, H, reverse, relu);
}

static int rnn_layer_backward_checked_f32(float *dx, float *dh0, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh, float *work, const float *hs, const float *x, const float *w_ih, const float *w_hh, const float *dy, int64_t ldy, const float *dh_n, int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse, int relu) {
    if (Ts < 0 || B < 0 || I < 0 || H < 0) return FDL_ERR_ARG;
    if (dy && ldy < H) return FDL_ERR_SHAPE;
    if (Ts > 0 && B > 0 && H > 0 && (!work || !hs || !w_hh)) return FDL_ERR_NULL;
    if (Ts > 0 && B > 0 && H > 0 && I > 0 && (!x || !w_ih)) return FDL_ERR_NULL;
    return rnn_layer_backward_f32(dx, dh0, dw_ih, dw_hh, db_ih, db_hh, work, hs, x, w_ih, w_hh, dy, ldy, dh_n, Ts, B, I, H, reverse, relu);
}

static int rnn_layer_backward_checked_f64(double *dx, double *dh0, double *dw_ih, double *dw_hh, double *db_ih, double *db_hh, double *work, const double *hs, const double *x, const double *w_ih, const double *w_hh, const double *dy, int64_t ldy, const double *dh_n, int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse, int relu) {
    if (Ts < 0 || B < 0 || I < 0 || H < 0) return FDL_ERR_ARG;
    if (dy && ldy < H) return FDL_ERR_SHAPE;
    if (Ts > 0 && B > 0 && H > 0 && (!work || !hs || !w_hh)) return FDL_ERR_NULL;
    if (Ts > 0 && B > 0 && H > 0 && I > 0 && (!x || !w_ih)) return FDL_ERR_NULL;
    return rnn_layer_backward_f64(dx, dh0, dw_ih, dw_hh, db_ih, db_hh, work, hs, x, w_ih, w_hh, dy, ldy, dh_n, Ts, B, I, H, reverse, relu);
}

int fdl_lstm_layer_forward_f32(float *hs, float *cs, float *act, float *tanh_c, float *work, const float *x, const float *h0, const float *c0, const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh, int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse) {
    if (Ts < 0 || B < 0 || I < 0 || H < 0) return FDL_ERR_ARG;
    if (Ts > 0 && B > 0 && H > 0 && (!hs || !cs || !act || !tanh_c || !work || !w_hh)) return FDL_ERR_NULL;
    if (Ts > 0 && B > 0 && H > 0 && I > 0 && (!x || !w_ih)) return FDL_ERR_NULL;
    return lstm_layer_forward_f32(hs, cs, act, tanh_c, work, x, h0, c0, w_ih, w_hh, b_ih, b_hh, Ts, B, I, H, reverse);
}

int fdl_lstm_layer_forward_f64(double *hs, double *cs, double *act, double *tanh_c, double *work, const double *x, const double *h0, const double *c0, const double *w_ih, const double *w_hh, const double *b_ih, const double *b_hh, int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse) {
    if (Ts < 0 || B < 0 || I < 0 || H < 0) return FDL_ERR_ARG;
    if (Ts > 0 && B > 0 && H > 0 && (!hs || !cs || !act || !tanh_c || !work || !w_hh)) return FDL_ERR_NULL;
    if (Ts > 0 && B > 0 && H > 0 && I > 0 && (!x || !w_ih)) return FDL_ERR_NULL;
    return lstm_layer_forward_f64(hs, cs, act, tanh_c, work, x, h0, c0, w_ih, w_hh, b_ih, b_hh, Ts, B, I, H, reverse);
}

int fdl_lstm_layer_backward_f32(float *dx, float *dh0, float *dc0, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh, float *work, const float *hs, const float *cs, const float *act, const float *tanh_c, const float *x, const float *w_ih, const float *w_hh, const float *dy, int64_t ldy, const float *dh_n, const float *dc_n, int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse) {
    if (Ts < 0 || B < 0 || I < 0 || H < 0) return FDL_ERR_ARG;
    if (dy && ldy < H) return FDL_ERR_SHAPE;
    if (Ts > 0 && B > 0 && H > 0 && (!work || !hs || !cs || !act || !tanh_c || !w_hh)) return FDL_ERR_NULL;
    if (Ts > 0 && B > 0 && H > 0 && I > 0 && (!x || !w_ih)) return FDL_ERR_NULL;
    return lstm_layer_backward_f32(dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh, work, hs, cs, act, tanh_c, x, w_ih, w_hh, dy, ldy, dh_n, dc_n, Ts, B, I, H, reverse);
}

int fdl_lstm_layer_backward_f64(double *dx, double *dh0, double *dc0, double *dw_ih, double *dw_hh, double *db_ih, double *db_hh, double *work, const double *hs, const double *cs, const double *act, const double *tanh_c, const double *x, const double *w_ih, const double *w_hh, const double *dy, int64_t ldy, const double *dh_n, const double *dc_n, int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse) {
    if (Ts < 0 || B < 0 || I < 0 || H < 0) return FDL_ERR_ARG;
    if (dy && ldy < H) return FDL_ERR_SHAPE;
    if (Ts > 0 && B > 0 && H > 0 && (!work || !hs || !cs || !act || !tanh_c || !w_hh)) return FDL_ERR_NULL;
    if (Ts > 0 && B > 0 && H > 0 && I > 0 && (!x || !w_ih)) return FDL_ERR_NULL;
    return lstm_layer_backward_f64(dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh, work, hs, cs, act, tanh_c, x, w_ih, w_hh, dy, ldy, dh_n, dc_n, Ts, B, I, H, reverse);
}

int fdl_gru_layer_forward_f32(float *hs, float *act, float *ghn, float *work, const float *x, const float *h0, const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh, int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse) {
    if (Ts < 0 || B < 0 || I < 0 || H < 0) return FDL_ERR_ARG;
    if (Ts > 0 && B > 0 && H > 0 && (!hs || !act || !ghn || !work || !w_hh)) return FDL_ERR_NULL;
    if (Ts > 0 && B > 0 && H > 0 && I > 0 && (!x || !w_ih)) return FDL_ERR_NULL;
    return gru_layer_forward_f32(hs, act, ghn, work, x, h0, w_ih, w_hh, b_ih, b_hh, Ts, B, I, H, reverse);
}

int fdl_gru_layer_forward_f64(double *hs, double *act, double *ghn, double *work, const double *x, const double *h0, const double *w_ih, const double *w_hh, const double *b_ih, const double *b_hh, int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse) {
    if (Ts < 0 || B < 0 || I < 0 || H < 0) return FDL_ERR_ARG;
    if (Ts > 0 && B > 0 && H > 0 && (!hs || !act || !ghn || !work || !w_hh)) return FDL_ERR_NULL;
    if (Ts > 0 && B > 0 && H > 0 && I > 0 && (!x || !w_ih)) return FDL_ERR_NULL;
    return gru_layer_forward_f64(hs, act, ghn, work, x, h0, w_ih, w_hh, b_ih, b_hh, Ts, B, I, H, reverse);
}

int fdl_gru_layer_backward_f32(float *dx, float *dh0, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh, float *work, const float *hs, const float *act, const float *ghn, const float *x, const float *w_ih, const float *w_hh, const float *dy, int64_t ldy, const float *dh_n, int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse) {
    if (Ts < 0 || B < 0 || I < 0 || H < 0) return FDL_ERR_ARG;
    if (dy && ldy < H) return FDL_ERR_SHAPE;
    if (Ts > 0 && B > 0 && H > 0 && (!work || !hs || !act || !ghn || !w_hh)) return FDL_ERR_NULL;
    if (Ts > 0 && B > 0 && H > 0 && I > 0 && (!x || !w_ih)) return FDL_ERR_NULL;
    return gru_layer_backward_f32(dx, dh0, dw_ih, dw_hh, db_ih, db_hh, work, hs, act, ghn, x, w_ih, w_hh, dy, ldy, dh_n, Ts, B, I, H, reverse);
}

int fdl_gru_layer_backward_f64(double *dx, double *dh0, double *dw_ih, double *dw_hh, double *db_ih, double *db_hh, double *work, const double *hs, const double *act, const double *ghn, const double *x, const double *w_ih, const double *w_hh, const double *dy, int64_t ldy, const double *dh_n, int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse) {
    if (Ts < 0 || B < 0 || I < 0 || H < 0) return FDL_ERR_ARG;
    if (dy && ldy < H) return FDL_ERR_SHAPE;
    if (Ts > 0 && B > 0 && H > 0 && (!work || !hs || !act || !ghn || !w_hh)) return FDL_ERR_NULL;
    if (Ts > 0 && B > 0 && H > 0 && I > 0 && (!x || !w_ih)) return FDL_ERR_NULL;
    return gru_layer_backward_f64(dx, dh0, dw_ih, dw_hh, db_ih, db_hh, work, hs, act, ghn, x, w_ih, w_hh, dy, ldy, dh_n, Ts, B, I, H, reverse);
}

/* ---- the public Elman RNN kernels (fastdl/rnn.h): one function per activation */

int fdl_rnn_tanh_cell_forward_f32(float *h, const float *pre, int64_t B, int64_t H) {
    return rnn_cell_forward_f32(h, pre, B, H, 0);
}

int fdl_rnn_relu_cell_forward_f32(float *h, const float *pre, int64_t B, int64_t H) {
    return rnn_cell_forward_f32(h, pre, B, H, 1);
}

int fdl_rnn_tanh_cell_backward_f32(float *dpre, const float *h, const float *dh, int64_t B, int64_t H) {
    return rnn_cell_backward_f32(dpre, h, dh, B, H, 0);
}

int fdl_rnn_relu_cell_backward_f32(float *dpre, const float *h, const float *dh, int64_t B, int64_t H) {
    return rnn_cell_backward_f32(dpre, h, dh, B, H, 1);
}

int fdl_rnn_tanh_layer_forward_f32(float *hs, float *work, const float *x, const float *h0, const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh, int64_t Ts, int64_t B, int64_t In, int64_t H, int reverse) {
    return rnn_layer_forward_checked_f32(hs, work, x, h0, w_ih, w_hh, b_ih, b_hh, Ts, B, In, H, reverse, 0);
}

int fdl_rnn_relu_layer_forward_f32(float *hs, float *work, const float *x, const float *h0, const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh, int64_t Ts, int64_t B, int64_t In, int64_t H, int reverse) {
    return rnn_layer_forward_checked_f32(hs, work, x, h0, w_ih, w_hh, b_ih, b_hh, Ts, B, In, H, reverse, 1);
}

int fdl_rnn_tanh_layer_backward_f32(float *dx, float *dh0, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh, float *work, const float *hs, const float *x, const float *w_ih, const float *w_hh, const float *dy, int64_t ldy, const float *dh_n, int64_t Ts, int64_t B, int64_t In, int64_t H, int reverse) {
    return rnn_layer_backward_checked_f32(dx, dh0, dw_ih, dw_hh, db_ih, db_hh, work, hs, x, w_ih, w_hh, dy, ldy, dh_n, Ts, B, In, H, reverse, 0);
}

int fdl_rnn_relu_layer_backward_f32(float *dx, float *dh0, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh, float *work, const float *hs, const float *x, const float *w_ih, const float *w_hh, const float *dy, int64_t ldy, const float *dh_n, int64_t Ts, int64_t B, int64_t In, int64_t H, int reverse) {
    return rnn_layer_backward_checked_f32(dx, dh0, dw_ih, dw_hh, db_ih, db_hh, work, hs, x, w_ih, w_hh, dy, ldy, dh_n, Ts, B, In, H, reverse, 1);
}

int fdl_rnn_tanh_cell_forward_f64(double *h, const double *pre, int64_t B, int64_t H) {
    return rnn_cell_forward_f64(h, pre, B, H, 0);
}

int fdl_rnn_relu_cell_forward_f64(double *h, const double *pre, int64_t B, int64_t H) {
    return rnn_cell_forward_f64(h, pre, B, H, 1);
}

int fdl_rnn_tanh_cell_backward_f64(double *dpre, const double *h, const double *dh, int64_t B, int64_t H) {
    return rnn_cell_backward_f64(dpre, h, dh, B, H, 0);
}

int fdl_rnn_relu_cell_backward_f64(double *dpre, const double *h, const double *dh, int64_t B, int64_t H) {
    return rnn_cell_backward_f64(dpre, h, dh, B, H, 1);
}

int fdl_rnn_tanh_layer_forward_f64(double *hs, double *work, const double *x, const double *h0, const double *w_ih, const double *w_hh, const double *b_ih, const double *b_hh, int64_t Ts, int64_t B, int64_t In, int64_t H, int reverse) {
    return rnn_layer_forward_checked_f64(hs, work, x, h0, w_ih, w_hh, b_ih, b_hh, Ts, B, In, H, reverse, 0);
}

int fdl_rnn_relu_layer_forward_f64(double *hs, double *work, const double *x, const double *h0, const double *w_ih, const double *w_hh, const double *b_ih, const double *b_hh, int64_t Ts, int64_t B, int64_t In, int64_t H, int reverse) {
    return rnn_layer_forward_checked_f64(hs, work, x, h0, w_ih, w_hh, b_ih, b_hh, Ts, B, In, H, reverse, 1);
}

int fdl_rnn_tanh_layer_backward_f64(double *dx, double *dh0, double *dw_ih, double *dw_hh, double *db_ih, double *db_hh, double *work, const double *hs, const double *x, const double *w_ih, const double *w_hh, const double *dy, int64_t ldy, const double *dh_n, int64_t Ts, int64_t B, int64_t In, int64_t H, int reverse) {
    return rnn_layer_backward_checked_f64(dx, dh0, dw_ih, dw_hh, db_ih, db_hh, work, hs, x, w_ih, w_hh, dy, ldy, dh_n, Ts, B, In, H, reverse, 0);
}

int fdl_rnn_relu_layer_backward_f64(double *dx, double *dh0, double *dw_ih, double *dw_hh, double *db_ih, double *db_hh, double *work, const double *hs, const double *x, const double *w_ih, const double *w_hh, const double *dy, int64_t ldy, const double *dh_n, int64_t Ts, int64_t B, int64_t In, int64_t H, int reverse) {
    return rnn_layer_backward_checked_f64(dx, dh0, dw_ih, dw_hh, db_ih, db_hh, work, hs, x, w_ih, w_hh, dy, ldy, dh_n, Ts, B, In, H, reverse, 1);
}
