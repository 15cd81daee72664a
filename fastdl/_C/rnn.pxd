# Declarations of csrc/include/fastdl/rnn.h, 1:1.
from libc.stdint cimport int64_t

cdef extern from "fastdl.h" nogil:
    int fdl_rnn_tanh_cell_forward_f32(float *h, const float *pre, int64_t B, int64_t H)
    int fdl_rnn_relu_cell_forward_f32(float *h, const float *pre, int64_t B, int64_t H)
    int fdl_rnn_tanh_cell_forward_f64(double *h, const double *pre, int64_t B, int64_t H)
    int fdl_rnn_relu_cell_forward_f64(double *h, const double *pre, int64_t B, int64_t H)
    int fdl_rnn_tanh_cell_backward_f32(float *dpre, const float *h, const float *dh, int64_t B, int64_t H)
    int fdl_rnn_relu_cell_backward_f32(float *dpre, const float *h, const float *dh, int64_t B, int64_t H)
    int fdl_rnn_tanh_cell_backward_f64(double *dpre, const double *h, const double *dh, int64_t B, int64_t H)
    int fdl_rnn_relu_cell_backward_f64(double *dpre, const double *h, const double *dh, int64_t B, int64_t H)
    int fdl_lstm_cell_forward_f32(float *h, float *c, float *act, float *tanh_c,
                                   const float *gates, const float *c_prev, int64_t B, int64_t H)
    int fdl_lstm_cell_forward_f64(double *h, double *c, double *act, double *tanh_c,
                                   const double *gates, const double *c_prev, int64_t B, int64_t H)
    int fdl_lstm_cell_backward_f32(float *dgates, float *dc_prev, const float *act, const float *tanh_c,
                                    const float *c_prev, const float *dh, const float *dc,
                                    int64_t B, int64_t H)
    int fdl_lstm_cell_backward_f64(double *dgates, double *dc_prev, const double *act,
                                    const double *tanh_c, const double *c_prev, const double *dh,
                                    const double *dc, int64_t B, int64_t H)
    int fdl_gru_cell_forward_f32(float *h, float *act, float *ghn, const float *gi, const float *gh,
                                  const float *h_prev, int64_t B, int64_t H)
    int fdl_gru_cell_forward_f64(double *h, double *act, double *ghn, const double *gi,
                                  const double *gh, const double *h_prev, int64_t B, int64_t H)
    int fdl_gru_cell_backward_f32(float *dgi, float *dgh, float *dh_prev, const float *act,
                                   const float *ghn, const float *h_prev, const float *dh,
                                   int64_t B, int64_t H)
    int fdl_gru_cell_backward_f64(double *dgi, double *dgh, double *dh_prev, const double *act,
                                   const double *ghn, const double *h_prev, const double *dh,
                                   int64_t B, int64_t H)

    int fdl_rnn_tanh_layer_forward_f32(float *hs, float *work, const float *x, const float *h0,
                                  const float *w_ih, const float *w_hh, const float *b_ih,
                                  const float *b_hh, int64_t Ts, int64_t B, int64_t I, int64_t H,
                                  int reverse)
    int fdl_rnn_relu_layer_forward_f32(float *hs, float *work, const float *x, const float *h0,
                                  const float *w_ih, const float *w_hh, const float *b_ih,
                                  const float *b_hh, int64_t Ts, int64_t B, int64_t I, int64_t H,
                                  int reverse)
    int fdl_rnn_tanh_layer_forward_f64(double *hs, double *work, const double *x, const double *h0,
                                  const double *w_ih, const double *w_hh, const double *b_ih,
                                  const double *b_hh, int64_t Ts, int64_t B, int64_t I, int64_t H,
                                  int reverse)
    int fdl_rnn_relu_layer_forward_f64(double *hs, double *work, const double *x, const double *h0,
                                  const double *w_ih, const double *w_hh, const double *b_ih,
                                  const double *b_hh, int64_t Ts, int64_t B, int64_t I, int64_t H,
                                  int reverse)
    int fdl_lstm_layer_forward_f32(float *hs, float *cs, float *act, float *tanh_c, float *work,
                                   const float *x, const float *h0, const float *c0,
                                   const float *w_ih, const float *w_hh, const float *b_ih,
                                   const float *b_hh, int64_t Ts, int64_t B, int64_t I, int64_t H,
                                   int reverse)
    int fdl_lstm_layer_forward_f64(double *hs, double *cs, double *act, double *tanh_c, double *work,
                                   const double *x, const double *h0, const double *c0,
                                   const double *w_ih, const double *w_hh, const double *b_ih,
                                   const double *b_hh, int64_t Ts, int64_t B, int64_t I, int64_t H,
                                   int reverse)
    int fdl_gru_layer_forward_f32(float *hs, float *act, float *ghn, float *work,
                                  const float *x, const float *h0,
                                  const float *w_ih, const float *w_hh, const float *b_ih,
                                  const float *b_hh, int64_t Ts, int64_t B, int64_t I, int64_t H,
                                  int reverse)
    int fdl_gru_layer_forward_f64(double *hs, double *act, double *ghn, double *work,
                                  const double *x, const double *h0,
                                  const double *w_ih, const double *w_hh, const double *b_ih,
                                  const double *b_hh, int64_t Ts, int64_t B, int64_t I, int64_t H,
                                  int reverse)
    int fdl_rnn_tanh_layer_backward_f32(float *dx, float *dh0, float *dw_ih, float *dw_hh, float *db_ih,
                                   float *db_hh, float *work, const float *hs, const float *x,
                                   const float *w_ih, const float *w_hh, const float *dy, int64_t ldy,
                                   const float *dh_n, int64_t Ts, int64_t B, int64_t I, int64_t H,
                                   int reverse)
    int fdl_rnn_relu_layer_backward_f32(float *dx, float *dh0, float *dw_ih, float *dw_hh, float *db_ih,
                                   float *db_hh, float *work, const float *hs, const float *x,
                                   const float *w_ih, const float *w_hh, const float *dy, int64_t ldy,
                                   const float *dh_n, int64_t Ts, int64_t B, int64_t I, int64_t H,
                                   int reverse)
    int fdl_rnn_tanh_layer_backward_f64(double *dx, double *dh0, double *dw_ih, double *dw_hh,
                                   double *db_ih, double *db_hh, double *work, const double *hs,
                                   const double *x, const double *w_ih, const double *w_hh,
                                   const double *dy, int64_t ldy, const double *dh_n,
                                   int64_t Ts, int64_t B, int64_t I, int64_t H,
                                   int reverse)
    int fdl_rnn_relu_layer_backward_f64(double *dx, double *dh0, double *dw_ih, double *dw_hh,
                                   double *db_ih, double *db_hh, double *work, const double *hs,
                                   const double *x, const double *w_ih, const double *w_hh,
                                   const double *dy, int64_t ldy, const double *dh_n,
                                   int64_t Ts, int64_t B, int64_t I, int64_t H,
                                   int reverse)
    int fdl_lstm_layer_backward_f32(float *dx, float *dh0, float *dc0, float *dw_ih, float *dw_hh,
                                    float *db_ih, float *db_hh, float *work,
                                    const float *hs, const float *cs, const float *act,
                                    const float *tanh_c, const float *x, const float *w_ih,
                                    const float *w_hh, const float *dy, int64_t ldy,
                                    const float *dh_n, const float *dc_n,
                                    int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse)
    int fdl_lstm_layer_backward_f64(double *dx, double *dh0, double *dc0, double *dw_ih,
                                    double *dw_hh, double *db_ih, double *db_hh, double *work,
                                    const double *hs, const double *cs, const double *act,
                                    const double *tanh_c, const double *x, const double *w_ih,
                                    const double *w_hh, const double *dy, int64_t ldy,
                                    const double *dh_n, const double *dc_n,
                                    int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse)
    int fdl_gru_layer_backward_f32(float *dx, float *dh0, float *dw_ih, float *dw_hh, float *db_ih,
                                   float *db_hh, float *work, const float *hs, const float *act,
                                   const float *ghn, const float *x, const float *w_ih,
                                   const float *w_hh, const float *dy, int64_t ldy,
                                   const float *dh_n, int64_t Ts, int64_t B, int64_t I, int64_t H,
                                   int reverse)
    int fdl_gru_layer_backward_f64(double *dx, double *dh0, double *dw_ih, double *dw_hh,
                                   double *db_ih, double *db_hh, double *work, const double *hs,
                                   const double *act, const double *ghn, const double *x,
                                   const double *w_ih, const double *w_hh, const double *dy,
                                   int64_t ldy, const double *dh_n,
                                   int64_t Ts, int64_t B, int64_t I, int64_t H, int reverse)

    int64_t fdl_rnn_layer_forward_workspace(int64_t B, int64_t H)
    int64_t fdl_lstm_layer_forward_workspace(int64_t B, int64_t H)
    int64_t fdl_gru_layer_forward_workspace(int64_t B, int64_t H)
    int64_t fdl_rnn_layer_backward_workspace(int64_t Ts, int64_t B, int64_t H)
    int64_t fdl_lstm_layer_backward_workspace(int64_t Ts, int64_t B, int64_t H)
    int64_t fdl_gru_layer_backward_workspace(int64_t Ts, int64_t B, int64_t H)
