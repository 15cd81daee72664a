/* pool_avx2.c — max-pool plane loops (pool_rows.h) compiled for avx2 (see setup.py). */
#define FDL_SFX avx2
#include "nn/pool_isa.h"
