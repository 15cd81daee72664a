/*
 * gemm/peak.c — fp32 multiply-add peak probe: portable loop and the
 * dispatcher over ISAs and threads.
 *
 * Legend: iters = loop rounds per thread; the return value is the total
 * flops done by all threads (2 per multiply-add lane). The caller times it.
 */
#include "runtime/internal.h"
#include "gemm/gemm_internal.h"
#include "runtime/dispatch.h"

/* 48 independent lanes: on baseline SSE2 that is 12 four-lane chains of a
 * multiply then an add, enough to cover their 6-cycle latency on two
 * multiply pipes (32 lanes measured 10% low: latency-bound).
 * returns flops = iters * 48 multiply-adds * 2 */
int64_t fdl_fma_loop_generic(int64_t iters) {
    float x[48];
    for (int i = 0; i < 48; ++i) x[i] = (float)i;
    for (int64_t it = 0; it < iters; ++it)
        for (int i = 0; i < 48; ++i) x[i] = x[i] * 0.999999f + 1e-7f;
    float s = 0.0f;
    for (int i = 0; i < 48; ++i) s += x[i];
    /* An opaque use keeps the loop without changing its code. */
    volatile float sink = s;
    (void)sink;
    return iters * 48 * 2;
}

static int64_t fma_loop_isa(int64_t iters) { return fdl_isa_kernels()->fma_loop(iters); }

int64_t fdl_fma_loop(int64_t iters, int nthreads) {
    if (iters < 0) iters = 0;
    if (nthreads < 1) nthreads = 1;
    int64_t total = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(nthreads) reduction(+ : total)
#endif
    total += fma_loop_isa(iters);
    return total;
}
