/* act_isa.h — one ISA's table of activation rows; included by act_<isa>.c
 * with NN_ISA set. */
#include "nn/common.h"
#include "nn/act_table.h"

#include "nn/types_begin.h"
#include "nn/act_rows.h"
#include "nn/types_end.h"
#define NN_F64
#include "nn/types_begin.h"
#include "nn/act_rows.h"
#include "nn/types_end.h"

const nn_act_rows NN_CAT(nn_act_rows, NN_ISA) = {
    act_fwd_f32, act_fwd_f64, act_bwd_f32, act_bwd_f64,
    softmax_row_f32, softmax_row_f64, softmax_bwd_row_f32, softmax_bwd_row_f64,
    row_lse_f32, row_lse_f64, expadd_row_f32, expadd_row_f64,
};
