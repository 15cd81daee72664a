/*
 * pool.c — 2-D max, average and adaptive average pooling.
 *
 * Legend: P = N * C planes of H x W input, OH x OW output; kernel kh x kw,
 * stride sh, sw, padding ph, pw, dilation dh, dw. Output sizes (including
 * ceil_mode) are computed and validated by the caller. Each plane is owned
 * by one thread, forward and backward, so no gradient is written twice.
 */
#include "nn/common.h"

#include "nn/types_begin.h"
#include "nn/pool_impl.h"
#include "nn/types_end.h"
#define NN_F64
#include "nn/types_begin.h"
#include "nn/pool_impl.h"
#include "nn/types_end.h"
