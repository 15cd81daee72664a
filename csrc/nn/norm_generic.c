/* norm_generic.c — batch_norm and layer_norm bodies (norm_impl.h) compiled for generic (see setup.py). */
#define FDL_SFX generic
#define NORM_LANES 8
#include "nn/norm_isa.h"
