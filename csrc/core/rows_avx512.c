/*
 * rows_avx512.c — the row loops of rows.h compiled for avx512 (see setup.py),
 * plus hand-written 16-lane rows where gcc 12 leaves the plain C scalar:
 * exp/log (their special-value selects), the NaN-propagating maximum and
 * the max/min row reduction.
 *
 * Legend: n = row length, o = output, x/a/b = inputs, 16 floats per vector.
 * exp16/log16 follow vmath.h step for step (same reduction, polynomial and
 * special cases), so both are within 1 ulp like the scalar versions.
 * Tails use masked loads/stores through the same vector code: an element's
 * value does not depend on whether it falls in a tail, so where a thread's
 * range starts cannot change a result.
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "fastdl.h"
#include "core/ops.h"

#define FDL_HAVE_SIMD_F32 1

#define V16(c) _mm512_set1_ps(c)

static inline __m512 exp16(__m512 x) {
    __m512 xc = _mm512_min_ps(_mm512_max_ps(x, V16(-104.0f)), V16(104.0f));
    const __m512 shifter = V16(12582912.0f);
    __m512 t = _mm512_fmadd_ps(xc, V16(1.44269504088896341f), shifter);
    __m512 n = _mm512_sub_ps(t, shifter);
    __m512i ni = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_castps_si512(shifter));
    __m512 r = _mm512_fnmadd_ps(n, V16(0.693145751953125f), xc);
    r = _mm512_fnmadd_ps(n, V16(1.428606765330187045e-06f), r);
    __m512 q = _mm512_fmadd_ps(V16(1.0f / 5040.0f), r, V16(1.0f / 720.0f));
    q = _mm512_fmadd_ps(q, r, V16(1.0f / 120.0f));
    q = _mm512_fmadd_ps(q, r, V16(1.0f / 24.0f));
    q = _mm512_fmadd_ps(q, r, V16(1.0f / 6.0f));
    q = _mm512_fmadd_ps(q, r, V16(0.5f));
    __m512 p = _mm512_add_ps(V16(1.0f), _mm512_fmadd_ps(_mm512_mul_ps(r, r), q, r));
    __m512i h = _mm512_srai_epi32(ni, 1);
    __m512i bias = _mm512_set1_epi32(127);
    __m512 s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(h, bias), 23));
    __m512 s2 = _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_add_epi32(_mm512_sub_epi32(ni, h), bias), 23));
    __m512 y = _mm512_mul_ps(_mm512_mul_ps(p, s1), s2);
    y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, V16(88.7228394f), _CMP_GT_OQ),
                           V16(INFINITY));
    return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
}

static inline __m512 log16(__m512 x) {
    __mmask16 tiny = _mm512_cmp_ps_mask(x, V16(1.17549435e-38f), _CMP_LT_OQ);
    __m512 xs = _mm512_mask_mul_ps(x, tiny, x, V16(8388608.0f));
    __m512i u = _mm512_castps_si512(xs);
    __m512i e = _mm512_sub_epi32(_mm512_and_si512(_mm512_srli_epi32(u, 23),
                                                  _mm512_set1_epi32(0xff)),
                                 _mm512_set1_epi32(127));
    e = _mm512_mask_sub_epi32(e, tiny, e, _mm512_set1_epi32(23));
    __m512 m = _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_and_si512(u, _mm512_set1_epi32(0x007fffff)), _mm512_set1_epi32(0x3f800000)));
    __mmask16 big = _mm512_cmp_ps_mask(m, V16(1.41421356f), _CMP_GT_OQ);
    m = _mm512_mask_mul_ps(m, big, m, V16(0.5f));
    e = _mm512_mask_add_epi32(e, big, e, _mm512_set1_epi32(1));
    __m512 ef = _mm512_cvtepi32_ps(e);
    __m512 f = _mm512_sub_ps(m, V16(1.0f));
    __m512 s = _mm512_div_ps(f, _mm512_add_ps(V16(2.0f), f));
    __m512 z = _mm512_mul_ps(s, s);
    __m512 R = _mm512_fmadd_ps(V16(2.0f / 9.0f), z, V16(2.0f / 7.0f));
    R = _mm512_fmadd_ps(R, z, V16(2.0f / 5.0f));
    R = _mm512_fmadd_ps(R, z, V16(2.0f / 3.0f));
    R = _mm512_mul_ps(R, z);
    __m512 hfsq = _mm512_mul_ps(_mm512_mul_ps(V16(0.5f), f), f);
    __m512 lo = _mm512_fmadd_ps(s, _mm512_add_ps(hfsq, R),
                                _mm512_mul_ps(ef, V16(1.428606765330187045e-06f)));
    __m512 y = _mm512_fmsub_ps(ef, V16(0.693145751953125f),
                               _mm512_sub_ps(_mm512_sub_ps(hfsq, lo), f));
    y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, V16(INFINITY), _CMP_EQ_OQ), x);
    y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, V16(0.0f), _CMP_EQ_OQ), V16(-INFINITY));
    y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, V16(0.0f), _CMP_LT_OQ), V16(NAN));
    return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
}

/* Rows whose output is at least this large go well past L3 (32 MiB,
 * shared, with the inputs competing for it), so streaming stores are used:
 * they skip the read-for-ownership of every output line, a quarter of an
 * add's memory traffic (16M-float add, one core: 12.8 -> 7.6 ms). Smaller
 * outputs stay cached for the op that reads them next. */
#define FDL_NT_MIN_BYTES ((int64_t)8 << 20)

static inline __mmask16 tail16(int64_t left) {
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
}

/* Elements before o reaches a 64-byte boundary, or -1 when streaming
 * stores do not apply (small row, or o not even float-aligned). */
static inline int64_t nt_head(int64_t n, const float *o) {
    uintptr_t a = (uintptr_t)o;
    if (n * (int64_t)sizeof(float) < FDL_NT_MIN_BYTES || (a & 3)) return -1;
    return (int64_t)(((64 - (a & 63)) & 63) / 4);
}

/* o[i] = F(x[i]) for a contiguous row. VAL(i, k) yields the input vector
 * at i under mask k; every element, head and tail included, goes through
 * the same vector code. */
#define FDL_ROW16(n, o, VAL, F)                                                \
    do {                                                                       \
        int64_t i = 0, h = nt_head(n, o);                                      \
        if (h >= 0) {                                                          \
            for (; i < h; i += 16) {                                           \
                __mmask16 k = tail16(h - i);                                   \
                _mm512_mask_storeu_ps(o + i, k, F(VAL(i, k)));                 \
            }                                                                  \
            i = h;                                                             \
            for (; i + 16 <= n; i += 16) _mm512_stream_ps(o + i, F(VAL(i, 0xffff))); \
            _mm_sfence();                                                      \
        }                                                                      \
        for (; i + 32 <= n; i += 32) {                                         \
            __m512 v0 = F(VAL(i, 0xffff)), v1 = F(VAL(i + 16, 0xffff));        \
            _mm512_storeu_ps(o + i, v0);                                       \
            _mm512_storeu_ps(o + i + 16, v1);                                  \
        }                                                                      \
        for (; i < n; i += 16) {                                               \
            __mmask16 k = tail16(n - i);                                       \
            _mm512_mask_storeu_ps(o + i, k, F(VAL(i, k)));                     \
        }                                                                      \
    } while (0)

#define FDL_LOAD_X(i, k) _mm512_maskz_loadu_ps((__mmask16)(k), x + (i))
static int fdl_simd_exp_f32(int64_t n, float *o, const float *x) {
    FDL_ROW16(n, o, FDL_LOAD_X, exp16);
    return 1;
}
static int fdl_simd_log_f32(int64_t n, float *o, const float *x) {
    FDL_ROW16(n, o, FDL_LOAD_X, log16);
    return 1;
}

/* numpy.maximum: a NaN in either input gives NaN. vmaxps(a, b) returns b
 * when either is NaN, so only a NaN in a needs the extra blend. Same
 * choice as FDL_NANMAX for equal values (-0 vs +0): b. */
static inline __m512 nanmax16(int is_min, __m512 a, __m512 b) {
    __m512 r = is_min ? _mm512_min_ps(a, b) : _mm512_max_ps(a, b);
    return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), a);
}

/* Binary rows with sa, sb in {0, 1} (not both 0): contiguous or one
 * broadcast scalar operand. */
#define FDL_LOAD_A(i, k) (sa ? _mm512_maskz_loadu_ps((__mmask16)(k), a + (i)) : ba)
#define FDL_LOAD_B(i, k) (sb ? _mm512_maskz_loadu_ps((__mmask16)(k), b + (i)) : bb)
#define FDL_BIN_VAL(i, k) FDL_LOAD_A(i, k), FDL_LOAD_B(i, k)
#define FDL_BIN16(F)                                                           \
    do {                                                                       \
        __m512 ba = _mm512_set1_ps(a[0]), bb = _mm512_set1_ps(b[0]);           \
        FDL_ROW16(n, o, FDL_BIN_VAL, F);                           \
    } while (0)

static inline __m512 max16(__m512 a, __m512 b) { return nanmax16(0, a, b); }
static inline __m512 min16(__m512 a, __m512 b) { return nanmax16(1, a, b); }

static int fdl_simd_maxmin_f32(int is_min, int64_t n, float *o, const float *a, int64_t sa,
                               const float *b, int64_t sb) {
    if ((sa != 0 && sa != 1) || (sb != 0 && sb != 1) || (sa == 0 && sb == 0)) return 0;
    if (is_min) FDL_BIN16(min16);
    else FDL_BIN16(max16);
    return 1;
}

/* + - * / vectorize fine from rows.h; only rows large enough for
 * streaming stores come here. */
static int fdl_simd_arith_f32(int op, int64_t n, float *o, const float *a, int64_t sa,
                              const float *b, int64_t sb) {
    if ((sa != 0 && sa != 1) || (sb != 0 && sb != 1) || (sa == 0 && sb == 0)) return 0;
    if (nt_head(n, o) < 0) return 0;
    switch (op) {
    case FDL_BIN_ADD: FDL_BIN16(_mm512_add_ps); break;
    case FDL_BIN_SUB: FDL_BIN16(_mm512_sub_ps); break;
    case FDL_BIN_MUL: FDL_BIN16(_mm512_mul_ps); break;
    case FDL_BIN_DIV: FDL_BIN16(_mm512_div_ps); break;
    default: return 0;
    }
    return 1;
}

/* acc[n] = max/min(acc, x[k][n]) over r rows ld apart, row by row so the
 * rows stream from memory and acc stays in L1; NaN rules as nanmax16. */
static int fdl_simd_colmax_f32(int is_min, int64_t n, int64_t r, int64_t ld, float *acc,
                               const float *x) {
    for (int64_t k = 0; k < r; k++) {
        const float *xr = x + k * ld;
        for (int64_t i = 0; i < n; i += 16) {
            __mmask16 m = tail16(n - i);
            __m512 v = nanmax16(is_min, _mm512_maskz_loadu_ps(m, acc + i),
                                _mm512_maskz_loadu_ps(m, xr + i));
            _mm512_mask_storeu_ps(acc + i, m, v);
        }
    }
    return 1;
}

/* max/min of a contiguous row: four independent accumulators hide the
 * 2-cycle latency; NaNs are tracked in a mask instead of in the values,
 * because vmaxps would drop a NaN already in the accumulator. */
static int fdl_simd_maxrow_f32(int is_min, int64_t n, const float *x, float *res) {
    if (n < 64) return 0;
    __m512 a0 = _mm512_loadu_ps(x), a1 = a0, a2 = a0, a3 = a0;
    __mmask16 nan = 0;
    int64_t i = 0;
#define FDL_STEP(acc, v)                                                       \
    do {                                                                       \
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);                          \
        acc = is_min ? _mm512_min_ps(acc, v) : _mm512_max_ps(acc, v);          \
    } while (0)
    for (; i + 64 <= n; i += 64) {
        __m512 v0 = _mm512_loadu_ps(x + i), v1 = _mm512_loadu_ps(x + i + 16);
        __m512 v2 = _mm512_loadu_ps(x + i + 32), v3 = _mm512_loadu_ps(x + i + 48);
        FDL_STEP(a0, v0); FDL_STEP(a1, v1); FDL_STEP(a2, v2); FDL_STEP(a3, v3);
    }
    for (; i < n; i += 16) {
        __mmask16 k = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        /* masked-off lanes repeat x[0], which cannot change a max or min */
        __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(x[0]), k, x + i);
        FDL_STEP(a0, v);
    }
#undef FDL_STEP
    if (nan) { res[0] = NAN; return 1; }
    a0 = is_min ? _mm512_min_ps(_mm512_min_ps(a0, a1), _mm512_min_ps(a2, a3))
                : _mm512_max_ps(_mm512_max_ps(a0, a1), _mm512_max_ps(a2, a3));
    res[0] = is_min ? _mm512_reduce_min_ps(a0) : _mm512_reduce_max_ps(a0);
    return 1;
}

#define FDL_SFX avx512
#include "core/rows.h"
