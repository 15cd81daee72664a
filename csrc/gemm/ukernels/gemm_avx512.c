/*
 * ukernels/gemm_avx512.c — the avx512 GEMM table: the micro-kernels of
 * ukernels/tile_avx512_impl.h and the small-M kernels (gemm/smallm_impl.h),
 * each compiled for float and double with 64-byte vectors, with their tiles
 * and fallback blocking (gemm/config.h). runtime/dispatch.c registers the
 * table.
 */
#include <immintrin.h>
#include <string.h>

#include "runtime/template.h"
#include "gemm/gemm_internal.h"

#define FDL_SFX avx512
#define VBYTES 64
#include "runtime/types_begin.h"
#include "gemm/ukernels/tile_avx512_impl.h"
#include "gemm/smallm_impl.h"
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#include "gemm/ukernels/tile_avx512_impl.h"
#include "gemm/smallm_impl.h"
#include "runtime/types_end.h"

const fdl_gemm_kernels fdl_gemm_kernels_avx512 = {
    .f32 = {fdl_sgemm_avx512_12x32, fdl_sgemm_avx512_12x16, 1,
            FDL_SGEMM_AVX512_MR, FDL_SGEMM_AVX512_NR, FDL_SGEMM_AVX512_MC,
            FDL_SGEMM_AVX512_KC, FDL_SGEMM_AVX512_NC, smallm_dot_f32, smallm_axpy_f32,
            VBYTES / sizeof(float), "sgemm_avx512_12x32"},
    .f64 = {fdl_dgemm_avx512_12x16, fdl_dgemm_avx512_12x8, 1,
            FDL_DGEMM_AVX512_MR, FDL_DGEMM_AVX512_NR, FDL_DGEMM_AVX512_MC,
            FDL_DGEMM_AVX512_KC, FDL_DGEMM_AVX512_NC, smallm_dot_f64, smallm_axpy_f64,
            VBYTES / sizeof(double), "dgemm_avx512_12x16"},
};
