/* winograd_generic.c — the Winograd tile transforms (winograd_kernels.h) compiled for generic (see setup.py). */
#define FDL_SFX generic
#include "nn/winograd_kernels.h"
