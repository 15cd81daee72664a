/*
 * fastdl/elementwise.h — elementwise math, strided and broadcast-aware.
 *
 * Legend: nd = number of dims (<= FDL_MAX_DIMS), shape[nd] = output shape.
 * Inputs are addressed by element strides (not bytes); a stride of 0
 * broadcasts that dim. The output is always C-contiguous with `shape`.
 * The output may alias an input only when that input is C-contiguous with
 * the output's shape (in-place ops).
 *
 * The caller validates shapes; these functions do not fail.
 */
#ifndef FASTDL_ELEMENTWISE_H
#define FASTDL_ELEMENTWISE_H

#include <stdint.h>

#include "fastdl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FDL_MAX_DIMS 8

typedef enum {
    FDL_UN_NEG = 0,
    FDL_UN_EXP = 1,
    FDL_UN_LOG = 2,
    FDL_UN_SQRT = 3,
    FDL_UN_ABS = 4,
    FDL_UN_SQUARE = 5,
    FDL_UN_RECIPROCAL = 6,
    FDL_UN_POW = 7,       /* x ** p0 */
    FDL_UN_CLIP = 8,      /* min(max(x, p0), p1); NaN stays NaN */
    FDL_UN_SIGN = 9,
    FDL_UN_COPY = 10,     /* strided gather into contiguous */
    FDL_UN_AFFINE = 11,   /* p0 * x + p1 */
    FDL_UN_COUNT
} fdl_unary_op;

typedef enum {
    FDL_BIN_ADD = 0,
    FDL_BIN_SUB = 1,
    FDL_BIN_MUL = 2,
    FDL_BIN_DIV = 3,
    FDL_BIN_POW = 4,
    FDL_BIN_MAX = 5,      /* NaN-propagating, like numpy.maximum */
    FDL_BIN_MIN = 6,
    FDL_BIN_COUNT
} fdl_binary_op;

typedef enum {
    FDL_CMP_EQ = 0,
    FDL_CMP_NE = 1,
    FDL_CMP_LT = 2,
    FDL_CMP_LE = 3,
    FDL_CMP_GT = 4,
    FDL_CMP_GE = 5,
    FDL_CMP_COUNT
} fdl_compare_op;

/* out[shape] = op(x[shape; xs], p0, p1) */
FDL_API void fdl_unary_f32(int op, int nd, const int64_t *shape, float *out,
                   const float *x, const int64_t *xs, float p0, float p1);
FDL_API void fdl_unary_f64(int op, int nd, const int64_t *shape, double *out,
                   const double *x, const int64_t *xs, double p0, double p1);

/* out[shape] = a[shape; as] op b[shape; bs] */
FDL_API void fdl_binary_f32(int op, int nd, const int64_t *shape, float *out,
                    const float *a, const int64_t *as, const float *b,
                    const int64_t *bs);
FDL_API void fdl_binary_f64(int op, int nd, const int64_t *shape, double *out,
                    const double *a, const int64_t *as, const double *b,
                    const int64_t *bs);

/* out[shape] (0/1 bytes) = a[shape; as] cmp b[shape; bs] */
FDL_API void fdl_compare_f32(int op, int nd, const int64_t *shape, uint8_t *out,
                     const float *a, const int64_t *as, const float *b,
                     const int64_t *bs);
FDL_API void fdl_compare_f64(int op, int nd, const int64_t *shape, uint8_t *out,
                     const double *a, const int64_t *as, const double *b,
                     const int64_t *bs);

#ifdef __cplusplus
}
#endif

#endif
