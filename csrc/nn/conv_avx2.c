/* conv_avx2.c — the convolution's phase-plane loops (conv_rows.h) compiled for avx2 (see setup.py). */
#define FDL_SFX avx2
#include "nn/conv_isa.h"
