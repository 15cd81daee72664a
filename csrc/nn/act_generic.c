/* act_generic.c — activation rows (act_rows.h) compiled for generic (see setup.py). */
#define FDL_SFX generic
#include "nn/act_isa.h"
