/*
 * optim_table.h — the per-ISA table of optimizer range loops (see
 * optim_loops.h) and the argument block they share with the driver.
 */
#ifndef FDL_OPTIM_TABLE_H
#define FDL_OPTIM_TABLE_H

#include <stdint.h>

/* Option bits of fdl_optim_args.flags. */
enum {
    FDL_OPT_MAXIMIZE = 1 << 0,
    FDL_OPT_WD = 1 << 1,          /* weight decay added to the gradient (L2) */
    FDL_OPT_DECOUPLED = 1 << 2,   /* weight decay applied to p (AdamW) */
    FDL_OPT_MOMENTUM = 1 << 3,
    FDL_OPT_NESTEROV = 1 << 4,
    FDL_OPT_FIRST = 1 << 5,       /* SGD: first step initialises the buffer */
    FDL_OPT_AMSGRAD = 1 << 6,
    FDL_OPT_CENTERED = 1 << 7
};

/* One optimizer update: the arrays, and the float constants the driver
 * derived (in double, rounded once) from the hyperparameters. The meaning
 * of s0..s2 and c[] is per optimizer; see the loops. */
typedef struct {
    float *p, *s0, *s1, *s2;
    const float *g;
    float c[8];
    int flags;
} fdl_optim_args;

typedef void (*fdl_optim_range_fn)(const fdl_optim_args *a, int64_t begin, int64_t end);

typedef struct {
    fdl_optim_range_fn sgd, adam, rmsprop, adagrad, adadelta, scale, clamp;
    double (*sq_sum)(const float *g, int64_t n);
    float (*max_abs)(const float *g, int64_t n);
} fdl_optim_kernels;

#endif
