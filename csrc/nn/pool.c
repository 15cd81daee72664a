/*
 * pool.c — 2-D max, average and adaptive average pooling.
 *
 * Legend: P = N * C planes of H x W input, OH x OW output; kernel kh x kw,
 * stride sh, sw, padding ph, pw, dilation dh, dw. Output sizes (including
 * ceil_mode) are computed and validated by the caller. Each plane is owned
 * by one thread, forward and backward, so no gradient is written twice.
 * Max and adaptive average pooling run the active ISA's plane loops
 * (pool_rows.h, through runtime/dispatch.c); avg_pool2d is plain code.
 */
#include "nn/common.h"
#include "runtime/dispatch.h"

#include "runtime/types_begin.h"
#include "nn/pool_impl.h"
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#include "nn/pool_impl.h"
#include "runtime/types_end.h"

/* ---- the public functions (fastdl/nn.h): check, then run the body above */

int fdl_max_pool2d_forward_f32(float *out, int64_t *argmax, const float *x, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
    if (P < 0 || H < 0 || W < 0 || OH < 0 || OW < 0 || ph < 0 || pw < 0 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1) return FDL_ERR_ARG;
    if (P > 0 && H > 0 && W > 0 && OH > 0 && OW > 0 && (!out || !argmax || !x)) return FDL_ERR_NULL;
    nn_max_pool2d_forward_f32(out, argmax, x, P, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw);
    return FDL_OK;
}

int fdl_max_pool2d_forward_f64(double *out, int64_t *argmax, const double *x, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
    if (P < 0 || H < 0 || W < 0 || OH < 0 || OW < 0 || ph < 0 || pw < 0 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1) return FDL_ERR_ARG;
    if (P > 0 && H > 0 && W > 0 && OH > 0 && OW > 0 && (!out || !argmax || !x)) return FDL_ERR_NULL;
    nn_max_pool2d_forward_f64(out, argmax, x, P, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw);
    return FDL_OK;
}

int fdl_max_pool2d_backward_f32(float *dx, const int64_t *argmax, const float *dout, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW) {
    if (P < 0 || H < 0 || W < 0 || OH < 0 || OW < 0) return FDL_ERR_ARG;
    if (P > 0 && H > 0 && W > 0 && OH > 0 && OW > 0 && (!dx || !argmax || !dout)) return FDL_ERR_NULL;
    if (nn_max_pool2d_backward_f32(dx, argmax, dout, P, H, W, OH, OW)) return FDL_ERR_ARG;
    return FDL_OK;
}

int fdl_max_pool2d_backward_f64(double *dx, const int64_t *argmax, const double *dout, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW) {
    if (P < 0 || H < 0 || W < 0 || OH < 0 || OW < 0) return FDL_ERR_ARG;
    if (P > 0 && H > 0 && W > 0 && OH > 0 && OW > 0 && (!dx || !argmax || !dout)) return FDL_ERR_NULL;
    if (nn_max_pool2d_backward_f64(dx, argmax, dout, P, H, W, OH, OW)) return FDL_ERR_ARG;
    return FDL_OK;
}

int fdl_max_pool2d_forward_win_f32(float *out, uint8_t *win, const float *x, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw, int relu) {
    if (P < 0 || H < 0 || W < 0 || OH < 0 || OW < 0 || ph < 0 || pw < 0 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || kh > NN_POOL_NONE || kw > NN_POOL_NONE || kh * kw > NN_POOL_NONE) return FDL_ERR_ARG;
    if (P > 0 && H > 0 && W > 0 && OH > 0 && OW > 0 && (!out || !x)) return FDL_ERR_NULL;
    const nn_pool_geom g = {H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw};
    nn_max_pool2d_forward_win_f32(out, win, x, P, &g, relu);
    return FDL_OK;
}

int fdl_max_pool2d_forward_win_f64(double *out, uint8_t *win, const double *x, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw, int relu) {
    if (P < 0 || H < 0 || W < 0 || OH < 0 || OW < 0 || ph < 0 || pw < 0 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || kh > NN_POOL_NONE || kw > NN_POOL_NONE || kh * kw > NN_POOL_NONE) return FDL_ERR_ARG;
    if (P > 0 && H > 0 && W > 0 && OH > 0 && OW > 0 && (!out || !x)) return FDL_ERR_NULL;
    const nn_pool_geom g = {H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw};
    nn_max_pool2d_forward_win_f64(out, win, x, P, &g, relu);
    return FDL_OK;
}

int fdl_max_pool2d_backward_win_f32(float *dx, const uint8_t *win, const float *dout, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
    if (P < 0 || H < 0 || W < 0 || OH < 0 || OW < 0 || ph < 0 || pw < 0 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || kh > NN_POOL_NONE || kw > NN_POOL_NONE || kh * kw > NN_POOL_NONE) return FDL_ERR_ARG;
    if (P > 0 && H > 0 && W > 0 && (!dx || ((OH > 0 && OW > 0) && (!win || !dout)))) return FDL_ERR_NULL;
    const nn_pool_geom g = {H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw};
    if (nn_max_pool2d_backward_win_f32(dx, win, dout, P, &g)) return FDL_ERR_ARG;
    return FDL_OK;
}

int fdl_max_pool2d_backward_win_f64(double *dx, const uint8_t *win, const double *dout, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
    if (P < 0 || H < 0 || W < 0 || OH < 0 || OW < 0 || ph < 0 || pw < 0 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || kh > NN_POOL_NONE || kw > NN_POOL_NONE || kh * kw > NN_POOL_NONE) return FDL_ERR_ARG;
    if (P > 0 && H > 0 && W > 0 && (!dx || ((OH > 0 && OW > 0) && (!win || !dout)))) return FDL_ERR_NULL;
    const nn_pool_geom g = {H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw};
    if (nn_max_pool2d_backward_win_f64(dx, win, dout, P, &g)) return FDL_ERR_ARG;
    return FDL_OK;
}

int fdl_avg_pool2d_forward_f32(float *out, const float *x, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int count_include_pad) {
    if (P < 0 || H < 0 || W < 0 || OH < 0 || OW < 0 || ph < 0 || pw < 0 || kh < 1 || kw < 1 || sh < 1 || sw < 1) return FDL_ERR_ARG;
    if (P > 0 && H > 0 && W > 0 && OH > 0 && OW > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_avg_pool2d_forward_f32(out, x, P, H, W, OH, OW, kh, kw, sh, sw, ph, pw, count_include_pad);
    return FDL_OK;
}

int fdl_avg_pool2d_forward_f64(double *out, const double *x, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int count_include_pad) {
    if (P < 0 || H < 0 || W < 0 || OH < 0 || OW < 0 || ph < 0 || pw < 0 || kh < 1 || kw < 1 || sh < 1 || sw < 1) return FDL_ERR_ARG;
    if (P > 0 && H > 0 && W > 0 && OH > 0 && OW > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_avg_pool2d_forward_f64(out, x, P, H, W, OH, OW, kh, kw, sh, sw, ph, pw, count_include_pad);
    return FDL_OK;
}

int fdl_avg_pool2d_backward_f32(float *dx, const float *dout, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int count_include_pad) {
    if (P < 0 || H < 0 || W < 0 || OH < 0 || OW < 0 || ph < 0 || pw < 0 || kh < 1 || kw < 1 || sh < 1 || sw < 1) return FDL_ERR_ARG;
    if (P > 0 && H > 0 && W > 0 && OH > 0 && OW > 0 && (!dx || !dout)) return FDL_ERR_NULL;
    nn_avg_pool2d_backward_f32(dx, dout, P, H, W, OH, OW, kh, kw, sh, sw, ph, pw, count_include_pad);
    return FDL_OK;
}

int fdl_avg_pool2d_backward_f64(double *dx, const double *dout, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int count_include_pad) {
    if (P < 0 || H < 0 || W < 0 || OH < 0 || OW < 0 || ph < 0 || pw < 0 || kh < 1 || kw < 1 || sh < 1 || sw < 1) return FDL_ERR_ARG;
    if (P > 0 && H > 0 && W > 0 && OH > 0 && OW > 0 && (!dx || !dout)) return FDL_ERR_NULL;
    nn_avg_pool2d_backward_f64(dx, dout, P, H, W, OH, OW, kh, kw, sh, sw, ph, pw, count_include_pad);
    return FDL_OK;
}

int fdl_adaptive_avg_pool2d_forward_f32(float *out, const float *x, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW) {
    if (P < 0 || H < 0 || W < 0 || OH < 0 || OW < 0) return FDL_ERR_ARG;
    if (P > 0 && H > 0 && W > 0 && OH > 0 && OW > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_adaptive_avg_pool2d_forward_f32(out, x, P, H, W, OH, OW);
    return FDL_OK;
}

int fdl_adaptive_avg_pool2d_forward_f64(double *out, const double *x, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW) {
    if (P < 0 || H < 0 || W < 0 || OH < 0 || OW < 0) return FDL_ERR_ARG;
    if (P > 0 && H > 0 && W > 0 && OH > 0 && OW > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_adaptive_avg_pool2d_forward_f64(out, x, P, H, W, OH, OW);
    return FDL_OK;
}

int fdl_adaptive_avg_pool2d_backward_f32(float *dx, const float *dout, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW) {
    if (P < 0 || H < 0 || W < 0 || OH < 0 || OW < 0) return FDL_ERR_ARG;
    if (P > 0 && H > 0 && W > 0 && OH > 0 && OW > 0 && (!dx || !dout)) return FDL_ERR_NULL;
    nn_adaptive_avg_pool2d_backward_f32(dx, dout, P, H, W, OH, OW);
    return FDL_OK;
}

int fdl_adaptive_avg_pool2d_backward_f64(double *dx, const double *dout, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW) {
    if (P < 0 || H < 0 || W < 0 || OH < 0 || OW < 0) return FDL_ERR_ARG;
    if (P > 0 && H > 0 && W > 0 && OH > 0 && OW > 0 && (!dx || !dout)) return FDL_ERR_NULL;
    nn_adaptive_avg_pool2d_backward_f64(dx, dout, P, H, W, OH, OW);
    return FDL_OK;
}
