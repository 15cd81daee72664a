/* act_avx2.c — activation rows (act_rows.h) compiled for avx2 (see setup.py). */
#define FDL_SFX avx2
#include "nn/act_isa.h"
