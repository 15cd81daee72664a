/*
 * nn/winograd_kernels.h — the F(4x4, 3x3) tile transforms over L = 16 tiles,
 * compiled once per ISA by winograd_<isa>.c (FDL_SFX names the ISA).
 *
 * Legend: d 6x6 input patch, V = B^T d B; m 6x6 product tile, y = A^T m A
 * (4x4 outputs); g 4x4 output-gradient patch, Y = A g A^T (6x6).
 *
 * Every loop over the 16 lanes has a constant trip count and unit stride,
 * so the compiler turns it into one zmm, two ymm or four xmm operations per
 * statement for the ISA of the file; the patches are gathered into lane
 * order once (scalar moves, 36 per tile and channel), which costs less than
 * the arithmetic that follows once vectorized.
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

/* r[0..5] = B^T z[0..5], one lane vector per row (z rows are zs apart) */
static inline void bt6(float (*restrict r)[L], const float (*restrict z)[L], int zs) {
    const float (*z0)[L] = z, (*z1)[L] = z + zs, (*z2)[L] = z + 2 * zs, (*z3)[L] = z + 3 * zs,
                (*z4)[L] = z + 4 * zs, (*z5)[L] = z + 5 * zs;
    LANES {
        float a = z4[0][l] - 4.0f * z2[0][l], b = z3[0][l] - 4.0f * z1[0][l];
        float c = z4[0][l] - z2[0][l], e = 2.0f * (z3[0][l] - z1[0][l]);
        r[0][l] = 4.0f * z0[0][l] - 5.0f * z2[0][l] + z4[0][l];
        r[1][l] = a + b;
        r[2][l] = a - b;
        r[3][l] = c + e;
        r[4][l] = c - e;
        r[5][l] = 4.0f * z1[0][l] - 5.0f * z3[0][l] + z5[0][l];
    }
}

/* V[xi*sxi + l] = (B^T d B)[xi]; d[i*6 + j][l] */
static inline void input_tf(float *restrict V, int64_t sxi, const float (*restrict d)[L]) {
    float t[36][L] __attribute__((aligned(64)));
    float r[6][L] __attribute__((aligned(64)));
    for (int j = 0; j < 6; j++) {          /* columns: t[i][j] = (B^T d)[i][j] */
        bt6(r, d + j, 6);
        for (int i = 0; i < 6; i++) memcpy(t[i * 6 + j], r[i], sizeof r[i]);
    }
    for (int i = 0; i < 6; i++) {          /* rows: V[i][.] = t[i][.] B */
        bt6(r, t + i * 6, 1);
        for (int j = 0; j < 6; j++) {
            float *restrict v = V + (i * 6 + j) * sxi;
            LANES v[l] = r[j][l];
        }
    }
}

static void FDL_CAT(wino_input, FDL_SFX)(float *V, int64_t sxi, const float *plane, int64_t H,
                                          int64_t W, const nn_wino_lanes *Ls) {
    float d[36][L] __attribute__((aligned(64)));
    for (int l = 0; l < L; l++) {
        if (l >= Ls->n) {
            for (int k = 0; k < 36; k++) d[k][l] = 0.0f;
            continue;
        }
        const float *s = plane + Ls->off[l];
        const int64_t h0 = Ls->h0[l], w0 = Ls->w0[l];
        if (h0 >= 0 && w0 >= 0 && h0 + 6 <= H && w0 + 6 <= W) {
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++) d[i * 6 + j][l] = s[i * W + j];
        } else {
            for (int i = 0; i < 6; i++) {
                const int rin = h0 + i >= 0 && h0 + i < H;
                for (int j = 0; j < 6; j++)
                    d[i * 6 + j][l] = rin && w0 + j >= 0 && w0 + j < W ? s[i * W + j] : 0.0f;
            }
        }
    }
    input_tf(V, sxi, d);
}

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

static void FDL_CAT(wino_output, FDL_SFX)(float *plane, const float *M, int64_t sxi, int64_t P,
                                           int64_t Q, const nn_wino_lanes *Ls, float bias,
                                           int accumulate) {
    float t[24][L] __attribute__((aligned(64)));   /* t[i*6 + j] = (A^T m)[i][j] */
    float y[16][L] __attribute__((aligned(64)));
    float r[4][L] __attribute__((aligned(64)));
    for (int j = 0; j < 6; j++) {
        at6(r, M + j * sxi, 6 * sxi);
        for (int i = 0; i < 4; i++) memcpy(t[i * 6 + j], r[i], sizeof r[i]);
    }
    for (int i = 0; i < 4; i++) {
        at6(r, t[i * 6], L);
        for (int j = 0; j < 4; j++) LANES y[i * 4 + j][l] = r[j][l] + bias;
    }
    for (int l = 0; l < Ls->n; l++) {
        float *o = plane + Ls->off[l];
        const int64_t hn = FDL_MIN(4, P - Ls->h0[l]), wn = FDL_MIN(4, Q - Ls->w0[l]);
        if (accumulate)
            for (int64_t i = 0; i < hn; i++)
                for (int64_t j = 0; j < wn; j++) o[i * Q + j] += y[i * 4 + j][l];
        else
            for (int64_t i = 0; i < hn; i++)
                for (int64_t j = 0; j < wn; j++) o[i * Q + j] = y[i * 4 + j][l];
    }
}

/* r[0..5] = A g[0..3] (g rows gs apart) */
static inline void a4(float (*restrict r)[L], const float (*restrict g)[L], int gs) {
    LANES {
        float g0 = g[0][l], g1 = g[gs][l], g2 = g[2 * gs][l], g3 = g[3 * gs][l];
        float a = g0 + g2, b = g1 + g3, c = g0 + 4.0f * g2, e = 2.0f * g1 + 8.0f * g3;
        r[0][l] = g0;
        r[1][l] = a + b;
        r[2][l] = a - b;
        r[3][l] = c + e;
        r[4][l] = c - e;
        r[5][l] = g3;
    }
}

static void FDL_CAT(wino_grad, FDL_SFX)(float *Y, int64_t sxi, const float *plane, int64_t P,
                                         int64_t Q, const nn_wino_lanes *Ls) {
    float g[16][L] __attribute__((aligned(64)));
    float t[24][L] __attribute__((aligned(64)));   /* t[i*4 + j] = (A g)[i][j] */
    float r[6][L] __attribute__((aligned(64)));
    for (int l = 0; l < L; l++) {
        if (l >= Ls->n) {
            for (int k = 0; k < 16; k++) g[k][l] = 0.0f;
            continue;
        }
        const float *s = plane + Ls->off[l];
        const int64_t hn = FDL_MIN(4, P - Ls->h0[l]), wn = FDL_MIN(4, Q - Ls->w0[l]);
        for (int64_t i = 0; i < 4; i++)
            for (int64_t j = 0; j < 4; j++)
                g[i * 4 + j][l] = i < hn && j < wn ? s[i * Q + j] : 0.0f;
    }
    for (int j = 0; j < 4; j++) {
        a4(r, g + j, 4);
        for (int i = 0; i < 6; i++) memcpy(t[i * 4 + j], r[i], sizeof r[i]);
    }
    for (int i = 0; i < 6; i++) {
        a4(r, t + i * 4, 1);
        for (int j = 0; j < 6; j++) {
            float *restrict v = Y + (i * 6 + j) * sxi;
            LANES v[l] = r[j][l];
        }
    }
}

const nn_wino_kernels FDL_CAT(nn_wino_kernels, FDL_SFX) = {
    FDL_CAT(wino_input, FDL_SFX), FDL_CAT(wino_output, FDL_SFX), FDL_CAT(wino_grad, FDL_SFX),
};

#undef LANES
#undef L
