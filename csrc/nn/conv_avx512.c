/* conv_avx512.c — the convolution's phase-plane loops (conv_rows.h) compiled for avx512 (see setup.py). */
#define FDL_SFX avx512
#include "nn/conv_isa.h"
