/* pool_generic.c — max-pool plane loops (pool_rows.h) compiled for generic (see setup.py). */
#define FDL_SFX generic
#include "nn/pool_isa.h"
