/*
 * conv_table.h — the per-ISA table of the convolution's phase-plane loops
 * (conv_rows.h, compiled by conv_{generic,avx2,avx512}.c); conv_impl.h runs
 * them one (sample, channel) plane or one patch row at a time.
 *
 * Phase planes (conv.c's conv_plan_planes): the input plane [H, W], padded by
 * ph, pw and split by stride phase into sh * sw planes [Hs, Ws]: element
 * (i, j) of phase (a, b) is the padded plane's (i*sh + a, j*sw + b), zero in
 * the padding. Tap (r, s) of output (p, q) reads one of them at
 * (p + r*dh/sh, q + s*dw/sw), so an output row's patch is a contiguous range.
 */
#ifndef FDL_NN_CONV_TABLE_H
#define FDL_NN_CONV_TABLE_H

#include <stdint.h>

/* Keeps gcc from turning a short row loop into a memcpy/memset call, which
 * costs more than a row of 8 to 64 elements (other compilers: no-op). */
#if defined(__GNUC__) && !defined(__clang__)
#define NN_CONV_NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define NN_CONV_NO_LIBCALL
#endif

typedef struct {
    int64_t H, W, sh, sw, ph, pw;   /* input plane, stride, padding */
    int64_t Hs, Ws, HWs;            /* one phase plane: Hs x Ws = HWs elements */
    int64_t plane_c;                /* one channel's sh * sw planes */
    int64_t P, Q;                   /* output plane */
} nn_conv_geom;

typedef struct {
    /* dst[sh*sw][Hs][Ws] <- the phase planes of one input plane x[H, W] */
    void (*planes_f32)(float *dst, const float *x, const nn_conv_geom *g);
    void (*planes_f64)(double *dst, const double *x, const nn_conv_geom *g);
    /* the patch-matrix rows of one channel (its taps) for nb samples:
     * col[t * ldc + nl * P*Q + p*Q + q] = pc[nl * sn + toff[t] + p*Ws + q],
     * pc the channel's planes in the first sample */
    void (*im2col_f32)(float *col, int64_t ldc, const float *pc, int64_t sn, int64_t nb,
                       const int64_t *toff, int64_t taps, const nn_conv_geom *g);
    void (*im2col_f64)(double *col, int64_t ldc, const double *pc, int64_t sn, int64_t nb,
                       const int64_t *toff, int64_t taps, const nn_conv_geom *g);
    /* dx[H, W] += col2im of one (sample, channel): the taps' rows
     * dcol[t * ldc + P*Q] are added into the zeroed planes dp at offsets
     * toff[t], in tap order, then dp into dx */
    void (*col2im_f32)(float *dx, float *dp, const float *dcol, int64_t ldc,
                       const int64_t *toff, int64_t taps, const nn_conv_geom *g);
    void (*col2im_f64)(double *dx, double *dp, const double *dcol, int64_t ldc,
                       const int64_t *toff, int64_t taps, const nn_conv_geom *g);
    /* dout of one sample's channel group, masked by a fused ReLU (y > 0 when y
     * is not NULL), transposed: v = d[r * ldd + j] for r < rows, j < cols goes
     * to dt[j * ldt + r] and, when dc is not NULL, to dc[r * ldc + j] */
    void (*dout_t_f32)(float *dt, int64_t ldt, float *dc, int64_t ldc, const float *d,
                       const float *y, int64_t ldd, int64_t rows, int64_t cols);
    void (*dout_t_f64)(double *dt, int64_t ldt, double *dc, int64_t ldc, const double *d,
                       const double *y, int64_t ldd, int64_t rows, int64_t cols);
    /* d[k * nr + u] = rows[u * ldr + k] for u < m (<= 8), k < len: 8 gathered
     * patch rows written as columns of a GEMM B panel */
    void (*cols8_f32)(float *d, int64_t nr, const float *rows, int64_t ldr, int m,
                      int64_t len);
    void (*cols8_f64)(double *d, int64_t nr, const double *rows, int64_t ldr, int m,
                      int64_t len);
} nn_conv_kernels;

#endif
