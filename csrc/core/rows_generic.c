/* rows_generic.c — the row loops of rows.h compiled for generic (see setup.py). */
#define FDL_SFX generic
#include "core/rows.h"
