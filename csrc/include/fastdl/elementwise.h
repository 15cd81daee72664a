/*
 * fastdl/elementwise.h — elementwise math, strided and broadcast-aware.
 *
 * Legend: nd = number of dims (<= FDL_MAX_DIMS), shape[nd] = output shape.
 * Inputs are addressed by element strides (not bytes); a stride of 0
 * broadcasts that dim. The output is always C-contiguous with `shape`.
 * The output may alias an input only when that input is C-contiguous with
 * the output's shape (in-place ops).
 *
 * Every function is named after its op and dtype and returns FDL_OK, or
 * FDL_ERR_ARG (nd outside [0, FDL_MAX_DIMS], a negative size or stride) or
 * FDL_ERR_NULL (a pointer that the sizes require is NULL). It does not check
 * that the strides stay inside the caller's buffers.
 */
#ifndef FASTDL_ELEMENTWISE_H
#define FASTDL_ELEMENTWISE_H

#include <stdint.h>

#include "fastdl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FDL_MAX_DIMS 8

/* out = -x */
FDL_API int fdl_neg_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs);
FDL_API int fdl_neg_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs);
/* out = exp(x) */
FDL_API int fdl_exp_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs);
FDL_API int fdl_exp_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs);
/* out = log(x) */
FDL_API int fdl_log_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs);
FDL_API int fdl_log_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs);
/* out = sqrt(x) */
FDL_API int fdl_sqrt_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs);
FDL_API int fdl_sqrt_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs);
/* out = |x| */
FDL_API int fdl_abs_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs);
FDL_API int fdl_abs_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs);
/* out = x * x */
FDL_API int fdl_square_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs);
FDL_API int fdl_square_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs);
/* out = 1 / x */
FDL_API int fdl_reciprocal_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs);
FDL_API int fdl_reciprocal_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs);
/* out = sign(x) (0 at 0, NaN stays NaN) */
FDL_API int fdl_sign_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs);
FDL_API int fdl_sign_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs);
/* out = x (a strided gather into contiguous out) */
FDL_API int fdl_copy_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs);
FDL_API int fdl_copy_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs);
/* out = x ** p */
FDL_API int fdl_pow_scalar_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs, float p);
FDL_API int fdl_pow_scalar_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs, double p);
/* out = min(max(x, lo), hi); NaN stays NaN */
FDL_API int fdl_clip_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs, float lo, float hi);
FDL_API int fdl_clip_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs, double lo, double hi);
/* out = scale * x + shift */
FDL_API int fdl_affine_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs, float scale, float shift);
FDL_API int fdl_affine_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs, double scale, double shift);
/* out = a + b */
FDL_API int fdl_add_f32(int nd, const int64_t *shape, float *out, const float *a, const int64_t *as,
        const float *b, const int64_t *bs);
FDL_API int fdl_add_f64(int nd, const int64_t *shape, double *out, const double *a,
        const int64_t *as, const double *b, const int64_t *bs);
/* out = a - b */
FDL_API int fdl_sub_f32(int nd, const int64_t *shape, float *out, const float *a, const int64_t *as,
        const float *b, const int64_t *bs);
FDL_API int fdl_sub_f64(int nd, const int64_t *shape, double *out, const double *a,
        const int64_t *as, const double *b, const int64_t *bs);
/* out = a * b */
FDL_API int fdl_mul_f32(int nd, const int64_t *shape, float *out, const float *a, const int64_t *as,
        const float *b, const int64_t *bs);
FDL_API int fdl_mul_f64(int nd, const int64_t *shape, double *out, const double *a,
        const int64_t *as, const double *b, const int64_t *bs);
/* out = a / b */
FDL_API int fdl_div_f32(int nd, const int64_t *shape, float *out, const float *a, const int64_t *as,
        const float *b, const int64_t *bs);
FDL_API int fdl_div_f64(int nd, const int64_t *shape, double *out, const double *a,
        const int64_t *as, const double *b, const int64_t *bs);
/* out = a ** b */
FDL_API int fdl_pow_f32(int nd, const int64_t *shape, float *out, const float *a, const int64_t *as,
        const float *b, const int64_t *bs);
FDL_API int fdl_pow_f64(int nd, const int64_t *shape, double *out, const double *a,
        const int64_t *as, const double *b, const int64_t *bs);
/* out = max(a, b), NaN-propagating like numpy.maximum */
FDL_API int fdl_maximum_f32(int nd, const int64_t *shape, float *out, const float *a,
        const int64_t *as, const float *b, const int64_t *bs);
FDL_API int fdl_maximum_f64(int nd, const int64_t *shape, double *out, const double *a,
        const int64_t *as, const double *b, const int64_t *bs);
/* out = min(a, b), NaN-propagating */
FDL_API int fdl_minimum_f32(int nd, const int64_t *shape, float *out, const float *a,
        const int64_t *as, const float *b, const int64_t *bs);
FDL_API int fdl_minimum_f64(int nd, const int64_t *shape, double *out, const double *a,
        const int64_t *as, const double *b, const int64_t *bs);
/* out (0/1 bytes) = a == b */
FDL_API int fdl_eq_f32(int nd, const int64_t *shape, uint8_t *out, const float *a,
        const int64_t *as, const float *b, const int64_t *bs);
FDL_API int fdl_eq_f64(int nd, const int64_t *shape, uint8_t *out, const double *a,
        const int64_t *as, const double *b, const int64_t *bs);
/* out (0/1 bytes) = a != b */
FDL_API int fdl_ne_f32(int nd, const int64_t *shape, uint8_t *out, const float *a,
        const int64_t *as, const float *b, const int64_t *bs);
FDL_API int fdl_ne_f64(int nd, const int64_t *shape, uint8_t *out, const double *a,
        const int64_t *as, const double *b, const int64_t *bs);
/* out (0/1 bytes) = a < b */
FDL_API int fdl_lt_f32(int nd, const int64_t *shape, uint8_t *out, const float *a,
        const int64_t *as, const float *b, const int64_t *bs);
FDL_API int fdl_lt_f64(int nd, const int64_t *shape, uint8_t *out, const double *a,
        const int64_t *as, const double *b, const int64_t *bs);
/* out (0/1 bytes) = a <= b */
FDL_API int fdl_le_f32(int nd, const int64_t *shape, uint8_t *out, const float *a,
        const int64_t *as, const float *b, const int64_t *bs);
FDL_API int fdl_le_f64(int nd, const int64_t *shape, uint8_t *out, const double *a,
        const int64_t *as, const double *b, const int64_t *bs);
/* out (0/1 bytes) = a > b */
FDL_API int fdl_gt_f32(int nd, const int64_t *shape, uint8_t *out, const float *a,
        const int64_t *as, const float *b, const int64_t *bs);
FDL_API int fdl_gt_f64(int nd, const int64_t *shape, uint8_t *out, const double *a,
        const int64_t *as, const double *b, const int64_t *bs);
/* out (0/1 bytes) = a >= b */
FDL_API int fdl_ge_f32(int nd, const int64_t *shape, uint8_t *out, const float *a,
        const int64_t *as, const float *b, const int64_t *bs);
FDL_API int fdl_ge_f64(int nd, const int64_t *shape, uint8_t *out, const double *a,
        const int64_t *as, const double *b, const int64_t *bs);

#ifdef __cplusplus
}
#endif

#endif
