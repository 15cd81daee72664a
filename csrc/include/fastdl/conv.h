/*
 * fastdl/conv.h — 2-D convolution (and 1-D as H = 1) over NCHW tensors,
 * forward and backward, built on the GEMM.
 *
 * Legend: N batch, C input channels, H x W input, K output channels,
 * R x S kernel, P x Q output, G groups (C and K divisible by G).
 *   x    [N, C, H, W]         w [K, C/G, R, S]      bias [K] (may be NULL)
 *   out  [N, K, P, Q]         P = (H + 2 pad_h - dil_h (R - 1) - 1) / stride_h + 1
 *
 * Each sample is lowered to a GEMM through an im2col panel of that one
 * sample (C/G*R*S x P*Q), never a full-batch buffer; a 1x1 / stride 1 /
 * no-padding convolution uses the input as the GEMM operand directly.
 *
 * Workspace: the caller passes `ws` of `ws_bytes` bytes, at least
 * fdl_conv2d_workspace_size(p, 1); more lets more threads work at once (up
 * to fdl_get_num_threads()). Threads never change the result: every output
 * element is computed by one thread in a fixed order, and the weight
 * gradient is summed over fixed sample slots whose number depends only on
 * the shapes.
 *
 * Backward adds into dx, dw, db (+=); pass NULL for a gradient not needed.
 * Status: FDL_OK, FDL_ERR_ARG (bad sizes), FDL_ERR_SHAPE (empty output),
 * FDL_ERR_WORKSPACE (ws too small), FDL_ERR_NULL.
 */
#ifndef FASTDL_CONV_H
#define FASTDL_CONV_H

#include <stdint.h>

#include "fastdl/export.h"

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
/* float64 versions (gradient checks, float64 models). */
FDL_API int fdl_conv2d_forward_f64(double *out, const double *x, const double *w, const double *bias,
                           const fdl_conv2d_params *p, void *ws, int64_t ws_bytes);
FDL_API int fdl_conv2d_backward_f64(double *dx, double *dw, double *db, const double *dout,
                            const double *x, const double *w,
                            const fdl_conv2d_params *p, void *ws, int64_t ws_bytes);

#ifdef __cplusplus
}
#endif

#endif
