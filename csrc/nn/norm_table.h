/*
 * norm_table.h — the per-ISA table of batch_norm and layer_norm bodies
 * (norm_impl.h, compiled by norm_{generic,avx2,avx512}.c); norm.c's public
 * functions check their arguments and call the active ISA's entry.
 */
#ifndef FDL_NN_NORM_TABLE_H
#define FDL_NN_NORM_TABLE_H

#include <stdint.h>

typedef struct {
    int (*bn_fwd_f32)(float *out, float *mean, float *rstd, float *running_mean,
                      float *running_var, const float *x, const float *weight, const float *bias,
                      int64_t N, int64_t C, int64_t S, int training, float momentum, float eps,
                      int relu);
    int (*bn_fwd_f64)(double *out, double *mean, double *rstd, double *running_mean,
                      double *running_var, const double *x, const double *weight,
                      const double *bias, int64_t N, int64_t C, int64_t S, int training,
                      double momentum, double eps, int relu);
    int (*bn_bwd_f32)(float *dx, float *dweight, float *dbias, const float *mean,
                      const float *rstd, const float *x, const float *weight, const float *bias,
                      const float *dout, int64_t N, int64_t C, int64_t S, int training,
                      int relu);
    int (*bn_bwd_f64)(double *dx, double *dweight, double *dbias, const double *mean,
                      const double *rstd, const double *x, const double *weight,
                      const double *bias, const double *dout, int64_t N, int64_t C, int64_t S,
                      int training, int relu);
    void (*ln_fwd_f32)(float *out, float *mean, float *rstd, const float *x, const float *weight,
                       const float *bias, int64_t R, int64_t D, float eps);
    void (*ln_fwd_f64)(double *out, double *mean, double *rstd, const double *x,
                       const double *weight, const double *bias, int64_t R, int64_t D,
                       double eps);
    void (*ln_bwd_f32)(float *dx, float *dweight, float *dbias, const float *mean,
                       const float *rstd, const float *x, const float *weight, const float *dout,
                       int64_t R, int64_t D);
    void (*ln_bwd_f64)(double *dx, double *dweight, double *dbias, const double *mean,
                       const double *rstd, const double *x, const double *weight,
                       const double *dout, int64_t R, int64_t D);
} nn_norm_kernels;

#endif
