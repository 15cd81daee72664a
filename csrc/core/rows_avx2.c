/* rows_avx2.c — the row loops of rows.h compiled for avx2 (see setup.py). */
#define FDL_SFX avx2
#include "core/rows.h"
