/* rows_avx512.c — the row loops of rows.h compiled for avx512 (see setup.py). */
#define FDL_SFX avx512
#include "core/rows.h"
