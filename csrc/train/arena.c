/*
 * Parameter arenas and fused optimizer steps over them.
 *
 * Legend: n = floats in an arena (all parameters of a model, or all their
 * gradients). Params, grads and optimizer state live in separate arenas with
 * the same layout, so an elementwise update is one flat call over n floats:
 * one pass through memory instead of one per tensor, and no per-tensor
 * bookkeeping in C.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastdl.h"
#include "train_internal.h"

#define ARENA_ALIGN_FLOATS 16   /* 64 bytes: a cache line, one AVX-512 vector */

static _Thread_local char last_error[256];

const char *fdl_train_last_error(void) { return last_error; }

void fdl__clear_error(void) { last_error[0] = '\0'; }

int fdl__fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

int64_t fdl_arena_round(int64_t n)
{
    if (n <= 0) return 0;
    return (n + ARENA_ALIGN_FLOATS - 1) / ARENA_ALIGN_FLOATS * ARENA_ALIGN_FLOATS;
}

int fdl_arena_wrap(fdl_arena *a, float *data, int64_t capacity)
{
    if (!a) return FDL_ERR_NULL;
    if (capacity < 0) return FDL_ERR_ARG;
    if (!data && capacity > 0) return FDL_ERR_NULL;
    a->data = data;
    a->capacity = capacity;
    a->used = 0;
    a->owned = 0;
    return FDL_OK;
}

int fdl_arena_create(fdl_arena *a, int64_t capacity)
{
    if (!a) return FDL_ERR_NULL;
    memset(a, 0, sizeof *a);
    if (capacity < 0 || (uint64_t)capacity > SIZE_MAX / sizeof(float) - ARENA_ALIGN_FLOATS)
        return fdl__fail(FDL_ERR_ARG, "fdl_arena_create: invalid capacity %lld",
                         (long long)capacity);
    size_t bytes = (size_t)fdl_arena_round(capacity > 0 ? capacity : 1) * sizeof(float);
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes) != 0)
        return fdl__fail(FDL_ERR_ARG, "fdl_arena_create: cannot allocate %zu bytes", bytes);
    memset(p, 0, bytes);
    a->data = p;
    a->capacity = capacity;
    a->owned = 1;
    return FDL_OK;
}

void fdl_arena_destroy(fdl_arena *a)
{
    if (!a) return;
    if (a->owned) free(a->data);
    memset(a, 0, sizeof *a);
}

float *fdl_arena_take(fdl_arena *a, int64_t n)
{
    if (!a || !a->data || n < 0) return NULL;
    int64_t r = fdl_arena_round(n);
    /* The last tensor may end inside the rounding slack of the arena. */
    if (a->used + n > a->capacity) return NULL;
    float *p = a->data + a->used;
    a->used = a->used + r > a->capacity ? a->capacity : a->used + r;
    return p;
}

void fdl_arena_zero(fdl_arena *a)
{
    if (a && a->data && a->used > 0) memset(a->data, 0, (size_t)a->used * sizeof(float));
}

void fdl_adam_defaults(fdl_adam_config *c)
{
    if (!c) return;
    c->lr = 1e-3;
    c->beta1 = 0.9;
    c->beta2 = 0.999;
    c->eps = 1e-8;
    c->weight_decay = 0.0;
    c->decoupled = 0;
    c->amsgrad = 0;
    c->step = 0;
}

int64_t fdl_adam_state_size(const fdl_adam_config *c, int64_t n)
{
    if (!c || n < 0) return -1;
    return (c->amsgrad ? 3 : 2) * n;
}

int fdl_adam_arena_step(fdl_adam_config *c, float *params, const float *grads,
                        float *state, int64_t n)
{
    if (!c || ((!params || !grads || !state) && n > 0)) return FDL_ERR_NULL;
    if (n < 0 || c->step < 0) return FDL_ERR_ARG;
    /* Because Adam is elementwise, one call over the arena performs exactly
     * the per-tensor updates PyTorch makes, bit for bit. */
    float *m = state, *v = state + n, *vmax = c->amsgrad ? state + 2 * n : NULL;
    int st = fdl_adam_step_f32(params, m, v, vmax, grads, n, (double)(c->step + 1), c->lr,
                           c->beta1, c->beta2, c->eps, c->weight_decay, c->decoupled,
                           c->amsgrad, 0);
    if (st == FDL_OK) c->step++;
    return st;
}

int fdl_sgd_arena_step(float *params, const float *grads, float *state, int64_t n,
                       double lr, double momentum, double weight_decay, int nesterov,
                       int first_step)
{
    return fdl_sgd_step_f32(params, momentum != 0.0 ? state : NULL, grads, n, lr, momentum, 0.0,
                        weight_decay, nesterov, 0, first_step);
}
