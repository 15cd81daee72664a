/*
 * rows_table.h — the per-ISA table of row loops (see rows.h) and the
 * function that picks one for the active ISA.
 */
#ifndef FDL_ROWS_TABLE_H
#define FDL_ROWS_TABLE_H

#include <stdint.h>

#include "core/ops.h"

typedef struct {
    void (*bin_f32)(int, int64_t, float *, const float *, int64_t, const float *, int64_t);
    void (*bin_f64)(int, int64_t, double *, const double *, int64_t, const double *, int64_t);
    void (*cmp_f32)(int, int64_t, uint8_t *, const float *, int64_t, const float *, int64_t);
    void (*cmp_f64)(int, int64_t, uint8_t *, const double *, int64_t, const double *, int64_t);
    void (*un_f32)(int, int64_t, float *, const float *, int64_t, float, float);
    void (*un_f64)(int, int64_t, double *, const double *, int64_t, double, double);
    double (*sum_f32)(int64_t, const float *);
    double (*sum_f64)(int64_t, const double *);
    float (*max_f32)(int, int64_t, const float *);
    double (*max_f64)(int, int64_t, const double *);
    /* (n, r, ld, acc, x): fold r rows of x, ld apart, into acc[n] */
    void (*colsum_f32)(int64_t, int64_t, int64_t, double *, const float *);
    void (*colsum_f64)(int64_t, int64_t, int64_t, double *, const double *);
    void (*colmax_f32)(int, int64_t, int64_t, int64_t, float *, const float *);
    void (*colmax_f64)(int, int64_t, int64_t, int64_t, double *, const double *);
} fdl_rows;

const fdl_rows *fdl_rows_active(void);

#endif
