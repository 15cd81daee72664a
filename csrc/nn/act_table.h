/*
 * act_table.h — the per-ISA table of activation and softmax row loops
 * (act_rows.h, compiled by act_{generic,avx2,avx512}.c) and the op codes.
 */
#ifndef FDL_NN_ACT_TABLE_H
#define FDL_NN_ACT_TABLE_H

#include <stdint.h>

enum { NN_RELU, NN_LEAKY_RELU, NN_ELU, NN_GELU, NN_GELU_TANH, NN_SIGMOID, NN_TANH,
       NN_SOFTPLUS, NN_SILU };

typedef struct {
    void (*fwd_f32)(int op, int64_t n, float *out, const float *x, float p0, float p1);
    void (*fwd_f64)(int op, int64_t n, double *out, const double *x, double p0, double p1);
    void (*bwd_f32)(int op, int64_t n, float *dx, const float *x, const float *out,
                    const float *dout, float p0, float p1);
    void (*bwd_f64)(int op, int64_t n, double *dx, const double *x, const double *out,
                    const double *dout, double p0, double p1);
    void (*softmax_f32)(int is_log, int64_t n, float *out, const float *x);
    void (*softmax_f64)(int is_log, int64_t n, double *out, const double *x);
    void (*softmax_bwd_f32)(int is_log, int64_t n, float *dx, const float *out, const float *dout);
    void (*softmax_bwd_f64)(int is_log, int64_t n, double *dx, const double *out,
                            const double *dout);
    float (*lse_f32)(int64_t n, const float *x);
    double (*lse_f64)(int64_t n, const double *x);
    /* d[i] += a * exp(x[i] - shift): the softmax part of a cross-entropy gradient */
    void (*expadd_f32)(int64_t n, float *d, const float *x, float shift, float a);
    void (*expadd_f64)(int64_t n, double *d, const double *x, double shift, double a);
    /* lse[r] = lse_f32(C, x + r C) for r < n <= 16, 1 <= C <= 16, bitwise */
    void (*lse16_f32)(int64_t n, int64_t C, const float *x, float *lse);
    void (*lse16_f64)(int64_t n, int64_t C, const double *x, double *lse);
} nn_act_rows;

const nn_act_rows *nn_act_rows_active(void);

#endif
