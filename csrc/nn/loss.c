/*
 * loss.c — losses, forward and backward.
 *
 * Legend: N elements (pointwise losses) or rows, C classes, D features.
 * Forward kernels write the unreduced per-element (or per-row) loss; the
 * caller reduces it (sum/mean) with the deterministic core reduction.
 * Backward kernels take the upstream gradient as dout with element stride
 * ds (ds = 0: one scalar for a reduced loss) times `scale` (1/count for
 * 'mean'), and add into the input gradient. Rows are independent, so the
 * row-parallel loops write disjoint memory.
 */
#include "nn/common.h"
#include "nn/act_table.h"

enum { NN_MSE, NN_L1, NN_HUBER, NN_SMOOTH_L1, NN_BCE, NN_BCE_LOGITS, NN_HINGE, NN_HINGE_EMB,
       NN_KL_DIV };

#include "nn/types_begin.h"
#include "nn/loss_impl.h"
#include "nn/types_end.h"
#define NN_F64
#include "nn/types_begin.h"
#include "nn/loss_impl.h"
#include "nn/types_end.h"
