/*
 * internal.h — helpers shared by the kernels; not part of the public API.
 *
 * OpenMP portability lives here: a build without -fopenmp sees the same
 * macros and runs serially.
 */
#ifndef FDL_INTERNAL_H
#define FDL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "fastdl.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define FDL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define FDL_MAX(a, b) ((a) > (b) ? (a) : (b))
#define FDL_CDIV(a, b) (((a) + (b) - 1) / (b))

/* Below this many elements of streaming work an OpenMP fork/join (about
 * 1 us here) costs more than it saves. */
#define FDL_PAR_MIN_ELEMS (1 << 15)

/* Threads to use for `work` units of streaming work (elements touched). */
static inline int fdl_threads_for(int64_t work) {
    if (work < FDL_PAR_MIN_ELEMS) return 1;
    int n = fdl_get_num_threads();
    int64_t cap = work / (FDL_PAR_MIN_ELEMS / 2);
    return (int)(cap < n ? (cap < 1 ? 1 : cap) : n);
}

/* Scratch pool (runtime/pool.c): a 64-byte aligned block of at least
 * `bytes`, or NULL when out of memory; give it back with fdl_scratch_put
 * (NULL is ignored). Blocks given back stay cached until fdl_empty_cache. */
void *fdl_scratch_get(size_t bytes);
void fdl_scratch_put(void *p);

#if defined(__GNUC__)
#define FDL_LIKELY(x) __builtin_expect(!!(x), 1)
#define FDL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define FDL_LIKELY(x) (x)
#define FDL_UNLIKELY(x) (x)
#endif

#endif
