/* winograd_avx2.c — the Winograd tile transforms (winograd_kernels.h) compiled for avx2 (see setup.py). */
#define FDL_SFX avx2
#include "nn/winograd_kernels.h"
