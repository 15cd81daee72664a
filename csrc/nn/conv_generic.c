/* conv_generic.c — the convolution's phase-plane loops (conv_rows.h) compiled for generic (see setup.py). */
#define FDL_SFX generic
#include "nn/conv_isa.h"
