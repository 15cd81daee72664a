/* act_avx512.c — activation rows (act_rows.h) compiled for avx512 (see setup.py). */
#define NN_ISA avx512
#include "nn/act_isa.h"
