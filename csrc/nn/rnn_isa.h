/*
 * rnn_isa.h — the float32 cell rows of rnn_rows.h, one table per ISA
 * (rnn.c generic, rnn_avx2.c, rnn_avx512.c), picked at run time.
 */
#ifndef FDL_RFDL_SFX_H
#define FDL_RFDL_SFX_H

#include <stdint.h>

#include "core/vmath.h"

/* The row loops of rnn_rows.h for one element type; see there for the arguments. */
typedef struct {
    void (*rnn_fwd)(float *, const float *, int64_t, int);
    void (*rnn_bwd)(float *, const float *, const float *, int64_t, int);
    void (*lstm_fwd)(float *, float *, float *, float *, const float *, const float *, int64_t,
                     int64_t);
    void (*lstm_bwd)(float *, float *, const float *, const float *, const float *,
                     const float *, const float *, int64_t, int64_t);
    void (*gru_fwd)(float *, float *, float *, const float *, const float *, const float *,
                    int64_t, int64_t);
    void (*gru_bwd)(float *, float *, float *, const float *, const float *, const float *,
                    const float *, int64_t, int64_t);
} fdl_rnn_rows_f32;

typedef struct {
    void (*rnn_fwd)(double *, const double *, int64_t, int);
    void (*rnn_bwd)(double *, const double *, const double *, int64_t, int);
    void (*lstm_fwd)(double *, double *, double *, double *, const double *, const double *,
                     int64_t, int64_t);
    void (*lstm_bwd)(double *, double *, const double *, const double *, const double *,
                     const double *, const double *, int64_t, int64_t);
    void (*gru_fwd)(double *, double *, double *, const double *, const double *,
                    const double *, int64_t, int64_t);
    void (*gru_bwd)(double *, double *, double *, const double *, const double *,
                    const double *, const double *, int64_t, int64_t);
} fdl_rnn_rows_f64;

extern const fdl_rnn_rows_f32 fdl_rnn_rows_f32_generic;
extern const fdl_rnn_rows_f32 fdl_rnn_rows_f32_avx2;
extern const fdl_rnn_rows_f32 fdl_rnn_rows_f32_avx512;

/* Float32 sigmoid and tanh over fdl_expf, so that the row loops vectorize.
 * tanh uses e = exp(-2|x|): (1 - e) / (1 + e) has an absolute error of a few
 * ulp(1) near 0, which is what the gate math needs (no relative accuracy for
 * tiny inputs). Large |x| saturates to exactly +-1 and 0/1. */
#define FDL_SIGMF(x) (1.0f / (1.0f + fdl_expf(-(x))))
static inline float fdl_rnn_tanhf(float x) {
    float e = fdl_expf(-2.0f * __builtin_fabsf(x));
    float t = (1.0f - e) / (1.0f + e);
    return x < 0.0f ? -t : t;
}

#endif
