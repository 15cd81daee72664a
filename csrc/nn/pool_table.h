/*
 * pool_table.h — the per-ISA table of max and adaptive-average pooling plane
 * loops (pool_rows.h, compiled by pool_{generic,avx2,avx512}.c); pool.c runs
 * them plane by plane.
 *
 * The compact argmax ("win", one byte per output) is the position i * kw + j
 * of the max inside its window; NN_POOL_NONE marks an output that routes no
 * gradient (a window entirely in the padding, or one a fused ReLU cut).
 */
#ifndef FDL_NN_POOL_TABLE_H
#define FDL_NN_POOL_TABLE_H

#include <stdint.h>

#define NN_POOL_NONE 255

/* one plane x[H, W] -> out[OH, OW]; kernel kh x kw, stride, padding, dilation */
typedef struct {
    int64_t H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw;
} nn_pool_geom;

typedef struct {
    /* out = max over each window (relu(max) when relu), win = its position
     * (NULL: not computed, for inference) */
    void (*max_fwd_f32)(float *out, uint8_t *win, const float *x, const nn_pool_geom *g, int relu);
    void (*max_fwd_f64)(double *out, uint8_t *win, const double *x, const nn_pool_geom *g,
                        int relu);
    /* dx (the whole plane, written) = dout routed through win; 1 for a
     * position outside its window */
    int (*max_bwd_f32)(float *dx, const uint8_t *win, const float *dout, const nn_pool_geom *g);
    int (*max_bwd_f64)(double *dx, const uint8_t *win, const double *dout,
                       const nn_pool_geom *g);
    /* out[OH, OW] = mean of each adaptive window of x[H, W]; dx += its gradient */
    void (*adaptive_avg_fwd_f32)(float *out, const float *x, const nn_pool_geom *g);
    void (*adaptive_avg_fwd_f64)(double *out, const double *x, const nn_pool_geom *g);
    void (*adaptive_avg_bwd_f32)(float *dx, const float *dout, const nn_pool_geom *g);
    void (*adaptive_avg_bwd_f64)(double *dx, const double *dout, const nn_pool_geom *g);
} nn_pool_kernels;

#endif
