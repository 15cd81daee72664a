/*
 * norm.c — batch_norm and layer_norm, forward and backward.
 *
 * Legend: batch_norm x[N, C, S] (S = H * W, or 1 for 2-D input), statistics
 * per channel over M = N * S values; layer_norm x[R, D], statistics per row.
 * Sums run in double in a fixed order (one thread per channel or row), so
 * float32 statistics are accurate and independent of the thread count.
 */
#include "nn/common.h"

#include "nn/types_begin.h"
#include "nn/norm_impl.h"
#include "nn/types_end.h"
#define NN_F64
#include "nn/types_begin.h"
#include "nn/norm_impl.h"
#include "nn/types_end.h"
