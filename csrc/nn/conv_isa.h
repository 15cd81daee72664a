/* conv_isa.h — one ISA's table of the convolution's phase-plane loops;
 * included by conv_<isa>.c with FDL_SFX set. */
#include "nn/common.h"
#include "nn/conv_table.h"
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "runtime/types_begin.h"
#include "nn/conv_rows.h"
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#include "nn/conv_rows.h"
#include "runtime/types_end.h"

const nn_conv_kernels FDL_NAME(nn_conv_kernels) = {
    planes_f32, planes_f64, im2col_f32, im2col_f64, col2im_f32, col2im_f64,
    dout_t_f32, dout_t_f64, cols8_f32, cols8_f64,
};
