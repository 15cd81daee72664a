# Declarations of csrc/include/fastdl/nn.h, one to one.
from libc.stdint cimport int64_t, uint64_t, uint8_t
from fastdl._C.gemm cimport fdl_act, FDL_ACT_NONE, FDL_ACT_RELU

cdef extern from "fastdl.h" nogil:
    # Activations
    int fdl_relu_forward_f32(float *out, const float *x, int64_t n)
    int fdl_relu_forward_f64(double *out, const double *x, int64_t n)
    int fdl_relu_backward_f32(float *dx, const float *x, const float *dout, int64_t n)
    int fdl_relu_backward_f64(double *dx, const double *x, const double *dout, int64_t n)
    int fdl_leaky_relu_forward_f32(float *out, const float *x, int64_t n, float negative_slope)
    int fdl_leaky_relu_forward_f64(double *out, const double *x, int64_t n,
            double negative_slope)
    int fdl_leaky_relu_backward_f32(float *dx, const float *x, const float *dout, int64_t n,
            float negative_slope)
    int fdl_leaky_relu_backward_f64(double *dx, const double *x, const double *dout,
            int64_t n, double negative_slope)
    int fdl_elu_forward_f32(float *out, const float *x, int64_t n, float alpha)
    int fdl_elu_forward_f64(double *out, const double *x, int64_t n, double alpha)
    int fdl_elu_backward_f32(float *dx, const float *x, const float *dout, int64_t n,
            float alpha)
    int fdl_elu_backward_f64(double *dx, const double *x, const double *dout, int64_t n,
            double alpha)
    int fdl_gelu_forward_f32(float *out, const float *x, int64_t n, int approximate_tanh)
    int fdl_gelu_forward_f64(double *out, const double *x, int64_t n, int approximate_tanh)
    int fdl_gelu_backward_f32(float *dx, const float *x, const float *dout, int64_t n,
            int approximate_tanh)
    int fdl_gelu_backward_f64(double *dx, const double *x, const double *dout, int64_t n,
            int approximate_tanh)
    int fdl_sigmoid_forward_f32(float *out, const float *x, int64_t n)
    int fdl_sigmoid_forward_f64(double *out, const double *x, int64_t n)
    int fdl_sigmoid_backward_f32(float *dx, const float *out, const float *dout, int64_t n)
    int fdl_sigmoid_backward_f64(double *dx, const double *out, const double *dout, int64_t n)
    int fdl_tanh_forward_f32(float *out, const float *x, int64_t n)
    int fdl_tanh_forward_f64(double *out, const double *x, int64_t n)
    int fdl_tanh_backward_f32(float *dx, const float *out, const float *dout, int64_t n)
    int fdl_tanh_backward_f64(double *dx, const double *out, const double *dout, int64_t n)
    int fdl_softplus_forward_f32(float *out, const float *x, int64_t n, float beta,
            float threshold)
    int fdl_softplus_forward_f64(double *out, const double *x, int64_t n, double beta,
            double threshold)
    int fdl_softplus_backward_f32(float *dx, const float *x, const float *dout, int64_t n,
            float beta, float threshold)
    int fdl_softplus_backward_f64(double *dx, const double *x, const double *dout, int64_t n,
            double beta, double threshold)
    int fdl_silu_forward_f32(float *out, const float *x, int64_t n)
    int fdl_silu_forward_f64(double *out, const double *x, int64_t n)
    int fdl_silu_backward_f32(float *dx, const float *x, const float *dout, int64_t n)
    int fdl_silu_backward_f64(double *dx, const double *x, const double *dout, int64_t n)
    int fdl_softmax_forward_f32(float *out, const float *x, int64_t outer, int64_t dim,
            int64_t inner)
    int fdl_softmax_forward_f64(double *out, const double *x, int64_t outer, int64_t dim,
            int64_t inner)
    int fdl_softmax_backward_f32(float *dx, const float *out, const float *dout,
            int64_t outer, int64_t dim, int64_t inner)
    int fdl_softmax_backward_f64(double *dx, const double *out, const double *dout,
            int64_t outer, int64_t dim, int64_t inner)
    int fdl_log_softmax_forward_f32(float *out, const float *x, int64_t outer, int64_t dim,
            int64_t inner)
    int fdl_log_softmax_forward_f64(double *out, const double *x, int64_t outer, int64_t dim,
            int64_t inner)
    int fdl_log_softmax_backward_f32(float *dx, const float *out, const float *dout,
            int64_t outer, int64_t dim, int64_t inner)
    int fdl_log_softmax_backward_f64(double *dx, const double *out, const double *dout,
            int64_t outer, int64_t dim, int64_t inner)

    # Losses
    int fdl_mse_loss_forward_f32(float *loss, const float *x, const float *y, int64_t n)
    int fdl_mse_loss_forward_f64(double *loss, const double *x, const double *y, int64_t n)
    int fdl_mse_loss_backward_f32(float *dx, const float *x, const float *y,
            const float *dout, int64_t n, int64_t ds, float scale)
    int fdl_mse_loss_backward_f64(double *dx, const double *x, const double *y,
            const double *dout, int64_t n, int64_t ds, double scale)
    int fdl_l1_loss_forward_f32(float *loss, const float *x, const float *y, int64_t n)
    int fdl_l1_loss_forward_f64(double *loss, const double *x, const double *y, int64_t n)
    int fdl_l1_loss_backward_f32(float *dx, const float *x, const float *y, const float *dout,
            int64_t n, int64_t ds, float scale)
    int fdl_l1_loss_backward_f64(double *dx, const double *x, const double *y,
            const double *dout, int64_t n, int64_t ds, double scale)
    int fdl_huber_loss_forward_f32(float *loss, const float *x, const float *y, int64_t n,
            float delta)
    int fdl_huber_loss_forward_f64(double *loss, const double *x, const double *y, int64_t n,
            double delta)
    int fdl_huber_loss_backward_f32(float *dx, const float *x, const float *y,
            const float *dout, int64_t n, int64_t ds, float scale, float delta)
    int fdl_huber_loss_backward_f64(double *dx, const double *x, const double *y,
            const double *dout, int64_t n, int64_t ds, double scale, double delta)
    int fdl_smooth_l1_loss_forward_f32(float *loss, const float *x, const float *y, int64_t n,
            float beta)
    int fdl_smooth_l1_loss_forward_f64(double *loss, const double *x, const double *y,
            int64_t n, double beta)
    int fdl_smooth_l1_loss_backward_f32(float *dx, const float *x, const float *y,
            const float *dout, int64_t n, int64_t ds, float scale, float beta)
    int fdl_smooth_l1_loss_backward_f64(double *dx, const double *x, const double *y,
            const double *dout, int64_t n, int64_t ds, double scale, double beta)
    int fdl_binary_cross_entropy_forward_f32(float *loss, const float *x, const float *y,
            const float *weight, int64_t n)
    int fdl_binary_cross_entropy_forward_f64(double *loss, const double *x, const double *y,
            const double *weight, int64_t n)
    int fdl_binary_cross_entropy_backward_f32(float *dx, const float *x, const float *y,
            const float *weight, const float *dout, int64_t n, int64_t ds, float scale)
    int fdl_binary_cross_entropy_backward_f64(double *dx, const double *x, const double *y,
            const double *weight, const double *dout, int64_t n, int64_t ds, double scale)
    int fdl_binary_cross_entropy_with_logits_forward_f32(float *loss, const float *x,
            const float *y, const float *weight, const float *pos_weight, int64_t n)
    int fdl_binary_cross_entropy_with_logits_forward_f64(double *loss, const double *x,
            const double *y, const double *weight, const double *pos_weight, int64_t n)
    int fdl_binary_cross_entropy_with_logits_backward_f32(float *dx, const float *x,
            const float *y, const float *weight, const float *pos_weight, const float *dout,
            int64_t n, int64_t ds, float scale)
    int fdl_binary_cross_entropy_with_logits_backward_f64(double *dx, const double *x,
            const double *y, const double *weight, const double *pos_weight,
            const double *dout, int64_t n, int64_t ds, double scale)
    int fdl_hinge_loss_forward_f32(float *loss, const float *x, const float *y, int64_t n)
    int fdl_hinge_loss_forward_f64(double *loss, const double *x, const double *y, int64_t n)
    int fdl_hinge_loss_backward_f32(float *dx, const float *x, const float *y,
            const float *dout, int64_t n, int64_t ds, float scale)
    int fdl_hinge_loss_backward_f64(double *dx, const double *x, const double *y,
            const double *dout, int64_t n, int64_t ds, double scale)
    int fdl_hinge_embedding_loss_forward_f32(float *loss, const float *x, const float *y,
            int64_t n, float margin)
    int fdl_hinge_embedding_loss_forward_f64(double *loss, const double *x, const double *y,
            int64_t n, double margin)
    int fdl_hinge_embedding_loss_backward_f32(float *dx, const float *x, const float *y,
            const float *dout, int64_t n, int64_t ds, float scale, float margin)
    int fdl_hinge_embedding_loss_backward_f64(double *dx, const double *x, const double *y,
            const double *dout, int64_t n, int64_t ds, double scale, double margin)
    int fdl_kl_div_forward_f32(float *loss, const float *x, const float *y, int64_t n,
            int log_target)
    int fdl_kl_div_forward_f64(double *loss, const double *x, const double *y, int64_t n,
            int log_target)
    int fdl_kl_div_backward_f32(float *dx, const float *x, const float *y, const float *dout,
            int64_t n, int64_t ds, float scale, int log_target)
    int fdl_kl_div_backward_f64(double *dx, const double *x, const double *y,
            const double *dout, int64_t n, int64_t ds, double scale, int log_target)
    int fdl_cross_entropy_forward_f32(float *loss, float *lse, const float *x,
            const int64_t *target, const float *weight, int64_t N, int64_t C,
            int64_t ignore_index, float label_smoothing)
    int fdl_cross_entropy_forward_f64(double *loss, double *lse, const double *x,
            const int64_t *target, const double *weight, int64_t N, int64_t C,
            int64_t ignore_index, double label_smoothing)
    int fdl_cross_entropy_backward_f32(float *dx, const float *lse, const float *x,
            const int64_t *target, const float *weight, const float *dout, int64_t N,
            int64_t C, int64_t ds, float scale, int64_t ignore_index, float label_smoothing)
    int fdl_cross_entropy_backward_f64(double *dx, const double *lse, const double *x,
            const int64_t *target, const double *weight, const double *dout, int64_t N,
            int64_t C, int64_t ds, double scale, int64_t ignore_index, double label_smoothing)
    int fdl_cross_entropy_prob_forward_f32(float *loss, float *lse, const float *x,
            const float *tp, const float *weight, int64_t N, int64_t C, float label_smoothing)
    int fdl_cross_entropy_prob_forward_f64(double *loss, double *lse, const double *x,
            const double *tp, const double *weight, int64_t N, int64_t C,
            double label_smoothing)
    int fdl_cross_entropy_prob_backward_f32(float *dx, const float *lse, const float *x,
            const float *tp, const float *weight, const float *dout, int64_t N, int64_t C,
            int64_t ds, float scale, float label_smoothing)
    int fdl_cross_entropy_prob_backward_f64(double *dx, const double *lse, const double *x,
            const double *tp, const double *weight, const double *dout, int64_t N, int64_t C,
            int64_t ds, double scale, double label_smoothing)
    int fdl_nll_loss_forward_f32(float *loss, const float *x, const int64_t *target,
            const float *weight, int64_t N, int64_t C, int64_t ignore_index)
    int fdl_nll_loss_forward_f64(double *loss, const double *x, const int64_t *target,
            const double *weight, int64_t N, int64_t C, int64_t ignore_index)
    int fdl_nll_loss_backward_f32(float *dx, const int64_t *target, const float *weight,
            const float *dout, int64_t N, int64_t C, int64_t ds, float scale,
            int64_t ignore_index)
    int fdl_nll_loss_backward_f64(double *dx, const int64_t *target, const double *weight,
            const double *dout, int64_t N, int64_t C, int64_t ds, double scale,
            int64_t ignore_index)
    int fdl_multi_margin_loss_forward_f32(float *loss, const float *x, const int64_t *target,
            const float *weight, int64_t N, int64_t C, int p, float margin)
    int fdl_multi_margin_loss_forward_f64(double *loss, const double *x,
            const int64_t *target, const double *weight, int64_t N, int64_t C, int p,
            double margin)
    int fdl_multi_margin_loss_backward_f32(float *dx, const float *x, const int64_t *target,
            const float *weight, const float *dout, int64_t N, int64_t C, int64_t ds,
            float scale, int p, float margin)
    int fdl_multi_margin_loss_backward_f64(double *dx, const double *x, const int64_t *target,
            const double *weight, const double *dout, int64_t N, int64_t C, int64_t ds,
            double scale, int p, double margin)
    int fdl_triplet_margin_loss_forward_f32(float *loss, float *dist, const float *a,
            const float *pos, const float *neg, int64_t N, int64_t D, float margin, float p,
            float eps, int swap)
    int fdl_triplet_margin_loss_forward_f64(double *loss, double *dist, const double *a,
            const double *pos, const double *neg, int64_t N, int64_t D, double margin,
            double p, double eps, int swap)
    int fdl_triplet_margin_loss_backward_f32(float *da, float *dp, float *dn,
            const float *dist, const float *a, const float *pos, const float *neg,
            const float *dout, int64_t N, int64_t D, int64_t ds, float scale, float margin,
            float p, float eps, int swap)
    int fdl_triplet_margin_loss_backward_f64(double *da, double *dp, double *dn,
            const double *dist, const double *a, const double *pos, const double *neg,
            const double *dout, int64_t N, int64_t D, int64_t ds, double scale, double margin,
            double p, double eps, int swap)
    int fdl_cosine_embedding_loss_forward_f32(float *loss, float *saved, const float *x1,
            const float *x2, const float *y, int64_t N, int64_t D, float margin)
    int fdl_cosine_embedding_loss_forward_f64(double *loss, double *saved, const double *x1,
            const double *x2, const double *y, int64_t N, int64_t D, double margin)
    int fdl_cosine_embedding_loss_backward_f32(float *dx1, float *dx2, const float *saved,
            const float *x1, const float *x2, const float *y, const float *dout, int64_t N,
            int64_t D, int64_t ds, float scale, float margin)
    int fdl_cosine_embedding_loss_backward_f64(double *dx1, double *dx2, const double *saved,
            const double *x1, const double *x2, const double *y, const double *dout, int64_t N,
            int64_t D, int64_t ds, double scale, double margin)

    # Pooling
    int fdl_max_pool2d_forward_f32(float *out, int64_t *argmax, const float *x, int64_t P,
            int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh,
            int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw)
    int fdl_max_pool2d_forward_f64(double *out, int64_t *argmax, const double *x, int64_t P,
            int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh,
            int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw)
    int fdl_max_pool2d_backward_f32(float *dx, const int64_t *argmax, const float *dout,
            int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW)
    int fdl_max_pool2d_backward_f64(double *dx, const int64_t *argmax, const double *dout,
            int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW)
    int fdl_avg_pool2d_forward_f32(float *out, const float *x, int64_t P, int64_t H,
            int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
            int64_t ph, int64_t pw, int count_include_pad)
    int fdl_avg_pool2d_forward_f64(double *out, const double *x, int64_t P, int64_t H,
            int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
            int64_t ph, int64_t pw, int count_include_pad)
    int fdl_avg_pool2d_backward_f32(float *dx, const float *dout, int64_t P, int64_t H,
            int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
            int64_t ph, int64_t pw, int count_include_pad)
    int fdl_avg_pool2d_backward_f64(double *dx, const double *dout, int64_t P, int64_t H,
            int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
            int64_t ph, int64_t pw, int count_include_pad)
    int fdl_adaptive_avg_pool2d_forward_f32(float *out, const float *x, int64_t P, int64_t H,
            int64_t W, int64_t OH, int64_t OW)
    int fdl_adaptive_avg_pool2d_forward_f64(double *out, const double *x, int64_t P,
            int64_t H, int64_t W, int64_t OH, int64_t OW)
    int fdl_adaptive_avg_pool2d_backward_f32(float *dx, const float *dout, int64_t P,
            int64_t H, int64_t W, int64_t OH, int64_t OW)
    int fdl_adaptive_avg_pool2d_backward_f64(double *dx, const double *dout, int64_t P,
            int64_t H, int64_t W, int64_t OH, int64_t OW)

    # Normalization
    int fdl_batch_norm_forward_f32(float *out, float *mean, float *rstd, float *running_mean,
            float *running_var, const float *x, const float *weight, const float *bias,
            int64_t N, int64_t C, int64_t S, int training, float momentum, float eps)
    int fdl_batch_norm_forward_f64(double *out, double *mean, double *rstd,
            double *running_mean, double *running_var, const double *x, const double *weight,
            const double *bias, int64_t N, int64_t C, int64_t S, int training, double momentum,
            double eps)
    int fdl_batch_norm_backward_f32(float *dx, float *dweight, float *dbias,
            const float *mean, const float *rstd, const float *x, const float *weight,
            const float *dout, int64_t N, int64_t C, int64_t S, int training)
    int fdl_batch_norm_backward_f64(double *dx, double *dweight, double *dbias,
            const double *mean, const double *rstd, const double *x, const double *weight,
            const double *dout, int64_t N, int64_t C, int64_t S, int training)
    int fdl_batch_norm_forward_ex_f32(float *out, float *mean, float *rstd,
            float *running_mean, float *running_var, const float *x, const float *weight,
            const float *bias, int64_t N, int64_t C, int64_t S, int training, float momentum,
            float eps, fdl_act act)
    int fdl_batch_norm_forward_ex_f64(double *out, double *mean, double *rstd,
            double *running_mean, double *running_var, const double *x, const double *weight,
            const double *bias, int64_t N, int64_t C, int64_t S, int training, double momentum,
            double eps, fdl_act act)
    int fdl_batch_norm_backward_ex_f32(float *dx, float *dweight, float *dbias,
            const float *mean, const float *rstd, const float *x, const float *weight,
            const float *bias, const float *dout, int64_t N, int64_t C, int64_t S, int training,
            fdl_act act)
    int fdl_batch_norm_backward_ex_f64(double *dx, double *dweight, double *dbias,
            const double *mean, const double *rstd, const double *x, const double *weight,
            const double *bias, const double *dout, int64_t N, int64_t C, int64_t S,
            int training, fdl_act act)
    int fdl_layer_norm_forward_f32(float *out, float *mean, float *rstd, const float *x,
            const float *weight, const float *bias, int64_t R, int64_t D, float eps)
    int fdl_layer_norm_forward_f64(double *out, double *mean, double *rstd, const double *x,
            const double *weight, const double *bias, int64_t R, int64_t D, double eps)
    int fdl_layer_norm_backward_f32(float *dx, float *dweight, float *dbias,
            const float *mean, const float *rstd, const float *x, const float *weight,
            const float *dout, int64_t R, int64_t D)
    int fdl_layer_norm_backward_f64(double *dx, double *dweight, double *dbias,
            const double *mean, const double *rstd, const double *x, const double *weight,
            const double *dout, int64_t R, int64_t D)

    # Dropout
    int fdl_dropout_forward_f32(float *out, uint8_t *mask, const float *x, int64_t n, float p,
            uint64_t seed, uint64_t stream)
    int fdl_dropout_forward_f64(double *out, uint8_t *mask, const double *x, int64_t n,
            double p, uint64_t seed, uint64_t stream)
    int fdl_dropout_backward_f32(float *dx, const uint8_t *mask, const float *dout, int64_t n,
            float p)
    int fdl_dropout_backward_f64(double *dx, const uint8_t *mask, const double *dout,
            int64_t n, double p)
    int fdl_embedding_forward_f32(float *out, const int64_t *idx, const float *weight,
            int64_t N, int64_t D)
    int fdl_embedding_forward_f64(double *out, const int64_t *idx, const double *weight,
            int64_t N, int64_t D)
    int fdl_embedding_backward_f32(float *dweight, const int64_t *idx, const float *dout,
            int64_t N, int64_t D, int64_t padding_idx)
    int fdl_embedding_backward_f64(double *dweight, const int64_t *idx, const double *dout,
            int64_t N, int64_t D, int64_t padding_idx)
