/*
 * core/api.c — the public elementwise and reduction functions, one per op
 * and dtype (fastdl/elementwise.h, fastdl/reduce.h).
 *
 * Each checks its arguments, then calls the driver (elementwise.c,
 * reduce.c) with its op; the driver picks the row loop for the active ISA.
 */
#include "core/ops.h"
#include "runtime/internal.h"

/* The check_* helpers return 1 when there is work, 0 when the output is
 * empty, or a negative status. */
static int check_shape(int nd, const int64_t *shape, const void *out) {
    if (nd < 0 || nd > FDL_MAX_DIMS) return FDL_ERR_ARG;
    if (nd > 0 && !shape) return FDL_ERR_NULL;
    int64_t total = 1;
    for (int d = 0; d < nd; d++) {
        if (shape[d] < 0) return FDL_ERR_ARG;
        total *= shape[d];
    }
    if (total == 0) return 0;
    return out ? 1 : FDL_ERR_NULL;
}

static int check_unary(int nd, const int64_t *shape, const void *out, const void *x,
                       const int64_t *xs) {
    int st = check_shape(nd, shape, out);
    if (st <= 0) return st;
    if (!x || (nd > 0 && !xs)) return FDL_ERR_NULL;
    return 1;
}

static int check_binary(int nd, const int64_t *shape, const void *out, const void *a,
                        const int64_t *as, const void *b, const int64_t *bs) {
    int st = check_shape(nd, shape, out);
    if (st <= 0) return st;
    if (!a || !b || (nd > 0 && (!as || !bs))) return FDL_ERR_NULL;
    return 1;
}

static int check_reduce(int64_t outer, int64_t r, int64_t inner, const void *out,
                        const void *x, int64_t min_r) {
    if (outer < 0 || r < 0 || inner < 0) return FDL_ERR_ARG;
    if (outer == 0 || inner == 0) return 0;
    if (r < min_r) return FDL_ERR_ARG;
    if (!out || (r > 0 && !x)) return FDL_ERR_NULL;
    return 1;
}

int fdl_neg_f32(int nd, const int64_t *shape, float *out, const float *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f32(FDL_UN_NEG, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_neg_f64(int nd, const int64_t *shape, double *out, const double *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f64(FDL_UN_NEG, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_exp_f32(int nd, const int64_t *shape, float *out, const float *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f32(FDL_UN_EXP, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_exp_f64(int nd, const int64_t *shape, double *out, const double *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f64(FDL_UN_EXP, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_log_f32(int nd, const int64_t *shape, float *out, const float *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f32(FDL_UN_LOG, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_log_f64(int nd, const int64_t *shape, double *out, const double *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f64(FDL_UN_LOG, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_sqrt_f32(int nd, const int64_t *shape, float *out, const float *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f32(FDL_UN_SQRT, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_sqrt_f64(int nd, const int64_t *shape, double *out, const double *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f64(FDL_UN_SQRT, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_abs_f32(int nd, const int64_t *shape, float *out, const float *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f32(FDL_UN_ABS, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_abs_f64(int nd, const int64_t *shape, double *out, const double *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f64(FDL_UN_ABS, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_square_f32(int nd, const int64_t *shape, float *out, const float *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f32(FDL_UN_SQUARE, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_square_f64(int nd, const int64_t *shape, double *out, const double *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f64(FDL_UN_SQUARE, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_reciprocal_f32(int nd, const int64_t *shape, float *out, const float *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f32(FDL_UN_RECIPROCAL, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_reciprocal_f64(int nd, const int64_t *shape, double *out, const double *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f64(FDL_UN_RECIPROCAL, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_sign_f32(int nd, const int64_t *shape, float *out, const float *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f32(FDL_UN_SIGN, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_sign_f64(int nd, const int64_t *shape, double *out, const double *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f64(FDL_UN_SIGN, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_copy_f32(int nd, const int64_t *shape, float *out, const float *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f32(FDL_UN_COPY, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_copy_f64(int nd, const int64_t *shape, double *out, const double *x, const int64_t *xs) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f64(FDL_UN_COPY, nd, shape, out, x, xs, 0, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_pow_scalar_f32(int nd, const int64_t *shape, float *out, const float *x, const int64_t *xs, float p) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f32(FDL_UN_POW, nd, shape, out, x, xs, p, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_pow_scalar_f64(int nd, const int64_t *shape, double *out, const double *x, const int64_t *xs, double p) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f64(FDL_UN_POW, nd, shape, out, x, xs, p, 0);
    return st < 0 ? st : FDL_OK;
}

int fdl_clip_f32(int nd, const int64_t *shape, float *out, const float *x, const int64_t *xs, float lo, float hi) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f32(FDL_UN_CLIP, nd, shape, out, x, xs, lo, hi);
    return st < 0 ? st : FDL_OK;
}

int fdl_clip_f64(int nd, const int64_t *shape, double *out, const double *x, const int64_t *xs, double lo, double hi) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f64(FDL_UN_CLIP, nd, shape, out, x, xs, lo, hi);
    return st < 0 ? st : FDL_OK;
}

int fdl_affine_f32(int nd, const int64_t *shape, float *out, const float *x, const int64_t *xs, float scale, float shift) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f32(FDL_UN_AFFINE, nd, shape, out, x, xs, scale, shift);
    return st < 0 ? st : FDL_OK;
}

int fdl_affine_f64(int nd, const int64_t *shape, double *out, const double *x, const int64_t *xs, double scale, double shift) {
    int st = check_unary(nd, shape, out, x, xs);
    if (st > 0) fdl_ew_unary_f64(FDL_UN_AFFINE, nd, shape, out, x, xs, scale, shift);
    return st < 0 ? st : FDL_OK;
}

int fdl_add_f32(int nd, const int64_t *shape, float *out, const float *a, const int64_t *as, const float *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_binary_f32(FDL_BIN_ADD, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_add_f64(int nd, const int64_t *shape, double *out, const double *a, const int64_t *as, const double *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_binary_f64(FDL_BIN_ADD, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_sub_f32(int nd, const int64_t *shape, float *out, const float *a, const int64_t *as, const float *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_binary_f32(FDL_BIN_SUB, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_sub_f64(int nd, const int64_t *shape, double *out, const double *a, const int64_t *as, const double *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_binary_f64(FDL_BIN_SUB, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_mul_f32(int nd, const int64_t *shape, float *out, const float *a, const int64_t *as, const float *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_binary_f32(FDL_BIN_MUL, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_mul_f64(int nd, const int64_t *shape, double *out, const double *a, const int64_t *as, const double *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_binary_f64(FDL_BIN_MUL, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_div_f32(int nd, const int64_t *shape, float *out, const float *a, const int64_t *as, const float *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_binary_f32(FDL_BIN_DIV, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_div_f64(int nd, const int64_t *shape, double *out, const double *a, const int64_t *as, const double *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_binary_f64(FDL_BIN_DIV, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_pow_f32(int nd, const int64_t *shape, float *out, const float *a, const int64_t *as, const float *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_binary_f32(FDL_BIN_POW, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_pow_f64(int nd, const int64_t *shape, double *out, const double *a, const int64_t *as, const double *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_binary_f64(FDL_BIN_POW, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_maximum_f32(int nd, const int64_t *shape, float *out, const float *a, const int64_t *as, const float *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_binary_f32(FDL_BIN_MAX, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_maximum_f64(int nd, const int64_t *shape, double *out, const double *a, const int64_t *as, const double *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_binary_f64(FDL_BIN_MAX, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_minimum_f32(int nd, const int64_t *shape, float *out, const float *a, const int64_t *as, const float *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_binary_f32(FDL_BIN_MIN, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_minimum_f64(int nd, const int64_t *shape, double *out, const double *a, const int64_t *as, const double *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_binary_f64(FDL_BIN_MIN, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_eq_f32(int nd, const int64_t *shape, uint8_t *out, const float *a, const int64_t *as, const float *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_compare_f32(FDL_CMP_EQ, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_eq_f64(int nd, const int64_t *shape, uint8_t *out, const double *a, const int64_t *as, const double *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_compare_f64(FDL_CMP_EQ, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_ne_f32(int nd, const int64_t *shape, uint8_t *out, const float *a, const int64_t *as, const float *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_compare_f32(FDL_CMP_NE, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_ne_f64(int nd, const int64_t *shape, uint8_t *out, const double *a, const int64_t *as, const double *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_compare_f64(FDL_CMP_NE, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_lt_f32(int nd, const int64_t *shape, uint8_t *out, const float *a, const int64_t *as, const float *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_compare_f32(FDL_CMP_LT, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_lt_f64(int nd, const int64_t *shape, uint8_t *out, const double *a, const int64_t *as, const double *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_compare_f64(FDL_CMP_LT, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_le_f32(int nd, const int64_t *shape, uint8_t *out, const float *a, const int64_t *as, const float *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_compare_f32(FDL_CMP_LE, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_le_f64(int nd, const int64_t *shape, uint8_t *out, const double *a, const int64_t *as, const double *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_compare_f64(FDL_CMP_LE, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_gt_f32(int nd, const int64_t *shape, uint8_t *out, const float *a, const int64_t *as, const float *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_compare_f32(FDL_CMP_GT, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_gt_f64(int nd, const int64_t *shape, uint8_t *out, const double *a, const int64_t *as, const double *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_compare_f64(FDL_CMP_GT, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_ge_f32(int nd, const int64_t *shape, uint8_t *out, const float *a, const int64_t *as, const float *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_compare_f32(FDL_CMP_GE, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_ge_f64(int nd, const int64_t *shape, uint8_t *out, const double *a, const int64_t *as, const double *b, const int64_t *bs) {
    int st = check_binary(nd, shape, out, a, as, b, bs);
    if (st > 0) fdl_ew_compare_f64(FDL_CMP_GE, nd, shape, out, a, as, b, bs);
    return st < 0 ? st : FDL_OK;
}

int fdl_sum_f32(int64_t outer, int64_t r, int64_t inner, float *out, const float *x) {
    int st = check_reduce(outer, r, inner, out, x, 0);
    if (st > 0) fdl_reduce_op_f32(FDL_RED_SUM, outer, r, inner, out, x);
    return st < 0 ? st : FDL_OK;
}

int fdl_sum_f64(int64_t outer, int64_t r, int64_t inner, double *out, const double *x) {
    int st = check_reduce(outer, r, inner, out, x, 0);
    if (st > 0) fdl_reduce_op_f64(FDL_RED_SUM, outer, r, inner, out, x);
    return st < 0 ? st : FDL_OK;
}

int fdl_mean_f32(int64_t outer, int64_t r, int64_t inner, float *out, const float *x) {
    int st = check_reduce(outer, r, inner, out, x, 0);
    if (st > 0) fdl_reduce_op_f32(FDL_RED_MEAN, outer, r, inner, out, x);
    return st < 0 ? st : FDL_OK;
}

int fdl_mean_f64(int64_t outer, int64_t r, int64_t inner, double *out, const double *x) {
    int st = check_reduce(outer, r, inner, out, x, 0);
    if (st > 0) fdl_reduce_op_f64(FDL_RED_MEAN, outer, r, inner, out, x);
    return st < 0 ? st : FDL_OK;
}

int fdl_amax_f32(int64_t outer, int64_t r, int64_t inner, float *out, const float *x) {
    int st = check_reduce(outer, r, inner, out, x, 1);
    if (st > 0) fdl_reduce_op_f32(FDL_RED_MAX, outer, r, inner, out, x);
    return st < 0 ? st : FDL_OK;
}

int fdl_amax_f64(int64_t outer, int64_t r, int64_t inner, double *out, const double *x) {
    int st = check_reduce(outer, r, inner, out, x, 1);
    if (st > 0) fdl_reduce_op_f64(FDL_RED_MAX, outer, r, inner, out, x);
    return st < 0 ? st : FDL_OK;
}

int fdl_amin_f32(int64_t outer, int64_t r, int64_t inner, float *out, const float *x) {
    int st = check_reduce(outer, r, inner, out, x, 1);
    if (st > 0) fdl_reduce_op_f32(FDL_RED_MIN, outer, r, inner, out, x);
    return st < 0 ? st : FDL_OK;
}

int fdl_amin_f64(int64_t outer, int64_t r, int64_t inner, double *out, const double *x) {
    int st = check_reduce(outer, r, inner, out, x, 1);
    if (st > 0) fdl_reduce_op_f64(FDL_RED_MIN, outer, r, inner, out, x);
    return st < 0 ? st : FDL_OK;
}

int fdl_argmax_f32(int64_t outer, int64_t r, int64_t inner, int64_t *out, const float *x) {
    int st = check_reduce(outer, r, inner, out, x, 1);
    if (st > 0) fdl_argreduce_op_f32(0, outer, r, inner, out, x);
    return st < 0 ? st : FDL_OK;
}

int fdl_argmax_f64(int64_t outer, int64_t r, int64_t inner, int64_t *out, const double *x) {
    int st = check_reduce(outer, r, inner, out, x, 1);
    if (st > 0) fdl_argreduce_op_f64(0, outer, r, inner, out, x);
    return st < 0 ? st : FDL_OK;
}

int fdl_argmin_f32(int64_t outer, int64_t r, int64_t inner, int64_t *out, const float *x) {
    int st = check_reduce(outer, r, inner, out, x, 1);
    if (st > 0) fdl_argreduce_op_f32(1, outer, r, inner, out, x);
    return st < 0 ? st : FDL_OK;
}

int fdl_argmin_f64(int64_t outer, int64_t r, int64_t inner, int64_t *out, const double *x) {
    int st = check_reduce(outer, r, inner, out, x, 1);
    if (st > 0) fdl_argreduce_op_f64(1, outer, r, inner, out, x);
    return st < 0 ? st : FDL_OK;
}
