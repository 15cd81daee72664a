/* norm_isa.h — one ISA's table of batch_norm / layer_norm bodies (norm_impl.h);
 * included by norm_<isa>.c with FDL_SFX and NORM_LANES set. NORM_LANES (a
 * power of two >= 8) double accumulators per sum: four vectors per sum on
 * each ISA (8 on SSE2, 16 on AVX2, 32 on AVX-512), enough to hide the add
 * latency without spilling. */
#include "nn/common.h"
#include "nn/norm_table.h"

/* NL / 4 lanes as one vector: doubles, and the float / int lanes that widen to it */
typedef double norm_vd __attribute__((vector_size(NORM_LANES * 2)));
typedef int64_t norm_vil __attribute__((vector_size(NORM_LANES * 2)));
typedef float norm_vfh __attribute__((vector_size(NORM_LANES)));
typedef int32_t norm_vih __attribute__((vector_size(NORM_LANES)));

/* float lanes widened to a double vector: one conversion instruction on x86
 * (gcc 12 splits __builtin_convertvector into halves there) */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
static inline norm_vd norm_widen(norm_vfh v) {
#if NORM_LANES == 32 && defined(__AVX512F__)
    return (norm_vd)_mm512_cvtps_pd((__m256)v);
#elif NORM_LANES == 16 && defined(__AVX__)
    return (norm_vd)_mm256_cvtps_pd((__m128)v);
#elif NORM_LANES == 8 && defined(__SSE2__)
    __m128 w = _mm_setzero_ps();
    memcpy(&w, &v, sizeof v);
    return (norm_vd)_mm_cvtps_pd(w);
#else
    return __builtin_convertvector(v, norm_vd);
#endif
}

/* Blocks per batch_norm channel, from the shape only (never the thread
 * count): one per channel when there are enough channels to share, else
 * blocks of at least 32K values, at most 16 per channel. */
static inline int64_t norm_blocks(int64_t C, int64_t M) {
    if (C >= 16) return 1;
    int64_t nb = M / 32768;
    return nb < 1 ? 1 : nb > 16 ? 16 : nb;
}

#include "runtime/types_begin.h"
#include "nn/norm_impl.h"
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#include "nn/norm_impl.h"
#include "runtime/types_end.h"

const nn_norm_kernels FDL_NAME(nn_norm_kernels) = {
    nn_batch_norm_forward_f32, nn_batch_norm_forward_f64,
    nn_batch_norm_backward_f32, nn_batch_norm_backward_f64,
    nn_layer_norm_forward_f32, nn_layer_norm_forward_f64,
    nn_layer_norm_backward_f32, nn_layer_norm_backward_f64,
};
