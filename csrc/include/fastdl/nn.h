/*
 * fastdl/nn.h — neural-network kernels: pooling, activations, losses,
 * normalization, dropout, embedding. Forward/backward pairs, float32 (_f32)
 * and float64 (_f64).
 *
 * Argument order: outputs, saved buffers, inputs, sizes, parameters.
 * Backward kernels add into gradients (+=); the caller zeroes them. The
 * activation, softmax and batch_norm backward kernels write dx instead (=;
 * batch_norm still adds into dweight and dbias): on these memory-bound steps
 * the input gradient is fresh, so no zeroing pass and no read of dx is paid.
 * Every function checks its arguments and returns FDL_OK, FDL_ERR_ARG (a
 * negative size, a kernel size, stride or dilation below 1, a class index
 * outside [0, C) other than ignore_index, a max-pool index outside its
 * plane) or FDL_ERR_NULL (a required pointer is NULL while there is work;
 * weight, pos_weight, bias, running_mean/var (when training), dweight, dbias
 * and the dropout mask may be NULL); batch_norm also FDL_ERR_NOMEM when its
 * small per-channel scratch cannot be allocated. Buffer lengths are the
 * caller's promise.
 * Shapes per kernel are in csrc/nn/<family>_impl.h.
 */
#ifndef FASTDL_NN_H
#define FASTDL_NN_H

#include <stdint.h>

#include "fastdl/export.h"
#include "fastdl/gemm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Activations: x[N] elementwise; softmax over dim of x[outer, dim,
        inner]. Backward writes dx (=); dx may be dout itself (in place,
        overwriting the incoming gradient), but no other overlap. */
FDL_API int fdl_relu_forward_f32(float *out, const float *x, int64_t n);
FDL_API int fdl_relu_forward_f64(double *out, const double *x, int64_t n);
FDL_API int fdl_relu_backward_f32(float *dx, const float *x, const float *dout, int64_t n);
FDL_API int fdl_relu_backward_f64(double *dx, const double *x, const double *dout, int64_t n);
FDL_API int fdl_leaky_relu_forward_f32(float *out, const float *x, int64_t n, float negative_slope);
FDL_API int fdl_leaky_relu_forward_f64(double *out, const double *x, int64_t n, double negative_slope);
FDL_API int fdl_leaky_relu_backward_f32(float *dx, const float *x, const float *dout, int64_t n,
        float negative_slope);
FDL_API int fdl_leaky_relu_backward_f64(double *dx, const double *x, const double *dout, int64_t n,
        double negative_slope);
FDL_API int fdl_elu_forward_f32(float *out, const float *x, int64_t n, float alpha);
FDL_API int fdl_elu_forward_f64(double *out, const double *x, int64_t n, double alpha);
FDL_API int fdl_elu_backward_f32(float *dx, const float *x, const float *dout, int64_t n, float alpha);
FDL_API int fdl_elu_backward_f64(double *dx, const double *x, const double *dout, int64_t n,
        double alpha);
FDL_API int fdl_gelu_forward_f32(float *out, const float *x, int64_t n, int approximate_tanh);
FDL_API int fdl_gelu_forward_f64(double *out, const double *x, int64_t n, int approximate_tanh);
FDL_API int fdl_gelu_backward_f32(float *dx, const float *x, const float *dout, int64_t n,
        int approximate_tanh);
FDL_API int fdl_gelu_backward_f64(double *dx, const double *x, const double *dout, int64_t n,
        int approximate_tanh);
FDL_API int fdl_sigmoid_forward_f32(float *out, const float *x, int64_t n);
FDL_API int fdl_sigmoid_forward_f64(double *out, const double *x, int64_t n);
FDL_API int fdl_sigmoid_backward_f32(float *dx, const float *out, const float *dout, int64_t n);
FDL_API int fdl_sigmoid_backward_f64(double *dx, const double *out, const double *dout, int64_t n);
FDL_API int fdl_tanh_forward_f32(float *out, const float *x, int64_t n);
FDL_API int fdl_tanh_forward_f64(double *out, const double *x, int64_t n);
FDL_API int fdl_tanh_backward_f32(float *dx, const float *out, const float *dout, int64_t n);
FDL_API int fdl_tanh_backward_f64(double *dx, const double *out, const double *dout, int64_t n);
FDL_API int fdl_softplus_forward_f32(float *out, const float *x, int64_t n, float beta,
        float threshold);
FDL_API int fdl_softplus_forward_f64(double *out, const double *x, int64_t n, double beta,
        double threshold);
FDL_API int fdl_softplus_backward_f32(float *dx, const float *x, const float *dout, int64_t n,
        float beta, float threshold);
FDL_API int fdl_softplus_backward_f64(double *dx, const double *x, const double *dout, int64_t n,
        double beta, double threshold);
FDL_API int fdl_silu_forward_f32(float *out, const float *x, int64_t n);
FDL_API int fdl_silu_forward_f64(double *out, const double *x, int64_t n);
FDL_API int fdl_silu_backward_f32(float *dx, const float *x, const float *dout, int64_t n);
FDL_API int fdl_silu_backward_f64(double *dx, const double *x, const double *dout, int64_t n);
FDL_API int fdl_softmax_forward_f32(float *out, const float *x, int64_t outer, int64_t dim,
        int64_t inner);
FDL_API int fdl_softmax_forward_f64(double *out, const double *x, int64_t outer, int64_t dim,
        int64_t inner);
FDL_API int fdl_softmax_backward_f32(float *dx, const float *out, const float *dout, int64_t outer,
        int64_t dim, int64_t inner);
FDL_API int fdl_softmax_backward_f64(double *dx, const double *out, const double *dout, int64_t outer,
        int64_t dim, int64_t inner);
FDL_API int fdl_log_softmax_forward_f32(float *out, const float *x, int64_t outer, int64_t dim,
        int64_t inner);
FDL_API int fdl_log_softmax_forward_f64(double *out, const double *x, int64_t outer, int64_t dim,
        int64_t inner);
FDL_API int fdl_log_softmax_backward_f32(float *dx, const float *out, const float *dout,
        int64_t outer, int64_t dim, int64_t inner);
FDL_API int fdl_log_softmax_backward_f64(double *dx, const double *out, const double *dout,
        int64_t outer, int64_t dim, int64_t inner);

/* ---- Losses: forward writes unreduced per-element/per-row losses; backward adds
 * dout[i * ds] * scale * dL/dx into dx (ds = 0 for a reduced loss). */
FDL_API int fdl_mse_loss_forward_f32(float *loss, const float *x, const float *y, int64_t n);
FDL_API int fdl_mse_loss_forward_f64(double *loss, const double *x, const double *y, int64_t n);
FDL_API int fdl_mse_loss_backward_f32(float *dx, const float *x, const float *y, const float *dout,
        int64_t n, int64_t ds, float scale);
FDL_API int fdl_mse_loss_backward_f64(double *dx, const double *x, const double *y,
        const double *dout, int64_t n, int64_t ds, double scale);
FDL_API int fdl_l1_loss_forward_f32(float *loss, const float *x, const float *y, int64_t n);
FDL_API int fdl_l1_loss_forward_f64(double *loss, const double *x, const double *y, int64_t n);
FDL_API int fdl_l1_loss_backward_f32(float *dx, const float *x, const float *y, const float *dout,
        int64_t n, int64_t ds, float scale);
FDL_API int fdl_l1_loss_backward_f64(double *dx, const double *x, const double *y, const double *dout,
        int64_t n, int64_t ds, double scale);
FDL_API int fdl_huber_loss_forward_f32(float *loss, const float *x, const float *y, int64_t n,
        float delta);
FDL_API int fdl_huber_loss_forward_f64(double *loss, const double *x, const double *y, int64_t n,
        double delta);
FDL_API int fdl_huber_loss_backward_f32(float *dx, const float *x, const float *y, const float *dout,
        int64_t n, int64_t ds, float scale, float delta);
FDL_API int fdl_huber_loss_backward_f64(double *dx, const double *x, const double *y,
        const double *dout, int64_t n, int64_t ds, double scale, double delta);
FDL_API int fdl_smooth_l1_loss_forward_f32(float *loss, const float *x, const float *y, int64_t n,
        float beta);
FDL_API int fdl_smooth_l1_loss_forward_f64(double *loss, const double *x, const double *y, int64_t n,
        double beta);
FDL_API int fdl_smooth_l1_loss_backward_f32(float *dx, const float *x, const float *y,
        const float *dout, int64_t n, int64_t ds, float scale, float beta);
FDL_API int fdl_smooth_l1_loss_backward_f64(double *dx, const double *x, const double *y,
        const double *dout, int64_t n, int64_t ds, double scale, double beta);
FDL_API int fdl_binary_cross_entropy_forward_f32(float *loss, const float *x, const float *y,
        const float *weight, int64_t n);
FDL_API int fdl_binary_cross_entropy_forward_f64(double *loss, const double *x, const double *y,
        const double *weight, int64_t n);
FDL_API int fdl_binary_cross_entropy_backward_f32(float *dx, const float *x, const float *y,
        const float *weight, const float *dout, int64_t n, int64_t ds, float scale);
FDL_API int fdl_binary_cross_entropy_backward_f64(double *dx, const double *x, const double *y,
        const double *weight, const double *dout, int64_t n, int64_t ds, double scale);
FDL_API int fdl_binary_cross_entropy_with_logits_forward_f32(float *loss, const float *x,
        const float *y, const float *weight, const float *pos_weight, int64_t n);
FDL_API int fdl_binary_cross_entropy_with_logits_forward_f64(double *loss, const double *x,
        const double *y, const double *weight, const double *pos_weight, int64_t n);
FDL_API int fdl_binary_cross_entropy_with_logits_backward_f32(float *dx, const float *x,
        const float *y, const float *weight, const float *pos_weight, const float *dout,
        int64_t n, int64_t ds, float scale);
FDL_API int fdl_binary_cross_entropy_with_logits_backward_f64(double *dx, const double *x,
        const double *y, const double *weight, const double *pos_weight, const double *dout,
        int64_t n, int64_t ds, double scale);
FDL_API int fdl_hinge_loss_forward_f32(float *loss, const float *x, const float *y, int64_t n);
FDL_API int fdl_hinge_loss_forward_f64(double *loss, const double *x, const double *y, int64_t n);
FDL_API int fdl_hinge_loss_backward_f32(float *dx, const float *x, const float *y, const float *dout,
        int64_t n, int64_t ds, float scale);
FDL_API int fdl_hinge_loss_backward_f64(double *dx, const double *x, const double *y,
        const double *dout, int64_t n, int64_t ds, double scale);
FDL_API int fdl_hinge_embedding_loss_forward_f32(float *loss, const float *x, const float *y,
        int64_t n, float margin);
FDL_API int fdl_hinge_embedding_loss_forward_f64(double *loss, const double *x, const double *y,
        int64_t n, double margin);
FDL_API int fdl_hinge_embedding_loss_backward_f32(float *dx, const float *x, const float *y,
        const float *dout, int64_t n, int64_t ds, float scale, float margin);
FDL_API int fdl_hinge_embedding_loss_backward_f64(double *dx, const double *x, const double *y,
        const double *dout, int64_t n, int64_t ds, double scale, double margin);
FDL_API int fdl_kl_div_forward_f32(float *loss, const float *x, const float *y, int64_t n,
        int log_target);
FDL_API int fdl_kl_div_forward_f64(double *loss, const double *x, const double *y, int64_t n,
        int log_target);
FDL_API int fdl_kl_div_backward_f32(float *dx, const float *x, const float *y, const float *dout,
        int64_t n, int64_t ds, float scale, int log_target);
FDL_API int fdl_kl_div_backward_f64(double *dx, const double *x, const double *y, const double *dout,
        int64_t n, int64_t ds, double scale, int log_target);
FDL_API int fdl_cross_entropy_forward_f32(float *loss, float *lse, const float *x,
        const int64_t *target, const float *weight, int64_t N, int64_t C, int64_t ignore_index,
        float label_smoothing);
FDL_API int fdl_cross_entropy_forward_f64(double *loss, double *lse, const double *x,
        const int64_t *target, const double *weight, int64_t N, int64_t C,
        int64_t ignore_index, double label_smoothing);
FDL_API int fdl_cross_entropy_backward_f32(float *dx, const float *lse, const float *x,
        const int64_t *target, const float *weight, const float *dout, int64_t N, int64_t C,
        int64_t ds, float scale, int64_t ignore_index, float label_smoothing);
FDL_API int fdl_cross_entropy_backward_f64(double *dx, const double *lse, const double *x,
        const int64_t *target, const double *weight, const double *dout, int64_t N, int64_t C,
        int64_t ds, double scale, int64_t ignore_index, double label_smoothing);
FDL_API int fdl_cross_entropy_prob_forward_f32(float *loss, float *lse, const float *x,
        const float *tp, const float *weight, int64_t N, int64_t C, float label_smoothing);
FDL_API int fdl_cross_entropy_prob_forward_f64(double *loss, double *lse, const double *x,
        const double *tp, const double *weight, int64_t N, int64_t C, double label_smoothing);
FDL_API int fdl_cross_entropy_prob_backward_f32(float *dx, const float *lse, const float *x,
        const float *tp, const float *weight, const float *dout, int64_t N, int64_t C,
        int64_t ds, float scale, float label_smoothing);
FDL_API int fdl_cross_entropy_prob_backward_f64(double *dx, const double *lse, const double *x,
        const double *tp, const double *weight, const double *dout, int64_t N, int64_t C,
        int64_t ds, double scale, double label_smoothing);
FDL_API int fdl_nll_loss_forward_f32(float *loss, const float *x, const int64_t *target,
        const float *weight, int64_t N, int64_t C, int64_t ignore_index);
FDL_API int fdl_nll_loss_forward_f64(double *loss, const double *x, const int64_t *target,
        const double *weight, int64_t N, int64_t C, int64_t ignore_index);
FDL_API int fdl_nll_loss_backward_f32(float *dx, const int64_t *target, const float *weight,
        const float *dout, int64_t N, int64_t C, int64_t ds, float scale,
        int64_t ignore_index);
FDL_API int fdl_nll_loss_backward_f64(double *dx, const int64_t *target, const double *weight,
        const double *dout, int64_t N, int64_t C, int64_t ds, double scale,
        int64_t ignore_index);
FDL_API int fdl_multi_margin_loss_forward_f32(float *loss, const float *x, const int64_t *target,
        const float *weight, int64_t N, int64_t C, int p, float margin);
FDL_API int fdl_multi_margin_loss_forward_f64(double *loss, const double *x, const int64_t *target,
        const double *weight, int64_t N, int64_t C, int p, double margin);
FDL_API int fdl_multi_margin_loss_backward_f32(float *dx, const float *x, const int64_t *target,
        const float *weight, const float *dout, int64_t N, int64_t C, int64_t ds, float scale,
        int p, float margin);
FDL_API int fdl_multi_margin_loss_backward_f64(double *dx, const double *x, const int64_t *target,
        const double *weight, const double *dout, int64_t N, int64_t C, int64_t ds,
        double scale, int p, double margin);
FDL_API int fdl_triplet_margin_loss_forward_f32(float *loss, float *dist, const float *a,
        const float *pos, const float *neg, int64_t N, int64_t D, float margin, float p,
        float eps, int swap);
FDL_API int fdl_triplet_margin_loss_forward_f64(double *loss, double *dist, const double *a,
        const double *pos, const double *neg, int64_t N, int64_t D, double margin, double p,
        double eps, int swap);
FDL_API int fdl_triplet_margin_loss_backward_f32(float *da, float *dp, float *dn, const float *dist,
        const float *a, const float *pos, const float *neg, const float *dout, int64_t N,
        int64_t D, int64_t ds, float scale, float margin, float p, float eps, int swap);
FDL_API int fdl_triplet_margin_loss_backward_f64(double *da, double *dp, double *dn,
        const double *dist, const double *a, const double *pos, const double *neg,
        const double *dout, int64_t N, int64_t D, int64_t ds, double scale, double margin,
        double p, double eps, int swap);
FDL_API int fdl_cosine_embedding_loss_forward_f32(float *loss, float *saved, const float *x1,
        const float *x2, const float *y, int64_t N, int64_t D, float margin);
FDL_API int fdl_cosine_embedding_loss_forward_f64(double *loss, double *saved, const double *x1,
        const double *x2, const double *y, int64_t N, int64_t D, double margin);
FDL_API int fdl_cosine_embedding_loss_backward_f32(float *dx1, float *dx2, const float *saved,
        const float *x1, const float *x2, const float *y, const float *dout, int64_t N,
        int64_t D, int64_t ds, float scale, float margin);
FDL_API int fdl_cosine_embedding_loss_backward_f64(double *dx1, double *dx2, const double *saved,
        const double *x1, const double *x2, const double *y, const double *dout, int64_t N,
        int64_t D, int64_t ds, double scale, double margin);

/* ---- Pooling: P = N * C planes, x[P, H, W] -> out[P, OH, OW]. max_pool2d's argmax is
 * h * W + w, or -1 for a window entirely in the padding (out -inf), which backward
 * skips; backward returns FDL_ERR_ARG for any other argmax outside [0, H W)
 * (found during the scatter, so dx then holds the valid indices' part). */
FDL_API int fdl_max_pool2d_forward_f32(float *out, int64_t *argmax, const float *x, int64_t P,
        int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh,
        int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw);
FDL_API int fdl_max_pool2d_forward_f64(double *out, int64_t *argmax, const double *x, int64_t P,
        int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh,
        int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw);
FDL_API int fdl_max_pool2d_backward_f32(float *dx, const int64_t *argmax, const float *dout,
        int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW);
FDL_API int fdl_max_pool2d_backward_f64(double *dx, const int64_t *argmax, const double *dout,
        int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW);
FDL_API int fdl_avg_pool2d_forward_f32(float *out, const float *x, int64_t P, int64_t H, int64_t W,
        int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph,
        int64_t pw, int count_include_pad);
FDL_API int fdl_avg_pool2d_forward_f64(double *out, const double *x, int64_t P, int64_t H, int64_t W,
        int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph,
        int64_t pw, int count_include_pad);
FDL_API int fdl_avg_pool2d_backward_f32(float *dx, const float *dout, int64_t P, int64_t H, int64_t W,
        int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph,
        int64_t pw, int count_include_pad);
FDL_API int fdl_avg_pool2d_backward_f64(double *dx, const double *dout, int64_t P, int64_t H,
        int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
        int64_t ph, int64_t pw, int count_include_pad);
FDL_API int fdl_adaptive_avg_pool2d_forward_f32(float *out, const float *x, int64_t P, int64_t H,
        int64_t W, int64_t OH, int64_t OW);
FDL_API int fdl_adaptive_avg_pool2d_forward_f64(double *out, const double *x, int64_t P, int64_t H,
        int64_t W, int64_t OH, int64_t OW);
FDL_API int fdl_adaptive_avg_pool2d_backward_f32(float *dx, const float *dout, int64_t P, int64_t H,
        int64_t W, int64_t OH, int64_t OW);
FDL_API int fdl_adaptive_avg_pool2d_backward_f64(double *dx, const double *dout, int64_t P, int64_t H,
        int64_t W, int64_t OH, int64_t OW);

/* ---- Normalization: batch_norm x[N, C, S] (backward writes dx); layer_norm x[R, D]. */
FDL_API int fdl_batch_norm_forward_f32(float *out, float *mean, float *rstd, float *running_mean,
        float *running_var, const float *x, const float *weight, const float *bias, int64_t N,
        int64_t C, int64_t S, int training, float momentum, float eps);
FDL_API int fdl_batch_norm_forward_f64(double *out, double *mean, double *rstd, double *running_mean,
        double *running_var, const double *x, const double *weight, const double *bias,
        int64_t N, int64_t C, int64_t S, int training, double momentum, double eps);
FDL_API int fdl_batch_norm_backward_f32(float *dx, float *dweight, float *dbias, const float *mean,
        const float *rstd, const float *x, const float *weight, const float *dout, int64_t N,
        int64_t C, int64_t S, int training);
FDL_API int fdl_batch_norm_backward_f64(double *dx, double *dweight, double *dbias,
        const double *mean, const double *rstd, const double *x, const double *weight,
        const double *dout, int64_t N, int64_t C, int64_t S, int training);
/* out = act(batch_norm(x)) in the same pass (act FDL_ACT_NONE or FDL_ACT_RELU,
 * another value: FDL_ERR_ARG); otherwise as fdl_batch_norm_forward_*. */
FDL_API int fdl_batch_norm_forward_ex_f32(float *out, float *mean, float *rstd,
        float *running_mean, float *running_var, const float *x, const float *weight,
        const float *bias, int64_t N, int64_t C, int64_t S, int training, float momentum,
        float eps, fdl_act act);
FDL_API int fdl_batch_norm_forward_ex_f64(double *out, double *mean, double *rstd,
        double *running_mean, double *running_var, const double *x, const double *weight,
        const double *bias, int64_t N, int64_t C, int64_t S, int training, double momentum,
        double eps, fdl_act act);
/* As fdl_batch_norm_backward_* for out = act(batch_norm(x)) (act FDL_ACT_NONE or
 * FDL_ACT_RELU, another value: FDL_ERR_ARG), the forward run by
 * fdl_batch_norm_forward_* or _ex_* on the same x, weight, bias (may be NULL)
 * and returning this mean and rstd: with FDL_ACT_RELU dout counts only where
 * that forward's output is > 0. The mask is recomputed from x inside the same
 * passes (no output buffer is read), by the forward's own expression, so on
 * the same ISA it matches the forward's output sign bit for bit. */
FDL_API int fdl_batch_norm_backward_ex_f32(float *dx, float *dweight, float *dbias,
        const float *mean, const float *rstd, const float *x, const float *weight,
        const float *bias, const float *dout, int64_t N, int64_t C, int64_t S, int training,
        fdl_act act);
FDL_API int fdl_batch_norm_backward_ex_f64(double *dx, double *dweight, double *dbias,
        const double *mean, const double *rstd, const double *x, const double *weight,
        const double *bias, const double *dout, int64_t N, int64_t C, int64_t S, int training,
        fdl_act act);
FDL_API int fdl_layer_norm_forward_f32(float *out, float *mean, float *rstd, const float *x,
        const float *weight, const float *bias, int64_t R, int64_t D, float eps);
FDL_API int fdl_layer_norm_forward_f64(double *out, double *mean, double *rstd, const double *x,
        const double *weight, const double *bias, int64_t R, int64_t D, double eps);
FDL_API int fdl_layer_norm_backward_f32(float *dx, float *dweight, float *dbias, const float *mean,
        const float *rstd, const float *x, const float *weight, const float *dout, int64_t R,
        int64_t D);
FDL_API int fdl_layer_norm_backward_f64(double *dx, double *dweight, double *dbias,
        const double *mean, const double *rstd, const double *x, const double *weight,
        const double *dout, int64_t R, int64_t D);

/* ---- Dropout x[N] and embedding weight[V, D], idx[N]. */
FDL_API int fdl_dropout_forward_f32(float *out, uint8_t *mask, const float *x, int64_t n, float p,
        uint64_t seed, uint64_t stream);
FDL_API int fdl_dropout_forward_f64(double *out, uint8_t *mask, const double *x, int64_t n, double p,
        uint64_t seed, uint64_t stream);
FDL_API int fdl_dropout_backward_f32(float *dx, const uint8_t *mask, const float *dout, int64_t n,
        float p);
FDL_API int fdl_dropout_backward_f64(double *dx, const uint8_t *mask, const double *dout, int64_t n,
        double p);
FDL_API int fdl_embedding_forward_f32(float *out, const int64_t *idx, const float *weight, int64_t N,
        int64_t D);
FDL_API int fdl_embedding_forward_f64(double *out, const int64_t *idx, const double *weight,
        int64_t N, int64_t D);
FDL_API int fdl_embedding_backward_f32(float *dweight, const int64_t *idx, const float *dout,
        int64_t N, int64_t D, int64_t padding_idx);
FDL_API int fdl_embedding_backward_f64(double *dweight, const int64_t *idx, const double *dout,
        int64_t N, int64_t D, int64_t padding_idx);

#ifdef __cplusplus
}
#endif

#endif
