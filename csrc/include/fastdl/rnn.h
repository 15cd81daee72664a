/*
 * fastdl/rnn.h — recurrent layers: fused per-time-step cell kernels for the
 * Elman RNN (tanh/relu), LSTM and GRU, and whole-sequence layer kernels that
 * run one layer in one direction forward and backward through time.
 *
 * Legend: T time steps, B batch, I input features, H hidden features.
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
 * Cell kernels cannot fail and return void. Their backward kernels *write*
 * the gradients w.r.t. the step's pre-activations and previous cell state
 * (per-step scratch that the caller feeds to GEMMs); only the GRU's dh_prev
 * is added to, since the layer kernel sums it with dy and the W_hh GEMM.
 * Output and input buffers of one call may alias only where a comment says so.
 *
 * Layer kernels (fdl_{rnn,lstm,gru}_layer_{forward,backward}) process one
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

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    FDL_RNN_TANH = 0,
    FDL_RNN_RELU = 1
} fdl_rnn_act;

#define FDL_RNN_DECLARE(T, S)                                                              \
/* ---- cell kernels ---- */                                                               \
/* h (B,H) = act(pre (B,H)); h may alias pre. */                                           \
void fdl_rnn_cell_forward_##S(T *h, const T *pre, int64_t B, int64_t H, fdl_rnn_act act);  \
/* dpre (B,H) = dh * act'(.) from the saved output h (B,H); dpre may alias dh. */          \
void fdl_rnn_cell_backward_##S(T *dpre, const T *h, const T *dh, int64_t B, int64_t H,     \
                               fdl_rnn_act act);                                           \
/* gates (B,4H) pre-activations -> h, c (B,H); saves act (B,4H) = activated gates          \
 * and tanh_c (B,H). act may alias gates. */                                               \
void fdl_lstm_cell_forward_##S(T *h, T *c, T *act, T *tanh_c,                              \
                               const T *gates, const T *c_prev, int64_t B, int64_t H);     \
/* dh, dc (B,H) (dc may be NULL: zero) -> dgates (B,4H), dc_prev (B,H).                    \
 * dc_prev may alias dc. */                                                                \
void fdl_lstm_cell_backward_##S(T *dgates, T *dc_prev,                                     \
                                const T *act, const T *tanh_c, const T *c_prev,            \
                                const T *dh, const T *dc, int64_t B, int64_t H);           \
/* gi, gh (B,3H), h_prev (B,H) -> h (B,H); saves act (B,3H) = (r, z, n) and                \
 * ghn (B,H) = gh's n block. act may alias gi. */                                          \
void fdl_gru_cell_forward_##S(T *h, T *act, T *ghn,                                        \
                              const T *gi, const T *gh, const T *h_prev,                   \
                              int64_t B, int64_t H);                                       \
/* dh (B,H) -> dgi, dgh (B,3H); dh_prev (B,H) += dh * z, the direct part (NULL:          \
 * skipped; the caller adds dgh W_hh). */                                                  \
void fdl_gru_cell_backward_##S(T *dgi, T *dgh, T *dh_prev,                                 \
                               const T *act, const T *ghn, const T *h_prev, const T *dh,   \
                               int64_t B, int64_t H);                                      \
/* ---- layer kernels (one layer, one direction) ---- */                                   \
/* x (T,B,I), h0 (B,H) (NULL: zeros), w_ih (G*H,I), w_hh (G*H,H), b_* (G*H) or NULL,       \
 * G = 1 (RNN), 4 (LSTM), 3 (GRU). Saves hs (T+1,B,H) and:                                 \
 *   RNN:  nothing else;                                                                   \
 *   LSTM: cs (T+1,B,H), act (T,B,4H), tanh_c (T,B,H); c0 (B,H) or NULL;                   \
 *   GRU:  act (T,B,3H), ghn (T,B,H). */                                                   \
int fdl_rnn_layer_forward_##S(T *hs, T *work, const T *x, const T *h0,                     \
                              const T *w_ih, const T *w_hh, const T *b_ih, const T *b_hh,  \
                              int64_t Ts, int64_t B, int64_t I, int64_t H,                 \
                              int reverse, fdl_rnn_act act);                               \
int fdl_lstm_layer_forward_##S(T *hs, T *cs, T *act, T *tanh_c, T *work,                   \
                               const T *x, const T *h0, const T *c0,                       \
                               const T *w_ih, const T *w_hh, const T *b_ih, const T *b_hh, \
                               int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse);  \
int fdl_gru_layer_forward_##S(T *hs, T *act, T *ghn, T *work,                              \
                              const T *x, const T *h0,                                     \
                              const T *w_ih, const T *w_hh, const T *b_ih, const T *b_hh,  \
                              int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse);   \
/* dy (T,B,H) with row stride ldy >= H (NULL: zero), dh_n (B,H) (NULL: zero),              \
 * dc_n (B,H) (LSTM; NULL: zero). Accumulates dx (T,B,I), dh0, dc0 (B,H),                  \
 * dw_ih, dw_hh, db_ih, db_hh; any of them may be NULL (not wanted). */                    \
int fdl_rnn_layer_backward_##S(T *dx, T *dh0, T *dw_ih, T *dw_hh, T *db_ih, T *db_hh,      \
                               T *work, const T *hs, const T *x,                           \
                               const T *w_ih, const T *w_hh,                               \
                               const T *dy, int64_t ldy, const T *dh_n,                    \
                               int64_t Ts, int64_t B, int64_t I, int64_t H,                \
                               int reverse, fdl_rnn_act act);                              \
int fdl_lstm_layer_backward_##S(T *dx, T *dh0, T *dc0, T *dw_ih, T *dw_hh,                 \
                                T *db_ih, T *db_hh, T *work,                               \
                                const T *hs, const T *cs, const T *act, const T *tanh_c,   \
                                const T *x, const T *w_ih, const T *w_hh,                  \
                                const T *dy, int64_t ldy, const T *dh_n, const T *dc_n,    \
                                int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse); \
int fdl_gru_layer_backward_##S(T *dx, T *dh0, T *dw_ih, T *dw_hh, T *db_ih, T *db_hh,      \
                               T *work, const T *hs, const T *act, const T *ghn,           \
                               const T *x, const T *w_ih, const T *w_hh,                   \
                               const T *dy, int64_t ldy, const T *dh_n,                    \
                               int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse);

FDL_RNN_DECLARE(float, f32)
FDL_RNN_DECLARE(double, f64)

/* Elements of `work` the layer kernels need. */
int64_t fdl_rnn_layer_forward_workspace(int64_t B, int64_t H);
int64_t fdl_lstm_layer_forward_workspace(int64_t B, int64_t H);
int64_t fdl_gru_layer_forward_workspace(int64_t B, int64_t H);
int64_t fdl_rnn_layer_backward_workspace(int64_t Ts, int64_t B, int64_t H);
int64_t fdl_lstm_layer_backward_workspace(int64_t Ts, int64_t B, int64_t H);
int64_t fdl_gru_layer_backward_workspace(int64_t Ts, int64_t B, int64_t H);

#ifdef __cplusplus
}
#endif

#endif
