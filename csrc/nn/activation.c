/*
 * activation.c — activations and softmax/log_softmax, forward and backward.
 *
 * Legend: N elements (activations); softmax works on x[outer, dim, inner]
 * and normalizes over dim. The row loops live in act_rows.h, compiled per
 * ISA; this file splits work over threads and picks the ISA's table.
 * Elementwise work is cut into one contiguous range per thread and every
 * softmax row/column block is owned by one thread, so results do not
 * depend on the thread count.
 */
#include "nn/common.h"
#include "nn/act_table.h"
#include "runtime/dispatch.h"

const nn_act_rows *nn_act_rows_active(void) { return fdl_isa_kernels()->act; }

#include "runtime/types_begin.h"
#include "nn/activation_impl.h"
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#include "nn/activation_impl.h"
#include "runtime/types_end.h"

/* ---- the public functions (fastdl/nn.h): check, then run the body above */

int fdl_relu_forward_f32(float *out, const float *x, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_relu_forward_f32(out, x, n);
    return FDL_OK;
}

int fdl_relu_forward_f64(double *out, const double *x, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_relu_forward_f64(out, x, n);
    return FDL_OK;
}

int fdl_relu_backward_f32(float *dx, const float *x, const float *dout, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !dout)) return FDL_ERR_NULL;
    nn_relu_backward_f32(dx, x, dout, n);
    return FDL_OK;
}

int fdl_relu_backward_f64(double *dx, const double *x, const double *dout, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !dout)) return FDL_ERR_NULL;
    nn_relu_backward_f64(dx, x, dout, n);
    return FDL_OK;
}

int fdl_leaky_relu_forward_f32(float *out, const float *x, int64_t n, float negative_slope) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_leaky_relu_forward_f32(out, x, n, negative_slope);
    return FDL_OK;
}

int fdl_leaky_relu_forward_f64(double *out, const double *x, int64_t n, double negative_slope) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_leaky_relu_forward_f64(out, x, n, negative_slope);
    return FDL_OK;
}

int fdl_leaky_relu_backward_f32(float *dx, const float *x, const float *dout, int64_t n, float negative_slope) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !dout)) return FDL_ERR_NULL;
    nn_leaky_relu_backward_f32(dx, x, dout, n, negative_slope);
    return FDL_OK;
}

int fdl_leaky_relu_backward_f64(double *dx, const double *x, const double *dout, int64_t n, double negative_slope) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !dout)) return FDL_ERR_NULL;
    nn_leaky_relu_backward_f64(dx, x, dout, n, negative_slope);
    return FDL_OK;
}

int fdl_elu_forward_f32(float *out, const float *x, int64_t n, float alpha) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_elu_forward_f32(out, x, n, alpha);
    return FDL_OK;
}

int fdl_elu_forward_f64(double *out, const double *x, int64_t n, double alpha) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_elu_forward_f64(out, x, n, alpha);
    return FDL_OK;
}

int fdl_elu_backward_f32(float *dx, const float *x, const float *dout, int64_t n, float alpha) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !dout)) return FDL_ERR_NULL;
    nn_elu_backward_f32(dx, x, dout, n, alpha);
    return FDL_OK;
}

int fdl_elu_backward_f64(double *dx, const double *x, const double *dout, int64_t n, double alpha) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !dout)) return FDL_ERR_NULL;
    nn_elu_backward_f64(dx, x, dout, n, alpha);
    return FDL_OK;
}

int fdl_gelu_forward_f32(float *out, const float *x, int64_t n, int approximate_tanh) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_gelu_forward_f32(out, x, n, approximate_tanh);
    return FDL_OK;
}

int fdl_gelu_forward_f64(double *out, const double *x, int64_t n, int approximate_tanh) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_gelu_forward_f64(out, x, n, approximate_tanh);
    return FDL_OK;
}

int fdl_gelu_backward_f32(float *dx, const float *x, const float *dout, int64_t n, int approximate_tanh) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !dout)) return FDL_ERR_NULL;
    nn_gelu_backward_f32(dx, x, dout, n, approximate_tanh);
    return FDL_OK;
}

int fdl_gelu_backward_f64(double *dx, const double *x, const double *dout, int64_t n, int approximate_tanh) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !dout)) return FDL_ERR_NULL;
    nn_gelu_backward_f64(dx, x, dout, n, approximate_tanh);
    return FDL_OK;
}

int fdl_sigmoid_forward_f32(float *out, const float *x, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_sigmoid_forward_f32(out, x, n);
    return FDL_OK;
}

int fdl_sigmoid_forward_f64(double *out, const double *x, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_sigmoid_forward_f64(out, x, n);
    return FDL_OK;
}

int fdl_sigmoid_backward_f32(float *dx, const float *out, const float *dout, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !out || !dout)) return FDL_ERR_NULL;
    nn_sigmoid_backward_f32(dx, out, dout, n);
    return FDL_OK;
}

int fdl_sigmoid_backward_f64(double *dx, const double *out, const double *dout, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !out || !dout)) return FDL_ERR_NULL;
    nn_sigmoid_backward_f64(dx, out, dout, n);
    return FDL_OK;
}

int fdl_tanh_forward_f32(float *out, const float *x, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_tanh_forward_f32(out, x, n);
    return FDL_OK;
}

int fdl_tanh_forward_f64(double *out, const double *x, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_tanh_forward_f64(out, x, n);
    return FDL_OK;
}

int fdl_tanh_backward_f32(float *dx, const float *out, const float *dout, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !out || !dout)) return FDL_ERR_NULL;
    nn_tanh_backward_f32(dx, out, dout, n);
    return FDL_OK;
}

int fdl_tanh_backward_f64(double *dx, const double *out, const double *dout, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !out || !dout)) return FDL_ERR_NULL;
    nn_tanh_backward_f64(dx, out, dout, n);
    return FDL_OK;
}

int fdl_softplus_forward_f32(float *out, const float *x, int64_t n, float beta, float threshold) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_softplus_forward_f32(out, x, n, beta, threshold);
    return FDL_OK;
}

int fdl_softplus_forward_f64(double *out, const double *x, int64_t n, double beta, double threshold) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_softplus_forward_f64(out, x, n, beta, threshold);
    return FDL_OK;
}

int fdl_softplus_backward_f32(float *dx, const float *x, const float *dout, int64_t n, float beta, float threshold) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !dout)) return FDL_ERR_NULL;
    nn_softplus_backward_f32(dx, x, dout, n, beta, threshold);
    return FDL_OK;
}

int fdl_softplus_backward_f64(double *dx, const double *x, const double *dout, int64_t n, double beta, double threshold) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !dout)) return FDL_ERR_NULL;
    nn_softplus_backward_f64(dx, x, dout, n, beta, threshold);
    return FDL_OK;
}

int fdl_silu_forward_f32(float *out, const float *x, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_silu_forward_f32(out, x, n);
    return FDL_OK;
}

int fdl_silu_forward_f64(double *out, const double *x, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_silu_forward_f64(out, x, n);
    return FDL_OK;
}

int fdl_silu_backward_f32(float *dx, const float *x, const float *dout, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !dout)) return FDL_ERR_NULL;
    nn_silu_backward_f32(dx, x, dout, n);
    return FDL_OK;
}

int fdl_silu_backward_f64(double *dx, const double *x, const double *dout, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !dout)) return FDL_ERR_NULL;
    nn_silu_backward_f64(dx, x, dout, n);
    return FDL_OK;
}

int fdl_softmax_forward_f32(float *out, const float *x, int64_t outer, int64_t dim, int64_t inner) {
    if (outer < 0 || dim < 0 || inner < 0) return FDL_ERR_ARG;
    if (outer > 0 && dim > 0 && inner > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_softmax_forward_f32(out, x, outer, dim, inner);
    return FDL_OK;
}

int fdl_softmax_forward_f64(double *out, const double *x, int64_t outer, int64_t dim, int64_t inner) {
    if (outer < 0 || dim < 0 || inner < 0) return FDL_ERR_ARG;
    if (outer > 0 && dim > 0 && inner > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_softmax_forward_f64(out, x, outer, dim, inner);
    return FDL_OK;
}

int fdl_softmax_backward_f32(float *dx, const float *out, const float *dout, int64_t outer, int64_t dim, int64_t inner) {
    if (outer < 0 || dim < 0 || inner < 0) return FDL_ERR_ARG;
    if (outer > 0 && dim > 0 && inner > 0 && (!dx || !out || !dout)) return FDL_ERR_NULL;
    nn_softmax_backward_f32(dx, out, dout, outer, dim, inner);
    return FDL_OK;
}

int fdl_softmax_backward_f64(double *dx, const double *out, const double *dout, int64_t outer, int64_t dim, int64_t inner) {
    if (outer < 0 || dim < 0 || inner < 0) return FDL_ERR_ARG;
    if (outer > 0 && dim > 0 && inner > 0 && (!dx || !out || !dout)) return FDL_ERR_NULL;
    nn_softmax_backward_f64(dx, out, dout, outer, dim, inner);
    return FDL_OK;
}

int fdl_log_softmax_forward_f32(float *out, const float *x, int64_t outer, int64_t dim, int64_t inner) {
    if (outer < 0 || dim < 0 || inner < 0) return FDL_ERR_ARG;
    if (outer > 0 && dim > 0 && inner > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_log_softmax_forward_f32(out, x, outer, dim, inner);
    return FDL_OK;
}

int fdl_log_softmax_forward_f64(double *out, const double *x, int64_t outer, int64_t dim, int64_t inner) {
    if (outer < 0 || dim < 0 || inner < 0) return FDL_ERR_ARG;
    if (outer > 0 && dim > 0 && inner > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_log_softmax_forward_f64(out, x, outer, dim, inner);
    return FDL_OK;
}

int fdl_log_softmax_backward_f32(float *dx, const float *out, const float *dout, int64_t outer, int64_t dim, int64_t inner) {
    if (outer < 0 || dim < 0 || inner < 0) return FDL_ERR_ARG;
    if (outer > 0 && dim > 0 && inner > 0 && (!dx || !out || !dout)) return FDL_ERR_NULL;
    nn_log_softmax_backward_f32(dx, out, dout, outer, dim, inner);
    return FDL_OK;
}

int fdl_log_softmax_backward_f64(double *dx, const double *out, const double *dout, int64_t outer, int64_t dim, int64_t inner) {
    if (outer < 0 || dim < 0 || inner < 0) return FDL_ERR_ARG;
    if (outer > 0 && dim > 0 && inner > 0 && (!dx || !out || !dout)) return FDL_ERR_NULL;
    nn_log_softmax_backward_f64(dx, out, dout, outer, dim, inner);
    return FDL_OK;
}
