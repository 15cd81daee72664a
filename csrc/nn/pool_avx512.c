/* pool_avx512.c — max-pool plane loops (pool_rows.h) compiled for avx512 (see setup.py). */
#define FDL_SFX avx512
#include "nn/pool_isa.h"
