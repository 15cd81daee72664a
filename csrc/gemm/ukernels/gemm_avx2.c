/*
 * ukernels/gemm_avx2.c — the avx2 GEMM table: the micro-kernel of
 * ukernels/tile_avx2_impl.h and the small-M kernels (gemm/smallm_impl.h),
 * each compiled for float and double with 32-byte vectors, with their tiles
 * and fallback blocking (gemm/config.h). runtime/dispatch.c registers the
 * table.
 */
#include <immintrin.h>
#include <string.h>

#include "runtime/template.h"
#include "gemm/gemm_internal.h"

#define FDL_SFX avx2
#define VBYTES 32
#include "runtime/types_begin.h"
#include "gemm/ukernels/tile_avx2_impl.h"
#include "gemm/smallm_impl.h"
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#include "gemm/ukernels/tile_avx2_impl.h"
#include "gemm/smallm_impl.h"
#include "runtime/types_end.h"

const fdl_gemm_kernels fdl_gemm_kernels_avx2 = {
    .f32 = {fdl_sgemm_avx2_6x16, NULL, 1,
            FDL_SGEMM_AVX2_MR, FDL_SGEMM_AVX2_NR, FDL_SGEMM_AVX2_MC,
            FDL_SGEMM_AVX2_KC, FDL_SGEMM_AVX2_NC, smallm_dot_f32, smallm_axpy_f32,
            VBYTES / sizeof(float), "sgemm_avx2_6x16"},
    .f64 = {fdl_dgemm_avx2_6x8, NULL, 1,
            FDL_DGEMM_AVX2_MR, FDL_DGEMM_AVX2_NR, FDL_DGEMM_AVX2_MC,
            FDL_DGEMM_AVX2_KC, FDL_DGEMM_AVX2_NC, smallm_dot_f64, smallm_axpy_f64,
            VBYTES / sizeof(double), "dgemm_avx2_6x8"},
};
