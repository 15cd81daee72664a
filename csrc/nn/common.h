/*
 * common.h — helpers shared by the nn kernels (not public).
 *
 * Each family is written once over a type T in <family>_impl.h and included
 * twice by <family>.c: once with T = float (suffix f32), once with
 * T = double (suffix f64). The math names below map to the vectorizable
 * fdl_expf/fdl_logf for float and to libm for double.
 */
#ifndef FDL_NN_COMMON_H
#define FDL_NN_COMMON_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "runtime/internal.h"
#include "core/vmath.h"

#include "runtime/template.h"

/* One OpenMP loop per kernel: declare `int nt_ = fdl_threads_for(work);`
 * right before it. Serial (no fork) when nt_ == 1. */
#define NN_OMP_FOR (void)nt_; /* used only by the pragma; serial builds ignore it */ \
    _Pragma("omp parallel for schedule(static) num_threads(nt_) if(nt_ > 1)")

/* PyTorch clamps log() in binary_cross_entropy at -100 so p = 0 or 1 stay finite. */
#define NN_LOG_CLAMP (-100)

static inline float nn_exp_f32(float x) { return fdl_expf(x); }
static inline float nn_log_f32(float x) { return fdl_logf(x); }

/* tanh from exp so loops over it vectorize (libm's tanhf does not): an odd
 * Taylor polynomial below |x| = 0.4 (truncation < 2e-9), 1 - 2 / (e^2|x| + 1)
 * above, where the cancellation costs at most ~3 ulp. Saturates to +-1; NaN
 * propagates. */
static inline float nn_tanh_f32(float x) {
    float a = x < 0 ? -x : x, a2 = a * a;
    float p = 21844.0f / 6081075.0f;
    p = p * a2 - 1382.0f / 155925.0f;
    p = p * a2 + 62.0f / 2835.0f;
    p = p * a2 - 17.0f / 315.0f;
    p = p * a2 + 2.0f / 15.0f;
    p = p * a2 - 1.0f / 3.0f;
    p = a + a * a2 * p;
    float e = fdl_expf(2.0f * (a > 20.0f ? 20.0f : a));
    float r = a < 0.4f ? p : 1.0f - 2.0f / (e + 1.0f);
    r = __builtin_copysignf(r, x);
    return x != x ? x : r;
}

/* Normal CDF Phi(x) = erfc(-x / sqrt 2) / 2 from exp, so gelu vectorizes
 * (libm's erfcf does not). For z = |x| / sqrt 2:
 *   erfc(z) = t exp(-z^2 + P(u)),  t = 1 / (1 + z / 2),  u = (2t - 1.16) / 0.84,
 * P a degree-11 least-squares fit (made for fastdl over z in [0, 10.5], max
 * error 1.7e-8 in the exponent). z^2 = x^2 / 2 is formed from x split into a
 * 12-bit head and a tail, so the large exponent carries no rounding error and
 * the left tail keeps a few ulp of relative accuracy. Phi(x) = 1 - Phi(-x)
 * for x > 0. */
static inline float nn_phi_f32(float x) {
    float a = x < 0 ? -x : x;
    a = a > 14.8f ? 14.8f : a;              /* Phi(-14.8) is below FLT_TRUE_MIN */
    float z = a * 0.70710678118654752f;
    float t = 1.0f / (1.0f + 0.5f * z);
    float u = t * (2.0f / 0.84f) - (1.16f / 0.84f);
    float p = -8.090875146e-06f;
    p = p * u - 2.499559980e-05f;
    p = p * u + 8.244958796e-05f;
    p = p * u + 1.347836352e-04f;
    p = p * u - 5.944612223e-04f;
    p = p * u - 2.584332804e-04f;
    p = p * u + 3.880003919e-03f;
    p = p * u - 1.232566128e-03f;
    p = p * u - 3.014811321e-02f;
    p = p * u + 1.671619936e-02f;
    p = p * u + 5.746099947e-01f;
    p = p * u - 5.631567873e-01f;
    float ah = fdl_bits_to_f32(fdl_f32_to_bits(a) & 0xfffff000u), al = a - ah;
    float tail = 0.5f * t * fdl_expf(-0.5f * ah * ah) * fdl_expf(p - 0.5f * al * (a + ah));
    tail = (x < 0 ? -x : x) > 14.8f ? 0.0f : tail;
    float r = x < 0 ? tail : 1.0f - tail;
    return x != x ? x : r;
}

/* Argument checks of the public wrappers (never inside the compute loops). */
/* 1 when a class index lies outside [0, C) and is not ignore_index (when
 * has_ignore). */
static inline int nn_targets_bad(const int64_t *t, int64_t N, int64_t C, int64_t ignore_index,
                                 int has_ignore) {
    for (int64_t i = 0; i < N; i++)
        if ((t[i] < 0 || t[i] >= C) && !(has_ignore && t[i] == ignore_index)) return 1;
    return 0;
}

#endif
