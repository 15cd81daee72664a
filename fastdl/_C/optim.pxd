# Declarations of csrc/include/fastdl/optim.h, one to one. `cimport
# fastdl._C.optim` gives another Cython project the fused optimizer updates,
# callable without the GIL.
from libc.stdint cimport int64_t

cdef extern from "fastdl.h" nogil:
    int fdl_sgd_step_f32(float *p, float *momentum_buffer, const float *g, int64_t n,
                     double lr, double momentum, double dampening, double weight_decay,
                     int nesterov, int maximize, int first_step)
    int fdl_adam_step_f32(float *p, float *exp_avg, float *exp_avg_sq, float *max_exp_avg_sq,
                      const float *g, int64_t n, double step, double lr, double beta1,
                      double beta2, double eps, double weight_decay, int decoupled,
                      int amsgrad, int maximize)
    int fdl_rmsprop_step_f32(float *p, float *square_avg, float *grad_avg, float *momentum_buffer,
                         const float *g, int64_t n, double lr, double alpha, double eps,
                         double weight_decay, double momentum, int centered, int maximize)
    int fdl_adagrad_step_f32(float *p, float *sum, const float *g, int64_t n, double step,
                         double lr, double lr_decay, double eps, double weight_decay,
                         int maximize)
    int fdl_adadelta_step_f32(float *p, float *square_avg, float *acc_delta, const float *g,
                          int64_t n, double lr, double rho, double eps, double weight_decay,
                          int maximize)

    int fdl_grad_sq_norm_f32(double *out, const float *g, int64_t n)
    int fdl_grad_max_abs_f32(float *out, const float *g, int64_t n)
    int fdl_grad_scale_f32(float *g, int64_t n, float scale)
    int fdl_grad_clamp_f32(float *g, int64_t n, float lo, float hi)
