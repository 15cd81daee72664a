/* winograd_avx512.c — the Winograd tile transforms (winograd_kernels.h) compiled for avx512 (see setup.py). */
#define FDL_SFX avx512
#include "nn/winograd_kernels.h"
