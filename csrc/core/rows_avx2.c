/*
 * rows_avx2.c — the row loops of rows.h compiled for avx2 (see setup.py),
 * plus hand-written 8-lane rows where gcc 12 leaves the plain C scalar:
 * exp/log (their special-value selects), the NaN-propagating maximum and
 * the max/min row reduction.
 *
 * Legend: n = row length, o = output, x/a/b = inputs, 8 floats per vector.
 * exp8/log8 follow vmath.h step for step, like rows_avx512.c. AVX2 has no
 * masked loads for a partial tail that are safe at page ends and cheap, so
 * tails are copied into an 8-float buffer and go through the same vector
 * code: an element's value does not depend on where a thread's range starts.
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define FDL_HAVE_SIMD_F32 1

/* + - * / vectorize fine from rows.h; streaming stores are AVX-512 only. */
static int fdl_simd_arith_f32(int op, int64_t n, float *o, const float *a, int64_t sa,
                              const float *b, int64_t sb) {
    (void)op; (void)n; (void)o; (void)a; (void)sa; (void)b; (void)sb;
    return 0;
}

#define V8(c) _mm256_set1_ps(c)
#define I8(c) _mm256_set1_epi32(c)
#define SEL(mask, a, b) _mm256_blendv_ps((b), (a), (mask))   /* mask ? a : b */

static inline __m256 exp8(__m256 x) {
    __m256 xc = _mm256_min_ps(_mm256_max_ps(x, V8(-104.0f)), V8(104.0f));
    const __m256 shifter = V8(12582912.0f);
    __m256 t = _mm256_fmadd_ps(xc, V8(1.44269504088896341f), shifter);
    __m256 n = _mm256_sub_ps(t, shifter);
    __m256i ni = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(shifter));
    __m256 r = _mm256_fnmadd_ps(n, V8(0.693145751953125f), xc);
    r = _mm256_fnmadd_ps(n, V8(1.428606765330187045e-06f), r);
    __m256 q = _mm256_fmadd_ps(V8(1.0f / 5040.0f), r, V8(1.0f / 720.0f));
    q = _mm256_fmadd_ps(q, r, V8(1.0f / 120.0f));
    q = _mm256_fmadd_ps(q, r, V8(1.0f / 24.0f));
    q = _mm256_fmadd_ps(q, r, V8(1.0f / 6.0f));
    q = _mm256_fmadd_ps(q, r, V8(0.5f));
    __m256 p = _mm256_add_ps(V8(1.0f), _mm256_fmadd_ps(_mm256_mul_ps(r, r), q, r));
    __m256i h = _mm256_srai_epi32(ni, 1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, I8(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, h), I8(127)), 23));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    y = SEL(_mm256_cmp_ps(x, V8(88.7228394f), _CMP_GT_OQ), V8(INFINITY), y);
    return SEL(_mm256_cmp_ps(x, x, _CMP_UNORD_Q), x, y);
}

static inline __m256 log8(__m256 x) {
    __m256 tiny = _mm256_cmp_ps(x, V8(1.17549435e-38f), _CMP_LT_OQ);
    __m256 xs = SEL(tiny, _mm256_mul_ps(x, V8(8388608.0f)), x);
    __m256i u = _mm256_castps_si256(xs);
    __m256i e = _mm256_sub_epi32(_mm256_and_si256(_mm256_srli_epi32(u, 23), I8(0xff)), I8(127));
    /* the compare masks are all-ones (-1) lanes: adding 23 * mask subtracts 23 */
    e = _mm256_add_epi32(e, _mm256_mullo_epi32(_mm256_castps_si256(tiny), I8(23)));
    __m256 m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(u, I8(0x007fffff)),
                                                   I8(0x3f800000)));
    __m256 big = _mm256_cmp_ps(m, V8(1.41421356f), _CMP_GT_OQ);
    m = SEL(big, _mm256_mul_ps(m, V8(0.5f)), m);
    e = _mm256_sub_epi32(e, _mm256_castps_si256(big));
    __m256 ef = _mm256_cvtepi32_ps(e);
    __m256 f = _mm256_sub_ps(m, V8(1.0f));
    __m256 s = _mm256_div_ps(f, _mm256_add_ps(V8(2.0f), f));
    __m256 z = _mm256_mul_ps(s, s);
    __m256 R = _mm256_fmadd_ps(V8(2.0f / 9.0f), z, V8(2.0f / 7.0f));
    R = _mm256_fmadd_ps(R, z, V8(2.0f / 5.0f));
    R = _mm256_fmadd_ps(R, z, V8(2.0f / 3.0f));
    R = _mm256_mul_ps(R, z);
    __m256 hfsq = _mm256_mul_ps(_mm256_mul_ps(V8(0.5f), f), f);
    __m256 lo = _mm256_fmadd_ps(s, _mm256_add_ps(hfsq, R),
                                _mm256_mul_ps(ef, V8(1.428606765330187045e-06f)));
    __m256 y = _mm256_fmsub_ps(ef, V8(0.693145751953125f),
                               _mm256_sub_ps(_mm256_sub_ps(hfsq, lo), f));
    y = SEL(_mm256_cmp_ps(x, V8(INFINITY), _CMP_EQ_OQ), x, y);
    y = SEL(_mm256_cmp_ps(x, V8(0.0f), _CMP_EQ_OQ), V8(-INFINITY), y);
    y = SEL(_mm256_cmp_ps(x, V8(0.0f), _CMP_LT_OQ), V8(NAN), y);
    return SEL(_mm256_cmp_ps(x, x, _CMP_UNORD_Q), x, y);
}

/* o[i] = f(x[i]) for a contiguous row; inlined with a constant f, so each
 * caller below compiles to its own loop with f inlined. */
static inline __attribute__((always_inline)) int map8(int64_t n, float *o, const float *x,
                                                      __m256 (*f)(__m256)) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
        _mm256_storeu_ps(o + i, f(v0));
        _mm256_storeu_ps(o + i + 8, f(v1));
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(o + i, f(_mm256_loadu_ps(x + i)));
    if (i < n) {
        float buf[8] = {0};
        memcpy(buf, x + i, (size_t)(n - i) * sizeof(float));
        _mm256_storeu_ps(buf, f(_mm256_loadu_ps(buf)));
        memcpy(o + i, buf, (size_t)(n - i) * sizeof(float));
    }
    return 1;
}

static int fdl_simd_exp_f32(int64_t n, float *o, const float *x) { return map8(n, o, x, exp8); }
static int fdl_simd_log_f32(int64_t n, float *o, const float *x) { return map8(n, o, x, log8); }

/* numpy.maximum: vmaxps(a, b) returns b when either is NaN, so only a NaN
 * in a needs the extra blend; equal values (-0 vs +0) give b, like
 * FDL_NANMAX. */
static inline __m256 nanmax8(int is_min, __m256 a, __m256 b) {
    __m256 r = is_min ? _mm256_min_ps(a, b) : _mm256_max_ps(a, b);
    return SEL(_mm256_cmp_ps(a, a, _CMP_UNORD_Q), a, r);
}

static int fdl_simd_maxmin_f32(int is_min, int64_t n, float *o, const float *a, int64_t sa,
                               const float *b, int64_t sb) {
    if ((sa != 0 && sa != 1) || (sb != 0 && sb != 1) || (sa == 0 && sb == 0)) return 0;
    __m256 ba = _mm256_set1_ps(a[0]), bb = _mm256_set1_ps(b[0]);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 va = sa ? _mm256_loadu_ps(a + i) : ba;
        __m256 vb = sb ? _mm256_loadu_ps(b + i) : bb;
        _mm256_storeu_ps(o + i, nanmax8(is_min, va, vb));
    }
    for (; i < n; i++) {
        float x = a[i * sa], y = b[i * sb];
        float r = is_min ? (x < y ? x : y) : (x > y ? x : y);
        o[i] = x != x ? x : (y != y ? y : r);
    }
    return 1;
}

/* acc[n] = max/min(acc, x[k][n]) over r rows ld apart, row by row so the
 * rows stream from memory and acc stays in L1; NaN rules as nanmax8. */
static int fdl_simd_colmax_f32(int is_min, int64_t n, int64_t r, int64_t ld, float *acc,
                               const float *x) {
    for (int64_t k = 0; k < r; k++) {
        const float *xr = x + k * ld;
        int64_t i = 0;
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(acc + i, nanmax8(is_min, _mm256_loadu_ps(acc + i),
                                              _mm256_loadu_ps(xr + i)));
        for (; i < n; i++) {
            float a = acc[i], b = xr[i];
            float m = is_min ? (a < b ? a : b) : (a > b ? a : b);
            acc[i] = a != a ? a : (b != b ? b : m);
        }
    }
    return 1;
}

/* max/min of a contiguous row: four independent accumulators; NaNs are
 * tracked in a separate mask, because vmaxps would drop a NaN already in
 * the accumulator. */
static int fdl_simd_maxrow_f32(int is_min, int64_t n, const float *x, float *res) {
    if (n < 32) return 0;
    __m256 a0 = _mm256_loadu_ps(x), a1 = a0, a2 = a0, a3 = a0;
    __m256 nan = _mm256_setzero_ps();
    int64_t i = 0;
#define FDL_STEP(acc, v)                                                       \
    do {                                                                       \
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));            \
        acc = is_min ? _mm256_min_ps(acc, v) : _mm256_max_ps(acc, v);          \
    } while (0)
    for (; i + 32 <= n; i += 32) {
        __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
        __m256 v2 = _mm256_loadu_ps(x + i + 16), v3 = _mm256_loadu_ps(x + i + 24);
        FDL_STEP(a0, v0); FDL_STEP(a1, v1); FDL_STEP(a2, v2); FDL_STEP(a3, v3);
    }
    /* the last, overlapping vector covers the tail; a repeat cannot change
     * a max or min */
    for (; i < n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + (i + 8 <= n ? i : n - 8));
        FDL_STEP(a0, v);
    }
#undef FDL_STEP
    if (_mm256_movemask_ps(nan)) { res[0] = NAN; return 1; }
    a0 = is_min ? _mm256_min_ps(_mm256_min_ps(a0, a1), _mm256_min_ps(a2, a3))
                : _mm256_max_ps(_mm256_max_ps(a0, a1), _mm256_max_ps(a2, a3));
    float l[8];
    _mm256_storeu_ps(l, a0);
    float r = l[0];
    for (int k = 1; k < 8; k++) r = is_min ? (l[k] < r ? l[k] : r) : (l[k] > r ? l[k] : r);
    res[0] = r;
    return 1;
}

#define FDL_SFX avx2
#include "core/rows.h"
