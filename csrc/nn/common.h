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

#define NN_CAT_(a, b) a##_##b
#define NN_CAT(a, b) NN_CAT_(a, b)
/* FN(fdl_relu_forward) -> fdl_relu_forward_f32 */
#define FN(name) NN_CAT(name, S)

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

#endif
