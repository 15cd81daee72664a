/* act_isa.h — one ISA's table of activation rows; included by act_<isa>.c
 * with FDL_SFX set. */
#include "nn/common.h"
#include "nn/act_table.h"

#include "runtime/types_begin.h"
#include "nn/act_rows.h"
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#include "nn/act_rows.h"
#include "runtime/types_end.h"

const nn_act_rows FDL_CAT(nn_act_rows, FDL_SFX) = {
    act_fwd_f32, act_fwd_f64, act_bwd_f32, act_bwd_f64,
    softmax_row_f32, softmax_row_f64, softmax_bwd_row_f32, softmax_bwd_row_f64,
    row_lse_f32, row_lse_f64, expadd_row_f32, expadd_row_f64, lse16_f32, lse16_f64,
};
