/*
 * loss.c — losses, forward and backward.
 *
 * Legend: N elements (pointwise losses) or rows, C classes, D features.
 * Forward kernels write the unreduced per-element (or per-row) loss; the
 * caller reduces it (sum/mean) with the deterministic core reduction.
 * Backward kernels take the upstream gradient as dout with element stride
 * ds (ds = 0: one scalar for a reduced loss) times `scale` (1/count for
 * 'mean'), and add into the input gradient. Rows are independent, so the
 * row-parallel loops write disjoint memory.
 */
#include "nn/common.h"
#include "nn/act_table.h"

enum { NN_MSE, NN_L1, NN_HUBER, NN_SMOOTH_L1, NN_BCE, NN_BCE_LOGITS, NN_HINGE, NN_HINGE_EMB,
       NN_KL_DIV };

#include "runtime/types_begin.h"
#include "nn/loss_impl.h"
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#include "nn/loss_impl.h"
#include "runtime/types_end.h"

/* ---- the public functions (fastdl/nn.h): check, then run the body above */

int fdl_mse_loss_forward_f32(float *loss, const float *x, const float *y, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_mse_loss_forward_f32(loss, x, y, n);
    return FDL_OK;
}

int fdl_mse_loss_forward_f64(double *loss, const double *x, const double *y, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_mse_loss_forward_f64(loss, x, y, n);
    return FDL_OK;
}

int fdl_mse_loss_backward_f32(float *dx, const float *x, const float *y, const float *dout, int64_t n, int64_t ds, float scale) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_mse_loss_backward_f32(dx, x, y, dout, n, ds, scale);
    return FDL_OK;
}

int fdl_mse_loss_backward_f64(double *dx, const double *x, const double *y, const double *dout, int64_t n, int64_t ds, double scale) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_mse_loss_backward_f64(dx, x, y, dout, n, ds, scale);
    return FDL_OK;
}

int fdl_l1_loss_forward_f32(float *loss, const float *x, const float *y, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_l1_loss_forward_f32(loss, x, y, n);
    return FDL_OK;
}

int fdl_l1_loss_forward_f64(double *loss, const double *x, const double *y, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_l1_loss_forward_f64(loss, x, y, n);
    return FDL_OK;
}

int fdl_l1_loss_backward_f32(float *dx, const float *x, const float *y, const float *dout, int64_t n, int64_t ds, float scale) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_l1_loss_backward_f32(dx, x, y, dout, n, ds, scale);
    return FDL_OK;
}

int fdl_l1_loss_backward_f64(double *dx, const double *x, const double *y, const double *dout, int64_t n, int64_t ds, double scale) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_l1_loss_backward_f64(dx, x, y, dout, n, ds, scale);
    return FDL_OK;
}

int fdl_huber_loss_forward_f32(float *loss, const float *x, const float *y, int64_t n, float delta) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_huber_loss_forward_f32(loss, x, y, n, delta);
    return FDL_OK;
}

int fdl_huber_loss_forward_f64(double *loss, const double *x, const double *y, int64_t n, double delta) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_huber_loss_forward_f64(loss, x, y, n, delta);
    return FDL_OK;
}

int fdl_huber_loss_backward_f32(float *dx, const float *x, const float *y, const float *dout, int64_t n, int64_t ds, float scale, float delta) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_huber_loss_backward_f32(dx, x, y, dout, n, ds, scale, delta);
    return FDL_OK;
}

int fdl_huber_loss_backward_f64(double *dx, const double *x, const double *y, const double *dout, int64_t n, int64_t ds, double scale, double delta) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_huber_loss_backward_f64(dx, x, y, dout, n, ds, scale, delta);
    return FDL_OK;
}

int fdl_smooth_l1_loss_forward_f32(float *loss, const float *x, const float *y, int64_t n, float beta) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_smooth_l1_loss_forward_f32(loss, x, y, n, beta);
    return FDL_OK;
}

int fdl_smooth_l1_loss_forward_f64(double *loss, const double *x, const double *y, int64_t n, double beta) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_smooth_l1_loss_forward_f64(loss, x, y, n, beta);
    return FDL_OK;
}

int fdl_smooth_l1_loss_backward_f32(float *dx, const float *x, const float *y, const float *dout, int64_t n, int64_t ds, float scale, float beta) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_smooth_l1_loss_backward_f32(dx, x, y, dout, n, ds, scale, beta);
    return FDL_OK;
}

int fdl_smooth_l1_loss_backward_f64(double *dx, const double *x, const double *y, const double *dout, int64_t n, int64_t ds, double scale, double beta) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_smooth_l1_loss_backward_f64(dx, x, y, dout, n, ds, scale, beta);
    return FDL_OK;
}

int fdl_binary_cross_entropy_forward_f32(float *loss, const float *x, const float *y, const float *weight, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_binary_cross_entropy_forward_f32(loss, x, y, weight, n);
    return FDL_OK;
}

int fdl_binary_cross_entropy_forward_f64(double *loss, const double *x, const double *y, const double *weight, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_binary_cross_entropy_forward_f64(loss, x, y, weight, n);
    return FDL_OK;
}

int fdl_binary_cross_entropy_backward_f32(float *dx, const float *x, const float *y, const float *weight, const float *dout, int64_t n, int64_t ds, float scale) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_binary_cross_entropy_backward_f32(dx, x, y, weight, dout, n, ds, scale);
    return FDL_OK;
}

int fdl_binary_cross_entropy_backward_f64(double *dx, const double *x, const double *y, const double *weight, const double *dout, int64_t n, int64_t ds, double scale) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_binary_cross_entropy_backward_f64(dx, x, y, weight, dout, n, ds, scale);
    return FDL_OK;
}

int fdl_binary_cross_entropy_with_logits_forward_f32(float *loss, const float *x, const float *y, const float *weight, const float *pos_weight, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_binary_cross_entropy_with_logits_forward_f32(loss, x, y, weight, pos_weight, n);
    return FDL_OK;
}

int fdl_binary_cross_entropy_with_logits_forward_f64(double *loss, const double *x, const double *y, const double *weight, const double *pos_weight, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_binary_cross_entropy_with_logits_forward_f64(loss, x, y, weight, pos_weight, n);
    return FDL_OK;
}

int fdl_binary_cross_entropy_with_logits_backward_f32(float *dx, const float *x, const float *y, const float *weight, const float *pos_weight, const float *dout, int64_t n, int64_t ds, float scale) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_binary_cross_entropy_with_logits_backward_f32(dx, x, y, weight, pos_weight, dout, n, ds, scale);
    return FDL_OK;
}

int fdl_binary_cross_entropy_with_logits_backward_f64(double *dx, const double *x, const double *y, const double *weight, const double *pos_weight, const double *dout, int64_t n, int64_t ds, double scale) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_binary_cross_entropy_with_logits_backward_f64(dx, x, y, weight, pos_weight, dout, n, ds, scale);
    return FDL_OK;
}

int fdl_hinge_loss_forward_f32(float *loss, const float *x, const float *y, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_hinge_loss_forward_f32(loss, x, y, n);
    return FDL_OK;
}

int fdl_hinge_loss_forward_f64(double *loss, const double *x, const double *y, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_hinge_loss_forward_f64(loss, x, y, n);
    return FDL_OK;
}

int fdl_hinge_loss_backward_f32(float *dx, const float *x, const float *y, const float *dout, int64_t n, int64_t ds, float scale) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_hinge_loss_backward_f32(dx, x, y, dout, n, ds, scale);
    return FDL_OK;
}

int fdl_hinge_loss_backward_f64(double *dx, const double *x, const double *y, const double *dout, int64_t n, int64_t ds, double scale) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_hinge_loss_backward_f64(dx, x, y, dout, n, ds, scale);
    return FDL_OK;
}

int fdl_hinge_embedding_loss_forward_f32(float *loss, const float *x, const float *y, int64_t n, float margin) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_hinge_embedding_loss_forward_f32(loss, x, y, n, margin);
    return FDL_OK;
}

int fdl_hinge_embedding_loss_forward_f64(double *loss, const double *x, const double *y, int64_t n, double margin) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_hinge_embedding_loss_forward_f64(loss, x, y, n, margin);
    return FDL_OK;
}

int fdl_hinge_embedding_loss_backward_f32(float *dx, const float *x, const float *y, const float *dout, int64_t n, int64_t ds, float scale, float margin) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_hinge_embedding_loss_backward_f32(dx, x, y, dout, n, ds, scale, margin);
    return FDL_OK;
}

int fdl_hinge_embedding_loss_backward_f64(double *dx, const double *x, const double *y, const double *dout, int64_t n, int64_t ds, double scale, double margin) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_hinge_embedding_loss_backward_f64(dx, x, y, dout, n, ds, scale, margin);
    return FDL_OK;
}

int fdl_kl_div_forward_f32(float *loss, const float *x, const float *y, int64_t n, int log_target) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_kl_div_forward_f32(loss, x, y, n, log_target);
    return FDL_OK;
}

int fdl_kl_div_forward_f64(double *loss, const double *x, const double *y, int64_t n, int log_target) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!loss || !x || !y)) return FDL_ERR_NULL;
    nn_kl_div_forward_f64(loss, x, y, n, log_target);
    return FDL_OK;
}

int fdl_kl_div_backward_f32(float *dx, const float *x, const float *y, const float *dout, int64_t n, int64_t ds, float scale, int log_target) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_kl_div_backward_f32(dx, x, y, dout, n, ds, scale, log_target);
    return FDL_OK;
}

int fdl_kl_div_backward_f64(double *dx, const double *x, const double *y, const double *dout, int64_t n, int64_t ds, double scale, int log_target) {
    if (n < 0 || ds < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !x || !y || !dout)) return FDL_ERR_NULL;
    nn_kl_div_backward_f64(dx, x, y, dout, n, ds, scale, log_target);
    return FDL_OK;
}

int fdl_cross_entropy_forward_f32(float *loss, float *lse, const float *x, const int64_t *target, const float *weight, int64_t N, int64_t C, int64_t ignore_index, float label_smoothing) {
    if (N < 0 || C < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && (!loss || !lse || !x || !target)) return FDL_ERR_NULL;
    if (N > 0 && C > 0 && nn_targets_bad(target, N, C, ignore_index, 1)) return FDL_ERR_ARG;
    nn_cross_entropy_forward_f32(loss, lse, x, target, weight, N, C, ignore_index, label_smoothing);
    return FDL_OK;
}

int fdl_cross_entropy_forward_f64(double *loss, double *lse, const double *x, const int64_t *target, const double *weight, int64_t N, int64_t C, int64_t ignore_index, double label_smoothing) {
    if (N < 0 || C < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && (!loss || !lse || !x || !target)) return FDL_ERR_NULL;
    if (N > 0 && C > 0 && nn_targets_bad(target, N, C, ignore_index, 1)) return FDL_ERR_ARG;
    nn_cross_entropy_forward_f64(loss, lse, x, target, weight, N, C, ignore_index, label_smoothing);
    return FDL_OK;
}

int fdl_cross_entropy_backward_f32(float *dx, const float *lse, const float *x, const int64_t *target, const float *weight, const float *dout, int64_t N, int64_t C, int64_t ds, float scale, int64_t ignore_index, float label_smoothing) {
    if (N < 0 || C < 0 || ds < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && (!dx || !lse || !x || !target || !dout)) return FDL_ERR_NULL;
    if (N > 0 && C > 0 && nn_targets_bad(target, N, C, ignore_index, 1)) return FDL_ERR_ARG;
    nn_cross_entropy_backward_f32(dx, lse, x, target, weight, dout, N, C, ds, scale, ignore_index, label_smoothing);
    return FDL_OK;
}

int fdl_cross_entropy_backward_f64(double *dx, const double *lse, const double *x, const int64_t *target, const double *weight, const double *dout, int64_t N, int64_t C, int64_t ds, double scale, int64_t ignore_index, double label_smoothing) {
    if (N < 0 || C < 0 || ds < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && (!dx || !lse || !x || !target || !dout)) return FDL_ERR_NULL;
    if (N > 0 && C > 0 && nn_targets_bad(target, N, C, ignore_index, 1)) return FDL_ERR_ARG;
    nn_cross_entropy_backward_f64(dx, lse, x, target, weight, dout, N, C, ds, scale, ignore_index, label_smoothing);
    return FDL_OK;
}

int fdl_cross_entropy_prob_forward_f32(float *loss, float *lse, const float *x, const float *tp, const float *weight, int64_t N, int64_t C, float label_smoothing) {
    if (N < 0 || C < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && (!loss || !lse || !x || !tp)) return FDL_ERR_NULL;
    nn_cross_entropy_prob_forward_f32(loss, lse, x, tp, weight, N, C, label_smoothing);
    return FDL_OK;
}

int fdl_cross_entropy_prob_forward_f64(double *loss, double *lse, const double *x, const double *tp, const double *weight, int64_t N, int64_t C, double label_smoothing) {
    if (N < 0 || C < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && (!loss || !lse || !x || !tp)) return FDL_ERR_NULL;
    nn_cross_entropy_prob_forward_f64(loss, lse, x, tp, weight, N, C, label_smoothing);
    return FDL_OK;
}

int fdl_cross_entropy_prob_backward_f32(float *dx, const float *lse, const float *x, const float *tp, const float *weight, const float *dout, int64_t N, int64_t C, int64_t ds, float scale, float label_smoothing) {
    if (N < 0 || C < 0 || ds < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && (!dx || !lse || !x || !tp || !dout)) return FDL_ERR_NULL;
    nn_cross_entropy_prob_backward_f32(dx, lse, x, tp, weight, dout, N, C, ds, scale, label_smoothing);
    return FDL_OK;
}

int fdl_cross_entropy_prob_backward_f64(double *dx, const double *lse, const double *x, const double *tp, const double *weight, const double *dout, int64_t N, int64_t C, int64_t ds, double scale, double label_smoothing) {
    if (N < 0 || C < 0 || ds < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && (!dx || !lse || !x || !tp || !dout)) return FDL_ERR_NULL;
    nn_cross_entropy_prob_backward_f64(dx, lse, x, tp, weight, dout, N, C, ds, scale, label_smoothing);
    return FDL_OK;
}

int fdl_nll_loss_forward_f32(float *loss, const float *x, const int64_t *target, const float *weight, int64_t N, int64_t C, int64_t ignore_index) {
    if (N < 0 || C < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && (!loss || !x || !target)) return FDL_ERR_NULL;
    if (N > 0 && C > 0 && nn_targets_bad(target, N, C, ignore_index, 1)) return FDL_ERR_ARG;
    nn_nll_loss_forward_f32(loss, x, target, weight, N, C, ignore_index);
    return FDL_OK;
}

int fdl_nll_loss_forward_f64(double *loss, const double *x, const int64_t *target, const double *weight, int64_t N, int64_t C, int64_t ignore_index) {
    if (N < 0 || C < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && (!loss || !x || !target)) return FDL_ERR_NULL;
    if (N > 0 && C > 0 && nn_targets_bad(target, N, C, ignore_index, 1)) return FDL_ERR_ARG;
    nn_nll_loss_forward_f64(loss, x, target, weight, N, C, ignore_index);
    return FDL_OK;
}

int fdl_nll_loss_backward_f32(float *dx, const int64_t *target, const float *weight, const float *dout, int64_t N, int64_t C, int64_t ds, float scale, int64_t ignore_index) {
    if (N < 0 || C < 0 || ds < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && (!dx || !target || !dout)) return FDL_ERR_NULL;
    if (N > 0 && C > 0 && nn_targets_bad(target, N, C, ignore_index, 1)) return FDL_ERR_ARG;
    nn_nll_loss_backward_f32(dx, target, weight, dout, N, C, ds, scale, ignore_index);
    return FDL_OK;
}

int fdl_nll_loss_backward_f64(double *dx, const int64_t *target, const double *weight, const double *dout, int64_t N, int64_t C, int64_t ds, double scale, int64_t ignore_index) {
    if (N < 0 || C < 0 || ds < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && (!dx || !target || !dout)) return FDL_ERR_NULL;
    if (N > 0 && C > 0 && nn_targets_bad(target, N, C, ignore_index, 1)) return FDL_ERR_ARG;
    nn_nll_loss_backward_f64(dx, target, weight, dout, N, C, ds, scale, ignore_index);
    return FDL_OK;
}

int fdl_multi_margin_loss_forward_f32(float *loss, const float *x, const int64_t *target, const float *weight, int64_t N, int64_t C, int p, float margin) {
    if (N < 0 || C < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && (!loss || !x || !target)) return FDL_ERR_NULL;
    if (N > 0 && C > 0 && nn_targets_bad(target, N, C, 0, 0)) return FDL_ERR_ARG;
    nn_multi_margin_loss_forward_f32(loss, x, target, weight, N, C, p, margin);
    return FDL_OK;
}

int fdl_multi_margin_loss_forward_f64(double *loss, const double *x, const int64_t *target, const double *weight, int64_t N, int64_t C, int p, double margin) {
    if (N < 0 || C < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && (!loss || !x || !target)) return FDL_ERR_NULL;
    if (N > 0 && C > 0 && nn_targets_bad(target, N, C, 0, 0)) return FDL_ERR_ARG;
    nn_multi_margin_loss_forward_f64(loss, x, target, weight, N, C, p, margin);
    return FDL_OK;
}

int fdl_multi_margin_loss_backward_f32(float *dx, const float *x, const int64_t *target, const float *weight, const float *dout, int64_t N, int64_t C, int64_t ds, float scale, int p, float margin) {
    if (N < 0 || C < 0 || ds < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && (!dx || !x || !target || !dout)) return FDL_ERR_NULL;
    if (N > 0 && C > 0 && nn_targets_bad(target, N, C, 0, 0)) return FDL_ERR_ARG;
    nn_multi_margin_loss_backward_f32(dx, x, target, weight, dout, N, C, ds, scale, p, margin);
    return FDL_OK;
}

int fdl_multi_margin_loss_backward_f64(double *dx, const double *x, const int64_t *target, const double *weight, const double *dout, int64_t N, int64_t C, int64_t ds, double scale, int p, double margin) {
    if (N < 0 || C < 0 || ds < 0) return FDL_ERR_ARG;
    if (N > 0 && C > 0 && (!dx || !x || !target || !dout)) return FDL_ERR_NULL;
    if (N > 0 && C > 0 && nn_targets_bad(target, N, C, 0, 0)) return FDL_ERR_ARG;
    nn_multi_margin_loss_backward_f64(dx, x, target, weight, dout, N, C, ds, scale, p, margin);
    return FDL_OK;
}

int fdl_triplet_margin_loss_forward_f32(float *loss, float *dist, const float *a, const float *pos, const float *neg, int64_t N, int64_t D, float margin, float p, float eps, int swap) {
    if (N < 0 || D < 0) return FDL_ERR_ARG;
    if (N > 0 && D > 0 && (!loss || !dist || !a || !pos || !neg)) return FDL_ERR_NULL;
    nn_triplet_margin_loss_forward_f32(loss, dist, a, pos, neg, N, D, margin, p, eps, swap);
    return FDL_OK;
}

int fdl_triplet_margin_loss_forward_f64(double *loss, double *dist, const double *a, const double *pos, const double *neg, int64_t N, int64_t D, double margin, double p, double eps, int swap) {
    if (N < 0 || D < 0) return FDL_ERR_ARG;
    if (N > 0 && D > 0 && (!loss || !dist || !a || !pos || !neg)) return FDL_ERR_NULL;
    nn_triplet_margin_loss_forward_f64(loss, dist, a, pos, neg, N, D, margin, p, eps, swap);
    return FDL_OK;
}

int fdl_triplet_margin_loss_backward_f32(float *da, float *dp, float *dn, const float *dist, const float *a, const float *pos, const float *neg, const float *dout, int64_t N, int64_t D, int64_t ds, float scale, float margin, float p, float eps, int swap) {
    if (N < 0 || D < 0 || ds < 0) return FDL_ERR_ARG;
    if (N > 0 && D > 0 && (!da || !dp || !dn || !dist || !a || !pos || !neg || !dout)) return FDL_ERR_NULL;
    nn_triplet_margin_loss_backward_f32(da, dp, dn, dist, a, pos, neg, dout, N, D, ds, scale, margin, p, eps, swap);
    return FDL_OK;
}

int fdl_triplet_margin_loss_backward_f64(double *da, double *dp, double *dn, const double *dist, const double *a, const double *pos, const double *neg, const double *dout, int64_t N, int64_t D, int64_t ds, double scale, double margin, double p, double eps, int swap) {
    if (N < 0 || D < 0 || ds < 0) return FDL_ERR_ARG;
    if (N > 0 && D > 0 && (!da || !dp || !dn || !dist || !a || !pos || !neg || !dout)) return FDL_ERR_NULL;
    nn_triplet_margin_loss_backward_f64(da, dp, dn, dist, a, pos, neg, dout, N, D, ds, scale, margin, p, eps, swap);
    return FDL_OK;
}

int fdl_cosine_embedding_loss_forward_f32(float *loss, float *saved, const float *x1, const float *x2, const float *y, int64_t N, int64_t D, float margin) {
    if (N < 0 || D < 0) return FDL_ERR_ARG;
    if (N > 0 && D > 0 && (!loss || !saved || !x1 || !x2 || !y)) return FDL_ERR_NULL;
    nn_cosine_embedding_loss_forward_f32(loss, saved, x1, x2, y, N, D, margin);
    return FDL_OK;
}

int fdl_cosine_embedding_loss_forward_f64(double *loss, double *saved, const double *x1, const double *x2, const double *y, int64_t N, int64_t D, double margin) {
    if (N < 0 || D < 0) return FDL_ERR_ARG;
    if (N > 0 && D > 0 && (!loss || !saved || !x1 || !x2 || !y)) return FDL_ERR_NULL;
    nn_cosine_embedding_loss_forward_f64(loss, saved, x1, x2, y, N, D, margin);
    return FDL_OK;
}

int fdl_cosine_embedding_loss_backward_f32(float *dx1, float *dx2, const float *saved, const float *x1, const float *x2, const float *y, const float *dout, int64_t N, int64_t D, int64_t ds, float scale, float margin) {
    if (N < 0 || D < 0 || ds < 0) return FDL_ERR_ARG;
    if (N > 0 && D > 0 && (!dx1 || !dx2 || !saved || !x1 || !x2 || !y || !dout)) return FDL_ERR_NULL;
    nn_cosine_embedding_loss_backward_f32(dx1, dx2, saved, x1, x2, y, dout, N, D, ds, scale, margin);
    return FDL_OK;
}

int fdl_cosine_embedding_loss_backward_f64(double *dx1, double *dx2, const double *saved, const double *x1, const double *x2, const double *y, const double *dout, int64_t N, int64_t D, int64_t ds, double scale, double margin) {
    if (N < 0 || D < 0 || ds < 0) return FDL_ERR_ARG;
    if (N > 0 && D > 0 && (!dx1 || !dx2 || !saved || !x1 || !x2 || !y || !dout)) return FDL_ERR_NULL;
    nn_cosine_embedding_loss_backward_f64(dx1, dx2, saved, x1, x2, y, dout, N, D, ds, scale, margin);
    return FDL_OK;
}
