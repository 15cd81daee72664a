/*
 * vmath.h — float32 exp/log written so that gcc vectorizes them.
 *
 * libm's expf/logf are opaque calls that stop loop vectorization (glibc's
 * vector variants need -ffast-math). These use the usual range reduction and
 * a short polynomial, only selects and bit casts, so a loop over them becomes
 * SIMD code at the width of the file that includes this header (given
 * -fno-trapping-math, which rows.h turns on for its functions).
 * Accuracy: the contract is 2 ulp from the correctly rounded result over
 * the whole float range; measured over all 2^32 inputs the maximum is 1 ulp
 * for both, with and without FMA contraction, and for the AVX2/AVX-512
 * versions in rows_avx2.c / rows_avx512.c. NaN, +-Inf, 0 and denormals
 * follow C99 Annex F.
 */
#ifndef FDL_VMATH_H
#define FDL_VMATH_H

#include <stdint.h>
#include <string.h>

static inline float fdl_bits_to_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t fdl_f32_to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static inline float fdl_expf(float x) {
    /* Compares run unconditionally and the ?: only pick values, so the
     * loop if-converts into blends (see the trapping-math note in rows.h). */
    int over = x > 88.7228394f, hi = x > 104.0f, lo = x < -104.0f, nan = x != x;
    /* clamp keeps 2^n representable as two normal factors; NaN passes through */
    float xc = hi ? 104.0f : x;
    xc = lo ? -104.0f : xc;
    const float shifter = 12582912.0f;            /* 1.5 * 2^23: round to int */
    float t = xc * 1.44269504088896341f + shifter;
    float n = t - shifter;
    int32_t ni = (int32_t)(fdl_f32_to_bits(t) - fdl_f32_to_bits(shifter));
    /* Cody-Waite: ln2 split so n*ln2_hi is exact */
    float r = xc - n * 0.693145751953125f;
    r = r - n * 1.428606765330187045e-06f;
    /* e^r = 1 + (r + r^2 q(r)): the leading 1 is added last so only that
     * add rounds at full weight (a plain Horner ending in "+1, *r, +1"
     * reached 3 ulp). Taylor to r^7 keeps truncation below 1e-8 on
     * |r| <= ln2/2. */
    float q = 1.0f / 5040.0f;
    q = q * r + 1.0f / 720.0f;
    q = q * r + 1.0f / 120.0f;
    q = q * r + 1.0f / 24.0f;
    q = q * r + 1.0f / 6.0f;
    q = q * r + 0.5f;
    float p = 1.0f + (r + (r * r) * q);
    int32_t h = ni >> 1;
    float s1 = fdl_bits_to_f32((uint32_t)(h + 127) << 23);
    float s2 = fdl_bits_to_f32((uint32_t)(ni - h + 127) << 23);
    /* p * s1 is exact; the only rounding to a denormal happens in * s2 */
    float y = p * s1 * s2;
    y = over ? __builtin_inff() : y;
    return nan ? x : y;
}

static inline float fdl_logf(float x) {
    /* scale denormals into the normal range first */
    int tiny = x < 1.17549435e-38f, inf = x == __builtin_inff(), zero = x == 0.0f;
    int neg = x < 0.0f, nan = x != x;
    float xscaled = x * 8388608.0f;
    float xs = tiny ? xscaled : x;
    uint32_t u = fdl_f32_to_bits(xs);
    int32_t e = (int32_t)((u >> 23) & 0xff) - 127 - (tiny ? 23 : 0);
    float m = fdl_bits_to_f32((u & 0x007fffffu) | 0x3f800000u); /* [1, 2) */
    int big = m > 1.41421356f;
    float mhalf = m * 0.5f;
    m = big ? mhalf : m;
    float ef = (float)(e + big);
    /* log(1+f) = f - (f^2/2 - s (f^2/2 + R)), s = f/(2+f): f is exact, so
     * the rounding errors of s and R only touch a term ~f^2 smaller than
     * the result; with 2 s q(s^2) instead the division error showed up at
     * full weight (3 ulp). */
    float f = m - 1.0f;
    float s = f / (2.0f + f);
    float z = s * s;
    float R = 2.0f / 9.0f;
    R = R * z + 2.0f / 7.0f;
    R = R * z + 2.0f / 5.0f;
    R = R * z + 2.0f / 3.0f;
    R = R * z;
    float hfsq = 0.5f * f * f;
    /* ln2 split so ef * ln2_hi is exact for |ef| < 2^8 */
    float y = ef * 0.693145751953125f
              - ((hfsq - (s * (hfsq + R) + ef * 1.428606765330187045e-06f)) - f);
    y = inf ? x : y;
    y = zero ? -__builtin_inff() : y;
    y = neg ? __builtin_nanf("") : y;
    return nan ? x : y;
}

#endif
