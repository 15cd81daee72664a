/* rnn_isa_rows.h — one ISA's table of float32 cell rows (rnn_rows.h);
 * included by rnn.c (generic) and rnn_<isa>.c with FDL_SFX set. */
#include "core/vmath.h"
#include "runtime/template.h"
#include "nn/rnn_isa.h"

#include "runtime/types_begin.h"
#include "nn/rnn_rows.h"
#include "runtime/types_end.h"

const fdl_rnn_rows_f32 FDL_NAME(fdl_rnn_rows_f32) = {
    rnn_fwd_f32, rnn_bwd_f32, lstm_fwd_f32, lstm_bwd_f32, gru_fwd_f32, gru_bwd_f32,
};
