/*
 * core/ops.h — op codes of the elementwise and reduction drivers (internal).
 *
 * The public API names every op (fdl_add_f32, fdl_exp_f64, fdl_sum_f32...,
 * core/api.c); those wrappers check their arguments and call these drivers
 * with a constant op, which selects the row loop (core/rows.h). Op codes
 * never leave csrc/.
 */
#ifndef FDL_CORE_OPS_H
#define FDL_CORE_OPS_H

#include <stdint.h>

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

typedef enum {
    FDL_RED_SUM = 0,
    FDL_RED_MEAN = 1,
    FDL_RED_MAX = 2,
    FDL_RED_MIN = 3,
    FDL_RED_COUNT
} fdl_reduce_op;

/* The drivers (elementwise.c, reduce.c); arguments already checked. */
void fdl_ew_unary_f32(int op, int nd, const int64_t *shape, float *out,
                      const float *x, const int64_t *xs, float p0, float p1);
void fdl_ew_unary_f64(int op, int nd, const int64_t *shape, double *out,
                      const double *x, const int64_t *xs, double p0, double p1);
void fdl_ew_binary_f32(int op, int nd, const int64_t *shape, float *out,
                       const float *a, const int64_t *as, const float *b, const int64_t *bs);
void fdl_ew_binary_f64(int op, int nd, const int64_t *shape, double *out,
                       const double *a, const int64_t *as, const double *b, const int64_t *bs);
void fdl_ew_compare_f32(int op, int nd, const int64_t *shape, uint8_t *out,
                        const float *a, const int64_t *as, const float *b, const int64_t *bs);
void fdl_ew_compare_f64(int op, int nd, const int64_t *shape, uint8_t *out,
                        const double *a, const int64_t *as, const double *b, const int64_t *bs);
void fdl_reduce_op_f32(int op, int64_t outer, int64_t r, int64_t inner, float *out,
                       const float *x);
void fdl_reduce_op_f64(int op, int64_t outer, int64_t r, int64_t inner, double *out,
                       const double *x);
void fdl_argreduce_op_f32(int is_min, int64_t outer, int64_t r, int64_t inner, int64_t *out,
                          const float *x);
void fdl_argreduce_op_f64(int is_min, int64_t outer, int64_t r, int64_t inner, int64_t *out,
                          const double *x);

#endif
