/*
 * pool_simd.h — the float 2x2 stride-2 max-pool rows in AVX-512 and AVX2
 * intrinsics, for pool_rows.h (same rule, same results as its plain loop).
 *
 * Why not the plain loop: the CNN's rows are short (OW = 14 or 7), and gcc's
 * vectorized loop spends them in its prologue and scalar epilogue: measured
 * slower than the SSE2 build (64x32x28x28, 1 thread: 1.34 ms AVX-512 against
 * 0.21 ms SSE2 without argmax). Here a row is one masked 16-wide step
 * (AVX-512), or 8-wide steps and the plain loop's tail (AVX2).
 *
 * Lanes: a, b are the even and odd columns of input row 2 oh, e, f those of
 * row 2 oh + 1; the window order is a, b, e, f (codes 0, 1, 2, 3).
 */
#include <immintrin.h>

#if defined(__AVX512F__)
#define POOL_SIMD_F32 1

/* masks of the 2n input floats of n <= 16 outputs, as two 16-float halves */
static inline __mmask16 pool_half_mask(int64_t k) {
    return k >= 16 ? (__mmask16)0xFFFF : k <= 0 ? (__mmask16)0 : (__mmask16)((1u << k) - 1);
}

static void max2x2_row_simd_f32(float *o, uint8_t *w, const float *r0, const float *r1,
                                int64_t OW, int relu) {
    const __m512i ev = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t j = 0; j < OW; j += 16) {
        const int64_t n = OW - j < 16 ? OW - j : 16;
        const __mmask16 m = pool_half_mask(n), ml = pool_half_mask(2 * n),
                        mh = pool_half_mask(2 * n - 16);
        __m512 x0 = _mm512_maskz_loadu_ps(ml, r0 + 2 * j), x1 = _mm512_maskz_loadu_ps(mh, r0 + 2 * j + 16);
        __m512 y0 = _mm512_maskz_loadu_ps(ml, r1 + 2 * j), y1 = _mm512_maskz_loadu_ps(mh, r1 + 2 * j + 16);
        __m512 a = _mm512_permutex2var_ps(x0, ev, x1), b = _mm512_permutex2var_ps(x0, od, x1);
        __m512 e = _mm512_permutex2var_ps(y0, ev, y1), f = _mm512_permutex2var_ps(y0, od, y1);
        __mmask16 tb = _mm512_cmp_ps_mask(b, a, _CMP_GT_OQ) | _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q);
        __m512 mx = _mm512_mask_mov_ps(a, tb, b);
        __mmask16 te = _mm512_cmp_ps_mask(e, mx, _CMP_GT_OQ) | _mm512_cmp_ps_mask(e, e, _CMP_UNORD_Q);
        mx = _mm512_mask_mov_ps(mx, te, e);
        __mmask16 tf = _mm512_cmp_ps_mask(f, mx, _CMP_GT_OQ) | _mm512_cmp_ps_mask(f, f, _CMP_UNORD_Q);
        mx = _mm512_mask_mov_ps(mx, tf, f);
        __mmask16 keep = 0xFFFF;
        if (relu) {
            keep = _mm512_cmp_ps_mask(mx, zero, _CMP_GT_OQ);
            /* cut: 0, but a NaN stays */
            mx = _mm512_mask_mov_ps(mx, (__mmask16)~keep & _mm512_cmp_ps_mask(mx, mx, _CMP_ORD_Q), zero);
        }
        _mm512_mask_storeu_ps(o + j, m, mx);
        if (w) {
            __m512i c = _mm512_setzero_si512();
            c = _mm512_mask_mov_epi32(c, tb, _mm512_set1_epi32(1));
            c = _mm512_mask_mov_epi32(c, te, _mm512_set1_epi32(2));
            c = _mm512_mask_mov_epi32(c, tf, _mm512_set1_epi32(3));
            c = _mm512_mask_mov_epi32(_mm512_set1_epi32(NN_POOL_NONE), keep, c);
            _mm512_mask_cvtepi32_storeu_epi8(w + j, m, c);
        }
    }
}

/* d0, d1: the two input-gradient rows under one output row; returns 1 for a
 * code other than 0..3 and NN_POOL_NONE */
static int max2x2_bwd_row_simd_f32(float *d0, float *d1, const uint8_t *w, const float *gr,
                                   int64_t OW) {
    const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
    __mmask16 bad = 0;
    for (int64_t j = 0; j < OW; j += 16) {
        const int64_t n = OW - j < 16 ? OW - j : 16;
        const __mmask16 m = pool_half_mask(n), ml = pool_half_mask(2 * n),
                        mh = pool_half_mask(2 * n - 16);
        __m512 g = _mm512_maskz_loadu_ps(m, gr + j);
        __m512i c = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, w + j));
        bad |= m & _mm512_cmpgt_epi32_mask(c, _mm512_set1_epi32(3)) &
               _mm512_cmpneq_epi32_mask(c, _mm512_set1_epi32(NN_POOL_NONE));
        __m512 va = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(c, _mm512_set1_epi32(0)), g);
        __m512 vb = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(c, _mm512_set1_epi32(1)), g);
        __m512 ve = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(c, _mm512_set1_epi32(2)), g);
        __m512 vf = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(c, _mm512_set1_epi32(3)), g);
        _mm512_mask_storeu_ps(d0 + 2 * j, ml, _mm512_permutex2var_ps(va, lo, vb));
        _mm512_mask_storeu_ps(d0 + 2 * j + 16, mh, _mm512_permutex2var_ps(va, hi, vb));
        _mm512_mask_storeu_ps(d1 + 2 * j, ml, _mm512_permutex2var_ps(ve, lo, vf));
        _mm512_mask_storeu_ps(d1 + 2 * j + 16, mh, _mm512_permutex2var_ps(ve, hi, vf));
    }
    return bad != 0;
}

#elif defined(__AVX2__)
#define POOL_SIMD_F32 1

/* 8 outputs per step; the lanes run in the order of _mm256_shuffle_ps
 * (0 1 4 5 2 3 6 7 of the output), put back by one permute at the end */
static int64_t max2x2_row_simd8_f32(float *o, uint8_t *w, const float *r0, const float *r1,
                                    int64_t OW, int relu) {
    const __m256 zero = _mm256_setzero_ps(), none = _mm256_set1_ps((float)NN_POOL_NONE);
    int64_t j = 0;
    for (; j + 8 <= OW; j += 8) {
        __m256 x0 = _mm256_loadu_ps(r0 + 2 * j), x1 = _mm256_loadu_ps(r0 + 2 * j + 8);
        __m256 y0 = _mm256_loadu_ps(r1 + 2 * j), y1 = _mm256_loadu_ps(r1 + 2 * j + 8);
        __m256 a = _mm256_shuffle_ps(x0, x1, 0x88), b = _mm256_shuffle_ps(x0, x1, 0xDD);
        __m256 e = _mm256_shuffle_ps(y0, y1, 0x88), f = _mm256_shuffle_ps(y0, y1, 0xDD);
        __m256 t = _mm256_or_ps(_mm256_cmp_ps(b, a, _CMP_GT_OQ), _mm256_cmp_ps(b, b, _CMP_UNORD_Q));
        __m256 mx = _mm256_blendv_ps(a, b, t), c = _mm256_and_ps(t, _mm256_set1_ps(1));
        t = _mm256_or_ps(_mm256_cmp_ps(e, mx, _CMP_GT_OQ), _mm256_cmp_ps(e, e, _CMP_UNORD_Q));
        mx = _mm256_blendv_ps(mx, e, t);
        c = _mm256_blendv_ps(c, _mm256_set1_ps(2), t);
        t = _mm256_or_ps(_mm256_cmp_ps(f, mx, _CMP_GT_OQ), _mm256_cmp_ps(f, f, _CMP_UNORD_Q));
        mx = _mm256_blendv_ps(mx, f, t);
        c = _mm256_blendv_ps(c, _mm256_set1_ps(3), t);
        if (relu) {
            __m256 keep = _mm256_cmp_ps(mx, zero, _CMP_GT_OQ);
            __m256 cut = _mm256_blendv_ps(mx, zero, _mm256_cmp_ps(mx, mx, _CMP_ORD_Q));
            mx = _mm256_blendv_ps(cut, mx, keep);
            c = _mm256_blendv_ps(none, c, keep);
        }
        mx = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(mx), 0xD8));
        _mm256_storeu_ps(o + j, mx);
        if (w) {
            __m256i ci = _mm256_cvttps_epi32(
                _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(c), 0xD8)));
            __m128i p16 = _mm_packus_epi32(_mm256_castsi256_si128(ci), _mm256_extracti128_si256(ci, 1));
            _mm_storel_epi64((__m128i *)(w + j), _mm_packus_epi16(p16, p16));
        }
    }
    return j;
}
#endif
