/*
 * nn/winograd.c — float32 3x3 stride-1 convolution by Winograd F(4x4, 3x3)
 * (Lavin and Gray, 2016): forward, input gradient and weight gradient.
 *
 * Legend: N batch, C/K input/output channels, H x W input, P x Q output
 * (P = H + 2 pad_h - 2), a tile is 4x4 outputs read from a 6x6 input patch,
 * TH x TW tiles per image, T = N*TH*TW tiles in the batch, xi in [0, 36) a
 * position of the 6x6 transformed tile, Tb the tiles of one block.
 *
 *   forward  out = A^T [ M[xi] ] A, M^T[xi] [Tb, K] = V^T[xi] [Tb, C] @ U[xi] [C, K]
 *            U[xi] = (G w G^T)[xi] (stored [C, K]), V[xi] = (B^T d B)[xi]
 *   dx       the forward of dout (K channels, padding 2 - pad) with the
 *            180-degree rotated, transposed filter w'[c, k] = rot(w[k, c])
 *   dw       dU[xi] [K, C] = sum over tiles of (Y^T[xi] [Tb, K])^T @ V^T[xi],
 *            Y[xi] = (A g A^T)[xi] of the 4x4 dout tiles g; dw += G^T dU G
 *
 * Layout (channel lanes): a block is a run of consecutive tile rows of the
 * batch (tile row g = n*TH + r, so small maps still give each GEMM many
 * rows). Each image's part of it is copied channel-last into a zero-padded
 * strip ([row][column][channel], Cp = C rounded up to 16: wino_pack, one
 * pass over the input, the padding and the fused ReLU's mask applied
 * there); a tile's 36 transformed values of 16 channels are then computed
 * from plain vector loads of the strip (input_c, grad_c) into V^T[xi][t][c]
 * and Y^T[xi][t][k], the 36 products of a block are one
 * fdl_sgemm_strided_batched call on operands the micro-kernels read in
 * place (M^T[xi] = V^T[xi] U[xi] forward and dx, dU[xi] += Y^T[xi]^T
 * V^T[xi] for dw: no GEMM packing when C and K are multiples of 32), and
 * the outputs go back through a channel-last strip (output_c) that wino_unpack
 * moves into the planes with bias, ReLU or += applied. The earlier layout
 * (one lane per tile, straight from the NCHW planes) paid three 16x16
 * transposes and 48 masked loads per 16 tiles and channel on input patches
 * that overlap 2.25x, 64 masked 4-float stores on output, and packed V for
 * dw's GEMM. Measured (1 thread, CPU time, fwd + bwd, Zen 5, against
 * PyTorch 2.13 in the same process): 32->64 14x14 N=64 1.30x -> 1.58x
 * PyTorch's speed, 16->16 32x32 N=128 1.06x -> 1.34x.
 *
 * Blocks: forward and dx pack, transform, multiply and write back one block
 * at a time per thread, so a block's strips, V and M stay in the thread's
 * cache. dw adds block b into slot b % NS (NS <= 8 from the shapes), the slots are split over
 * threads and summed in slot order at the end; no barrier inside (a team
 * barrier per block measured 10x the CPU time on a busy machine). Blocks
 * depend only on the shapes, each output element is made by one thread in a
 * fixed order: any thread count gives the same bits, with no atomics.
 *
 * Accuracy (tests/test_winograd.py, unit-scale data, float64 direct
 * convolution as the reference): max |error| / max |reference| up to 6e-6
 * forward and dx, 3e-6 dw at C = K = 64, against about 5e-7 for im2col.
 *
 * Why F(4x4) and not F(6x6, 3x3) (points 0, +-1, +-2, +-1/2): a float32
 * simulation of both on the same data (C = K = 64) gives 5.8e-6 for F(4x4)
 * and 1.05e-5 for F(6x6); and F(6x6)'s 64 products per 6x6 outputs only pay
 * on maps that are multiples of 6: on 32x32 maps (8x8 tiles of 4 against
 * 6x6 tiles of 6, 36 x 64 = 64 x 36 products) and on 14x14 maps (4x4 tiles
 * against 3x3) the product work is the same, while its transforms handle
 * 64/36 = 1.8x the values per output. Twice the error for no fewer products
 * on the target layers (benchmarks/conv_winograd.py prints both).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/dispatch.h"
#include "runtime/internal.h"
#include "nn/winograd.h"

/* Scratch per block: 36 x (Cp + Kp) x Tb floats and the strips, meant to
 * stay in L2 (1 MiB per core here) while it is transformed, multiplied and
 * written back.
 * Measured at C = K = 64 on 32x32 maps (1 thread, CPU time, fwd + dx + dw):
 * Tb = 32: 46.7 ms, 64: 48.5, 128: 52.7, 256: 53.1; at 32 -> 64 channels on
 * 14x14 maps 7.2, 8.1, 8.4, 8.5 ms. Re-measured with the padded planes
 * (WINO_PLANE_PAD; budget 512 KiB, 1, 2, 4 MiB): 32->64 14x14 6.1, 6.0, 6.3,
 * 6.2 ms; 64->64 32x32 35.8, 36.6, 35.7, 35.8; 64->64 8x8 N=128 4.9, 4.8,
 * 5.5, 5.5: kept. With channel lanes (budget 384, 512, 1024, 2048 KiB,
 * CPU time fwd + bwd): 32->64 14x14 4.55, 3.99, 4.06, 4.40 ms; 16->16
 * 32x32 N=128 -, 10.8, 10.6, 10.2; 64->64 32x32 -, 27.8, 28.7, 28.4. */
#define WINO_BLOCK_BYTES (512 << 10)
/* Below this many multiply-adds (direct count) a layer runs on one thread. */
#define WINO_PAR_MIN_MACS ((int64_t)1 << 21)

/* ---- algorithm choice -------------------------------------------------------------- */

static int g_algo = -1;

static void algo_init(void) {
    const char *env = getenv("FASTDL_CONV_ALGO");
    int a = FDL_CONV_ALGO_AUTO;
    if (env && !strcasecmp(env, "im2col")) a = FDL_CONV_ALGO_IM2COL;
    else if (env && !strcasecmp(env, "winograd")) a = FDL_CONV_ALGO_WINOGRAD;
    g_algo = a;
}

int fdl_conv2d_get_algo(void) {
    if (g_algo < 0) algo_init();
    return g_algo;
}

int fdl_conv2d_set_algo(int algo) {
    if (algo != FDL_CONV_ALGO_AUTO && algo != FDL_CONV_ALGO_IM2COL &&
        algo != FDL_CONV_ALGO_WINOGRAD)
        return FDL_ERR_ARG;
    g_algo = algo;
    return FDL_OK;
}

/* Layers Winograd F(4x4, 3x3) computes: P and Q follow from stride 1, and
 * dx as a forward pass needs padding 2 - pad >= 0. */
static int wino_applies(const fdl_conv2d_params *p) {
    return p && p->N >= 1 && p->C >= 1 && p->K >= 1 && p->R == 3 && p->S == 3 &&
           p->stride_h == 1 && p->stride_w == 1 && p->dil_h == 1 && p->dil_w == 1 &&
           p->groups == 1 && p->pad_h >= 0 && p->pad_h <= 2 && p->pad_w >= 0 &&
           p->pad_w <= 2 && p->H + 2 * p->pad_h >= 3 && p->W + 2 * p->pad_w >= 3;
}

/* The measured rule for FDL_CONV_ALGO_AUTO. Speed of Winograd over im2col,
 * fwd + dx + dw + db, 1 thread, CPU time, Zen 4 (N, C->K, map):
 *   64, 1->32, 28: 0.36x    64, 3->16, 32: 0.64x    64, 4->32, 32: 0.60x
 *   64, 8->8, 28: 1.31x     64, 8->16, 28: 1.05x    64, 16->16, 28: 1.41x
 *   64, 16->32, 14: 1.22x   64, 32->64, 14: 1.5x    64, 64->64, 32: 2.2x
 *   64, 64->64, 2: 2.0x     64, 256->256, 4: 2.6x   (small maps: im2col's
 *   per-sample products degenerate, Winograd batches tiles over N)
 *   1, 64->64, 8: 0.24x     2, 128->128, 16: 1.04x  8, 64->64, 8: 1.37x
 *   8, 256->256, 8: 1.21x   2, 64->64, 16: 1.25x
 * The transforms cost per channel, the products per channel pair: few
 * input or output channels lose. The filter transforms cost per K*C like the
 * products, but once per call: few output pixels (N*P*Q) lose. */
static int wino_pays(const fdl_conv2d_params *p) {
    int64_t P = p->H + 2 * p->pad_h - 2, Q = p->W + 2 * p->pad_w - 2;
    return p->C >= 8 && p->K >= 8 && p->N * P * Q >= 512;
}

static int wino_use(const fdl_conv2d_params *p) {
    int a = fdl_conv2d_get_algo();
    if (a == FDL_CONV_ALGO_IM2COL || !wino_applies(p)) return 0;
    return a == FDL_CONV_ALGO_WINOGRAD || wino_pays(p);
}

const char *fdl_conv2d_algo_name(const fdl_conv2d_params *p) {
    int64_t P, Q;
    if (fdl_conv2d_output_size(p, &P, &Q) != FDL_OK) return "invalid";
    return wino_use(p) ? "winograd_f4x4_3x3" : "im2col";
}

/* ---- filter transforms (small: K*C tiles, scalar, in double) ----------------------- */

#define D4 0.25
#define D6 (1.0 / 6.0)
#define D12 (1.0 / 12.0)
#define D24 (1.0 / 24.0)

/* u[6][6] = G g G^T of a 3x3 g (rotated 180 degrees when rot) */
static void filter_tf(double u[36], const float *g9, int rot) {
    double g[9], t[18];
    for (int i = 0; i < 9; i++) g[i] = g9[rot ? 8 - i : i];
    for (int j = 0; j < 3; j++) {          /* t[6][3] = G g */
        double a = g[j], b = g[3 + j], c = g[6 + j];
        t[0 * 3 + j] = a * D4;
        t[1 * 3 + j] = -(a + b + c) * D6;
        t[2 * 3 + j] = -(a - b + c) * D6;
        t[3 * 3 + j] = a * D24 + b * D12 + c * D6;
        t[4 * 3 + j] = a * D24 - b * D12 + c * D6;
        t[5 * 3 + j] = c;
    }
    for (int i = 0; i < 6; i++) {          /* u = t G^T */
        double a = t[i * 3], b = t[i * 3 + 1], c = t[i * 3 + 2];
        u[i * 6 + 0] = a * D4;
        u[i * 6 + 1] = -(a + b + c) * D6;
        u[i * 6 + 2] = -(a - b + c) * D6;
        u[i * 6 + 3] = a * D24 + b * D12 + c * D6;
        u[i * 6 + 4] = a * D24 - b * D12 + c * D6;
        u[i * 6 + 5] = c;
    }
}

/* g[3][3] += G^T u G of a 6x6 u (the weight gradient's way back) */
static void filter_tf_back(float *g9, const double u[36]) {
    double t[18];
    for (int j = 0; j < 6; j++) {          /* t[3][6] = G^T u */
        double u0 = u[j], u1 = u[6 + j], u2 = u[12 + j], u3 = u[18 + j], u4 = u[24 + j],
               u5 = u[30 + j];
        t[0 * 6 + j] = u0 * D4 - (u1 + u2) * D6 + (u3 + u4) * D24;
        t[1 * 6 + j] = (u2 - u1) * D6 + (u3 - u4) * D12;
        t[2 * 6 + j] = -(u1 + u2) * D6 + (u3 + u4) * D6 + u5;
    }
    for (int i = 0; i < 3; i++) {          /* g += t G */
        const double *r = t + i * 6;
        g9[i * 3 + 0] += (float)(r[0] * D4 - (r[1] + r[2]) * D6 + (r[3] + r[4]) * D24);
        g9[i * 3 + 1] += (float)((r[2] - r[1]) * D6 + (r[3] - r[4]) * D12);
        g9[i * 3 + 2] += (float)(-(r[1] + r[2]) * D6 + (r[3] + r[4]) * D6 + r[5]);
    }
}

/* U[xi][Ci][Ko] (the GEMM's right operand: M^T = V^T U): forward (w as
 * [Ko][Ci][3][3]) or, when dx, the rotated transpose (w as [Ci][Ko][3][3]:
 * U[xi][k][c] from w[k][c]) */
static void filter_transform(float *U, const float *w, int64_t Ko, int64_t Ci, int dx) {
    /* called by every thread of wino_conv's team: a work-shared loop, its
     * end a barrier (the team then reads all of U) */
    _Pragma("omp for schedule(static)")
    for (int64_t i = 0; i < Ci; i++)
        for (int64_t o0 = 0; o0 < Ko; o0 += 16) {
            /* 16 filters at a time: U's 36 planes are 4 KiB multiples apart,
             * one store per plane per filter would keep evicting L1 sets */
            float u16[36][16];
            const int64_t no = FDL_MIN(16, Ko - o0);
            for (int64_t o = 0; o < no; o++) {
                double u[36];
                filter_tf(u, w + (dx ? i * Ko + o0 + o : (o0 + o) * Ci + i) * 9, dx);
                for (int x = 0; x < 36; x++) u16[x][o] = (float)u[x];
            }
            for (int x = 0; x < 36; x++)
                memcpy(U + (x * Ci + i) * Ko + o0, u16[x], (size_t)no * sizeof(float));
        }
}

/* ---- tiles ------------------------------------------------------------------------- */

/* Tile rows per block (TW tiles each) for G tile rows: the block's V and M
 * (36 x chans x tiles floats) within `bytes`, at most about an eighth of
 * the batch's T tiles so the blocks spread over threads, but at least 32
 * tiles (the products' rows: 8 tiles per block measured 0.65x im2col's
 * speed on 128 channels, 16x16 maps, N = 2, where 32 make 1.04x). With
 * mult > 1, a block count that is a multiple of mult, else of 2, is
 * preferred down to 3/4 of that size: dw's 8 slots then split evenly over
 * 2 threads (16->16 32x32 N=128: 19 blocks gave one thread 11 of them,
 * 43-row blocks make 24). Not for forward and dx, where the block's tile
 * count is the products' row count: 32->64 14x14 with 8-row blocks (32
 * tiles, an edge tile for 12-row micro-kernels) for an even count measured
 * 5% slower on 1 thread than 9-row blocks. A function of the shapes only. */
static int64_t block_rows(int64_t bytes, int64_t chans, int64_t T, int64_t TW, int64_t G,
                          int64_t mult) {
    int64_t tb = bytes / (36 * chans * (int64_t)sizeof(float));
    tb = FDL_MAX(32, FDL_MIN(tb, FDL_CDIV(T, 8)));
    const int64_t rb = FDL_MAX(1, tb / TW);
    const int64_t mults[2] = {mult, 2};
    for (int i = 0; i < 2; i++)
        for (int64_t r = rb; 4 * r >= 3 * rb && r * TW >= FDL_MIN(32, rb * TW); r--)
            if (FDL_CDIV(G, r) % mults[i] == 0) return r;
    return rb;
}

/* The 36 planes of a block's V, M and Y sit one cache line more than
 * their size apart: at exactly their size (a multiple of 4 KiB for the usual
 * channel counts and Tb = 32), a transform's 36 loads or stores of one lane
 * group fall into one L1 set and evict each other. Measured (1 thread, CPU
 * time, fwd + dx + dw, Zen 5): 32->64 14x14 N=64 6.76 -> 5.57 ms, 16->16
 * 32x32 N=128 16.2 -> 13.9, 64->64 8x8 N=128 5.64 -> 4.74, 64->64 32x32 N=64
 * 47.7 -> 40.1 (two lines apart: the same within noise). */
#define WINO_PLANE_PAD 16
static int64_t plane_stride(int64_t n) { return n + WINO_PLANE_PAD; }

static int threads_for_macs(int64_t macs, int64_t units) {
    if (macs < WINO_PAR_MIN_MACS) return 1;
    return (int)FDL_MAX(1, FDL_MIN((int64_t)fdl_get_num_threads(), units));
}

#define WINO_NOTE(err, call)                                                     \
    do {                                                                         \
        int e_ = (call);                                                         \
        if (FDL_UNLIKELY(e_ != FDL_OK)) {                                        \
            _Pragma("omp atomic write")                                          \
            err = e_;                                                            \
        }                                                                        \
    } while (0)

static inline int thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* acc[j] += the float64 sum of d[i] (only where y[i] > 0 when y is given)
 * over i = j mod 8: eight independent chains in a fixed order; the masked
 * and the unmasked sum of an already masked d give the same bits. */
/* d where y > 0, else 0, without a branch (a ReLU mask is a coin toss for
 * the branch predictor: the branchy loop took 6% of an MNIST CNN step) */
static inline float keep_pos(float d, float y) {
    uint32_t b;
    memcpy(&b, &d, sizeof b);
    b &= 0u - (uint32_t)(y > 0.0f);
    memcpy(&d, &b, sizeof d);
    return d;
}

static inline void sum8_masked(double acc[8], const float *d, const float *y, int64_t n) {
    int64_t i = 0;
    if (y) {
        for (; i + 8 <= n; i += 8)
            for (int j = 0; j < 8; j++) acc[j] += (double)keep_pos(d[i + j], y[i + j]);
        for (; i < n; i++) acc[i % 8] += (double)keep_pos(d[i], y[i]);
    } else {
        for (; i + 8 <= n; i += 8)
            for (int j = 0; j < 8; j++) acc[j] += (double)d[i + j];
        for (; i < n; i++) acc[i % 8] += (double)d[i];
    }
}

/* db[k] += the sum of dout[., k] (where y > 0 when y is given), in a fixed order */
static void db_channel(float *db, const float *dout, const float *y, int64_t N, int64_t K,
                       int64_t PQ, int64_t k) {
    double acc[8] = {0};
    for (int64_t n = 0; n < N; n++) {
        const int64_t o = (n * K + k) * PQ;
        if (y) sum8_masked(acc, dout + o, y + o, PQ);
        else sum8_masked(acc, dout + o, NULL, PQ);
    }
    db[k] += (float)(((acc[0] + acc[1]) + (acc[2] + acc[3])) +
                     ((acc[4] + acc[5]) + (acc[6] + acc[7])));
}

/* dw's blocks: its products are K x C x Tb, so deeper blocks (Tb up to 4x
 * the forward's) amortize the update of dU; measured equal or better
 * (46.3 against 48.8 ms at C = K = 64, 32x32, 1 thread). */
#define WINO_DW_BLOCK_BYTES (2 << 20)

/* Weight-gradient slots: block b adds into slot b % NS; NS depends on the
 * shapes only, and the slots are summed in slot order at the end. */
#define WINO_MAX_SLOTS 8
#define WINO_SLOT_ELEMS ((int64_t)1 << 24)

/* dw[K, C, 3, 3] += the weight gradient from x[N, C, H, W] and dout[N, K, P, Q]
 * (counted only where ymask > 0 when ymask is not NULL), and db[K] += the sum
 * of dout when db is not NULL. Blocks of tile rows as in wino_conv: x packed
 * and transformed into V^T[xi][t][C], dout packed (4 rows a tile row, no
 * padding) and transformed into Y^T[xi][t][K], then
 * dU[xi] [K, C] (+)= Y^T[xi]^T V^T[xi].
 *
 * A job: dw_plan sizes it and takes its scratch (per-thread buffers for up
 * to `team` threads), dw_run is called by every thread of a team (its own
 * region in wino_dw, or after dx's blocks in wino_conv's region) and
 * dw_done gives the scratch back. */
typedef struct {
    float *dw, *db;
    const float *dout, *ymask, *x;
    const fdl_conv2d_params *p;
    int64_t P, Q, TH, TW, G, Cp, Kp, Wp, Wq, rb, nblk, ns, sx, sg, sv, sy, per;
    int nt;                      /* threads it wants (the team may have more) */
    float *slots, *buf;
    int err;
} wino_dw_job;

static int dw_plan(wino_dw_job *j, float *dw, float *db, const float *dout, const float *ymask,
                   const float *x, const fdl_conv2d_params *p, int64_t P, int64_t Q, int team) {
    const int64_t C = p->C, K = p->K, N = p->N, KC36 = 36 * K * C;
    j->dw = dw, j->db = db, j->dout = dout, j->ymask = ymask, j->x = x, j->p = p, j->P = P,
    j->Q = Q;
    const int64_t TH = j->TH = FDL_CDIV(P, 4), TW = j->TW = FDL_CDIV(Q, 4);
    const int64_t G = j->G = N * TH, T = G * TW;
    const int64_t Cp = j->Cp = FDL_CDIV(C, NN_WINO_L) * NN_WINO_L;
    const int64_t Kp = j->Kp = FDL_CDIV(K, NN_WINO_L) * NN_WINO_L;
    const int64_t Wp = j->Wp = 4 * TW + 2, Wq = j->Wq = 4 * TW;
    const int64_t rb = j->rb = block_rows(WINO_DW_BLOCK_BYTES, Cp + Kp, T, TW, G, WINO_MAX_SLOTS);
    const int64_t Tb = rb * TW;
    const int64_t nblk = j->nblk = FDL_CDIV(G, rb);
    int64_t ns = FDL_MIN(nblk, WINO_MAX_SLOTS);
    while (ns > 1 && ns * KC36 > WINO_SLOT_ELEMS) ns--;
    j->ns = ns;
    const int64_t sx = j->sx = FDL_CDIV((4 * rb + 2 * FDL_MIN(rb, N)) * Wp * Cp, 16) * 16;
    const int64_t sg = j->sg = FDL_CDIV(4 * rb * Wq * Kp, 16) * 16;
    const int64_t sv = j->sv = plane_stride(Cp * Tb), sy = j->sy = plane_stride(Kp * Tb);
    const int64_t per = j->per = sx + sg + 36 * (sv + sy);
    /* the slots' threads, or more when the slot sum and back transform
     * (streaming) want them: the team runs both */
    j->nt = FDL_MAX(threads_for_macs(N * K * C * 9 * P * Q, ns),
                    fdl_threads_for(KC36 * ns + (db ? N * K * P * Q : 0)));
    team = FDL_MAX(team, j->nt);
    const int64_t sslots = FDL_CDIV(ns * KC36, 16) * 16;   /* buf stays 64-byte aligned */
    j->slots = fdl_scratch_get((size_t)(sslots + team * per) * sizeof(float));
    if (!j->slots) return FDL_ERR_NOMEM;
    j->buf = j->slots + sslots;
    j->err = FDL_OK;
    return FDL_OK;
}

static void dw_run(wino_dw_job *j) {
    const nn_wino_kernels *kr = fdl_isa_kernels()->wino;
    const fdl_conv2d_params *p = j->p;
    const int64_t C = p->C, K = p->K, H = p->H, W = p->W, N = p->N, KC36 = 36 * K * C;
    const int64_t P = j->P, Q = j->Q, TH = j->TH, TW = j->TW, G = j->G, Cp = j->Cp, Kp = j->Kp;
    const int64_t Wp = j->Wp, Wq = j->Wq, rb = j->rb, nblk = j->nblk, ns = j->ns, sx = j->sx;
    const int64_t sg = j->sg, sv = j->sv, sy = j->sy, per = j->per, PQ = P * Q;
    const float *x = j->x, *dout = j->dout, *ymask = j->ymask;
    float *slots = j->slots, *buf = j->buf, *dw = j->dw, *db = j->db;
    _Pragma("omp for schedule(static)")
    for (int64_t sl = 0; sl < ns; sl++) {
        float *X = buf + per * thread_id(), *Gs = X + sx, *V = Gs + sg, *Y = V + 36 * sv;
        float *dU = slots + sl * KC36;
        for (int64_t b = sl; b < nblk; b += ns) {
            const int64_t g0 = b * rb, g1 = FDL_MIN(G, g0 + rb);
            int64_t t = 0;
            float *Xp = X, *Gp = Gs;
            for (int64_t g = g0; g < g1;) {
                const int64_t n = g / TH, r0 = g % TH, r1 = FDL_MIN(TH, r0 + (g1 - g));
                const int64_t xrows = 4 * (r1 - r0) + 2, grows = 4 * (r1 - r0);
                const int64_t go = n * K * P * Q;
                kr->pack(Xp, x + n * C * H * W, NULL, C, H, W, 4 * r0 - p->pad_h, xrows,
                         p->pad_w, Wp, Cp);
                kr->pack(Gp, dout + go, ymask ? ymask + go : NULL, K, P, Q, 4 * r0, grows, 0,
                         Wq, Kp);
                for (int64_t r = 0; r < r1 - r0; r++)
                    for (int64_t c = 0; c < TW; c++, t++) {
                        for (int64_t c0 = 0; c0 < Cp; c0 += NN_WINO_L)
                            kr->input_c(V + t * Cp + c0, sv,
                                        Xp + (4 * r * Wp + 4 * c) * Cp + c0, Wp * Cp, Cp);
                        for (int64_t k0 = 0; k0 < Kp; k0 += NN_WINO_L)
                            kr->grad_c(Y + t * Kp + k0, sy,
                                       Gp + (4 * r * Wq + 4 * c) * Kp + k0, Wq * Kp, Kp);
                    }
                Xp += xrows * Wp * Cp;
                Gp += grows * Wq * Kp;
                g += r1 - r0;
            }
            /* a slot's first block writes it (ns <= nblk: every slot has one) */
            WINO_NOTE(j->err, fdl_sgemm_strided_batched(1, 0, K, C, t, 1.0f, Y, Kp, sy, V, Cp,
                                                        sv, b == sl ? 0.0f : 1.0f, dU, C,
                                                        K * C, 36));
        }
    }
    /* slot 0 += slots 1.. in slot order (streaming, 4096 elements at a
     * time; done per output channel k, over its 36 rows of C in 8 slots, it
     * measured 2.7x the time), then per k dw[k] += G^T dU[k] G 16 c at a
     * time (dU's 36 planes are 4 KiB multiples apart, see filter_transform)
     * and db[k] */
    _Pragma("omp for schedule(static)")
    for (int64_t i0 = 0; i0 < KC36; i0 += 4096)
        for (int64_t sl = 1; sl < ns; sl++) {
            const float *src = slots + sl * KC36;
            for (int64_t i = i0; i < FDL_MIN(i0 + 4096, KC36); i++) slots[i] += src[i];
        }
    _Pragma("omp for schedule(static)")
    for (int64_t k = 0; k < K; k++) {
        for (int64_t c0 = 0; c0 < C; c0 += 16) {
            const int64_t nc = FDL_MIN(16, C - c0);
            float u16[36][16];
            for (int xi = 0; xi < 36; xi++)
                memcpy(u16[xi], slots + (xi * K + k) * C + c0, (size_t)nc * sizeof(float));
            for (int64_t c = 0; c < nc; c++) {
                double u[36];
                for (int xi = 0; xi < 36; xi++) u[xi] = u16[xi][c];
                filter_tf_back(dw + (k * C + c0 + c) * 9, u);
            }
        }
        if (db) db_channel(db, dout, ymask, N, K, PQ, k);
    }
}

static void dw_done(wino_dw_job *j) { fdl_scratch_put(j->slots); }

/* dw (and db) alone: the job in its own region (the slots, their sum and
 * the back transform, each loop's end a barrier: one fork and join) */
static int wino_dw(float *dw, float *db, const float *dout, const float *ymask, const float *x,
                   const fdl_conv2d_params *p, int64_t P, int64_t Q) {
    wino_dw_job j;
    int st = dw_plan(&j, dw, db, dout, ymask, x, p, P, Q, 1);
    if (st != FDL_OK) return st;
    const int nt = j.nt;
    (void)nt;   /* unused in a build without OpenMP */
    _Pragma("omp parallel num_threads(nt) if(nt > 1)")
    dw_run(&j);
    dw_done(&j);
    return j.err;
}

/* out[N, Ko, Ho, Wo] (= or +=) the 3x3 convolution of in[N, Ci, Hi, Wi] with
 * the transformed filter U[36][Ci][Ko], padding (ph, pw), plus bias[Ko],
 * then max(., 0) when relu. inmask (or NULL): in counts only where inmask > 0
 * (a fused ReLU's backward, read while packing).
 *
 * A block is rb consecutive tile rows of the batch; each image's part of it
 * is packed into a strip of 4*rows + 2 input rows of Wp columns and Cp
 * channels, its tiles transformed into V^T[xi][t][Ci], multiplied as
 * M^T[xi][t][Ko] = V^T[xi] U[xi], transformed back part by part into a
 * strip of 4*rows output rows and Wq columns, and unpacked.
 *
 * then (or NULL): a weight-gradient job (planned for up to nt threads, see
 * dw_plan) the team runs after its blocks, without a barrier between:
 * dx's and dw's work in one region, one thread's extra dx rows absorbed by
 * the other's dw slots. */
static int wino_conv(float *out, int accumulate, const float *bias, int relu, const float *in,
                     const float *inmask, const float *w, int wdx, int64_t N, int64_t Ci,
                     int64_t Hi, int64_t Wi, int64_t Ko, int64_t ph, int64_t pw,
                     wino_dw_job *then) {
    const nn_wino_kernels *kr = fdl_isa_kernels()->wino;
    const int64_t Ho = Hi + 2 * ph - 2, Wo = Wi + 2 * pw - 2;
    const int64_t TH = FDL_CDIV(Ho, 4), TW = FDL_CDIV(Wo, 4), G = N * TH, T = G * TW;
    const int64_t Cp = FDL_CDIV(Ci, NN_WINO_L) * NN_WINO_L;
    const int64_t Kp = FDL_CDIV(Ko, NN_WINO_L) * NN_WINO_L;
    const int64_t Wp = 4 * TW + 2;
    const int64_t rb = block_rows(WINO_BLOCK_BYTES, Cp + Kp, T, TW, G, 1), Tb = rb * TW;
    /* the blocks: nblk runs of G/nblk or G/nblk + 1 tile rows (at most rb),
     * nblk a multiple of the thread count, so each thread's contiguous share
     * of blocks has the same number of rows to within one (G = 256, rb = 9:
     * 29 blocks of 9 and 4 rows gave one of 2 threads 135 rows, the other
     * 121; 30 blocks of 8 or 9 rows give both 128). Blocks write disjoint
     * outputs: the split may depend on the thread count. */
    int nt = threads_for_macs(N * Ko * Ci * 9 * Ho * Wo, FDL_CDIV(G, rb));
    if (then) nt = FDL_MAX(nt, then->nt);
    const int64_t nblk = FDL_MIN(G, FDL_CDIV(FDL_CDIV(G, rb), nt) * nt);
    /* a block's parts: at most min(rb, images) of them, 2 extra rows each */
    const int64_t Wq = 4 * TW, xrows = 4 * rb + 2 * FDL_MIN(rb, N);
    /* X: the input strips, later one part's output strip */
    const int64_t sx = FDL_CDIV(FDL_MAX(xrows * Wp * Cp, 4 * FDL_MIN(rb, TH) * Wq * Kp), 16) * 16;
    const int64_t sv = plane_stride(Cp * Tb), sm = plane_stride(Kp * Tb);
    const int64_t per = sx + 36 * (sv + sm);
    const int64_t su = FDL_CDIV(36 * Ci * Ko, 16) * 16;   /* buf stays 64-byte aligned */
    float *U = fdl_scratch_get((size_t)(su + per * nt) * sizeof(float));
    if (!U) return FDL_ERR_NOMEM;
    float *buf = U + su;
    int err = FDL_OK;
    /* one region: the filter transform (U[36][Ci][Ko] from w), a barrier,
     * then the blocks (a second fork and join measured as libgomp spin) */
    _Pragma("omp parallel num_threads(nt) if(nt > 1)")
    {
    filter_transform(U, w, Ko, Ci, wdx);
    _Pragma("omp for schedule(static) nowait")
    for (int64_t b = 0; b < nblk; b++) {
        float *X = buf + per * thread_id(), *V = X + sx, *M = V + 36 * sv;
        const int64_t g0 = b * G / nblk, g1 = (b + 1) * G / nblk;
        int64_t t = 0;
        float *Xp = X;
        for (int64_t g = g0; g < g1;) {           /* pack and transform, part by part */
            const int64_t n = g / TH, r0 = g % TH, r1 = FDL_MIN(TH, r0 + (g1 - g));
            const int64_t nrows = 4 * (r1 - r0) + 2;
            const int64_t io = n * Ci * Hi * Wi;
            kr->pack(Xp, in + io, inmask ? inmask + io : NULL, Ci, Hi, Wi, 4 * r0 - ph, nrows,
                     pw, Wp, Cp);
            for (int64_t r = 0; r < r1 - r0; r++)
                for (int64_t c = 0; c < TW; c++, t++)
                    for (int64_t c0 = 0; c0 < Cp; c0 += NN_WINO_L)
                        kr->input_c(V + t * Cp + c0, sv, Xp + (4 * r * Wp + 4 * c) * Cp + c0,
                                    Wp * Cp, Cp);
            Xp += nrows * Wp * Cp;
            g += r1 - r0;
        }
        WINO_NOTE(err, fdl_sgemm_strided_batched(0, 0, t, Ko, Ci, 1.0f, V, Cp, sv, U, Ko,
                                                 Ci * Ko, 0.0f, M, Kp, sm, 36));
        /* transform back into a channel-last strip, part by part, and move
         * each part's rows into the output planes */
        t = 0;
        for (int64_t g = g0; g < g1;) {
            const int64_t n = g / TH, r0 = g % TH, r1 = FDL_MIN(TH, r0 + (g1 - g));
            for (int64_t r = 0; r < r1 - r0; r++)
                for (int64_t c = 0; c < TW; c++, t++)
                    for (int64_t k0 = 0; k0 < Kp; k0 += NN_WINO_L)
                        kr->output_c(X + (4 * r * Wq + 4 * c) * Kp + k0, Wq * Kp, Kp,
                                     M + t * Kp + k0, sm);
            kr->unpack(out + n * Ko * Ho * Wo, X, Ko, Ho, Wo, 4 * r0, 4 * (r1 - r0), Wq, Kp,
                       bias, accumulate, relu);
            g += r1 - r0;
        }
    }
    if (then) dw_run(then);
    }
    fdl_scratch_put(U);
    return err;
}

/* ---- entry points (hooked at the top of conv.c's float32 functions) ---------------- */

static int ws_ok(const fdl_conv2d_params *p, const void *ws, int64_t ws_bytes) {
    return ws && ws_bytes >= fdl_conv2d_workspace_size(p, 1);
}

int nn_conv2d_winograd_forward_f32(const fdl_conv2d_params *p, float *out, const float *x,
                                   const float *w, const float *bias, int relu, void *ws,
                                   int64_t ws_bytes, int *status) {
    int64_t P, Q;
    if (fdl_conv2d_output_size(p, &P, &Q) != FDL_OK || !wino_use(p) || !out || !x || !w ||
        !ws_ok(p, ws, ws_bytes))
        return 0;
    *status = wino_conv(out, 0, bias, relu, x, NULL, w, 0, p->N, p->C, p->H, p->W, p->K,
                        p->pad_h, p->pad_w, NULL);
    return 1;
}

int nn_conv2d_winograd_backward_f32(const fdl_conv2d_params *p, float *dx, float *dw,
                                    float *db, const float *dout, const float *y,
                                    const float *x, const float *w, void *ws, int64_t ws_bytes,
                                    int dx_acc, int *status) {
    int64_t P, Q;
    if (fdl_conv2d_output_size(p, &P, &Q) != FDL_OK || !wino_use(p) || !dout ||
        (dx && !w) || (dw && !x) || !ws_ok(p, ws, ws_bytes))
        return 0;
    int st = FDL_OK;
    if (dx && dw) {
        /* dx, dw and db in one region: the dw job's buffers for any team */
        wino_dw_job j;
        st = dw_plan(&j, dw, db, dout, y, x, p, P, Q, fdl_get_num_threads());
        if (st == FDL_OK) {
            st = wino_conv(dx, dx_acc, NULL, 0, dout, y, w, 1, p->N, p->K, P, Q, p->C,
                           2 - p->pad_h, 2 - p->pad_w, &j);
            if (st == FDL_OK) st = j.err;
            dw_done(&j);
        }
    } else if (dx) {
        st = wino_conv(dx, dx_acc, NULL, 0, dout, y, w, 1, p->N, p->K, P, Q, p->C, 2 - p->pad_h,
                       2 - p->pad_w, NULL);
    } else if (dw) {
        st = wino_dw(dw, db, dout, y, x, p, P, Q);   /* db with dw's last pass */
    }
    if (db && !dw && st == FDL_OK) {
        const int64_t PQ = P * Q;
        int ntb = fdl_threads_for(p->N * p->K * PQ);
        (void)ntb;   /* unused in a build without OpenMP */
        _Pragma("omp parallel for schedule(static) num_threads(ntb) if(ntb > 1)")
        for (int64_t k = 0; k < p->K; k++) db_channel(db, dout, y, p->N, p->K, PQ, k);
    }
    *status = st;
    return 1;
}
