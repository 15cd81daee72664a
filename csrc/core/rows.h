/*
 * rows.h — 1-D row loops of the elementwise and reduction kernels.
 *
 * Included once per ISA by rows_{generic,avx2,avx512}.c with FDL_SFX set;
 * the same plain C loops are vectorized by the compiler at that file's
 * vector width, except where an ISA file supplies fdl_simd_* rows (below). The drivers (elementwise.c, reduce.c) handle shapes,
 * strides and threads, and pick the table for the active ISA.
 *
 * Legend: n = row length, s* = element strides (0 broadcasts, 1 is the
 * vectorized case), o = output row.
 */
/* gcc's default -ftrapping-math keeps a compare or multiply that sits in
 * one arm of a ?: from running unconditionally, so loops with selects (exp,
 * log, clip, the NaN-propagating max) were not if-converted and stayed
 * scalar. The kernels promise values, not floating-point exception flags,
 * and no-trapping-math changes no value. */
#pragma GCC optimize("no-trapping-math")

#include <math.h>
#include <stdint.h>

#include "fastdl.h"
#include "core/rows_table.h"
#include "core/vmath.h"

#include "runtime/template.h"

/* Four stride cases, so the common ones are unit-stride loops the compiler
 * vectorizes; EXPR reads x and y. */
#define FDL_BIN_LOOP(T, EXPR)                                              \
    do {                                                                   \
        if (sa == 1 && sb == 1) {                                          \
            for (int64_t i = 0; i < n; i++) { T x = a[i], y = b[i]; o[i] = (EXPR); } \
        } else if (sa == 1 && sb == 0) {                                   \
            const T y = b[0];                                              \
            for (int64_t i = 0; i < n; i++) { T x = a[i]; o[i] = (EXPR); } \
        } else if (sa == 0 && sb == 1) {                                   \
            const T x = a[0];                                              \
            for (int64_t i = 0; i < n; i++) { T y = b[i]; o[i] = (EXPR); } \
        } else {                                                           \
            for (int64_t i = 0; i < n; i++) {                              \
                T x = a[i * sa], y = b[i * sb]; o[i] = (EXPR);             \
            }                                                              \
        }                                                                  \
    } while (0)

#define FDL_UN_LOOP(T, EXPR)                                               \
    do {                                                                   \
        if (sx == 1) {                                                     \
            for (int64_t i = 0; i < n; i++) { T x = xp[i]; o[i] = (EXPR); } \
        } else if (sx == 0) {  /* a broadcast scalar: one value, a fill */ \
            T x = xp[0], v_ = (EXPR);                                      \
            for (int64_t i = 0; i < n; i++) o[i] = v_;                     \
        } else {                                                           \
            for (int64_t i = 0; i < n; i++) { T x = xp[i * sx]; o[i] = (EXPR); } \
        }                                                                  \
    } while (0)

/* max/min that propagate NaN like numpy.maximum. `|` rather than `||`:
 * the short circuit is a branch, and branches stop the vectorizer. */
#define FDL_NANMAX(x, y) (((x) != (x)) | ((y) != (y)) ? (x) + (y) : ((x) > (y) ? (x) : (y)))
#define FDL_NANMIN(x, y) (((x) != (x)) | ((y) != (y)) ? (x) + (y) : ((x) < (y) ? (x) : (y)))
/* min(max(x, lo), hi): when lo > hi the result is hi, as numpy.clip and
 * torch.clamp give; NaN stays NaN because both compares are false */
#define FDL_CLIP(T, x, lo, hi) ((T)((x) < (lo) ? (lo) : (x)) > (hi) ? (hi) : ((x) < (lo) ? (lo) : (x)))

/* Hand-written SIMD rows. An ISA file may define, before including this
 * header, FDL_HAVE_SIMD_F32 and these functions for contiguous float32
 * (each returns 1 when it handled the row, 0 to fall back):
 *   fdl_simd_exp_f32(n, o, x)    fdl_simd_log_f32(n, o, x)
 *   fdl_simd_maxmin_f32(is_min, n, o, a, sa, b, sb)   sa, sb in {0, 1}
 *   fdl_simd_maxrow_f32(is_min, n, x, &result)
 *   fdl_simd_arith_f32(op, n, o, a, sa, b, sb)   + - * /, sa, sb in {0, 1}
 *   fdl_simd_colmax_f32(is_min, n, r, ld, acc, x)  acc = max(acc, r rows of x)
 * They exist where gcc's vectorizer gives up (the blends of exp/log, the
 * NaN-propagating max). Tails go through the same vector code, so an
 * element's value never depends on where a thread's range starts. */
#ifndef FDL_HAVE_SIMD_F32
static inline int fdl_simd_exp_f32(int64_t n, float *o, const float *x) {
    (void)n; (void)o; (void)x; return 0;
}
static inline int fdl_simd_log_f32(int64_t n, float *o, const float *x) {
    (void)n; (void)o; (void)x; return 0;
}
static inline int fdl_simd_maxmin_f32(int is_min, int64_t n, float *o, const float *a,
                                      int64_t sa, const float *b, int64_t sb) {
    (void)is_min; (void)n; (void)o; (void)a; (void)sa; (void)b; (void)sb; return 0;
}
static inline int fdl_simd_maxrow_f32(int is_min, int64_t n, const float *x, float *res) {
    (void)is_min; (void)n; (void)x; (void)res; return 0;
}
static inline int fdl_simd_arith_f32(int op, int64_t n, float *o, const float *a,
                                     int64_t sa, const float *b, int64_t sb) {
    (void)op; (void)n; (void)o; (void)a; (void)sa; (void)b; (void)sb; return 0;
}
static inline int fdl_simd_colmax_f32(int is_min, int64_t n, int64_t r, int64_t ld,
                                      float *acc, const float *x) {
    (void)is_min; (void)n; (void)r; (void)ld; (void)acc; (void)x; return 0;
}
#endif
static inline int fdl_simd_colmax_f64(int is_min, int64_t n, int64_t r, int64_t ld,
                                      double *acc, const double *x) {
    (void)is_min; (void)n; (void)r; (void)ld; (void)acc; (void)x; return 0;
}
static inline int fdl_simd_arith_f64(int op, int64_t n, double *o, const double *a,
                                     int64_t sa, const double *b, int64_t sb) {
    (void)op; (void)n; (void)o; (void)a; (void)sa; (void)b; (void)sb; return 0;
}
static inline int fdl_simd_exp_f64(int64_t n, double *o, const double *x) {
    (void)n; (void)o; (void)x; return 0;
}
static inline int fdl_simd_log_f64(int64_t n, double *o, const double *x) {
    (void)n; (void)o; (void)x; return 0;
}
static inline int fdl_simd_maxmin_f64(int is_min, int64_t n, double *o, const double *a,
                                      int64_t sa, const double *b, int64_t sb) {
    (void)is_min; (void)n; (void)o; (void)a; (void)sa; (void)b; (void)sb; return 0;
}
static inline int fdl_simd_maxrow_f64(int is_min, int64_t n, const double *x, double *res) {
    (void)is_min; (void)n; (void)x; (void)res; return 0;
}

static inline float fdl_sqrtf_(float x) { return sqrtf(x); }
static inline double fdl_sqrt_(double x) { return sqrt(x); }

#define T float
#define S f32
#define ROW_EXP fdl_expf
#define ROW_LOG fdl_logf
#define ROW_SQRT fdl_sqrtf_
#define ROW_FABS fabsf
#define ROW_POW powf
#include "core/rows_impl.h"
#undef T
#undef S
#undef ROW_EXP
#undef ROW_LOG
#undef ROW_SQRT
#undef ROW_FABS
#undef ROW_POW
#define T double
#define S f64
#define ROW_EXP exp
#define ROW_LOG log
#define ROW_SQRT fdl_sqrt_
#define ROW_FABS fabs
#define ROW_POW pow
#include "core/rows_impl.h"
#undef T
#undef S
#undef ROW_EXP
#undef ROW_LOG
#undef ROW_SQRT
#undef ROW_FABS
#undef ROW_POW

const fdl_rows FDL_NAME(fdl_rows) = {
    FDL_NAME(bin_row_f32), FDL_NAME(bin_row_f64),
    FDL_NAME(cmp_row_f32), FDL_NAME(cmp_row_f64),
    FDL_NAME(un_row_f32), FDL_NAME(un_row_f64),
    FDL_NAME(sum_row_f32), FDL_NAME(sum_row_f64),
    FDL_NAME(max_row_f32), FDL_NAME(max_row_f64),
    FDL_NAME(col_sum_f32), FDL_NAME(col_sum_f64),
    FDL_NAME(col_max_f32), FDL_NAME(col_max_f64),
};
