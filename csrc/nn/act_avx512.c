/* act_avx512.c — activation rows (act_rows.h) compiled for avx512 (see setup.py). */
#define FDL_SFX avx512
#include "nn/act_isa.h"
