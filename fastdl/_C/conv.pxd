# Declarations of csrc/include/fastdl/conv.h, one to one.
from libc.stdint cimport int64_t

cdef extern from "fastdl.h" nogil:
    ctypedef struct fdl_conv2d_params:
        int64_t N, C, H, W
        int64_t K, R, S
        int64_t stride_h, stride_w
        int64_t pad_h, pad_w
        int64_t dil_h, dil_w
        int64_t groups

    int fdl_conv2d_output_size(const fdl_conv2d_params *p, int64_t *P, int64_t *Q)
    int64_t fdl_conv2d_workspace_size(const fdl_conv2d_params *p, int nthreads)
    int fdl_conv2d_forward_f32(float *out, const float *x, const float *w, const float *bias,
                           const fdl_conv2d_params *p, void *ws, int64_t ws_bytes)
    int fdl_conv2d_backward_f32(float *dx, float *dw, float *db, const float *dout,
                            const float *x, const float *w,
                            const fdl_conv2d_params *p, void *ws, int64_t ws_bytes)
    ctypedef enum fdl_act:
        FDL_ACT_NONE
        FDL_ACT_RELU
    int fdl_conv2d_forward_ex_f32(float *out, const float *x, const float *w,
                                  const float *bias, fdl_act act, const fdl_conv2d_params *p,
                                  void *ws, int64_t ws_bytes)
    int fdl_conv2d_backward_write_f32(float *dx, float *dw, float *db, const float *dout,
                                      const float *y, const float *x, const float *w,
                                      const fdl_conv2d_params *p, void *ws, int64_t ws_bytes)
    int fdl_conv2d_forward_ex_f64(double *out, const double *x, const double *w,
                                  const double *bias, fdl_act act, const fdl_conv2d_params *p,
                                  void *ws, int64_t ws_bytes)
    int fdl_conv2d_backward_write_f64(double *dx, double *dw, double *db, const double *dout,
                                      const double *y, const double *x, const double *w,
                                      const fdl_conv2d_params *p, void *ws, int64_t ws_bytes)
    int fdl_conv2d_forward_f64(double *out, const double *x, const double *w,
                               const double *bias, const fdl_conv2d_params *p, void *ws,
                               int64_t ws_bytes)
    int fdl_conv2d_backward_f64(double *dx, double *dw, double *db, const double *dout,
                                const double *x, const double *w,
                                const fdl_conv2d_params *p, void *ws, int64_t ws_bytes)
