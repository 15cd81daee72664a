/*
 * optim_loops.h — the inner loops of the fused optimizer updates.
 *
 * Included once per ISA by optim_{generic,avx2,avx512}.c with FDL_SFX set;
 * the same plain C loops are vectorized by the compiler at that file's
 * vector width. The driver (optim.c) validates, derives the float
 * constants, splits [0, n) across threads and picks the table of the active
 * ISA; the loops here only hold the math.
 *
 * Legend: [b, e) = the element range of one thread; x = p[i], d = the
 * gradient after maximize and L2 weight decay.
 *
 * Every optimizer shares one skeleton, FDL_OPT_LOOP: it reads p and g, forms
 * d, runs the optimizer's body (which updates x and the state) and stores x.
 * Options are compile-time constants of an always-inlined function, so each
 * combination becomes its own branch-free, vectorizable loop (FDL_BRANCH
 * picks it once per call, outside the loop).
 */
#include <math.h>
#include <stdint.h>

#include "fastdl.h"
#include "optim/optim_table.h"

#include "runtime/template.h"

#if defined(__GNUC__)
#define FDL_INLINE static inline __attribute__((always_inline))
#else
#define FDL_INLINE static inline
#endif

/* Run the statements in __VA_ARGS__ with `var` a constant 0 or 1. */
#define FDL_BRANCH(var, cond, ...)                                          \
    do {                                                                    \
        if (cond) { const int var = 1; __VA_ARGS__; }                      \
        else { const int var = 0; __VA_ARGS__; }                           \
    } while (0)

/* Multiplying by gsign (+1 or -1) is exact, so maximize costs no branch.
 * PyTorch adds weight_decay * p only when weight_decay != 0; WD mirrors
 * that, which also keeps an infinite p from turning d into NaN. */
#define FDL_OPT_LOOP(WD, ...)                                              \
    do {                                                                    \
        float *restrict p_ = a->p;                                          \
        const float *restrict g_ = a->g;                                    \
        const float gsign = (a->flags & FDL_OPT_MAXIMIZE) ? -1.0f : 1.0f;  \
        const float wd = a->c[7];                                           \
        for (int64_t i = b; i < e; i++) {                                   \
            float x = p_[i];                                                \
            float d = gsign * g_[i];                                        \
            if (WD) d = d + wd * x;                                         \
            __VA_ARGS__                                                     \
            p_[i] = x;                                                      \
        }                                                                   \
    } while (0)

/* SGD. s0 = momentum_buffer.
 * c: 0 = -lr, 1 = momentum, 2 = 1 - dampening. */
FDL_INLINE void sgd_impl(const fdl_optim_args *a, int64_t b, int64_t e,
                         const int wd_on, const int mom, const int nesterov, const int first) {
    float *restrict buf = a->s0;
    const float nlr = a->c[0], mu = a->c[1], damp1 = a->c[2];
    FDL_OPT_LOOP(wd_on, {
        if (mom) {
            float m = first ? d : mu * buf[i] + damp1 * d;
            buf[i] = m;
            d = nesterov ? d + mu * m : m;
        }
        x = x + nlr * d;
    });
}

static void FDL_NAME(sgd)(const fdl_optim_args *a, int64_t b, int64_t e) {
    const int f = a->flags;
    FDL_BRANCH(wd_on, f & FDL_OPT_WD,
        FDL_BRANCH(mom, f & FDL_OPT_MOMENTUM,
            FDL_BRANCH(nest, f & FDL_OPT_NESTEROV,
                FDL_BRANCH(first, f & FDL_OPT_FIRST,
                    sgd_impl(a, b, e, wd_on, mom, nest, first);))));
}

/* Adam / AdamW. s0 = exp_avg, s1 = exp_avg_sq, s2 = max_exp_avg_sq.
 * c: 0 = 1 - beta1, 1 = beta2, 2 = 1 - beta2, 3 = -lr / (1 - beta1^step),
 *    4 = sqrt(1 - beta2^step), 5 = eps, 6 = 1 - lr * weight_decay.
 * The first moment is a lerp, m + (1 - beta1) * (d - m), and the bias
 * correction divides sqrt(v) before eps is added: PyTorch's rounding. */
FDL_INLINE void adam_impl(const fdl_optim_args *a, int64_t b, int64_t e,
                          const int wd_on, const int decoupled, const int amsgrad) {
    float *restrict m_ = a->s0, *restrict v_ = a->s1, *restrict vmax_ = a->s2;
    const float omb1 = a->c[0], b2 = a->c[1], omb2 = a->c[2], nstep = a->c[3];
    const float bc2s = a->c[4], eps = a->c[5], decay = a->c[6];
    FDL_OPT_LOOP(wd_on, {
        if (decoupled) x = x * decay;
        float m = m_[i];
        m = m + omb1 * (d - m);
        float v = b2 * v_[i] + omb2 * (d * d);
        m_[i] = m;
        v_[i] = v;
        if (amsgrad) {
            float vm = vmax_[i];
            vm = vm > v ? vm : v;
            vmax_[i] = vm;
            v = vm;
        }
        float denom = sqrtf(v) / bc2s + eps;
        x = x + nstep * (m / denom);
    });
}

static void FDL_NAME(adam)(const fdl_optim_args *a, int64_t b, int64_t e) {
    const int f = a->flags;
    FDL_BRANCH(wd_on, f & FDL_OPT_WD,
        FDL_BRANCH(dec, f & FDL_OPT_DECOUPLED,
            FDL_BRANCH(ams, f & FDL_OPT_AMSGRAD,
                adam_impl(a, b, e, wd_on, dec, ams);)));
}

/* RMSprop. s0 = square_avg, s1 = grad_avg, s2 = momentum_buffer.
 * c: 0 = alpha, 1 = 1 - alpha, 2 = eps, 3 = momentum, 4 = -lr. */
FDL_INLINE void rmsprop_impl(const fdl_optim_args *a, int64_t b, int64_t e,
                             const int wd_on, const int centered, const int mom) {
    float *restrict sq_ = a->s0, *restrict ga_ = a->s1, *restrict buf_ = a->s2;
    const float al = a->c[0], oma = a->c[1], eps = a->c[2], mu = a->c[3], nlr = a->c[4];
    FDL_OPT_LOOP(wd_on, {
        float s = al * sq_[i] + oma * (d * d);
        sq_[i] = s;
        if (centered) {
            float ga = ga_[i];
            ga = ga + oma * (d - ga);
            ga_[i] = ga;
            s = s - ga * ga;
        }
        float avg = sqrtf(s) + eps;
        if (mom) {
            float m = mu * buf_[i] + d / avg;
            buf_[i] = m;
            x = x + nlr * m;
        } else {
            x = x + nlr * (d / avg);
        }
    });
}

static void FDL_NAME(rmsprop)(const fdl_optim_args *a, int64_t b, int64_t e) {
    const int f = a->flags;
    FDL_BRANCH(wd_on, f & FDL_OPT_WD,
        FDL_BRANCH(cen, f & FDL_OPT_CENTERED,
            FDL_BRANCH(mom, f & FDL_OPT_MOMENTUM,
                rmsprop_impl(a, b, e, wd_on, cen, mom);)));
}

/* Adagrad. s0 = sum. c: 0 = -lr / (1 + (step - 1) * lr_decay), 1 = eps. */
FDL_INLINE void adagrad_impl(const fdl_optim_args *a, int64_t b, int64_t e, const int wd_on) {
    float *restrict sum_ = a->s0;
    const float nclr = a->c[0], eps = a->c[1];
    FDL_OPT_LOOP(wd_on, {
        float s = sum_[i] + d * d;
        sum_[i] = s;
        x = x + nclr * (d / (sqrtf(s) + eps));
    });
}

static void FDL_NAME(adagrad)(const fdl_optim_args *a, int64_t b, int64_t e) {
    FDL_BRANCH(wd_on, a->flags & FDL_OPT_WD, adagrad_impl(a, b, e, wd_on););
}

/* Adadelta. s0 = square_avg, s1 = acc_delta.
 * c: 0 = rho, 1 = 1 - rho, 2 = eps, 3 = -lr. */
FDL_INLINE void adadelta_impl(const fdl_optim_args *a, int64_t b, int64_t e, const int wd_on) {
    float *restrict sq_ = a->s0, *restrict acc_ = a->s1;
    const float rho = a->c[0], omr = a->c[1], eps = a->c[2], nlr = a->c[3];
    FDL_OPT_LOOP(wd_on, {
        float s = rho * sq_[i] + omr * (d * d);
        sq_[i] = s;
        float acc = acc_[i];
        float delta = sqrtf(acc + eps) / sqrtf(s + eps) * d;
        acc_[i] = rho * acc + omr * (delta * delta);
        x = x + nlr * delta;
    });
}

static void FDL_NAME(adadelta)(const fdl_optim_args *a, int64_t b, int64_t e) {
    FDL_BRANCH(wd_on, a->flags & FDL_OPT_WD, adadelta_impl(a, b, e, wd_on););
}

/* ---- gradient clipping: c[0] = scale, or c[0], c[1] = lo, hi --------- */

static void FDL_NAME(scale)(const fdl_optim_args *a, int64_t b, int64_t e) {
    float *restrict x = a->p;
    const float s = a->c[0];
    for (int64_t i = b; i < e; i++) x[i] = x[i] * s;
}

static void FDL_NAME(clamp)(const fdl_optim_args *a, int64_t b, int64_t e) {
    float *restrict x = a->p;
    const float lo = a->c[0], hi = a->c[1];
    /* Comparisons are false for NaN, so NaN passes through unchanged. */
    for (int64_t i = b; i < e; i++) {
        float v = x[i];
        v = v < lo ? lo : v;
        x[i] = v > hi ? hi : v;
    }
}

/* Sum of squares in double: 16 independent lanes so the loop vectorizes
 * without reassociation, then a fixed-order combine. */
static double FDL_NAME(sq_sum)(const float *g, int64_t n) {
    double acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) {
            double v = (double)g[i + l];
            acc[l] += v * v;
        }
    for (; i < n; i++) {
        double v = (double)g[i];
        acc[i & 15] += v * v;
    }
    for (int l = 0; l < 8; l++) acc[l] += acc[l + 8];
    for (int l = 0; l < 4; l++) acc[l] += acc[l + 4];
    return (acc[0] + acc[2]) + (acc[1] + acc[3]);
}

static float FDL_NAME(max_abs)(const float *g, int64_t n) {
    float acc[16] = {0};
    int64_t i = 0;
    int nan = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) {
            float v = fabsf(g[i + l]);
            nan |= v != v;
            acc[l] = acc[l] > v ? acc[l] : v;
        }
    for (; i < n; i++) {
        float v = fabsf(g[i]);
        nan |= v != v;
        acc[0] = acc[0] > v ? acc[0] : v;
    }
    for (int l = 1; l < 16; l++) acc[0] = acc[0] > acc[l] ? acc[0] : acc[l];
    return nan ? NAN : acc[0];
}

const fdl_optim_kernels FDL_NAME(fdl_optim_kernels) = {
    FDL_NAME(sgd), FDL_NAME(adam), FDL_NAME(rmsprop), FDL_NAME(adagrad),
    FDL_NAME(adadelta), FDL_NAME(scale), FDL_NAME(clamp),
    FDL_NAME(sq_sum), FDL_NAME(max_abs),
};
