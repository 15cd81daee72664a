/*
 * example_util.h — small pieces the C examples share: a clock, the error
 * report, where the MNIST files are, and the batch gather.
 */
#ifndef FASTDL_EXAMPLE_UTIL_H
#define FASTDL_EXAMPLE_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fastdl.h>

#include "mnist_idx.h"

static inline double ex_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Print "prog: what: status[: detail]" and return the exit code 1. */
static inline int ex_die(const char *prog, const char *what, int st)
{
    fprintf(stderr, "%s: %s: %s%s%s\n", prog, what, fdl_strerror(st),
            fdl_model_last_error()[0] ? ": " : "", fdl_model_last_error());
    return 1;
}

/* --data default, as the Python side: $FASTDL_DATA, else fastdl's MNIST cache
 * $XDG_CACHE_HOME/fastdl/mnist (~/.cache/fastdl/mnist), where `fastdl demo` or
 * fastdl.datasets.mnist() downloads the files. */
static inline const char *ex_default_data(void)
{
    static char path[512];
    const char *env = getenv("FASTDL_DATA");
    if (env && *env) return env;
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg) snprintf(path, sizeof path, "%s/fastdl/mnist", xdg);
    else snprintf(path, sizeof path, "%s/.cache/fastdl/mnist", home ? home : ".");
    return path;
}

/* Rows [s, s + b) of set, in perm's order when perm is given: gathered into
 * xb/yb so the kernels see one contiguous batch; x and y point at it. */
static inline void ex_batch(const mnist_set *set, const int64_t *perm, int64_t s, int64_t b,
                     float *xb, int64_t *yb, const float **x, const int64_t **y)
{
    if (!perm) {
        *x = set->x + s * set->dim;
        *y = set->y + s;
        return;
    }
    for (int64_t i = 0; i < b; i++) {
        memcpy(xb + i * set->dim, set->x + perm[s + i] * set->dim, sizeof(float) * set->dim);
        yb[i] = set->y[perm[s + i]];
    }
    *x = xb;
    *y = yb;
}

#endif
