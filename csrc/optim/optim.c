/*
 * optim.c — argument checks, constants and threads for the fused optimizer
 * updates and the gradient-clipping helpers (the loops are in optim_loops.h).
 *
 * Legend: n = elements of the parameter; every array has n elements.
 *
 * One driver serves every optimizer: it cuts [0, n) into one contiguous
 * range per thread, on 16-element (64-byte) boundaries, and runs the
 * optimizer's range loop on each. An element's update reads and writes only
 * that element, so the result does not depend on the thread count; the
 * 64-byte boundaries keep threads off each other's cache lines and put the
 * only partial vector at the end of the array for any thread count.
 */
#include <math.h>

#include "optim/optim_table.h"
#include "runtime/dispatch.h"
#include "runtime/internal.h"

static const fdl_optim_kernels *active(void) { return fdl_isa_kernels()->optim; }

#define FDL_OPT_BLOCK 16

/* streams = arrays read or written per element: the work that decides
 * whether a fork/join pays off. */
static void run(fdl_optim_range_fn fn, const fdl_optim_args *a, int64_t n, int streams) {
    int nt = fdl_threads_for(n * streams);
    if (nt <= 1) {
        fn(a, 0, n);
        return;
    }
    int64_t blocks = FDL_CDIV(n, FDL_OPT_BLOCK);
    #pragma omp parallel for schedule(static) num_threads(nt)
    for (int t = 0; t < nt; t++) {
        int64_t b = blocks * t / nt * FDL_OPT_BLOCK;
        int64_t e = FDL_MIN(n, blocks * (t + 1) / nt * FDL_OPT_BLOCK);
        if (b < e) fn(a, b, e);
    }
}

static int check(const float *p, const float *g, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!p || !g)) return FDL_ERR_NULL;
    return FDL_OK;
}

static fdl_optim_args args(float *p, float *s0, float *s1, float *s2, const float *g,
                           double weight_decay, int maximize) {
    fdl_optim_args a = {p, s0, s1, s2, g, {0}, 0};
    a.c[7] = (float)weight_decay;
    if (maximize) a.flags |= FDL_OPT_MAXIMIZE;
    if (weight_decay != 0.0) a.flags |= FDL_OPT_WD;
    return a;
}

int fdl_sgd_step_f32(float *p, float *momentum_buffer, const float *g, int64_t n,
                 double lr, double momentum, double dampening, double weight_decay,
                 int nesterov, int maximize, int first_step) {
    int st = check(p, g, n);
    if (st != FDL_OK) return st;
    if (momentum != 0.0 && n > 0 && !momentum_buffer) return FDL_ERR_NULL;
    fdl_optim_args a = args(p, momentum_buffer, NULL, NULL, g, weight_decay, maximize);
    a.c[0] = (float)-lr;
    a.c[1] = (float)momentum;
    a.c[2] = (float)(1.0 - dampening);
    if (momentum != 0.0) {
        a.flags |= FDL_OPT_MOMENTUM;
        if (nesterov) a.flags |= FDL_OPT_NESTEROV;
        if (first_step) a.flags |= FDL_OPT_FIRST;
    }
    run(active()->sgd, &a, n, momentum != 0.0 ? 4 : 3);
    return FDL_OK;
}

int fdl_adam_step_f32(float *p, float *exp_avg, float *exp_avg_sq, float *max_exp_avg_sq,
                  const float *g, int64_t n, double step, double lr, double beta1,
                  double beta2, double eps, double weight_decay, int decoupled,
                  int amsgrad, int maximize) {
    int st = check(p, g, n);
    if (st != FDL_OK) return st;
    if (!(step >= 1.0)) return FDL_ERR_ARG;
    if (n > 0 && (!exp_avg || !exp_avg_sq || (amsgrad && !max_exp_avg_sq)))
        return FDL_ERR_NULL;
    fdl_optim_args a = args(p, exp_avg, exp_avg_sq, max_exp_avg_sq, g,
                            decoupled ? 0.0 : weight_decay, maximize);
    double bc1 = 1.0 - pow(beta1, step);
    double bc2 = 1.0 - pow(beta2, step);
    a.c[0] = (float)(1.0 - beta1);
    a.c[1] = (float)beta2;
    a.c[2] = (float)(1.0 - beta2);
    a.c[3] = (float)(-(lr / bc1));
    a.c[4] = (float)sqrt(bc2);
    a.c[5] = (float)eps;
    a.c[6] = (float)(1.0 - lr * weight_decay);
    if (decoupled && weight_decay != 0.0) a.flags |= FDL_OPT_DECOUPLED;
    if (amsgrad) a.flags |= FDL_OPT_AMSGRAD;
    run(active()->adam, &a, n, amsgrad ? 9 : 7);
    return FDL_OK;
}

int fdl_rmsprop_step_f32(float *p, float *square_avg, float *grad_avg, float *momentum_buffer,
                     const float *g, int64_t n, double lr, double alpha, double eps,
                     double weight_decay, double momentum, int centered, int maximize) {
    int st = check(p, g, n);
    if (st != FDL_OK) return st;
    if (n > 0 && (!square_avg || (centered && !grad_avg) ||
                  (momentum > 0.0 && !momentum_buffer)))
        return FDL_ERR_NULL;
    fdl_optim_args a = args(p, square_avg, grad_avg, momentum_buffer, g, weight_decay,
                            maximize);
    a.c[0] = (float)alpha;
    a.c[1] = (float)(1.0 - alpha);
    a.c[2] = (float)eps;
    a.c[3] = (float)momentum;
    a.c[4] = (float)-lr;
    if (centered) a.flags |= FDL_OPT_CENTERED;
    if (momentum > 0.0) a.flags |= FDL_OPT_MOMENTUM;
    run(active()->rmsprop, &a, n, 5 + (centered ? 2 : 0) + (momentum > 0.0 ? 2 : 0));
    return FDL_OK;
}

int fdl_adagrad_step_f32(float *p, float *sum, const float *g, int64_t n, double step,
                     double lr, double lr_decay, double eps, double weight_decay, int maximize) {
    int st = check(p, g, n);
    if (st != FDL_OK) return st;
    if (!(step >= 1.0)) return FDL_ERR_ARG;
    if (n > 0 && !sum) return FDL_ERR_NULL;
    fdl_optim_args a = args(p, sum, NULL, NULL, g, weight_decay, maximize);
    a.c[0] = (float)(-(lr / (1.0 + (step - 1.0) * lr_decay)));
    a.c[1] = (float)eps;
    run(active()->adagrad, &a, n, 5);
    return FDL_OK;
}

int fdl_adadelta_step_f32(float *p, float *square_avg, float *acc_delta, const float *g,
                      int64_t n, double lr, double rho, double eps, double weight_decay,
                      int maximize) {
    int st = check(p, g, n);
    if (st != FDL_OK) return st;
    if (n > 0 && (!square_avg || !acc_delta)) return FDL_ERR_NULL;
    fdl_optim_args a = args(p, square_avg, acc_delta, NULL, g, weight_decay, maximize);
    a.c[0] = (float)rho;
    a.c[1] = (float)(1.0 - rho);
    a.c[2] = (float)eps;
    a.c[3] = (float)-lr;
    run(active()->adadelta, &a, n, 7);
    return FDL_OK;
}

/* ---- gradient clipping ---------------------------------------------- */

/* The squared norm is a reduction, so its order must not follow the
 * threads: n is cut into at most FDL_NORM_CHUNKS chunks whose size depends
 * only on n, each chunk is summed by one thread, and the partial sums are
 * added in chunk order. The partials live on the stack (8 KiB). */
#define FDL_NORM_CHUNKS 1024
#define FDL_NORM_MIN_CHUNK (1 << 16)

static double grad_sq_norm(const float *g, int64_t n) {
    const fdl_optim_kernels *k = active();
    int64_t chunk = FDL_MAX((int64_t)FDL_NORM_MIN_CHUNK, FDL_CDIV(n, FDL_NORM_CHUNKS));
    chunk = FDL_CDIV(chunk, FDL_OPT_BLOCK) * FDL_OPT_BLOCK;
    int64_t nchunks = FDL_CDIV(n, chunk);
    if (nchunks == 1) return k->sq_sum(g, n);
    double part[FDL_NORM_CHUNKS];
    int nt = fdl_threads_for(n);
    (void)nt; /* unused in a build without OpenMP */
    #pragma omp parallel for schedule(static) num_threads(nt) if(nt > 1)
    for (int64_t c = 0; c < nchunks; c++) {
        int64_t b = c * chunk;
        part[c] = k->sq_sum(g + b, FDL_MIN(chunk, n - b));
    }
    double s = 0.0;
    for (int64_t c = 0; c < nchunks; c++) s += part[c];
    return s;
}

static float grad_max_abs(const float *g, int64_t n) {
    const fdl_optim_kernels *k = active();
    int nt = fdl_threads_for(n);
    if (nt <= 1) return k->max_abs(g, n);
    /* max is exact and order-free, so per-thread partials are deterministic */
    float part[256];
    nt = FDL_MIN(nt, 256);
    int64_t blocks = FDL_CDIV(n, FDL_OPT_BLOCK);
    #pragma omp parallel for schedule(static) num_threads(nt)
    for (int t = 0; t < nt; t++) {
        int64_t b = blocks * t / nt * FDL_OPT_BLOCK;
        int64_t e = FDL_MIN(n, blocks * (t + 1) / nt * FDL_OPT_BLOCK);
        part[t] = b < e ? k->max_abs(g + b, e - b) : 0.0f;
    }
    float m = 0.0f;
    for (int t = 0; t < nt; t++) {
        if (part[t] != part[t]) return part[t];
        m = m > part[t] ? m : part[t];
    }
    return m;
}

int fdl_grad_sq_norm_f32(double *out, const float *g, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (!out || (n > 0 && !g)) return FDL_ERR_NULL;
    *out = n == 0 ? 0.0 : grad_sq_norm(g, n);
    return FDL_OK;
}

int fdl_grad_max_abs_f32(float *out, const float *g, int64_t n) {
    if (n < 0) return FDL_ERR_ARG;
    if (!out || (n > 0 && !g)) return FDL_ERR_NULL;
    *out = n == 0 ? 0.0f : grad_max_abs(g, n);
    return FDL_OK;
}

int fdl_grad_scale_f32(float *g, int64_t n, float scale) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && !g) return FDL_ERR_NULL;
    fdl_optim_args a = {g, NULL, NULL, NULL, NULL, {scale}, 0};
    run(active()->scale, &a, n, 2);
    return FDL_OK;
}

int fdl_grad_clamp_f32(float *g, int64_t n, float lo, float hi) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && !g) return FDL_ERR_NULL;
    fdl_optim_args a = {g, NULL, NULL, NULL, NULL, {lo, hi}, 0};
    run(active()->clamp, &a, n, 2);
    return FDL_OK;
}
