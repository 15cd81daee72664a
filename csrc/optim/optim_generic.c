/* optim_generic.c — the optimizer loops of optim_loops.h compiled for generic (see setup.py). */
#define FDL_SFX generic
#include "optim/optim_loops.h"
