/* rnn_avx2.c — the float32 cell rows of rnn_rows.h compiled for avx2 (see setup.py). */
#define FDL_SFX avx2
#include "nn/rnn_isa_rows.h"
