/*
 * nn/winograd_kernels.h — the F(4x4, 3x3) tile transforms over L = 16
 * channels of one tile, and the channel-last strips they read and write,
 * compiled once per ISA by winograd_<isa>.c (FDL_SFX names the ISA).
 *
 * Legend: d 6x6 input patch, V = B^T d B; m 6x6 product tile, y = A^T m A
 * (4x4 outputs); g 4x4 output-gradient patch, Y = A g A^T (6x6).
 *
 * Every loop over the 16 lanes has a constant trip count and unit stride,
 * so the compiler turns it into one zmm, two ymm or four xmm operations per
 * statement for the ISA of the file. Moving channels into lane order and
 * back out happens once per element, in wino_pack / wino_unpack.
 *
 * B^T, A^T over the points 0, 1, -1, 2, -2, inf (Lavin and Gray, 2016):
 *   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0;
 *          0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 */
#include <string.h>

#include "runtime/internal.h"
#include "runtime/template.h"
#include "nn/winograd.h"

#define L NN_WINO_L
#define LANES for (int l = 0; l < L; l++)

/* ---- transposes --------------------------------------------------------------------
 * The channel-last strips (wino_pack, wino_unpack) move 16 positions of 16
 * channels at a time through a 16x16 (AVX-512) or two 8x8 (AVX2) register
 * transposes; the generic build moves scalars. */
#if defined(__AVX512F__)
#include <immintrin.h>

/* r[j] <- column j of the 16x16 matrix with rows r[0..15] */
static inline void tr16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int k = 0; k < 16; k += 2) {
        t[k] = _mm512_unpacklo_ps(r[k], r[k + 1]);
        t[k + 1] = _mm512_unpackhi_ps(r[k], r[k + 1]);
    }
    for (int k = 0; k < 16; k += 4) {
        u[k] = _mm512_shuffle_ps(t[k], t[k + 2], 0x44);
        u[k + 1] = _mm512_shuffle_ps(t[k], t[k + 2], 0xEE);
        u[k + 2] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0x44);
        u[k + 3] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        __m512 v = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
        __m512 w = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
        __m512 v2 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
        __m512 w2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
        r[c] = _mm512_shuffle_f32x4(v, w, 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(v, w, 0xDD);
        r[4 + c] = _mm512_shuffle_f32x4(v2, w2, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(v2, w2, 0xDD);
    }
}

#elif defined(__AVX2__)
#include <immintrin.h>

/* r[j] <- column j of the 8x8 matrix with rows r[0..7] */
static inline void tr8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int k = 0; k < 8; k += 2) {
        t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
        t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
    }
    for (int k = 0; k < 8; k += 4) {
        u[k] = _mm256_shuffle_ps(t[k], t[k + 2], 0x44);
        u[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], 0xEE);
        u[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0x44);
        u[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
        r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
}

/* the lanes of bits -> an all-ones / all-zeros int32 vector mask */
static inline __m256i mask8(unsigned bits) {
    const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)bits), bit), bit);
}

#endif

/* r[0..3] = A^T m[0..5] (m rows ms apart) */
static inline void at6(float (*restrict r)[L], const float *restrict m, int64_t ms) {
    LANES {
        float m0 = m[l], m1 = m[ms + l], m2 = m[2 * ms + l], m3 = m[3 * ms + l],
              m4 = m[4 * ms + l], m5 = m[5 * ms + l];
        float a = m1 + m2, b = m1 - m2, c = m3 + m4, e = m3 - m4;
        r[0][l] = m0 + a + c;
        r[1][l] = b + 2.0f * e;
        r[2][l] = a + 4.0f * c;
        r[3][l] = b + 8.0f * e + m5;
    }
}

/* ---- channel lanes ------------------------------------------------------------------
 * Lane l is channel c0 + l of one tile. The input is first copied into a
 * zero-padded channel-last strip (wino_pack: [row][column][Cp], each plane
 * element moved once), from which a tile's 36 positions are plain aligned
 * vector loads: no masks, no transposes per tile (lane = tile needed three
 * 16x16 transposes and 48 masked loads per 16 tiles and channel, for
 * patches that overlap 2.25x). */

/* r[0..5] = B^T z[0..5], z[k] at z + k*zs (floats) */
static inline void bt6p(float (*restrict r)[L], const float *restrict z, int64_t zs) {
    LANES {
        float z0 = z[l], z1 = z[zs + l], z2 = z[2 * zs + l], z3 = z[3 * zs + l],
              z4 = z[4 * zs + l], z5 = z[5 * zs + l];
        float a = z4 - 4.0f * z2, b = z3 - 4.0f * z1, c = z4 - z2, e = 2.0f * (z3 - z1);
        r[0][l] = 4.0f * z0 - 5.0f * z2 + z4;
        r[1][l] = a + b;
        r[2][l] = a - b;
        r[3][l] = c + e;
        r[4][l] = c - e;
        r[5][l] = 4.0f * z1 - 5.0f * z3 + z5;
    }
}

/* V[xi*sxi + l] = (B^T d B)[xi], d(i, j)[l] = d[i*rs + j*cs + l] */
static void FDL_CAT(wino_input_c, FDL_SFX)(float *restrict V, int64_t sxi,
                                            const float *restrict d, int64_t rs, int64_t cs) {
    float t[36][L] __attribute__((aligned(64)));
    float r[6][L] __attribute__((aligned(64)));
    for (int j = 0; j < 6; j++) {          /* columns: t[i][j] = (B^T d)[i][j] */
        bt6p(r, d + j * cs, rs);
        for (int i = 0; i < 6; i++) memcpy(t[i * 6 + j], r[i], sizeof r[i]);
    }
    for (int i = 0; i < 6; i++) {          /* rows: V[i][.] = t[i][.] B */
        bt6p(r, t[i * 6], L);
        for (int j = 0; j < 6; j++) {
            float *restrict v = V + (i * 6 + j) * sxi;
            LANES v[l] = r[j][l];
        }
    }
}

/* dst[i][j][c] (i < nrows, j < Wp, c < Cp) = src[c][h_lo + i][j - pw] of
 * the C planes (H x W) of src, zero outside the planes and for c >= C; with
 * ymask (same shape as src, or NULL) only where ymask > 0. The rows inside
 * the planes are one contiguous run of each plane: read 16 floats at a time
 * of 16 planes (plain loads but the run's tail), transposed, and each
 * position's 16 channels stored at its row and column of the strip. Each
 * load prefetches the same position 16 planes on (the next channel group,
 * or the next image after the last group): the 16 streams of short runs
 * (a 14x14 plane is 13 cache lines) are more than the hardware prefetchers
 * follow. */
#define WINO_PF (16 * HW)

static void FDL_CAT(wino_pack, FDL_SFX)(float *restrict dst, const float *src,
                                         const float *ymask, int64_t C, int64_t H, int64_t W,
                                         int64_t h_lo, int64_t nrows, int64_t pw, int64_t Wp,
                                         int64_t Cp) {
    const int64_t HW = H * W, RS = Wp * Cp;
    const int64_t a = FDL_MAX(h_lo, 0), e = FDL_MIN(h_lo + nrows, H), run = (e - a) * W;
    /* rows outside the planes, and the padding columns of the others */
    for (int64_t i = 0; i < nrows; i++) {
        const int64_t h = h_lo + i;
        float *drow = dst + i * RS;
        if (h < a || h >= e) {
            memset(drow, 0, (size_t)RS * sizeof(float));
            continue;
        }
        if (pw > 0) memset(drow, 0, (size_t)(pw * Cp) * sizeof(float));
        if (pw + W < Wp)
            memset(drow + (pw + W) * Cp, 0, (size_t)((Wp - pw - W) * Cp) * sizeof(float));
    }
    if (run <= 0) return;
    float *d0 = dst + (a - h_lo) * RS + pw * Cp;   /* position (a, 0) */
    for (int64_t c0 = 0; c0 < Cp; c0 += L) {
#if defined(__AVX512F__)
        const __m512 zero = _mm512_setzero_ps();
        const int nc = (int)FDL_MAX(0, FDL_MIN(16, C - c0));
        const float *s = src + c0 * HW + a * W;
        const float *y = ymask ? ymask + c0 * HW + a * W : NULL;
        int64_t row = 0, col = 0;
        for (int64_t f = 0; f < run; f += 16) {
            const int64_t nf = FDL_MIN(16, run - f);
            const __mmask16 m = (__mmask16)((1u << nf) - 1u);
            __m512 r[16];
            for (int l = 0; l < 16; l++) {
                if (l >= nc) {
                    r[l] = zero;
                    continue;
                }
                const float *sl = s + l * HW + f;
                _mm_prefetch((const char *)(sl + WINO_PF), _MM_HINT_T0);
                __mmask16 ml = m;
                if (y) {
                    _mm_prefetch((const char *)(y + l * HW + f + WINO_PF), _MM_HINT_T0);
                    ml = _mm512_mask_cmp_ps_mask(ml, _mm512_maskz_loadu_ps(ml, y + l * HW + f),
                                                 zero, _CMP_GT_OQ);
                }
                r[l] = _mm512_maskz_loadu_ps(ml, sl);
            }
            tr16(r);
            for (int64_t j = 0; j < nf; j++) {
                _mm512_store_ps(d0 + row * RS + col * Cp + c0, r[j]);
                if (++col == W) {
                    col = 0;
                    row++;
                }
            }
        }
#elif defined(__AVX2__)
        const __m256 zero = _mm256_setzero_ps();
        for (int h8 = 0; h8 < L; h8 += 8) {
            const int nc = (int)FDL_MAX(0, FDL_MIN(8, C - c0 - h8));
            const float *s = src + (c0 + h8) * HW + a * W;
            const float *y = ymask ? ymask + (c0 + h8) * HW + a * W : NULL;
            int64_t row = 0, col = 0;
            for (int64_t f = 0; f < run; f += 8) {
                const int64_t nf = FDL_MIN(8, run - f);
                const __m256i m = mask8((1u << nf) - 1u);
                __m256 r[8];
                for (int l = 0; l < 8; l++) {
                    if (l >= nc) {
                        r[l] = zero;
                        continue;
                    }
                    const float *sl = s + l * HW + f;
                    _mm_prefetch((const char *)(sl + WINO_PF), _MM_HINT_T0);
                    r[l] = nf == 8 ? _mm256_loadu_ps(sl) : _mm256_maskload_ps(sl, m);
                    if (y) {
                        _mm_prefetch((const char *)(y + l * HW + f + WINO_PF), _MM_HINT_T0);
                        const __m256 yv = nf == 8 ? _mm256_loadu_ps(y + l * HW + f)
                                                  : _mm256_maskload_ps(y + l * HW + f, m);
                        r[l] = _mm256_and_ps(r[l], _mm256_cmp_ps(yv, zero, _CMP_GT_OQ));
                    }
                }
                tr8(r);
                for (int64_t j = 0; j < nf; j++) {
                    _mm256_store_ps(d0 + row * RS + col * Cp + c0 + h8, r[j]);
                    if (++col == W) {
                        col = 0;
                        row++;
                    }
                }
            }
        }
#else
        for (int64_t q = 0; q < run; q++) {
            float *o = d0 + (q / W) * RS + (q % W) * Cp + c0;
            for (int l = 0; l < L; l++) {
                const int64_t c = c0 + l, si = c * HW + a * W + q;
                o[l] = c < C && (!ymask || ymask[si] > 0.0f) ? src[si] : 0.0f;
            }
        }
#endif
    }
}

/* r[0..5] = A z[0..3], z[k] at z + k*zs (floats) */
static inline void a4p(float (*restrict r)[L], const float *restrict z, int64_t zs) {
    LANES {
        float g0 = z[l], g1 = z[zs + l], g2 = z[2 * zs + l], g3 = z[3 * zs + l];
        float a = g0 + g2, b = g1 + g3, c = g0 + 4.0f * g2, e = 2.0f * g1 + 8.0f * g3;
        r[0][l] = g0;
        r[1][l] = a + b;
        r[2][l] = a - b;
        r[3][l] = c + e;
        r[4][l] = c - e;
        r[5][l] = g3;
    }
}

/* Y[xi*sxi + l] = (A g A^T)[xi] of one tile's 16 channels, g(i, j)[l] =
 * g[i*rs + j*cs + l] (a 4x4 window of a pack strip of dout) */
static void FDL_CAT(wino_grad_c, FDL_SFX)(float *restrict Y, int64_t sxi,
                                           const float *restrict g, int64_t rs, int64_t cs) {
    float t[24][L] __attribute__((aligned(64)));   /* t[i*4 + j] = (A g)[i][j] */
    float r[6][L] __attribute__((aligned(64)));
    for (int j = 0; j < 4; j++) {
        a4p(r, g + j * cs, rs);
        for (int i = 0; i < 6; i++) memcpy(t[i * 4 + j], r[i], sizeof r[i]);
    }
    for (int i = 0; i < 6; i++) {
        a4p(r, t[i * 4], L);
        for (int j = 0; j < 6; j++) {
            float *restrict v = Y + (i * 6 + j) * sxi;
            LANES v[l] = r[j][l];
        }
    }
}


/* strip[i*rs + j*cs + l] = (A^T m A)[i][j] (4x4) of one tile's 16 channels,
 * m[xi] = M[xi*sxi + l]: written channel-last, moved into the planes by
 * wino_unpack */
static void FDL_CAT(wino_output_c, FDL_SFX)(float *restrict strip, int64_t rs, int64_t cs,
                                             const float *restrict M, int64_t sxi) {
    float t[24][L] __attribute__((aligned(64)));   /* t[i*6 + j] = (A^T m)[i][j] */
    float r[4][L] __attribute__((aligned(64)));
    /* the next calls' M: 64 floats on in each of the 36 planes (tiles of
     * 16 channels follow each other there) */
    for (int xi = 0; xi < 36; xi++) __builtin_prefetch(M + xi * sxi + 64);
    for (int j = 0; j < 6; j++) {
        at6(r, M + j * sxi, 6 * sxi);
        for (int i = 0; i < 4; i++) memcpy(t[i * 6 + j], r[i], sizeof r[i]);
    }
    for (int i = 0; i < 4; i++) {
        at6(r, t[i * 6], L);
        for (int j = 0; j < 4; j++) {
            float *restrict o = strip + i * rs + j * cs;
            LANES o[l] = r[j][l];
        }
    }
}

/* dst[c][h_lo + i][j] (=|+=) act(strip[i][j][c] + bias[c]) for the rows
 * i < nrows inside the K planes (H x W) of dst, columns j < W, c < K; the
 * strip has Wq columns of Kp channels. act: max(., 0) when relu (only with
 * accumulate 0; NaN passes). The inverse of wino_pack: 16 positions of 16
 * channels transposed at a time, each channel's run stored whole. */
static void FDL_CAT(wino_unpack, FDL_SFX)(float *dst, const float *restrict strip,
                                           int64_t K, int64_t H, int64_t W, int64_t h_lo,
                                           int64_t nrows, int64_t Wq, int64_t Kp,
                                           const float *bias, int accumulate, int relu) {
    const int64_t HW = H * W, RS = Wq * Kp;
    const int64_t e = FDL_MIN(h_lo + nrows, H), run = (e - h_lo) * W;
    if (run <= 0) return;
    for (int64_t c0 = 0; c0 < K; c0 += L) {
#if defined(__AVX512F__)
        const __m512 zero = _mm512_setzero_ps();
        const int nc = (int)FDL_MIN(16, K - c0);
        float *d = dst + c0 * HW + h_lo * W;
        int64_t row = 0, col = 0;
        for (int64_t f = 0; f < run; f += 16) {
            const int64_t nf = FDL_MIN(16, run - f);
            const __mmask16 m = (__mmask16)((1u << nf) - 1u);
            __m512 r[16];
            for (int64_t j = 0; j < 16; j++) {
                r[j] = j < nf ? _mm512_load_ps(strip + row * RS + col * Kp + c0) : zero;
                if (j < nf && ++col == W) {
                    col = 0;
                    row++;
                }
            }
            tr16(r);
            for (int l = 0; l < nc; l++) {
                __m512 v = r[l];
                if (bias) v = _mm512_add_ps(v, _mm512_set1_ps(bias[c0 + l]));
                if (relu) v = _mm512_max_ps(zero, v);
                float *o = d + l * HW + f;
                if (accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, o), v);
                if (nf == 16) _mm512_storeu_ps(o, v);
                else _mm512_mask_storeu_ps(o, m, v);
            }
        }
#elif defined(__AVX2__)
        const __m256 zero = _mm256_setzero_ps();
        for (int h8 = 0; h8 < L && c0 + h8 < K; h8 += 8) {
            const int nc = (int)FDL_MIN(8, K - c0 - h8);
            float *d = dst + (c0 + h8) * HW + h_lo * W;
            int64_t row = 0, col = 0;
            for (int64_t f = 0; f < run; f += 8) {
                const int64_t nf = FDL_MIN(8, run - f);
                const __m256i m = mask8((1u << nf) - 1u);
                __m256 r[8];
                for (int64_t j = 0; j < 8; j++) {
                    r[j] = j < nf ? _mm256_load_ps(strip + row * RS + col * Kp + c0 + h8) : zero;
                    if (j < nf && ++col == W) {
                        col = 0;
                        row++;
                    }
                }
                tr8(r);
                for (int l = 0; l < nc; l++) {
                    __m256 v = r[l];
                    if (bias) v = _mm256_add_ps(v, _mm256_set1_ps(bias[c0 + h8 + l]));
                    if (relu) v = _mm256_max_ps(zero, v);
                    float *o = d + l * HW + f;
                    if (nf == 8) {
                        if (accumulate) v = _mm256_add_ps(_mm256_loadu_ps(o), v);
                        _mm256_storeu_ps(o, v);
                    } else {
                        if (accumulate) v = _mm256_add_ps(_mm256_maskload_ps(o, m), v);
                        _mm256_maskstore_ps(o, m, v);
                    }
                }
            }
        }
#else
        const int nc = (int)FDL_MIN(16, K - c0);
        for (int64_t q = 0; q < run; q++) {
            const float *s = strip + (q / W) * RS + (q % W) * Kp + c0;
            for (int l = 0; l < nc; l++) {
                float v = s[l];
                if (bias) v += bias[c0 + l];
                if (relu) v = v < 0.0f ? 0.0f : v;
                float *o = dst + (c0 + l) * HW + h_lo * W + q;
                *o = accumulate ? *o + v : v;
            }
        }
#endif
    }
}

const nn_wino_kernels FDL_CAT(nn_wino_kernels, FDL_SFX) = {
    FDL_CAT(wino_pack, FDL_SFX), FDL_CAT(wino_input_c, FDL_SFX), FDL_CAT(wino_grad_c, FDL_SFX),
    FDL_CAT(wino_output_c, FDL_SFX), FDL_CAT(wino_unpack, FDL_SFX),
};

#undef LANES
#undef L
