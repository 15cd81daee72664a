/*
 * reduce.c — sum/mean/max/min/argmax/argmin along one axis.
 *
 * Legend: x is C-contiguous [outer, r, inner]; out is [outer, inner].
 *
 * Determinism: every output is owned by one thread. A single long row
 * (outer * inner small, r large) is cut into chunks whose size depends only
 * on r, never on the thread count; the chunk partials are combined serially
 * in chunk order. So 1 and N threads give bitwise-identical results.
 */
#include <math.h>

#include "core/ops.h"
#include "core/rows_table.h"
#include "runtime/internal.h"
#include "runtime/template.h"

#define RED_MAX_CHUNKS 1024
/* Doubles of column accumulators on the stack (16 KiB, L1-resident). 512
 * left 2 KiB runs per row, too short for the prefetchers: a (1024, 16384)
 * column sum ran at 6.5 GB/s on one core. */
#define COL_TILE 2048

/* Runs CALL (which uses lo_, hi_) over [0, total) cut into nt static
 * ranges. One thread calls it directly: even a parallel region with
 * if(0) costs about 0.6 us, ten times a small reduction's work. */
#define FDL_SPLIT(nt, total, CALL)                                              \
    do {                                                                        \
        if ((nt) <= 1) {                                                        \
            int64_t lo_ = 0, hi_ = (total);                                     \
            CALL;                                                               \
        } else {                                                                \
            _Pragma("omp parallel for schedule(static) num_threads(nt)")       \
            for (int t_ = 0; t_ < (nt); t_++) {                                 \
                int64_t lo_ = (total) * t_ / (nt), hi_ = (total) * (t_ + 1) / (nt); \
                CALL;                                                           \
            }                                                                   \
        }                                                                       \
    } while (0)

#include "runtime/types_begin.h"
#include "core/reduce_impl.h"
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#include "core/reduce_impl.h"
#include "runtime/types_end.h"

/* The drivers of core/api.c's public reductions (core/ops.h). */
void fdl_reduce_op_f32(int op, int64_t outer, int64_t r, int64_t inner, float *out,
                       const float *x) {
    reduce_op_f32(op, outer, r, inner, out, x);
}
void fdl_reduce_op_f64(int op, int64_t outer, int64_t r, int64_t inner, double *out,
                       const double *x) {
    reduce_op_f64(op, outer, r, inner, out, x);
}
void fdl_argreduce_op_f32(int is_min, int64_t outer, int64_t r, int64_t inner, int64_t *out,
                          const float *x) {
    argreduce_op_f32(is_min, outer, r, inner, out, x);
}
void fdl_argreduce_op_f64(int is_min, int64_t outer, int64_t r, int64_t inner, int64_t *out,
                          const double *x) {
    argreduce_op_f64(is_min, outer, r, inner, out, x);
}
