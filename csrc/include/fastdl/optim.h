/*
 * fastdl/optim.h — fused optimizer updates and gradient clipping.
 *
 * Each optimizer step is one pass over a parameter: it reads p, g and the
 * optimizer state, and writes p and the state, following PyTorch's update
 * equations (torch.optim, single-tensor path). Arrays are float32. The
 * hyperparameters are double, like PyTorch's Python scalars: derived
 * constants (1 - beta1, bias corrections, lr / (1 + (step - 1) * lr_decay))
 * are formed in double and rounded to float once, as PyTorch does.
 *
 * Legend: n = number of elements of p; every array has n elements, is
 * contiguous and does not overlap the others. `step` is the step count
 * *after* this update (1 on the first call), as in PyTorch's state["step"].
 *
 * Every update is elementwise, so results are bitwise identical for any
 * thread count. They return FDL_OK, FDL_ERR_NULL when an array that the
 * options need is NULL, or FDL_ERR_ARG for n < 0 or step < 1.
 */
#ifndef FASTDL_OPTIM_H
#define FASTDL_OPTIM_H

#include <stdint.h>

#include "fastdl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SGD. momentum_buffer is needed when momentum != 0 (may be NULL
 * otherwise); on the first step (first_step != 0) it is set to the
 * (decayed) gradient, undamped, as PyTorch does.
 *   d = ±g + weight_decay * p
 *   buf = first ? d : momentum * buf + (1 - dampening) * d
 *   d = nesterov ? d + momentum * buf : buf
 *   p -= lr * d                                                         */
FDL_API int fdl_sgd_step_f32(float *p, float *momentum_buffer, const float *g, int64_t n,
                 double lr, double momentum, double dampening, double weight_decay,
                 int nesterov, int maximize, int first_step);

/* Adam / AdamW. max_exp_avg_sq is needed with amsgrad. decoupled != 0 is
 * AdamW: p *= 1 - lr * weight_decay before the update, instead of adding
 * weight_decay * p to the gradient.
 *   m = beta1 * m + (1 - beta1) * d;  v = beta2 * v + (1 - beta2) * d^2
 *   vmax = max(vmax, v)  (amsgrad)
 *   p -= lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps) */
FDL_API int fdl_adam_step_f32(float *p, float *exp_avg, float *exp_avg_sq, float *max_exp_avg_sq,
                  const float *g, int64_t n, double step, double lr, double beta1,
                  double beta2, double eps, double weight_decay, int decoupled,
                  int amsgrad, int maximize);

/* RMSprop. grad_avg is needed when centered, momentum_buffer when
 * momentum > 0.
 *   s = alpha * s + (1 - alpha) * d^2;  ga = alpha * ga + (1 - alpha) * d
 *   avg = sqrt(centered ? s - ga^2 : s) + eps
 *   momentum > 0: buf = momentum * buf + d / avg;  p -= lr * buf
 *   else:         p -= lr * d / avg                                     */
FDL_API int fdl_rmsprop_step_f32(float *p, float *square_avg, float *grad_avg, float *momentum_buffer,
                     const float *g, int64_t n, double lr, double alpha, double eps,
                     double weight_decay, double momentum, int centered, int maximize);

/* Adagrad.
 *   clr = lr / (1 + (step - 1) * lr_decay)
 *   sum += d^2;  p -= clr * d / (sqrt(sum) + eps)                       */
FDL_API int fdl_adagrad_step_f32(float *p, float *sum, const float *g, int64_t n, double step,
                     double lr, double lr_decay, double eps, double weight_decay, int maximize);

/* Adadelta.
 *   s = rho * s + (1 - rho) * d^2
 *   delta = sqrt(acc + eps) / sqrt(s + eps) * d
 *   acc = rho * acc + (1 - rho) * delta^2;  p -= lr * delta             */
FDL_API int fdl_adadelta_step_f32(float *p, float *square_avg, float *acc_delta, const float *g,
                      int64_t n, double lr, double rho, double eps, double weight_decay,
                      int maximize);

/* ---- gradient clipping ---------------------------------------------- */

/* *out = sum of g[i]^2 in double. The summation order depends only on n
 * (fixed chunks combined in index order), never on the thread count, so the
 * result is deterministic. 0 for n == 0. */
FDL_API int fdl_grad_sq_norm_f32(double *out, const float *g, int64_t n);
/* *out = max |g[i]| (NaN if any element is NaN); 0 for n == 0. */
FDL_API int fdl_grad_max_abs_f32(float *out, const float *g, int64_t n);
/* g *= scale, in place. */
FDL_API int fdl_grad_scale_f32(float *g, int64_t n, float scale);
/* g = min(max(g, lo), hi), in place (NaN stays NaN). */
FDL_API int fdl_grad_clamp_f32(float *g, int64_t n, float lo, float hi);

#ifdef __cplusplus
}
#endif

#endif
