/*
 * nn/winograd.h — Winograd F(4x4, 3x3) convolution (internal; see winograd.c).
 *
 * Legend: a tile is a 4x4 block of outputs, read from a 6x6 input patch;
 * xi in [0, 36) is a position of the 6x6 transformed tile; L = 16 tiles are
 * transformed side by side (one vector lane each).
 *
 * The per-ISA table holds the tile transforms (winograd_kernels.h compiled
 * by winograd_{generic,avx2,avx512}.c); the element-wise stage is the sgemm.
 */
#ifndef FDL_NN_WINOGRAD_H
#define FDL_NN_WINOGRAD_H

#include <stdint.h>

#include "fastdl.h"

#define NN_WINO_L 16

/* Where the L tiles of one transform call sit: lane l's patch starts at
 * plane + off[l] (row h0[l], column w0[l] of an H x W plane; h0/w0 may be
 * negative for padding). Lanes >= n are empty (their outputs are zero, and
 * they are never written back). */
typedef struct {
    int64_t off[NN_WINO_L];
    int32_t h0[NN_WINO_L], w0[NN_WINO_L];
    /* load mask of row i of lane l's patch (6 rows and columns for input,
     * 4 for output patches): bit j set when column w0+j is inside the plane,
     * all clear when row h0+i is outside or the lane is empty */
    uint8_t rmask[6][NN_WINO_L];
    int n;
} nn_wino_lanes;

typedef struct {
    /* V[xi*sxi + l] = (B^T d B)[xi] of the 6x6 patches d of `plane` (H x W);
     * with ymask (a plane of the same shape, or NULL) d counts only where
     * ymask > 0: the backward of a fused ReLU, read in the same pass */
    void (*input)(float *V, int64_t sxi, const float *plane, int64_t H, int64_t W,
                  const nn_wino_lanes *L, const float *ymask);
    /* plane (P x Q): 4x4 tiles (=|+=) A^T m A + bias[l], m[xi] = M[xi*sxi + l]
     * (lane l's tile at plane + off[l]: a tile of one channel each lane, or
     * one tile of 16 channels); relu (only with accumulate 0): max(., 0)
     * before the store */
    void (*output)(float *plane, const float *M, int64_t sxi, int64_t P, int64_t Q,
                   const nn_wino_lanes *L, const float *bias, int accumulate, int relu);
    /* Y[xi*sxi + l] = (A g A^T)[xi] of the 4x4 patches g of `plane` (P x Q),
     * zero outside the plane: the weight gradient's transform of dout;
     * ymask as for input */
    void (*grad)(float *Y, int64_t sxi, const float *plane, int64_t P, int64_t Q,
                 const nn_wino_lanes *L, const float *ymask);
    /* channel-last strip: dst[i][j][c] (i < nrows, j < Wp, c < Cp, Cp a
     * multiple of 16) = src[c][h_lo + i][j - pw] of the C planes (H x W),
     * zero outside them and for c >= C; with ymask only where ymask > 0 */
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
     * strip has Wq columns of Kp channels; act max(., 0) when relu */
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
