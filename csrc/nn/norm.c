/*
 * norm.c — batch_norm and layer_norm, forward and backward.
 *
 * Legend: batch_norm x[N, C, S] (S = H * W, or 1 for 2-D input), statistics
 * per channel over M = N * S values; layer_norm x[R, D], statistics per row.
 * Sums run in double in a fixed order (per channel or row, see norm_impl.h), so
 * float32 statistics are accurate and independent of the thread count. The
 * bodies are compiled once per ISA (norm_<isa>.c) and reached through the
 * dispatch table.
 */
#include "nn/common.h"
#include "fastdl/nn.h"
#include "runtime/dispatch.h"

#define NORM (fdl_isa_kernels()->norm)

/* ---- the public functions (fastdl/nn.h): check, then run the body above */

int fdl_batch_norm_forward_f32(float *out, float *mean, float *rstd, float *running_mean, float *running_var, const float *x, const float *weight, const float *bias, int64_t N, int64_t C, int64_t S, int training, float momentum, float eps) {
    return fdl_batch_norm_forward_ex_f32(out, mean, rstd, running_mean, running_var, x, weight, bias, N, C, S, training, momentum, eps, FDL_ACT_NONE);
}

int fdl_batch_norm_forward_f64(double *out, double *mean, double *rstd, double *running_mean, double *running_var, const double *x, const double *weight, const double *bias, int64_t N, int64_t C, int64_t S, int training, double momentum, double eps) {
    return fdl_batch_norm_forward_ex_f64(out, mean, rstd, running_mean, running_var, x, weight, bias, N, C, S, training, momentum, eps, FDL_ACT_NONE);
}

int fdl_batch_norm_forward_ex_f32(float *out, float *mean, float *rstd, float *running_mean, float *running_var, const float *x, const float *weight, const float *bias, int64_t N, int64_t C, int64_t S, int training, float momentum, float eps, fdl_act act) {
    if (N < 0 || C < 0 || S < 0 || (act != FDL_ACT_NONE && act != FDL_ACT_RELU)) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && S > 0 && (!out || !mean || !rstd || !x)) return FDL_ERR_NULL;
    if (N > 0 && C > 0 && S > 0 && !training && (!running_mean || !running_var)) return FDL_ERR_NULL;
    return NORM->bn_fwd_f32(out, mean, rstd, running_mean, running_var, x, weight, bias, N, C, S, training, momentum, eps, act == FDL_ACT_RELU);
}

int fdl_batch_norm_forward_ex_f64(double *out, double *mean, double *rstd, double *running_mean, double *running_var, const double *x, const double *weight, const double *bias, int64_t N, int64_t C, int64_t S, int training, double momentum, double eps, fdl_act act) {
    if (N < 0 || C < 0 || S < 0 || (act != FDL_ACT_NONE && act != FDL_ACT_RELU)) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && S > 0 && (!out || !mean || !rstd || !x)) return FDL_ERR_NULL;
    if (N > 0 && C > 0 && S > 0 && !training && (!running_mean || !running_var)) return FDL_ERR_NULL;
    return NORM->bn_fwd_f64(out, mean, rstd, running_mean, running_var, x, weight, bias, N, C, S, training, momentum, eps, act == FDL_ACT_RELU);
}

int fdl_batch_norm_backward_f32(float *dx, float *dweight, float *dbias, const float *mean, const float *rstd, const float *x, const float *weight, const float *dout, int64_t N, int64_t C, int64_t S, int training) {
    return fdl_batch_norm_backward_ex_f32(dx, dweight, dbias, mean, rstd, x, weight, NULL, dout, N, C, S, training, FDL_ACT_NONE);
}

int fdl_batch_norm_backward_f64(double *dx, double *dweight, double *dbias, const double *mean, const double *rstd, const double *x, const double *weight, const double *dout, int64_t N, int64_t C, int64_t S, int training) {
    return fdl_batch_norm_backward_ex_f64(dx, dweight, dbias, mean, rstd, x, weight, NULL, dout, N, C, S, training, FDL_ACT_NONE);
}

int fdl_batch_norm_backward_ex_f32(float *dx, float *dweight, float *dbias, const float *mean, const float *rstd, const float *x, const float *weight, const float *bias, const float *dout, int64_t N, int64_t C, int64_t S, int training, fdl_act act) {
    if (N < 0 || C < 0 || S < 0 || (act != FDL_ACT_NONE && act != FDL_ACT_RELU)) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && S > 0 && (!mean || !rstd || !x || !dout)) return FDL_ERR_NULL;
    return NORM->bn_bwd_f32(dx, dweight, dbias, mean, rstd, x, weight, bias, dout, N, C, S, training, act == FDL_ACT_RELU);
}

int fdl_batch_norm_backward_ex_f64(double *dx, double *dweight, double *dbias, const double *mean, const double *rstd, const double *x, const double *weight, const double *bias, const double *dout, int64_t N, int64_t C, int64_t S, int training, fdl_act act) {
    if (N < 0 || C < 0 || S < 0 || (act != FDL_ACT_NONE && act != FDL_ACT_RELU)) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && S > 0 && (!mean || !rstd || !x || !dout)) return FDL_ERR_NULL;
    return NORM->bn_bwd_f64(dx, dweight, dbias, mean, rstd, x, weight, bias, dout, N, C, S, training, act == FDL_ACT_RELU);
}

int fdl_layer_norm_forward_f32(float *out, float *mean, float *rstd, const float *x, const float *weight, const float *bias, int64_t R, int64_t D, float eps) {
    if (R < 0 || D < 0) return FDL_ERR_ARG;
    if (R > 0 && D > 0 && (!out || !mean || !rstd || !x)) return FDL_ERR_NULL;
    NORM->ln_fwd_f32(out, mean, rstd, x, weight, bias, R, D, eps);
    return FDL_OK;
}

int fdl_layer_norm_forward_f64(double *out, double *mean, double *rstd, const double *x, const double *weight, const double *bias, int64_t R, int64_t D, double eps) {
    if (R < 0 || D < 0) return FDL_ERR_ARG;
    if (R > 0 && D > 0 && (!out || !mean || !rstd || !x)) return FDL_ERR_NULL;
    NORM->ln_fwd_f64(out, mean, rstd, x, weight, bias, R, D, eps);
    return FDL_OK;
}

int fdl_layer_norm_backward_f32(float *dx, float *dweight, float *dbias, const float *mean, const float *rstd, const float *x, const float *weight, const float *dout, int64_t R, int64_t D) {
    if (R < 0 || D < 0) return FDL_ERR_ARG;
    if (R > 0 && D > 0 && (!mean || !rstd || !x || !dout)) return FDL_ERR_NULL;
    NORM->ln_bwd_f32(dx, dweight, dbias, mean, rstd, x, weight, dout, R, D);
    return FDL_OK;
}

int fdl_layer_norm_backward_f64(double *dx, double *dweight, double *dbias, const double *mean, const double *rstd, const double *x, const double *weight, const double *dout, int64_t R, int64_t D) {
    if (R < 0 || D < 0) return FDL_ERR_ARG;
    if (R > 0 && D > 0 && (!mean || !rstd || !x || !dout)) return FDL_ERR_NULL;
    NORM->ln_bwd_f64(dx, dweight, dbias, mean, rstd, x, weight, dout, R, D);
    return FDL_OK;
}
