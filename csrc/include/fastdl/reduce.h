/*
 * fastdl/reduce.h — reductions along one (logical) axis.
 *
 * Legend: the input x is C-contiguous and viewed as [outer, r, inner]; the
 * reduction runs over r. out is [outer, inner].
 * Sums accumulate in double, in a fixed order that does not depend on the
 * thread count, so results are bitwise reproducible.
 * max/min propagate NaN; argmax/argmin return the first maximal index, and
 * the index of the first NaN if there is one (numpy's rule).
 * Status: FDL_ERR_ARG for a negative size or r == 0 in amax/amin/argmax/
 * argmin (no identity); FDL_ERR_NULL for a NULL pointer with a non-empty
 * output. Sum of an empty axis is 0 and mean of it is NaN.
 */
#ifndef FASTDL_REDUCE_H
#define FASTDL_REDUCE_H

#include <stdint.h>

#include "fastdl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out[outer, inner] = sum over r (double accumulation); 0 for r == 0 */
FDL_API int fdl_sum_f32(int64_t outer, int64_t r, int64_t inner, float *out, const float *x);
FDL_API int fdl_sum_f64(int64_t outer, int64_t r, int64_t inner, double *out, const double *x);
/* out[outer, inner] = mean over r; NaN for r == 0 */
FDL_API int fdl_mean_f32(int64_t outer, int64_t r, int64_t inner, float *out, const float *x);
FDL_API int fdl_mean_f64(int64_t outer, int64_t r, int64_t inner, double *out, const double *x);
/* out[outer, inner] = max over r (r >= 1), NaN-propagating */
FDL_API int fdl_amax_f32(int64_t outer, int64_t r, int64_t inner, float *out, const float *x);
FDL_API int fdl_amax_f64(int64_t outer, int64_t r, int64_t inner, double *out, const double *x);
/* out[outer, inner] = min over r (r >= 1), NaN-propagating */
FDL_API int fdl_amin_f32(int64_t outer, int64_t r, int64_t inner, float *out, const float *x);
FDL_API int fdl_amin_f64(int64_t outer, int64_t r, int64_t inner, double *out, const double *x);
/* out[outer, inner] (int64) = index into r of the first maximum, or of the first NaN */
FDL_API int fdl_argmax_f32(int64_t outer, int64_t r, int64_t inner, int64_t *out, const float *x);
FDL_API int fdl_argmax_f64(int64_t outer, int64_t r, int64_t inner, int64_t *out, const double *x);
/* out[outer, inner] (int64) = index into r of the first minimum, or of the first NaN */
FDL_API int fdl_argmin_f32(int64_t outer, int64_t r, int64_t inner, int64_t *out, const float *x);
FDL_API int fdl_argmin_f64(int64_t outer, int64_t r, int64_t inner, int64_t *out, const double *x);

#ifdef __cplusplus
}
#endif

#endif
