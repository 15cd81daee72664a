/* rnn_avx512.c — the float32 cell rows of rnn_rows.h compiled for avx512 (see setup.py). */
#define FDL_SFX avx512
#include "nn/rnn_isa_rows.h"
