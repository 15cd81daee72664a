/*
 * norm.c — batch_norm and layer_norm, forward and backward.
 *
 * Legend: batch_norm x[N, C, S] (S = H * W, or 1 for 2-D input), statistics
 * per channel over M = N * S values; layer_norm x[R, D], statistics per row.
 * Sums run in double in a fixed order (one thread per channel or row), so
 * float32 statistics are accurate and independent of the thread count.
 */
#include "nn/common.h"

#include "runtime/types_begin.h"
#include "nn/norm_impl.h"
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#include "nn/norm_impl.h"
#include "runtime/types_end.h"

/* ---- the public functions (fastdl/nn.h): check, then run the body above */

int fdl_batch_norm_forward_f32(float *out, float *mean, float *rstd, float *running_mean, float *running_var, const float *x, const float *weight, const float *bias, int64_t N, int64_t C, int64_t S, int training, float momentum, float eps) {
    if (N < 0 || C < 0 || S < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && S > 0 && (!out || !mean || !rstd || !x)) return FDL_ERR_NULL;
    nn_batch_norm_forward_f32(out, mean, rstd, running_mean, running_var, x, weight, bias, N, C, S, training, momentum, eps);
    return FDL_OK;
}

int fdl_batch_norm_forward_f64(double *out, double *mean, double *rstd, double *running_mean, double *running_var, const double *x, const double *weight, const double *bias, int64_t N, int64_t C, int64_t S, int training, double momentum, double eps) {
    if (N < 0 || C < 0 || S < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && S > 0 && (!out || !mean || !rstd || !x)) return FDL_ERR_NULL;
    nn_batch_norm_forward_f64(out, mean, rstd, running_mean, running_var, x, weight, bias, N, C, S, training, momentum, eps);
    return FDL_OK;
}

int fdl_batch_norm_backward_f32(float *dx, float *dweight, float *dbias, const float *mean, const float *rstd, const float *x, const float *weight, const float *dout, int64_t N, int64_t C, int64_t S, int training) {
    if (N < 0 || C < 0 || S < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && S > 0 && (!mean || !rstd || !x || !dout)) return FDL_ERR_NULL;
    nn_batch_norm_backward_f32(dx, dweight, dbias, mean, rstd, x, weight, dout, N, C, S, training);
    return FDL_OK;
}

int fdl_batch_norm_backward_f64(double *dx, double *dweight, double *dbias, const double *mean, const double *rstd, const double *x, const double *weight, const double *dout, int64_t N, int64_t C, int64_t S, int training) {
    if (N < 0 || C < 0 || S < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && S > 0 && (!mean || !rstd || !x || !dout)) return FDL_ERR_NULL;
    nn_batch_norm_backward_f64(dx, dweight, dbias, mean, rstd, x, weight, dout, N, C, S, training);
    return FDL_OK;
}

int fdl_layer_norm_forward_f32(float *out, float *mean, float *rstd, const float *x, const float *weight, const float *bias, int64_t R, int64_t D, float eps) {
    if (R < 0 || D < 0) return FDL_ERR_ARG;
    if (R > 0 && D > 0 && (!out || !mean || !rstd || !x)) return FDL_ERR_NULL;
    nn_layer_norm_forward_f32(out, mean, rstd, x, weight, bias, R, D, eps);
    return FDL_OK;
}

int fdl_layer_norm_forward_f64(double *out, double *mean, double *rstd, const double *x, const double *weight, const double *bias, int64_t R, int64_t D, double eps) {
    if (R < 0 || D < 0) return FDL_ERR_ARG;
    if (R > 0 && D > 0 && (!out || !mean || !rstd || !x)) return FDL_ERR_NULL;
    nn_layer_norm_forward_f64(out, mean, rstd, x, weight, bias, R, D, eps);
    return FDL_OK;
}

int fdl_layer_norm_backward_f32(float *dx, float *dweight, float *dbias, const float *mean, const float *rstd, const float *x, const float *weight, const float *dout, int64_t R, int64_t D) {
    if (R < 0 || D < 0) return FDL_ERR_ARG;
    if (R > 0 && D > 0 && (!mean || !rstd || !x || !dout)) return FDL_ERR_NULL;
    nn_layer_norm_backward_f32(dx, dweight, dbias, mean, rstd, x, weight, dout, R, D);
    return FDL_OK;
}

int fdl_layer_norm_backward_f64(double *dx, double *dweight, double *dbias, const double *mean, const double *rstd, const double *x, const double *weight, const double *dout, int64_t R, int64_t D) {
    if (R < 0 || D < 0) return FDL_ERR_ARG;
    if (R > 0 && D > 0 && (!mean || !rstd || !x || !dout)) return FDL_ERR_NULL;
    nn_layer_norm_backward_f64(dx, dweight, dbias, mean, rstd, x, weight, dout, R, D);
    return FDL_OK;
}
