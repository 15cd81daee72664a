/*
 * fastdl/reduce.h — reductions along one (logical) axis.
 *
 * Legend: the input x is C-contiguous and viewed as [outer, r, inner]; the
 * reduction runs over r. out is [outer, inner].
 * Sums accumulate in double, in a fixed order that does not depend on the
 * thread count, so results are bitwise reproducible.
 * max/min propagate NaN; argmax/argmin return the first maximal index, and
 * the index of the first NaN if there is one (numpy's rule).
 * r must be >= 1 for max/min/argmax/argmin (the caller checks); sum of an
 * empty axis is 0 and mean of it is NaN.
 */
#ifndef FASTDL_REDUCE_H
#define FASTDL_REDUCE_H

#include <stdint.h>

#include "fastdl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    FDL_RED_SUM = 0,
    FDL_RED_MEAN = 1,
    FDL_RED_MAX = 2,
    FDL_RED_MIN = 3,
    FDL_RED_COUNT
} fdl_reduce_op;

FDL_API void fdl_reduce_f32(int op, int64_t outer, int64_t r, int64_t inner,
                    float *out, const float *x);
FDL_API void fdl_reduce_f64(int op, int64_t outer, int64_t r, int64_t inner,
                    double *out, const double *x);
/* out[outer, inner] int64 indices into r; argmin when is_min != 0 */
FDL_API void fdl_argreduce_f32(int is_min, int64_t outer, int64_t r, int64_t inner,
                       int64_t *out, const float *x);
FDL_API void fdl_argreduce_f64(int is_min, int64_t outer, int64_t r, int64_t inner,
                       int64_t *out, const double *x);

#ifdef __cplusplus
}
#endif

#endif
