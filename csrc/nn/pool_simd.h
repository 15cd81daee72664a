/*
 * pool_simd.h — the float 2x2 stride-2 max-pool rows in AVX-512, AVX2 and
 * SSE2 intrinsics, for pool_rows.h (same rule, same results as its plain
 * loop, which stays the portable path off x86).
 *
 * Why not the plain loop: the CNN's rows are short (OW = 14 or 7), and gcc's
 * vectorized loop spends them in its prologue and scalar epilogue: measured
 * slower than the SSE2 build (64x32x28x28, 1 thread: 1.34 ms AVX-512 against
 * 0.21 ms SSE2 without argmax; with the argmax, gcc's byte stores made the
 * SSE2 loop 10x slower still). Here a row is one masked 16-wide step
 * (AVX-512), 8-wide steps and a masked tail (AVX2), or 4-wide steps and a
 * tail through small copies (SSE2, the x86-64 baseline of the generic build;
 * its backward keeps the plain loop's tail).
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

/* 8 outputs from the 16 floats of each row: lanes in _mm256_shuffle_ps's
 * order (outputs 0 1 4 5 2 3 6 7), put back by one permute at the end */
static inline void max2x2_8_f32(__m256 x0, __m256 x1, __m256 y0, __m256 y1, int relu,
                                __m256 *mx_out, __m256i *c_out) {
    const __m256 zero = _mm256_setzero_ps();
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
        c = _mm256_blendv_ps(_mm256_set1_ps((float)NN_POOL_NONE), c, keep);
    }
    *mx_out = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(mx), 0xD8));
    *c_out = _mm256_cvttps_epi32(_mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(c), 0xD8)));
}

/* the 8 codes of c as bytes, in the low 8 bytes */
static inline __m128i pool_codes8(__m256i c) {
    __m128i p16 = _mm_packus_epi32(_mm256_castsi256_si128(c), _mm256_extracti128_si256(c, 1));
    return _mm_packus_epi16(p16, p16);
}

/* the tail (< 8 outputs) through masked loads and stores */
static void max2x2_row_simd_f32(float *o, uint8_t *w, const float *r0, const float *r1,
                                int64_t OW, int relu) {
    __m256 mx;
    __m256i c;
    int64_t j = 0;
    for (; j + 8 <= OW; j += 8) {
        max2x2_8_f32(_mm256_loadu_ps(r0 + 2 * j), _mm256_loadu_ps(r0 + 2 * j + 8),
                     _mm256_loadu_ps(r1 + 2 * j), _mm256_loadu_ps(r1 + 2 * j + 8), relu, &mx, &c);
        _mm256_storeu_ps(o + j, mx);
        if (w) _mm_storel_epi64((__m128i *)(w + j), pool_codes8(c));
    }
    if (j < OW) {
        const int n = (int)(OW - j);
        const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(2 * n), lanes);
        const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(2 * n - 8), lanes);
        max2x2_8_f32(_mm256_maskload_ps(r0 + 2 * j, m0), _mm256_maskload_ps(r0 + 2 * j + 8, m1),
                     _mm256_maskload_ps(r1 + 2 * j, m0), _mm256_maskload_ps(r1 + 2 * j + 8, m1),
                     relu, &mx, &c);
        _mm256_maskstore_ps(o + j, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lanes), mx);
        if (w) {
            uint8_t tmp[16];
            _mm_storeu_si128((__m128i *)tmp, pool_codes8(c));
            memcpy(w + j, tmp, (size_t)n);
        }
    }
}

/* d0, d1: the two input-gradient rows under one output row; returns 1 for a
 * code other than 0..3 and NN_POOL_NONE */
static inline int max2x2_bwd_8_f32(float *d0, float *d1, __m256 g, __m256i c, __m256i m0,
                                   __m256i m1, int masked) {
    __m256 va = _mm256_and_ps(g, _mm256_castsi256_ps(_mm256_cmpeq_epi32(c, _mm256_set1_epi32(0))));
    __m256 vb = _mm256_and_ps(g, _mm256_castsi256_ps(_mm256_cmpeq_epi32(c, _mm256_set1_epi32(1))));
    __m256 ve = _mm256_and_ps(g, _mm256_castsi256_ps(_mm256_cmpeq_epi32(c, _mm256_set1_epi32(2))));
    __m256 vf = _mm256_and_ps(g, _mm256_castsi256_ps(_mm256_cmpeq_epi32(c, _mm256_set1_epi32(3))));
    __m256 l0 = _mm256_unpacklo_ps(va, vb), h0 = _mm256_unpackhi_ps(va, vb);
    __m256 l1 = _mm256_unpacklo_ps(ve, vf), h1 = _mm256_unpackhi_ps(ve, vf);
    __m256 o00 = _mm256_permute2f128_ps(l0, h0, 0x20), o01 = _mm256_permute2f128_ps(l0, h0, 0x31);
    __m256 o10 = _mm256_permute2f128_ps(l1, h1, 0x20), o11 = _mm256_permute2f128_ps(l1, h1, 0x31);
    if (masked) {
        _mm256_maskstore_ps(d0, m0, o00);
        _mm256_maskstore_ps(d0 + 8, m1, o01);
        _mm256_maskstore_ps(d1, m0, o10);
        _mm256_maskstore_ps(d1 + 8, m1, o11);
    } else {
        _mm256_storeu_ps(d0, o00);
        _mm256_storeu_ps(d0 + 8, o01);
        _mm256_storeu_ps(d1, o10);
        _mm256_storeu_ps(d1 + 8, o11);
    }
    __m256i bad = _mm256_andnot_si256(_mm256_cmpeq_epi32(c, _mm256_set1_epi32(NN_POOL_NONE)),
                                      _mm256_cmpgt_epi32(c, _mm256_set1_epi32(3)));
    return !_mm256_testz_si256(bad, bad);
}

static int max2x2_bwd_row_simd_f32(float *d0, float *d1, const uint8_t *w, const float *gr,
                                   int64_t OW) {
    int bad = 0;
    int64_t j = 0;
    const __m256i ones = _mm256_set1_epi32(-1);
    for (; j + 8 <= OW; j += 8) {
        __m256i c = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(w + j)));
        bad |= max2x2_bwd_8_f32(d0 + 2 * j, d1 + 2 * j, _mm256_loadu_ps(gr + j), c, ones, ones, 0);
    }
    if (j < OW) {
        const int n = (int)(OW - j);
        const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        uint8_t tmp[16] = {0};
        memcpy(tmp, w + j, (size_t)n);
        /* lanes past the row read code 0 and gradient 0: stored nowhere */
        __m256i c = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)tmp));
        __m256 g = _mm256_maskload_ps(gr + j, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lanes));
        bad |= max2x2_bwd_8_f32(d0 + 2 * j, d1 + 2 * j, g, c,
                                _mm256_cmpgt_epi32(_mm256_set1_epi32(2 * n), lanes),
                                _mm256_cmpgt_epi32(_mm256_set1_epi32(2 * n - 8), lanes), 1);
    }
    return bad;
}

#elif defined(__SSE2__)
#define POOL_SIMD_F32 1

static inline __m128 pool_sel(__m128 t, __m128 yes, __m128 no) {
    return _mm_or_ps(_mm_and_ps(t, yes), _mm_andnot_ps(t, no));
}

/* 4 outputs from the 8 floats of each row (SSE2 has no blend: and/andnot/or) */
static inline void max2x2_4_f32(float *o, uint8_t *w, const float *r0, const float *r1,
                                int relu) {
    const __m128 zero = _mm_setzero_ps();
    __m128 x0 = _mm_loadu_ps(r0), x1 = _mm_loadu_ps(r0 + 4);
    __m128 y0 = _mm_loadu_ps(r1), y1 = _mm_loadu_ps(r1 + 4);
    __m128 a = _mm_shuffle_ps(x0, x1, 0x88), b = _mm_shuffle_ps(x0, x1, 0xDD);
    __m128 e = _mm_shuffle_ps(y0, y1, 0x88), f = _mm_shuffle_ps(y0, y1, 0xDD);
    __m128 t = _mm_or_ps(_mm_cmpgt_ps(b, a), _mm_cmpunord_ps(b, b));
    __m128 mx = pool_sel(t, b, a), c = _mm_and_ps(t, _mm_set1_ps(1));
    t = _mm_or_ps(_mm_cmpgt_ps(e, mx), _mm_cmpunord_ps(e, e));
    mx = pool_sel(t, e, mx);
    c = pool_sel(t, _mm_set1_ps(2), c);
    t = _mm_or_ps(_mm_cmpgt_ps(f, mx), _mm_cmpunord_ps(f, f));
    mx = pool_sel(t, f, mx);
    c = pool_sel(t, _mm_set1_ps(3), c);
    if (relu) {
        __m128 keep = _mm_cmpgt_ps(mx, zero);
        mx = pool_sel(keep, mx, _mm_and_ps(mx, _mm_cmpunord_ps(mx, mx)));
        c = pool_sel(keep, c, _mm_set1_ps((float)NN_POOL_NONE));
    }
    _mm_storeu_ps(o, mx);
    if (w) {
        __m128i ci = _mm_cvttps_epi32(c);
        __m128i p16 = _mm_packs_epi32(ci, ci);
        int32_t four = _mm_cvtsi128_si32(_mm_packus_epi16(p16, p16));
        memcpy(w, &four, 4);
    }
}

/* the tail (< 4 outputs) goes through small copies: a scalar tail costs a
 * mispredicted branch per compare on random data */
static void max2x2_row_sse2_f32(float *o, uint8_t *w, const float *r0, const float *r1,
                                int64_t OW, int relu) {
    int64_t j = 0;
    for (; j + 4 <= OW; j += 4)
        max2x2_4_f32(o + j, w ? w + j : NULL, r0 + 2 * j, r1 + 2 * j, relu);
    if (j < OW) {
        const size_t n = (size_t)(OW - j);
        float a[8] = {0}, b[8] = {0}, oo[4];
        uint8_t ww[4];
        memcpy(a, r0 + 2 * j, 2 * n * sizeof(float));
        memcpy(b, r1 + 2 * j, 2 * n * sizeof(float));
        max2x2_4_f32(oo, ww, a, b, relu);
        memcpy(o + j, oo, n * sizeof(float));
        if (w) memcpy(w + j, ww, n);
    }
}

/* the backward rows of max2x2_row_sse2_f32; returns the outputs done */
static int64_t max2x2_bwd_row_sse2_f32(float *d0, float *d1, const uint8_t *w, const float *gr,
                                       int64_t OW, int *bad) {
    const __m128i z = _mm_setzero_si128();
    int64_t j = 0;
    for (; j + 4 <= OW; j += 4) {
        int32_t four;
        memcpy(&four, w + j, 4);
        __m128i c = _mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(four), z), z);
        __m128 g = _mm_loadu_ps(gr + j);
        __m128 va = _mm_and_ps(g, _mm_castsi128_ps(_mm_cmpeq_epi32(c, _mm_set1_epi32(0))));
        __m128 vb = _mm_and_ps(g, _mm_castsi128_ps(_mm_cmpeq_epi32(c, _mm_set1_epi32(1))));
        __m128 ve = _mm_and_ps(g, _mm_castsi128_ps(_mm_cmpeq_epi32(c, _mm_set1_epi32(2))));
        __m128 vf = _mm_and_ps(g, _mm_castsi128_ps(_mm_cmpeq_epi32(c, _mm_set1_epi32(3))));
        _mm_storeu_ps(d0 + 2 * j, _mm_unpacklo_ps(va, vb));
        _mm_storeu_ps(d0 + 2 * j + 4, _mm_unpackhi_ps(va, vb));
        _mm_storeu_ps(d1 + 2 * j, _mm_unpacklo_ps(ve, vf));
        _mm_storeu_ps(d1 + 2 * j + 4, _mm_unpackhi_ps(ve, vf));
        __m128i b = _mm_andnot_si128(_mm_cmpeq_epi32(c, _mm_set1_epi32(NN_POOL_NONE)),
                                     _mm_cmpgt_epi32(c, _mm_set1_epi32(3)));
        *bad |= _mm_movemask_epi8(b) != 0;
    }
    return j;
}
#endif
