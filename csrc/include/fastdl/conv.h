/*
 * fastdl/conv.h — 2-D convolution (and 1-D as H = 1) over NCHW tensors,
 * forward and backward, built on the GEMM.
 *
 * Legend: N batch, C input channels, H x W input, K output channels,
 * R x S kernel, P x Q output, G groups (C and K divisible by G).
 *   x    [N, C, H, W]         w [K, C/G, R, S]      bias [K] (may be NULL)
 *   out  [N, K, P, Q]         P = (H + 2 pad_h - dil_h (R - 1) - 1) / stride_h + 1
 *
 * Samples are lowered to GEMMs in chunks: an im2col panel of a chunk of
 * samples (C/G*R*S' x Nb*P*Q, Nb set by a fixed memory budget, R*S' the
 * kernel taps that can read the input) makes each GEMM, and the weight
 * gradient's, as wide as Nb samples (the weight gradient, and the forward of
 * large panels, gather the patches straight into the GEMM's packed panels
 * instead: implicit GEMM); a layer whose one sample is already a
 * wide GEMM runs its forward per sample (a 1x1 / stride 1 / no-padding
 * convolution then reads the input in place). Depthwise convolutions
 * (groups == C == K > 1) run a direct kernel.
 *
 * Workspace: the caller passes `ws` of `ws_bytes` bytes, at least
 * fdl_conv2d_workspace_size(p, 1); more lets more threads work at once in
 * the per-sample forward (up to fdl_get_num_threads()). Neither threads nor
 * the workspace size change the result: every output element is computed
 * by one thread in a fixed order, and the chunks depend only on the shapes.
 *
 * Backward adds into dx, dw, db (+=); pass NULL for a gradient not needed.
 * Status: FDL_OK, FDL_ERR_ARG (bad sizes), FDL_ERR_SHAPE (empty output),
 * FDL_ERR_WORKSPACE (ws too small), FDL_ERR_NULL.
 */
#ifndef FASTDL_CONV_H
#define FASTDL_CONV_H

#include <stdint.h>

#include "fastdl/export.h"
#include "fastdl/gemm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int64_t N, C, H, W;         /* input */
    int64_t K, R, S;            /* output channels, kernel size */
    int64_t stride_h, stride_w;
    int64_t pad_h, pad_w;
    int64_t dil_h, dil_w;
    int64_t groups;
} fdl_conv2d_params;

/* Output size P, Q of p; FDL_ERR_ARG / FDL_ERR_SHAPE when invalid. */
FDL_API int fdl_conv2d_output_size(const fdl_conv2d_params *p, int64_t *P, int64_t *Q);
/* Workspace bytes for `nthreads` threads working at once (forward and backward). */
FDL_API int64_t fdl_conv2d_workspace_size(const fdl_conv2d_params *p, int nthreads);

/* out[N,K,P,Q] = conv(x, w) + bias */
FDL_API int fdl_conv2d_forward_f32(float *out, const float *x, const float *w, const float *bias,
                       const fdl_conv2d_params *p, void *ws, int64_t ws_bytes);
/* dx[N,C,H,W] += dL/dx, dw[K,C/G,R,S] += dL/dw, db[K] += dL/db, from dout[N,K,P,Q] */
FDL_API int fdl_conv2d_backward_f32(float *dx, float *dw, float *db, const float *dout,
                        const float *x, const float *w,
                        const fdl_conv2d_params *p, void *ws, int64_t ws_bytes);
/* out[N,K,P,Q] = act(conv(x, w) + bias), the activation applied in the same
 * pass (act FDL_ACT_NONE or FDL_ACT_RELU; another value: FDL_ERR_ARG). */
FDL_API int fdl_conv2d_forward_ex_f32(float *out, const float *x, const float *w,
                                      const float *bias, fdl_act act,
                                      const fdl_conv2d_params *p, void *ws, int64_t ws_bytes);
/* As fdl_conv2d_backward_f32 for out = relu(conv(x, w) + bias): y[N,K,P,Q] is
 * that forward's output, and dout counts only where y > 0 (y NULL: no mask). */
FDL_API int fdl_conv2d_backward_ex_f32(float *dx, float *dw, float *db, const float *dout,
                                       const float *y, const float *x, const float *w,
                                       const fdl_conv2d_params *p, void *ws, int64_t ws_bytes);
/* float64 versions (gradient checks, float64 models). */
FDL_API int fdl_conv2d_forward_f64(double *out, const double *x, const double *w, const double *bias,
                           const fdl_conv2d_params *p, void *ws, int64_t ws_bytes);
FDL_API int fdl_conv2d_backward_f64(double *dx, double *dw, double *db, const double *dout,
                            const double *x, const double *w,
                            const fdl_conv2d_params *p, void *ws, int64_t ws_bytes);
FDL_API int fdl_conv2d_forward_ex_f64(double *out, const double *x, const double *w,
                                      const double *bias, fdl_act act,
                                      const fdl_conv2d_params *p, void *ws, int64_t ws_bytes);
FDL_API int fdl_conv2d_backward_ex_f64(double *dx, double *dw, double *db, const double *dout,
                                       const double *y, const double *x, const double *w,
                                       const fdl_conv2d_params *p, void *ws, int64_t ws_bytes);
/* As fdl_conv2d_backward_ex_*, but dx, dw and db are written (=), not added
 * to: they need no zeroing beforehand, and the input gradient, the largest,
 * is written once instead of zeroed, read and written. */
FDL_API int fdl_conv2d_backward_write_f32(float *dx, float *dw, float *db, const float *dout,
                                          const float *y, const float *x, const float *w,
                                          const fdl_conv2d_params *p, void *ws,
                                          int64_t ws_bytes);
FDL_API int fdl_conv2d_backward_write_f64(double *dx, double *dw, double *db,
                                          const double *dout, const double *y, const double *x,
                                          const double *w, const fdl_conv2d_params *p, void *ws,
                                          int64_t ws_bytes);

#ifdef __cplusplus
}
#endif

#endif
