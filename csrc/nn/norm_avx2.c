/* norm_avx2.c — batch_norm and layer_norm bodies (norm_impl.h) compiled for avx2 (see setup.py). */
#define FDL_SFX avx2
#define NORM_LANES 16
#include "nn/norm_isa.h"
