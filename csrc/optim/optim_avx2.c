/* optim_avx2.c — the optimizer loops of optim_loops.h compiled for avx2 (see setup.py). */
#define FDL_SFX avx2
#include "optim/optim_loops.h"
