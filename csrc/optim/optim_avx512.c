/* optim_avx512.c — the optimizer loops of optim_loops.h compiled for avx512 (see setup.py). */
#define FDL_SFX avx512
#include "optim/optim_loops.h"
