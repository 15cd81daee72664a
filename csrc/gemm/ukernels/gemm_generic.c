/*
 * ukernels/gemm_generic.c — the generic GEMM table: the micro-kernels of
 * ukernels/tile_generic_impl.h and the small-M kernels (gemm/smallm_impl.h),
 * each compiled for float and double with 16-byte vectors, with their tiles
 * and fallback blocking (gemm/config.h). runtime/dispatch.c registers the
 * table.
 */
#include <string.h>

#include "runtime/template.h"
#include "gemm/gemm_internal.h"

#define FDL_SFX generic
#define VBYTES 16
#include "runtime/types_begin.h"
#include "gemm/ukernels/tile_generic_impl.h"
#include "gemm/smallm_impl.h"
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#include "gemm/ukernels/tile_generic_impl.h"
#include "gemm/smallm_impl.h"
#include "runtime/types_end.h"

const fdl_gemm_kernels fdl_gemm_kernels_generic = {
    .f32 = {fdl_sgemm_generic_6x8, fdl_sgemm_generic_6x4, 4,
            FDL_SGEMM_GENERIC_MR, FDL_SGEMM_GENERIC_NR, FDL_SGEMM_GENERIC_MC,
            FDL_SGEMM_GENERIC_KC, FDL_SGEMM_GENERIC_NC, smallm_dot_f32, smallm_axpy_f32,
            VBYTES / sizeof(float), "sgemm_generic_6x8"},
    .f64 = {fdl_dgemm_generic_6x4, fdl_dgemm_generic_6x2, 2,
            FDL_DGEMM_GENERIC_MR, FDL_DGEMM_GENERIC_NR, FDL_DGEMM_GENERIC_MC,
            FDL_DGEMM_GENERIC_KC, FDL_DGEMM_GENERIC_NC, smallm_dot_f64, smallm_axpy_f64,
            VBYTES / sizeof(double), "dgemm_generic_6x4"},
};
