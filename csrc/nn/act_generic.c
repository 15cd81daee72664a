/* act_generic.c — activation rows (act_rows.h) compiled for generic (see setup.py). */
#define NN_ISA generic
#include "nn/act_isa.h"
