/*
 * activation.c — activations and softmax/log_softmax, forward and backward.
 *
 * Legend: N elements (activations); softmax works on x[outer, dim, inner]
 * and normalizes over dim. The row loops live in act_rows.h, compiled per
 * ISA; this file splits work over threads and picks the ISA's table.
 * Elementwise work is cut into one contiguous range per thread and every
 * softmax row/column block is owned by one thread, so results do not
 * depend on the thread count.
 */
#include "nn/common.h"
#include "nn/act_table.h"

extern const nn_act_rows nn_act_rows_generic;
#if defined(__x86_64__) || defined(__i386__)
extern const nn_act_rows nn_act_rows_avx2;
extern const nn_act_rows nn_act_rows_avx512;
#endif

const nn_act_rows *nn_act_rows_active(void) {
#if defined(__x86_64__) || defined(__i386__)
    switch (fdl_active_isa()) {
    case FDL_ISA_AVX512: return &nn_act_rows_avx512;
    case FDL_ISA_AVX2: return &nn_act_rows_avx2;
    default: break;
    }
#endif
    return &nn_act_rows_generic;
}

#include "nn/types_begin.h"
#include "nn/activation_impl.h"
#include "nn/types_end.h"
#define NN_F64
#include "nn/types_begin.h"
#include "nn/activation_impl.h"
#include "nn/types_end.h"
