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

#define FDL_DEFINE_ROWS(T, TS, EXPF, LOGF, SQRTF, FABSF, POWF)                \
static void FDL_NAME(bin_row_##TS)(int op, int64_t n, T *o, const T *a, int64_t sa, \
                                   const T *b, int64_t sb) {                \
    if ((op == FDL_BIN_MAX || op == FDL_BIN_MIN) &&                        \
        fdl_simd_maxmin_##TS(op == FDL_BIN_MIN, n, o, a, sa, b, sb)) return; \
    if (op <= FDL_BIN_DIV &&                                               \
        fdl_simd_arith_##TS(op, n, o, a, sa, b, sb)) return;               \
    switch (op) {                                                          \
    case FDL_BIN_ADD: FDL_BIN_LOOP(T, x + y); break;                       \
    case FDL_BIN_SUB: FDL_BIN_LOOP(T, x - y); break;                       \
    case FDL_BIN_MUL: FDL_BIN_LOOP(T, x * y); break;                       \
    case FDL_BIN_DIV: FDL_BIN_LOOP(T, x / y); break;                       \
    case FDL_BIN_POW: FDL_BIN_LOOP(T, POWF(x, y)); break;                  \
    case FDL_BIN_MAX: FDL_BIN_LOOP(T, FDL_NANMAX(x, y)); break;            \
    case FDL_BIN_MIN: FDL_BIN_LOOP(T, FDL_NANMIN(x, y)); break;            \
    default: break;                                                        \
    }                                                                      \
}                                                                          \
static void FDL_NAME(cmp_row_##TS)(int op, int64_t n, uint8_t *o, const T *a, int64_t sa, \
                                   const T *b, int64_t sb) {                \
    switch (op) {                                                          \
    case FDL_CMP_EQ: FDL_BIN_LOOP(T, x == y); break;                       \
    case FDL_CMP_NE: FDL_BIN_LOOP(T, x != y); break;                       \
    case FDL_CMP_LT: FDL_BIN_LOOP(T, x < y); break;                        \
    case FDL_CMP_LE: FDL_BIN_LOOP(T, x <= y); break;                       \
    case FDL_CMP_GT: FDL_BIN_LOOP(T, x > y); break;                        \
    case FDL_CMP_GE: FDL_BIN_LOOP(T, x >= y); break;                       \
    default: break;                                                        \
    }                                                                      \
}                                                                          \
static void FDL_NAME(un_row_##TS)(int op, int64_t n, T *o, const T *xp, int64_t sx, \
                                  T p0, T p1) {                            \
    switch (op) {                                                          \
    case FDL_UN_NEG: FDL_UN_LOOP(T, -x); break;                            \
    case FDL_UN_EXP:                                                       \
        if (sx == 1 && fdl_simd_exp_##TS(n, o, xp)) break;                 \
        FDL_UN_LOOP(T, EXPF(x)); break;                                    \
    case FDL_UN_LOG:                                                       \
        if (sx == 1 && fdl_simd_log_##TS(n, o, xp)) break;                 \
        FDL_UN_LOOP(T, LOGF(x)); break;                                    \
    case FDL_UN_SQRT: FDL_UN_LOOP(T, SQRTF(x)); break;                     \
    case FDL_UN_ABS: FDL_UN_LOOP(T, FABSF(x)); break;                      \
    case FDL_UN_SQUARE: FDL_UN_LOOP(T, x * x); break;                      \
    case FDL_UN_RECIPROCAL: FDL_UN_LOOP(T, (T)1 / x); break;               \
    case FDL_UN_POW: /* x ** 0.5 is sqrt at -0 and -inf too, as in NumPy/PyTorch */ \
        if (p0 == (T)2) FDL_UN_LOOP(T, x * x);                             \
        else if (p0 == (T)0.5) FDL_UN_LOOP(T, SQRTF(x));                   \
        else if (p0 == (T)1) FDL_UN_LOOP(T, x);                            \
        else if (p0 == (T)-1) FDL_UN_LOOP(T, (T)1 / x);                    \
        else FDL_UN_LOOP(T, POWF(x, p0));                                  \
        break;                                                             \
    case FDL_UN_CLIP: FDL_UN_LOOP(T, FDL_CLIP(T, x, p0, p1)); break;       \
    case FDL_UN_SIGN: FDL_UN_LOOP(T, x != x ? x : (T)((x > 0) - (x < 0))); break; \
    case FDL_UN_COPY: FDL_UN_LOOP(T, x); break;                            \
    case FDL_UN_AFFINE: FDL_UN_LOOP(T, p0 * x + p1); break;                \
    default: break;                                                        \
    }                                                                      \
}                                                                          \
/* sum of a contiguous row in double: 16 independent lanes so the loop   \
 * vectorizes without reassociating, then a fixed-order combine */        \
static double FDL_NAME(sum_row_##TS)(int64_t n, const T *x) {              \
    double acc[16] = {0};                                                  \
    int64_t i = 0;                                                         \
    for (; i + 16 <= n; i += 16)                                           \
        for (int l = 0; l < 16; l++) acc[l] += (double)x[i + l];           \
    for (; i < n; i++) acc[i & 15] += (double)x[i];                        \
    for (int l = 0; l < 8; l++) acc[l] += acc[l + 8];                      \
    for (int l = 0; l < 4; l++) acc[l] += acc[l + 4];                      \
    return (acc[0] + acc[2]) + (acc[1] + acc[3]);                          \
}                                                                          \
static T FDL_NAME(max_row_##TS)(int is_min, int64_t n, const T *x) {       \
    T acc[16];                                                             \
    if (fdl_simd_maxrow_##TS(is_min, n, x, acc)) return acc[0];            \
    int64_t i = 0;                                                         \
    for (int l = 0; l < 16; l++) acc[l] = x[0];                            \
    if (is_min) {                                                          \
        for (; i + 16 <= n; i += 16)                                       \
            for (int l = 0; l < 16; l++) acc[l] = FDL_NANMIN(acc[l], x[i + l]); \
        for (; i < n; i++) acc[0] = FDL_NANMIN(acc[0], x[i]);              \
        for (int l = 1; l < 16; l++) acc[0] = FDL_NANMIN(acc[0], acc[l]);  \
    } else {                                                               \
        for (; i + 16 <= n; i += 16)                                       \
            for (int l = 0; l < 16; l++) acc[l] = FDL_NANMAX(acc[l], x[i + l]); \
        for (; i < n; i++) acc[0] = FDL_NANMAX(acc[0], x[i]);              \
        for (int l = 1; l < 16; l++) acc[0] = FDL_NANMAX(acc[0], acc[l]);  \
    }                                                                      \
    return acc[0];                                                         \
}                                                                          \
/* Column reductions over r rows of x (row stride ld): acc[n] += x[k][n]  \
 * (sum, in double) or acc = max/min(acc, x[k]). Four rows per pass cut   \
 * the accumulator traffic 4x and keep four DRAM streams in flight; each  \
 * acc[i] still adds its rows in order k = 0, 1, ..., so the result is the \
 * same as one row at a time. */                                          \
static void FDL_NAME(col_sum_##TS)(int64_t n, int64_t r, int64_t ld, double *acc, \
                                   const T *x) {                           \
    int64_t k = 0;                                                         \
    for (; k + 4 <= r; k += 4) {                                           \
        const T *x0 = x + k * ld, *x1 = x0 + ld, *x2 = x1 + ld, *x3 = x2 + ld; \
        for (int64_t i = 0; i < n; i++)                                    \
            acc[i] = (((acc[i] + (double)x0[i]) + (double)x1[i]) + (double)x2[i]) \
                     + (double)x3[i];                                      \
    }                                                                      \
    for (; k < r; k++) {                                                   \
        const T *x0 = x + k * ld;                                          \
        for (int64_t i = 0; i < n; i++) acc[i] += (double)x0[i];           \
    }                                                                      \
}                                                                          \
static void FDL_NAME(col_max_##TS)(int is_min, int64_t n, int64_t r, int64_t ld, T *acc, \
                                   const T *x) {                           \
    if (fdl_simd_colmax_##TS(is_min, n, r, ld, acc, x)) return;            \
    int64_t k = 0;                                                         \
    for (; k + 4 <= r; k += 4) {                                           \
        const T *x0 = x + k * ld, *x1 = x0 + ld, *x2 = x1 + ld, *x3 = x2 + ld; \
        if (is_min)                                                        \
            for (int64_t i = 0; i < n; i++) {                              \
                T v = acc[i], w;                                           \
                w = x0[i]; v = FDL_NANMIN(v, w);                           \
                w = x1[i]; v = FDL_NANMIN(v, w);                           \
                w = x2[i]; v = FDL_NANMIN(v, w);                           \
                w = x3[i]; acc[i] = FDL_NANMIN(v, w);                      \
            }                                                              \
        else                                                               \
            for (int64_t i = 0; i < n; i++) {                              \
                T v = acc[i], w;                                           \
                w = x0[i]; v = FDL_NANMAX(v, w);                           \
                w = x1[i]; v = FDL_NANMAX(v, w);                           \
                w = x2[i]; v = FDL_NANMAX(v, w);                           \
                w = x3[i]; acc[i] = FDL_NANMAX(v, w);                      \
            }                                                              \
    }                                                                      \
    for (; k < r; k++) {                                                   \
        const T *x0 = x + k * ld;                                          \
        if (is_min) for (int64_t i = 0; i < n; i++) acc[i] = FDL_NANMIN(acc[i], x0[i]); \
        else for (int64_t i = 0; i < n; i++) acc[i] = FDL_NANMAX(acc[i], x0[i]); \
    }                                                                      \
}

static inline float fdl_sqrtf_(float x) { return sqrtf(x); }
static inline double fdl_sqrt_(double x) { return sqrt(x); }

FDL_DEFINE_ROWS(float, f32, fdl_expf, fdl_logf, fdl_sqrtf_, fabsf, powf)
FDL_DEFINE_ROWS(double, f64, exp, log, fdl_sqrt_, fabs, pow)

const fdl_rows FDL_NAME(fdl_rows) = {
    FDL_NAME(bin_row_f32), FDL_NAME(bin_row_f64),
    FDL_NAME(cmp_row_f32), FDL_NAME(cmp_row_f64),
    FDL_NAME(un_row_f32), FDL_NAME(un_row_f64),
    FDL_NAME(sum_row_f32), FDL_NAME(sum_row_f64),
    FDL_NAME(max_row_f32), FDL_NAME(max_row_f64),
    FDL_NAME(col_sum_f32), FDL_NAME(col_sum_f64),
    FDL_NAME(col_max_f32), FDL_NAME(col_max_f64),
};
