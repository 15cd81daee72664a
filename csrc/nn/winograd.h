/*
 * nn/winograd.h — Winograd F(4x4, 3x3) convolution (internal; see winograd.c).
 *
 * Legend: a tile is a 4x4 block of outputs, read from a 6x6 input patch;
 * xi in [0, 36) is a position of the 6x6 transformed tile; L = 16 channels
 * of one tile are transformed side by side (one vector lane each).
 *
 * The per-ISA table holds the tile transforms (winograd_kernels.h compiled
 * by winograd_{generic,avx2,avx512}.c); the element-wise stage is the sgemm.
 */
#ifndef FDL_NN_WINOGRAD_H
#define FDL_NN_WINOGRAD_H

#include <stdint.h>

#include "fastdl.h"

#define NN_WINO_L 16

typedef struct {
    /* channel-last strip: dst[i][j][c] (i < nrows, j < Wp, c < Cp, Cp a
     * multiple of 16) = src[c][h_lo + i][j - pw] of the C planes (H x W),
     * zero outside them and for c >= C; with ymask only where ymask > 0 (the
     * backward of a fused ReLU, read in the same pass) */
    void (*pack)(float *dst, const float *src, const float *ymask, int64_t C, int64_t H,
                 int64_t W, int64_t h_lo, int64_t nrows, int64_t pw, int64_t Wp, int64_t Cp);
    /* V[xi*sxi + l] = (B^T d B)[xi] of one tile's 16 channels (lane l), d(i,
     * j)[l] = d[i*rs + j*cs + l] (a 6x6 window of a pack strip) */
    void (*input_c)(float *V, int64_t sxi, const float *d, int64_t rs, int64_t cs);
    /* Y[xi*sxi + l] = (A g A^T)[xi] of one tile's 16 channels, g(i, j)[l] =
     * g[i*rs + j*cs + l] (a 4x4 window of a pack strip of dout) */
    void (*grad_c)(float *Y, int64_t sxi, const float *g, int64_t rs, int64_t cs);
    /* strip[i*rs + j*cs + l] = (A^T m A)[i][j] (4x4) of one tile's 16
     * channels, m[xi] = M[xi*sxi + l] */
    void (*output_c)(float *strip, int64_t rs, int64_t cs, const float *M, int64_t sxi);
    /* dst[c][h_lo + i][j] (=|+=) act(strip[i][j][c] + bias[c]) (bias may be
     * NULL) for the rows i < nrows inside the K planes (H x W) of dst; the
     * strip has Wq columns of Kp channels; act max(., 0) when relu (only
     * with accumulate 0) */
    void (*unpack)(float *dst, const float *strip, int64_t K, int64_t H, int64_t W,
                   int64_t h_lo, int64_t nrows, int64_t Wq, int64_t Kp, const float *bias,
                   int accumulate, int relu);
} nn_wino_kernels;

/* Each returns 1 when it handled the call (then *status is its result), 0
 * when the layer is not one Winograd serves (or the im2col path is forced),
 * and the caller runs its general path. */
/* relu: the fused ReLU after the output transform; y (backward, or NULL):
 * the output of a fused forward, dout counts only where y > 0 (read inside
 * the dout transforms, no masked copy). */
int nn_conv2d_winograd_forward_f32(const fdl_conv2d_params *p, float *out, const float *x,
                                   const float *w, const float *bias, int relu, void *ws,
                                   int64_t ws_bytes, int *status);
int nn_conv2d_winograd_backward_f32(const fdl_conv2d_params *p, float *dx, float *dw,
                                    float *db, const float *dout, const float *y,
                                    const float *x, const float *w, void *ws, int64_t ws_bytes,
                                    int *status);

#endif
