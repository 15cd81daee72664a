/*
 * fastdl/rnn.h — recurrent layers: fused per-time-step cell kernels for the
 * Elman RNN (tanh/relu), LSTM and GRU, and whole-sequence layer kernels that
 * run one layer in one direction forward and backward through time.
 *
 * Legend: T time steps, B batch, I input features (parameter In: <complex.h>
 * defines I), H hidden features.
 * Gate order and equations are PyTorch's:
 *   RNN   h = act(x W_ih^T + b_ih + h_prev W_hh^T + b_hh),  act = tanh | relu
 *   LSTM  gates (i, f, g, o):  i, f, o = sigmoid(.), g = tanh(.)
 *         c = f * c_prev + i * g,   h = o * tanh(c)
 *   GRU   gates (r, z, n):  r, z = sigmoid(gi + gh),
 *         n = tanh(gi_n + r * gh_n)  (gh_n includes b_hn),
 *         h = (1 - z) * n + z * h_prev
 *   where gi = x W_ih^T + b_ih and gh = h_prev W_hh^T + b_hh.
 *
 * Every function exists for float (_f32) and double (_f64); double is there
 * so that gradients can be checked by finite differences.
 *
 * Cell kernels return FDL_OK, FDL_ERR_ARG (negative B or H) or
 * FDL_ERR_NULL (a required pointer is NULL). Their backward kernels *write*
 * the gradients w.r.t. the step's pre-activations and previous cell state
 * (per-step scratch that the caller feeds to GEMMs); only the GRU's dh_prev
 * is added to, since the layer kernel sums it with dy and the W_hh GEMM.
 * Output and input buffers of one call may alias only where a comment says so.
 *
 * The Elman RNN has one function per activation (fdl_rnn_tanh_*, fdl_rnn_relu_*).
 * Layer kernels (fdl_{rnn_tanh,rnn_relu,lstm,gru}_layer_{forward,backward}) process one
 * layer in one direction. Buffers are indexed by time t (not by processing
 * order), so a reverse-direction layer uses the same layouts:
 *   hs (T+1, B, H): forward  (reverse=0): hs[0] = h0, hs[t+1] = h_t;
 *                   backward (reverse=1): hs[T] = h0, hs[t]   = h_t.
 *   So the output sequence is hs + B*H (reverse=0) or hs (reverse=1), and the
 *   final state is hs[T] (reverse=0) or hs[0] (reverse=1). cs likewise.
 * The input projection of all T steps is one GEMM; each step then does one
 * GEMM with W_hh and one fused cell kernel. Backward through time computes
 * dW_hh, dW_ih and dx with one GEMM each over all steps.
 * Layer kernels return FDL_OK or a GEMM status. Their gradients
 * (dx, dh0, dc0, dw_*, db_*) are *accumulated* (+=); the caller zeroes them.
 * They never allocate: scratch is the caller's `work`, of
 * fdl_<cell>_layer_{forward,backward}_workspace(...) elements. Forward keeps
 * W_hh^T there: the per-step GEMM has only B rows, and with a transposed B
 * operand its packing cost dominates (about 4x slower at B=32, H=256).
 * Threads: cell kernels split batch rows. A layer kernel's time loop is one
 * OpenMP team in which each thread owns a slice of the hidden units (its
 * GEMM columns and cell math) with one barrier per step; the all-steps
 * GEMMs split their output blocks. No reduction is split, so results are
 * bitwise identical for any thread count. Call layer kernels from outside
 * any OpenMP parallel region (nested, they run on one thread).
 */
#ifndef FASTDL_RNN_H
#define FASTDL_RNN_H

#include <stdint.h>

#include "fastdl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* float32 */
/* ---- cell kernels ---- */
/* h (B,H) = act(pre (B,H)); h may alias pre. */
FDL_API int fdl_rnn_tanh_cell_forward_f32(float *h, const float *pre, int64_t B, int64_t H);
FDL_API int fdl_rnn_relu_cell_forward_f32(float *h, const float *pre, int64_t B, int64_t H);
/* dpre (B,H) = dh * act'(.) from the saved output h (B,H); dpre may alias dh. */
FDL_API int fdl_rnn_tanh_cell_backward_f32(float *dpre, const float *h, const float *dh, int64_t B, int64_t H);
FDL_API int fdl_rnn_relu_cell_backward_f32(float *dpre, const float *h, const float *dh, int64_t B, int64_t H);
/* gates (B,4H) pre-activations -> h, c (B,H); saves act (B,4H) = activated gates
 * and tanh_c (B,H). act may alias gates. */
FDL_API int fdl_lstm_cell_forward_f32(float *h, float *c, float *act, float *tanh_c,
                               const float *gates, const float *c_prev, int64_t B, int64_t H);
/* dh, dc (B,H) (dc may be NULL: zero) -> dgates (B,4H), dc_prev (B,H).
 * dc_prev may alias dc. */
FDL_API int fdl_lstm_cell_backward_f32(float *dgates, float *dc_prev,
                                const float *act, const float *tanh_c, const float *c_prev,
                                const float *dh, const float *dc, int64_t B, int64_t H);
/* gi, gh (B,3H), h_prev (B,H) -> h (B,H); saves act (B,3H) = (r, z, n) and
 * ghn (B,H) = gh's n block. act may alias gi. */
FDL_API int fdl_gru_cell_forward_f32(float *h, float *act, float *ghn,
                              const float *gi, const float *gh, const float *h_prev,
                              int64_t B, int64_t H);
/* dh (B,H) -> dgi, dgh (B,3H); dh_prev (B,H) += dh * z, the direct part (NULL:
 * skipped; the caller adds dgh W_hh). */
FDL_API int fdl_gru_cell_backward_f32(float *dgi, float *dgh, float *dh_prev,
                               const float *act, const float *ghn, const float *h_prev, const float *dh,
                               int64_t B, int64_t H);
/* ---- layer kernels (one layer, one direction) ---- */
/* x (float,B,I), h0 (B,H) (NULL: zeros), w_ih (G*H,I), w_hh (G*H,H), b_* (G*H) or NULL,
 * G = 1 (RNN), 4 (LSTM), 3 (GRU). Saves hs (float+1,B,H) and:
 *   RNN:  nothing else;
 *   LSTM: cs (float+1,B,H), act (float,B,4H), tanh_c (float,B,H); c0 (B,H) or NULL;
 *   GRU:  act (float,B,3H), ghn (float,B,H). */
FDL_API int fdl_rnn_tanh_layer_forward_f32(float *hs, float *work, const float *x, const float *h0,
                              const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh,
                              int64_t Ts, int64_t B, int64_t In, int64_t H,
                              int reverse);
FDL_API int fdl_rnn_relu_layer_forward_f32(float *hs, float *work, const float *x, const float *h0,
                              const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh,
                              int64_t Ts, int64_t B, int64_t In, int64_t H,
                              int reverse);
FDL_API int fdl_lstm_layer_forward_f32(float *hs, float *cs, float *act, float *tanh_c, float *work,
                               const float *x, const float *h0, const float *c0,
                               const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh,
                               int64_t Ts, int64_t B, int64_t In, int64_t H, int reverse);
FDL_API int fdl_gru_layer_forward_f32(float *hs, float *act, float *ghn, float *work,
                              const float *x, const float *h0,
                              const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh,
                              int64_t Ts, int64_t B, int64_t In, int64_t H, int reverse);
/* dy (float,B,H) with row stride ldy >= H (NULL: zero), dh_n (B,H) (NULL: zero),
 * dc_n (B,H) (LSTM; NULL: zero). Accumulates dx (float,B,I), dh0, dc0 (B,H),
 * dw_ih, dw_hh, db_ih, db_hh; any of them may be NULL (not wanted). */
FDL_API int fdl_rnn_tanh_layer_backward_f32(float *dx, float *dh0, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh,
                               float *work, const float *hs, const float *x,
                               const float *w_ih, const float *w_hh,
                               const float *dy, int64_t ldy, const float *dh_n,
                               int64_t Ts, int64_t B, int64_t In, int64_t H,
                               int reverse);
FDL_API int fdl_rnn_relu_layer_backward_f32(float *dx, float *dh0, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh,
                               float *work, const float *hs, const float *x,
                               const float *w_ih, const float *w_hh,
                               const float *dy, int64_t ldy, const float *dh_n,
                               int64_t Ts, int64_t B, int64_t In, int64_t H,
                               int reverse);
FDL_API int fdl_lstm_layer_backward_f32(float *dx, float *dh0, float *dc0, float *dw_ih, float *dw_hh,
                                float *db_ih, float *db_hh, float *work,
                                const float *hs, const float *cs, const float *act, const float *tanh_c,
                                const float *x, const float *w_ih, const float *w_hh,
                                const float *dy, int64_t ldy, const float *dh_n, const float *dc_n,
                                int64_t Ts, int64_t B, int64_t In, int64_t H, int reverse);
FDL_API int fdl_gru_layer_backward_f32(float *dx, float *dh0, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh,
                               float *work, const float *hs, const float *act, const float *ghn,
                               const float *x, const float *w_ih, const float *w_hh,
                               const float *dy, int64_t ldy, const float *dh_n,
                               int64_t Ts, int64_t B, int64_t In, int64_t H, int reverse);

/* float64: the same functions over double */
/* ---- cell kernels ---- */
/* h (B,H) = act(pre (B,H)); h may alias pre. */
FDL_API int fdl_rnn_tanh_cell_forward_f64(double *h, const double *pre, int64_t B, int64_t H);
FDL_API int fdl_rnn_relu_cell_forward_f64(double *h, const double *pre, int64_t B, int64_t H);
/* dpre (B,H) = dh * act'(.) from the saved output h (B,H); dpre may alias dh. */
FDL_API int fdl_rnn_tanh_cell_backward_f64(double *dpre, const double *h, const double *dh, int64_t B, int64_t H);
FDL_API int fdl_rnn_relu_cell_backward_f64(double *dpre, const double *h, const double *dh, int64_t B, int64_t H);
/* gates (B,4H) pre-activations -> h, c (B,H); saves act (B,4H) = activated gates
 * and tanh_c (B,H). act may alias gates. */
FDL_API int fdl_lstm_cell_forward_f64(double *h, double *c, double *act, double *tanh_c,
                               const double *gates, const double *c_prev, int64_t B, int64_t H);
/* dh, dc (B,H) (dc may be NULL: zero) -> dgates (B,4H), dc_prev (B,H).
 * dc_prev may alias dc. */
FDL_API int fdl_lstm_cell_backward_f64(double *dgates, double *dc_prev,
                                const double *act, const double *tanh_c, const double *c_prev,
                                const double *dh, const double *dc, int64_t B, int64_t H);
/* gi, gh (B,3H), h_prev (B,H) -> h (B,H); saves act (B,3H) = (r, z, n) and
 * ghn (B,H) = gh's n block. act may alias gi. */
FDL_API int fdl_gru_cell_forward_f64(double *h, double *act, double *ghn,
                              const double *gi, const double *gh, const double *h_prev,
                              int64_t B, int64_t H);
/* dh (B,H) -> dgi, dgh (B,3H); dh_prev (B,H) += dh * z, the direct part (NULL:
 * skipped; the caller adds dgh W_hh). */
FDL_API int fdl_gru_cell_backward_f64(double *dgi, double *dgh, double *dh_prev,
                               const double *act, const double *ghn, const double *h_prev, const double *dh,
                               int64_t B, int64_t H);
/* ---- layer kernels (one layer, one direction) ---- */
/* x (double,B,I), h0 (B,H) (NULL: zeros), w_ih (G*H,I), w_hh (G*H,H), b_* (G*H) or NULL,
 * G = 1 (RNN), 4 (LSTM), 3 (GRU). Saves hs (double+1,B,H) and:
 *   RNN:  nothing else;
 *   LSTM: cs (double+1,B,H), act (double,B,4H), tanh_c (double,B,H); c0 (B,H) or NULL;
 *   GRU:  act (double,B,3H), ghn (double,B,H). */
FDL_API int fdl_rnn_tanh_layer_forward_f64(double *hs, double *work, const double *x, const double *h0,
                              const double *w_ih, const double *w_hh, const double *b_ih, const double *b_hh,
                              int64_t Ts, int64_t B, int64_t In, int64_t H,
                              int reverse);
FDL_API int fdl_rnn_relu_layer_forward_f64(double *hs, double *work, const double *x, const double *h0,
                              const double *w_ih, const double *w_hh, const double *b_ih, const double *b_hh,
                              int64_t Ts, int64_t B, int64_t In, int64_t H,
                              int reverse);
FDL_API int fdl_lstm_layer_forward_f64(double *hs, double *cs, double *act, double *tanh_c, double *work,
                               const double *x, const double *h0, const double *c0,
                               const double *w_ih, const double *w_hh, const double *b_ih, const double *b_hh,
                               int64_t Ts, int64_t B, int64_t In, int64_t H, int reverse);
FDL_API int fdl_gru_layer_forward_f64(double *hs, double *act, double *ghn, double *work,
                              const double *x, const double *h0,
                              const double *w_ih, const double *w_hh, const double *b_ih, const double *b_hh,
                              int64_t Ts, int64_t B, int64_t In, int64_t H, int reverse);
/* dy (double,B,H) with row stride ldy >= H (NULL: zero), dh_n (B,H) (NULL: zero),
 * dc_n (B,H) (LSTM; NULL: zero). Accumulates dx (double,B,I), dh0, dc0 (B,H),
 * dw_ih, dw_hh, db_ih, db_hh; any of them may be NULL (not wanted). */
FDL_API int fdl_rnn_tanh_layer_backward_f64(double *dx, double *dh0, double *dw_ih, double *dw_hh, double *db_ih, double *db_hh,
                               double *work, const double *hs, const double *x,
                               const double *w_ih, const double *w_hh,
                               const double *dy, int64_t ldy, const double *dh_n,
                               int64_t Ts, int64_t B, int64_t In, int64_t H,
                               int reverse);
FDL_API int fdl_rnn_relu_layer_backward_f64(double *dx, double *dh0, double *dw_ih, double *dw_hh, double *db_ih, double *db_hh,
                               double *work, const double *hs, const double *x,
                               const double *w_ih, const double *w_hh,
                               const double *dy, int64_t ldy, const double *dh_n,
                               int64_t Ts, int64_t B, int64_t In, int64_t H,
                               int reverse);
FDL_API int fdl_lstm_layer_backward_f64(double *dx, double *dh0, double *dc0, double *dw_ih, double *dw_hh,
                                double *db_ih, double *db_hh, double *work,
                                const double *hs, const double *cs, const double *act, const double *tanh_c,
                                const double *x, const double *w_ih, const double *w_hh,
                                const double *dy, int64_t ldy, const double *dh_n, const double *dc_n,
                                int64_t Ts, int64_t B, int64_t In, int64_t H, int reverse);
FDL_API int fdl_gru_layer_backward_f64(double *dx, double *dh0, double *dw_ih, double *dw_hh, double *db_ih, double *db_hh,
                               double *work, const double *hs, const double *act, const double *ghn,
                               const double *x, const double *w_ih, const double *w_hh,
                               const double *dy, int64_t ldy, const double *dh_n,
                               int64_t Ts, int64_t B, int64_t In, int64_t H, int reverse);

/* Elements of `work` the layer kernels need. */
FDL_API int64_t fdl_rnn_layer_forward_workspace(int64_t B, int64_t H);
FDL_API int64_t fdl_lstm_layer_forward_workspace(int64_t B, int64_t H);
FDL_API int64_t fdl_gru_layer_forward_workspace(int64_t B, int64_t H);
FDL_API int64_t fdl_rnn_layer_backward_workspace(int64_t Ts, int64_t B, int64_t H);
FDL_API int64_t fdl_lstm_layer_backward_workspace(int64_t Ts, int64_t B, int64_t H);
FDL_API int64_t fdl_gru_layer_backward_workspace(int64_t Ts, int64_t B, int64_t H);

#ifdef __cplusplus
}
#endif

#endif
