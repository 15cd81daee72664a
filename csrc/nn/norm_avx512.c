/* norm_avx512.c — batch_norm and layer_norm bodies (norm_impl.h) compiled for avx512 (see setup.py). */
#define FDL_SFX avx512
#define NORM_LANES 32
#include "nn/norm_isa.h"
