/* rnn_avx2.c — the float32 cell rows of rnn_rows.h compiled for avx2 (see setup.py). */
#include "core/vmath.h"
#include "nn/rnn_isa.h"

#define FT float
#define ROW(n) n##_f32_avx2
#define SIGM(x) FDL_SIGMF(x)
#define TANH(x) fdl_rnn_tanhf(x)
#include "nn/rnn_rows.h"

const FDL_RNN_ROWS_F32(avx2)
