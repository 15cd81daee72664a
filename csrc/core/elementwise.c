/*
 * elementwise.c — shapes, strides and threads for the elementwise kernels.
 *
 * Legend: nd dims, shape[nd] (the output shape), element strides per input
 * (0 = broadcast). The output is C-contiguous.
 *
 * Dims are first collapsed (adjacent dims whose strides chain, size-1 dims
 * dropped), so a contiguous op of any rank becomes one long row. The
 * flattened output index range is then cut into one contiguous range per
 * thread; each element is computed by exactly one thread, so the result
 * does not depend on the thread count.
 */
#include <string.h>

#include "core/ops.h"
#include "core/rows_table.h"
#include "runtime/dispatch.h"
#include "runtime/internal.h"

const fdl_rows *fdl_rows_active(void) { return fdl_isa_kernels()->rows; }

enum { EW_BIN_F32, EW_BIN_F64, EW_CMP_F32, EW_CMP_F64, EW_UN_F32, EW_UN_F64 };

typedef struct {
    int kind, op, nd;
    int64_t shape[FDL_MAX_DIMS];
    int64_t as[FDL_MAX_DIMS], bs[FDL_MAX_DIMS];
    char *o;
    const char *a, *b;
    int64_t osz, isz;    /* element sizes of output and inputs, bytes */
    double p0, p1;
    const fdl_rows *rows;
} ew_job;

/* Collapse dims in place; returns the new nd (>= 1). */
static int collapse(int nd, int64_t *shape, int64_t *as, int64_t *bs) {
    int k = 0;
    for (int d = 0; d < nd; d++) {
        if (shape[d] == 1) continue;
        if (k > 0 && as[k - 1] == as[d] * shape[d] && bs[k - 1] == bs[d] * shape[d]) {
            shape[k - 1] *= shape[d];
            as[k - 1] = as[d];
            bs[k - 1] = bs[d];
        } else {
            shape[k] = shape[d];
            as[k] = as[d];
            bs[k] = bs[d];
            k++;
        }
    }
    if (k == 0) { shape[0] = 1; as[0] = 0; bs[0] = 0; k = 1; }
    return k;
}

static void run_row(const ew_job *j, int64_t n, char *o, const char *a, const char *b,
                    int64_t sa, int64_t sb) {
    switch (j->kind) {
    case EW_BIN_F32: j->rows->bin_f32(j->op, n, (float *)o, (const float *)a, sa, (const float *)b, sb); break;
    case EW_BIN_F64: j->rows->bin_f64(j->op, n, (double *)o, (const double *)a, sa, (const double *)b, sb); break;
    case EW_CMP_F32: j->rows->cmp_f32(j->op, n, (uint8_t *)o, (const float *)a, sa, (const float *)b, sb); break;
    case EW_CMP_F64: j->rows->cmp_f64(j->op, n, (uint8_t *)o, (const double *)a, sa, (const double *)b, sb); break;
    case EW_UN_F32: j->rows->un_f32(j->op, n, (float *)o, (const float *)a, sa, (float)j->p0, (float)j->p1); break;
    case EW_UN_F64: j->rows->un_f64(j->op, n, (double *)o, (const double *)a, sa, j->p0, j->p1); break;
    default: break;
    }
}

/* Output elements [lo, hi) of the flattened index space. */
static void run_range(const ew_job *j, int64_t lo, int64_t hi) {
    const int nd = j->nd;
    const int64_t inner = j->shape[nd - 1];
    int64_t idx[FDL_MAX_DIMS];
    int64_t rem = lo / inner;
    for (int d = nd - 2; d >= 0; d--) { idx[d] = rem % j->shape[d]; rem /= j->shape[d]; }
    int64_t col = lo % inner;
    int64_t pos = lo;
    while (pos < hi) {
        int64_t aoff = col * j->as[nd - 1], boff = col * j->bs[nd - 1];
        for (int d = 0; d < nd - 1; d++) { aoff += idx[d] * j->as[d]; boff += idx[d] * j->bs[d]; }
        int64_t n = FDL_MIN(inner - col, hi - pos);
        run_row(j, n, j->o + pos * j->osz, j->a + aoff * j->isz,
                j->b ? j->b + boff * j->isz : NULL, j->as[nd - 1], j->bs[nd - 1]);
        pos += n;
        col = 0;
        for (int d = nd - 2; d >= 0; d--) {
            if (++idx[d] < j->shape[d]) break;
            idx[d] = 0;
        }
    }
}

static void ew_run(int kind, int op, int nd, const int64_t *shape, void *o, int64_t osz,
                   const void *a, const int64_t *as, const void *b, const int64_t *bs,
                   int64_t isz, double p0, double p1) {
    ew_job j;
    int64_t total = 1;
    if (nd < 0 || nd > FDL_MAX_DIMS) return;
    for (int d = 0; d < nd; d++) {
        total *= shape[d];
        j.shape[d] = shape[d];
        j.as[d] = as[d];
        j.bs[d] = bs ? bs[d] : 0;
    }
    if (total == 0) return;
    j.kind = kind; j.op = op;
    j.o = (char *)o; j.a = (const char *)a; j.b = (const char *)b;
    j.osz = osz; j.isz = isz; j.p0 = p0; j.p1 = p1;
    j.rows = fdl_rows_active();
    j.nd = collapse(nd, j.shape, j.as, j.bs);

    int nt = fdl_threads_for(total);
    if (nt <= 1) {
        run_range(&j, 0, total);
        return;
    }
#ifdef _OPENMP
    #pragma omp parallel for schedule(static) num_threads(nt)
#endif
    for (int t = 0; t < nt; t++) {
        /* 64-element aligned cuts keep each thread's rows on whole vectors */
        int64_t lo = (total * t / nt) & ~(int64_t)63;
        int64_t hi = t == nt - 1 ? total : (total * (t + 1) / nt) & ~(int64_t)63;
        if (hi > lo) run_range(&j, lo, hi);
    }
}

void fdl_ew_unary_f32(int op, int nd, const int64_t *shape, float *out,
                   const float *x, const int64_t *xs, float p0, float p1) {
    ew_run(EW_UN_F32, op, nd, shape, out, 4, x, xs, NULL, NULL, 4, p0, p1);
}
void fdl_ew_unary_f64(int op, int nd, const int64_t *shape, double *out,
                   const double *x, const int64_t *xs, double p0, double p1) {
    ew_run(EW_UN_F64, op, nd, shape, out, 8, x, xs, NULL, NULL, 8, p0, p1);
}
void fdl_ew_binary_f32(int op, int nd, const int64_t *shape, float *out,
                    const float *a, const int64_t *as, const float *b, const int64_t *bs) {
    ew_run(EW_BIN_F32, op, nd, shape, out, 4, a, as, b, bs, 4, 0, 0);
}
void fdl_ew_binary_f64(int op, int nd, const int64_t *shape, double *out,
                    const double *a, const int64_t *as, const double *b, const int64_t *bs) {
    ew_run(EW_BIN_F64, op, nd, shape, out, 8, a, as, b, bs, 8, 0, 0);
}
void fdl_ew_compare_f32(int op, int nd, const int64_t *shape, uint8_t *out,
                     const float *a, const int64_t *as, const float *b, const int64_t *bs) {
    ew_run(EW_CMP_F32, op, nd, shape, out, 1, a, as, b, bs, 4, 0, 0);
}
void fdl_ew_compare_f64(int op, int nd, const int64_t *shape, uint8_t *out,
                     const double *a, const int64_t *as, const double *b, const int64_t *bs) {
    ew_run(EW_CMP_F64, op, nd, shape, out, 1, a, as, b, bs, 8, 0, 0);
}
