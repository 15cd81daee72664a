/* pool_isa.h — one ISA's table of pooling plane loops; included by
 * pool_<isa>.c with FDL_SFX set. */
#include "nn/common.h"
#include "nn/pool_table.h"
#if defined(__SSE2__)
#include "nn/pool_simd.h"
#endif

#include "runtime/types_begin.h"
#include "nn/pool_rows.h"
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#include "nn/pool_rows.h"
#include "runtime/types_end.h"

const nn_pool_kernels FDL_NAME(nn_pool_kernels) = {
    max_fwd_f32, max_fwd_f64, max_bwd_f32, max_bwd_f64,
    adaptive_avg_fwd_f32, adaptive_avg_fwd_f64, adaptive_avg_bwd_f32, adaptive_avg_bwd_f64,
};
