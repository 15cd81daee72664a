/*
 * conv.c — 2-D convolution forward/backward (see fastdl/conv.h for shapes
 * and the workspace contract).
 *
 * Legend: N batch, C/K in/out channels, H W input, R S kernel, P Q output,
 * G groups, Cg = C/G, Kg = K/G, PQ = P*Q, Nb samples of one chunk.
 * Taps: kernel positions (r, s). A tap that only ever reads padding (every
 * output position puts it outside the input; 3x3 pad 1 on a 1x1 map has 8
 * such taps) adds zeros: it is left out of the GEMM depth, which is then
 * CRS = Cg * nr * ns over the nr x ns taps that can read the input.
 *
 * Paths, chosen from the shapes only (never from threads or workspace):
 *   depthwise  groups == C == K > 1: a direct kernel per (sample, channel) plane;
 *              the weight gradient per channel, one thread per channel.
 *   batched    a chunk of Nb samples is lowered to one im2col panel
 *              col[CRS, Nb*PQ] (column n*PQ + pq; for a 1x1 stride-1
 *              unpadded convolution this is a copy of the input in [C, N*HW]
 *              order), so each GEMM is as wide as Nb samples: forward
 *              tmp[Kg, Nb*PQ] = W[Kg, CRS] @ col, then one pass writes out
 *              with bias and ReLU; the weight gradient is
 *              dW += dout[Kg, Nb*PQ] @ col^T, one GEMM with depth Nb*PQ per
 *              chunk and group; dcol = W^T @ dout then col2im. Nb is set by
 *              a memory budget, so chunks depend on the shapes only.
 *   implicit   the weight gradient's panel (and the forward's, when it would
 *              exceed CONV_IMPLICIT_MIN_BYTES) is never written out: the GEMM
 *              driver calls back (gemm/implicit.h) to gather image patches
 *              straight into its packed B panels (conv_impl.h: patch_rows,
 *              patch_cols).
 *   planes     when every stride phase is read by some kept tap (3x3 stride
 *              2, padded stride 1, ...; conv_plan_planes), each chunk's input
 *              is first copied once into zero-padded planes split by stride
 *              phase (conv_rows.h, per ISA): every patch row is then a run of
 *              contiguous copies (im2col, implicit panels), the weight
 *              gradient is dW^T = col @ dout^T with col read in place and
 *              dout transposed once, and col2im adds each tap's rows into a
 *              (sample, channel)'s planes, added into dx in one pass.
 *   per-sample forward when one sample already makes a wide GEMM
 *              (PQ >= CONV_SAMPLE_PQ): one sample per thread, im2col into the
 *              thread's panel (none for 1x1 stride 1) and a GEMM writing
 *              the output in place, bias and ReLU in its epilogue.
 *
 * Threads: chunks (and per-sample work) run one per thread with
 * single-threaded GEMMs, so no barrier sits inside a chunk; a convolution
 * of one chunk threads its GEMMs (split over blocks of C, never over the
 * depth) and its copies (rows that write disjoint memory). The weight
 * gradient adds chunk c into slot c % nslots, in chunk order, and sums the
 * slots in order; nslots comes from the shapes. So every result is bitwise
 * identical for any thread count.
 */
#include <string.h>

#include "runtime/internal.h"
#include "runtime/template.h"
#include "nn/winograd.h"
#include "runtime/dispatch.h"
#include "gemm/implicit.h"
#include "gemm/config.h"

/* Below this many multiply-adds a convolution runs on one thread: an OpenMP
 * fork/join costs a few microseconds, more than such a layer's whole work. */
#define CONV_PAR_MIN_MACS ((int64_t)1 << 21)
/* A chunk holds enough samples for CONV_CHUNK_COLS GEMM columns (wide
 * enough for the micro-kernels and the thread split), and no more: a larger
 * panel falls out of L2 between im2col and the GEMM (1 thread, 32->64 14x14
 * N=64: forward 3.65 ms with 392 columns, 4.1 ms with 3136), and a sample
 * of 256 or more positions is then its own chunk, whose 1x1 input gradient
 * the GEMM writes in place. CONV_CHUNK_ELEMS caps the chunk's buffers
 * (col + dcol + dout panel) when CRS is large. */
#define CONV_CHUNK_COLS 256
#define CONV_CHUNK_ELEMS ((int64_t)1 << 21)
/* From this many output positions per sample, one sample is a wide enough
 * GEMM and the forward skips the batched panel and its output pass. */
#define CONV_SAMPLE_PQ 256
/* Taps are listed (and skipped when they read only padding) for kernels up
 * to this size per dimension; larger kernels keep every tap. */
#define CONV_MAX_TAPS 32
/* Chunks run one per thread (single-threaded GEMMs: no barrier inside a
 * chunk); the weight gradient sums over at most this many slots, holding
 * at most CONV_SLOT_ELEMS elements. */
#define CONV_MAX_SLOTS 8
#define CONV_SLOT_ELEMS ((int64_t)1 << 22)

/* Implicit GEMM (gemm/implicit.h) serves kernels of up to this many kept
 * taps; larger ones take the materialized im2col path. The forward gathers
 * its panels straight into the GEMM only when its im2col panel would exceed
 * CONV_IMPLICIT_MIN_BYTES: below that the GEMM reads a materialized panel
 * in place (no packing pass), and the gather into that panel measured as
 * fast or faster than into the GEMM's panels (1 thread, Zen 5: 32->64 3x3
 * stride 2 on 16x16, N=128: 2.5 ms materialized vs 2.8 implicit; 64->64 5x5
 * on 32x32, N=8: 11.7 vs 10.7). The weight gradient always gathers
 * implicitly: its GEMM reads the panel transposed, which is never in place
 * (32->64 stride 2: 3.0 ms both ways; 64->64 5x5: 14.7 -> 12.5). */
#define CONV_IMPL_MAX_TAPS 256
#define CONV_IMPLICIT_MIN_BYTES ((int64_t)512 << 10)
/* With phase planes the weight gradient runs as dW^T = col @ dout^T on the
 * materialized patch matrix when it has at most this many elements (the
 * GEMM then reads it in place as A; 512 KiB of floats, the GEMM's in-place
 * limit). 1 thread, Zen 5, N=128, 16->32 3x3 stride 2 on 32x32: the
 * transposed gather into B panels (patch_cols, cols8) took 1.8 ms per step,
 * the patch rows plus dout's transpose 0.5 ms. */
#define CONV_DWT_MAX_ELEMS ((int64_t)1 << 17)
/* Patch panels are gathered this many columns at a time: at least the
 * widest GEMM panel (NR). */
#define CONV_SEG 64
_Static_assert(CONV_SEG >= FDL_SGEMM_AVX512_NR && CONV_SEG >= FDL_SGEMM_AVX2_NR &&
               CONV_SEG >= FDL_SGEMM_GENERIC_NR && CONV_SEG >= FDL_DGEMM_AVX512_NR &&
               CONV_SEG >= FDL_DGEMM_AVX2_NR && CONV_SEG >= FDL_DGEMM_GENERIC_NR,
               "a GEMM panel is wider than CONV_SEG");

typedef struct {
    int64_t P, Q, PQ, G, Cg, Kg;
    int64_t nr, ns, crs;          /* taps kept per dimension, GEMM depth */
    int cropped;                  /* some tap left out */
    int64_t rl[CONV_MAX_TAPS], sl[CONV_MAX_TAPS];
    int direct;                   /* the patch matrix is the input: one kept tap,
                                   * stride 1, reading input (p, q) for output (p, q) */
    int depthwise;                /* groups == C == K > 1 */
    int per_sample;               /* forward by sample */
    int dw_t;                     /* weight gradient as dW^T = col @ dout^T (CRS < Kg) */
    int imp;                      /* forward and weight gradient by implicit GEMM */
    int64_t nb;                   /* samples per chunk */
    int64_t nchunks, nslots;      /* chunks of nb samples, weight-gradient slots */
    /* padded phase planes (see conv_impl.h's build_planes): every stride
     * phase is read by some tap, so patches are copied from planes */
    int planes;
    int64_t Hs, Ws, HWs;          /* one phase plane: Hs x Ws, HWs elements */
    int64_t plane_c;              /* a channel's planes: sh * sw * HWs elements */
} conv_plan;

/* the kept taps: i-th row tap, j-th column tap */
static inline int64_t tap_r(const conv_plan *pl, int64_t i) { return pl->cropped ? pl->rl[i] : i; }
static inline int64_t tap_s(const conv_plan *pl, int64_t j) { return pl->cropped ? pl->sl[j] : j; }

/* Can tap t (of a kernel dimension) read the input for some output index? */
static int tap_reads_input(int64_t t, int64_t stride, int64_t pad, int64_t dil, int64_t in,
                           int64_t out) {
    int64_t lo = pad - t * dil;   /* the output index o reads input o*stride - lo */
    int64_t omin = lo <= 0 ? 0 : (lo + stride - 1) / stride;
    return omin < out && omin * stride <= lo + in - 1;
}

static int conv_dims(const fdl_conv2d_params *p, int64_t *P, int64_t *Q) {
    if (!p) return FDL_ERR_NULL;
    if (p->N < 0 || p->C < 1 || p->H < 1 || p->W < 1 || p->K < 1 || p->R < 1 || p->S < 1 ||
        p->stride_h < 1 || p->stride_w < 1 || p->pad_h < 0 || p->pad_w < 0 ||
        p->dil_h < 1 || p->dil_w < 1 || p->groups < 1 ||
        p->C % p->groups || p->K % p->groups)
        return FDL_ERR_ARG;
    int64_t eh = p->H + 2 * p->pad_h - p->dil_h * (p->R - 1) - 1;
    int64_t ew = p->W + 2 * p->pad_w - p->dil_w * (p->S - 1) - 1;
    if (eh < 0 || ew < 0) return FDL_ERR_SHAPE;
    *P = eh / p->stride_h + 1;
    *Q = ew / p->stride_w + 1;
    return FDL_OK;
}

int fdl_conv2d_output_size(const fdl_conv2d_params *p, int64_t *P, int64_t *Q) {
    if (!P || !Q) return FDL_ERR_NULL;
    return conv_dims(p, P, Q);
}

/* The phase-plane layout (conv_impl.h's build_planes): the input plane,
 * padded, split by stride phase (row i*sh + a, column j*sw + b of the padded
 * plane is element (i, j) of phase (a, b)), so tap (r, s) of output (p, q)
 * reads phase ((r*dh) % sh, (s*dw) % sw) at (p + r*dh/sh, q + s*dw/sw): one
 * output row's patch is a contiguous range, padding included. Used when
 * every phase is read by a kept tap (a 1x1 stride-2 convolution would copy
 * 4x the plane it reads) and the kernel is listed tap by tap; 1x1 stride 1
 * unpadded reads the input directly; depthwise has its own kernels. */
static void conv_plan_planes(const fdl_conv2d_params *p, conv_plan *pl) {
    const int64_t sh = p->stride_h, sw = p->stride_w;
    pl->planes = 0;
    pl->Hs = FDL_CDIV(p->H + 2 * p->pad_h, sh);
    pl->Ws = FDL_CDIV(p->W + 2 * p->pad_w, sw);
    pl->HWs = pl->Hs * pl->Ws;
    pl->plane_c = sh * sw * pl->HWs;
    if (p->R > CONV_MAX_TAPS || p->S > CONV_MAX_TAPS || sh > CONV_MAX_TAPS ||
        sw > CONV_MAX_TAPS)
        return;
    int seen_h[CONV_MAX_TAPS] = {0}, seen_w[CONV_MAX_TAPS] = {0};
    int64_t nh = 0, nw = 0;
    for (int64_t i = 0; i < pl->nr; i++) {
        const int64_t a = (tap_r(pl, i) * p->dil_h) % sh;
        nh += !seen_h[a];
        seen_h[a] = 1;
    }
    for (int64_t j = 0; j < pl->ns; j++) {
        const int64_t b = (tap_s(pl, j) * p->dil_w) % sw;
        nw += !seen_w[b];
        seen_w[b] = 1;
    }
    pl->planes = nh == sh && nw == sw;
}

static int conv_plan_make(const fdl_conv2d_params *p, conv_plan *pl) {
    int st = conv_dims(p, &pl->P, &pl->Q);
    if (st != FDL_OK) return st;
    pl->PQ = pl->P * pl->Q;
    pl->G = p->groups;
    pl->Cg = p->C / p->groups;
    pl->Kg = p->K / p->groups;
    pl->nr = pl->ns = 0;
    if (p->R <= CONV_MAX_TAPS && p->S <= CONV_MAX_TAPS) {
        for (int64_t r = 0; r < p->R; r++)
            if (tap_reads_input(r, p->stride_h, p->pad_h, p->dil_h, p->H, pl->P))
                pl->rl[pl->nr++] = r;
        for (int64_t s = 0; s < p->S; s++)
            if (tap_reads_input(s, p->stride_w, p->pad_w, p->dil_w, p->W, pl->Q))
                pl->sl[pl->ns++] = s;
        /* every tap reads padding only (the output is the bias): keep one,
         * whose panel rows are zeros, so the GEMMs keep a nonzero depth */
        if (pl->nr == 0) pl->rl[pl->nr++] = 0;
        if (pl->ns == 0) pl->sl[pl->ns++] = 0;
        pl->cropped = pl->nr < p->R || pl->ns < p->S;
    } else {
        pl->cropped = 0;
    }
    if (!pl->cropped) {
        pl->nr = p->R;
        pl->ns = p->S;
    }
    pl->crs = pl->Cg * pl->nr * pl->ns;
    conv_plan_planes(p, pl);
    /* 1x1 unpadded, or a kernel cropped to the one tap that reads the input
     * in place (3x3 pad 1 on 1x1 maps: the last stage of a ResNet on small
     * images, where planes or im2col would copy the input row by row) */
    pl->direct = pl->nr == 1 && pl->ns == 1 && p->stride_h == 1 && p->stride_w == 1 &&
                 pl->P == p->H && pl->Q == p->W && tap_r(pl, 0) * p->dil_h == p->pad_h &&
                 tap_s(pl, 0) * p->dil_w == p->pad_w;
    pl->depthwise = p->groups > 1 && p->groups == p->C && p->groups == p->K;
    pl->planes = pl->planes && !pl->direct && !pl->depthwise;
    pl->per_sample = pl->PQ >= CONV_SAMPLE_PQ;
    pl->imp = pl->nr * pl->ns <= CONV_IMPL_MAX_TAPS;
    int64_t per = (2 * pl->crs + pl->Kg) * pl->PQ;
    int64_t nb = FDL_MIN(FDL_CDIV(CONV_CHUNK_COLS, pl->PQ), CONV_CHUNK_ELEMS / per);
    pl->nb = FDL_MAX((int64_t)1, FDL_MIN(p->N, nb));
    /* the GEMM's register tile is wider (NR) than tall (MR): the longer of
     * Kg and CRS goes along N. With phase planes the patch matrix is
     * materialized by contiguous row copies, and the GEMM reads it in place
     * as A when it is small enough (CONV_DWT_MAX_ELEMS): dW^T = col @ dout^T
     * then transposes only dout's Kg rows into B panels, where
     * dW = dout @ col^T transposes all CRS patch rows (patch_cols). The
     * portable GEMM packs A (replicated) whatever its size: there the
     * transposed gather stays. */
    pl->dw_t = pl->crs < pl->Kg ||
               (pl->planes && pl->crs * pl->nb * pl->PQ <= CONV_DWT_MAX_ELEMS &&
                fdl_isa_kernels()->gemm->f32.a_rep == 1);
    pl->nchunks = p->N ? FDL_CDIV(p->N, pl->nb) : 0;
    /* weight-gradient slots: chunk c adds into slot c % ns, and the slots
     * are summed in order; ns depends on the shapes only */
    int64_t ns = FDL_MIN(pl->nchunks, (int64_t)CONV_MAX_SLOTS);
    while (ns > 1 && ns * p->K * pl->crs > CONV_SLOT_ELEMS) ns--;
    pl->nslots = FDL_MAX(ns, (int64_t)1);
    return FDL_OK;
}

/* The gathered weight (kept taps only) and the weight gradient's
 * accumulator (kept taps, or transposed), at the start of the workspace. */
static int64_t conv_wbuf_elems(const fdl_conv2d_params *p, const conv_plan *pl) {
    return pl->cropped ? p->K * pl->crs : 0;
}
static int64_t conv_dwbuf_elems(const fdl_conv2d_params *p, const conv_plan *pl) {
    /* with planes whether or not dw_t (which depends on the ISA's GEMM), so
     * the workspace size does not */
    return pl->cropped || pl->dw_t || pl->planes ? p->K * pl->crs : 0;
}

/* One chunk's phase planes (of the input, then of dx) */
static int64_t conv_plane_elems(const conv_plan *pl, int64_t nb) {
    return pl->planes ? nb * pl->Cg * pl->plane_c : 0;
}

/* One chunk's buffers (col, dcol, dout panel, planes, and with planes the
 * transposed dout panel); the weight-gradient slots. */
static int64_t conv_chunk_elems(const conv_plan *pl) {
    return (2 * pl->crs + pl->Kg * (pl->planes ? 2 : 1)) * pl->nb * pl->PQ +
           conv_plane_elems(pl, pl->nb);
}
static int64_t conv_slot_elems(const fdl_conv2d_params *p, const conv_plan *pl) {
    return pl->nslots > 1 ? pl->nslots * p->K * pl->crs : 0;
}

/* Elements of workspace (of either type): the per-sample panels of nt
 * threads or one chunk's buffers, plus the gathered weight and its
 * gradient when taps are left out. */
static int64_t conv_ws_elems(const fdl_conv2d_params *p, const conv_plan *pl, int64_t nt) {
    if (pl->depthwise) return nt * pl->PQ;
    int64_t wcrop = conv_wbuf_elems(p, pl) + conv_dwbuf_elems(p, pl);
    int64_t sample = pl->per_sample && !pl->direct
                         ? nt * (pl->crs * pl->PQ + conv_plane_elems(pl, 1)) : 0;
    int64_t chunk = FDL_MIN(nt, FDL_MAX(pl->nchunks, (int64_t)1)) * conv_chunk_elems(pl) +
                    conv_slot_elems(p, pl);
    return wcrop + FDL_MAX(sample, chunk);
}

int64_t fdl_conv2d_workspace_size(const fdl_conv2d_params *p, int nthreads) {
    conv_plan pl;
    if (conv_plan_make(p, &pl) != FDL_OK) return 0;
    if (nthreads < 1) nthreads = 1;
    /* counted in doubles so one size serves both dtypes */
    return (int64_t)sizeof(double) * conv_ws_elems(p, &pl, nthreads) + 64;
}

static int64_t conv_threads(const fdl_conv2d_params *p, const conv_plan *pl) {
    int64_t macs = p->N * p->K * pl->PQ * pl->Cg * p->R * p->S;
    if (macs < CONV_PAR_MIN_MACS) return 1;
    return FDL_MIN((int64_t)fdl_get_num_threads(), p->N);
}

static inline int thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Range of output columns q whose input column q*sw + off lies in [0, W). */
static inline void valid_q(int64_t off, int64_t sw, int64_t W, int64_t Q, int64_t *lo, int64_t *hi) {
    int64_t l = off >= 0 ? 0 : (-off + sw - 1) / sw;
    int64_t h = W - 1 - off < 0 ? 0 : (W - 1 - off) / sw + 1;
    *lo = FDL_MIN(l, Q);
    *hi = FDL_MAX(FDL_MIN(h, Q), *lo);
}


/* Keep the first failed GEMM status (out of scratch memory: the shapes were
 * checked); threads that fail write the same kind of value, once. */
#define CONV_NOTE(err, call)                                                     \
    do {                                                                         \
        int e_ = (call);                                                         \
        if (FDL_UNLIKELY(e_ != FDL_OK)) {                                        \
            _Pragma("omp atomic write")                                          \
            err = e_;                                                            \
        }                                                                        \
    } while (0)

/* ---- implicit GEMM: patch matrices gathered straight into GEMM panels ---------- */

/* The taps of a patch matrix (see conv_impl.h's patches): tap t reads the
 * source at (i*sh + oh[t], j*sw + ow[t]) for output position (i, j); the
 * columns j in [qlo[t], qhi[t]) lie inside the source row. */
typedef struct {
    int64_t n;
    int64_t oh[CONV_IMPL_MAX_TAPS], ow[CONV_IMPL_MAX_TAPS];
    int64_t qlo[CONV_IMPL_MAX_TAPS], qhi[CONV_IMPL_MAX_TAPS];
    int64_t poff[CONV_IMPL_MAX_TAPS];   /* offset in a channel's phase planes */
} conv_taps;

/* The phase-plane geometry for the per-ISA loops (nn/conv_table.h). */
static nn_conv_geom conv_geom(const fdl_conv2d_params *p, const conv_plan *pl) {
    nn_conv_geom g = {p->H, p->W, p->stride_h, p->stride_w, p->pad_h, p->pad_w,
                      pl->Hs, pl->Ws, pl->HWs, pl->plane_c, pl->P, pl->Q};
    return g;
}

/* Offset in a channel's phase planes of tap (r, s)'s first element (output (0, 0)). */
static inline int64_t conv_plane_off(int64_t r, int64_t s, const fdl_conv2d_params *p,
                                     const conv_plan *pl) {
    const int64_t rd = r * p->dil_h, sd = s * p->dil_w, sh = p->stride_h, sw = p->stride_w;
    return ((rd % sh) * sw + sd % sw) * pl->HWs + (rd / sh) * pl->Ws + sd / sw;
}

/* The forward's (and weight gradient's) taps: the kept taps, in row order. */
static void conv_taps_forward(conv_taps *tp, const fdl_conv2d_params *p, const conv_plan *pl) {
    tp->n = 0;
    for (int64_t i = 0; i < pl->nr; i++)
        for (int64_t j = 0; j < pl->ns; j++) {
            const int64_t r = pl->cropped ? pl->rl[i] : i, s = pl->cropped ? pl->sl[j] : j;
            const int64_t t = tp->n++;
            tp->oh[t] = r * p->dil_h - p->pad_h;
            tp->ow[t] = s * p->dil_w - p->pad_w;
            valid_q(tp->ow[t], p->stride_w, p->W, pl->Q, &tp->qlo[t], &tp->qhi[t]);
            tp->poff[t] = conv_plane_off(r, s, p, pl);
        }
}

/* The kernel width, read here: inside a body S names the type suffix. */
static inline int64_t conv_kw(const fdl_conv2d_params *p) { return p->S; }

#include "runtime/types_begin.h"
#define CONV_GEMM fdl_sgemm
#define CONV_GEMM_EX fdl_sgemm_ex
#define CONV_GEMM_IMP fdl_sgemm_implicit_b
#include "nn/conv_impl.h"
#undef CONV_GEMM_IMP
#undef CONV_GEMM
#undef CONV_GEMM_EX
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#define CONV_GEMM fdl_dgemm
#define CONV_GEMM_EX fdl_dgemm_ex
#define CONV_GEMM_IMP fdl_dgemm_implicit_b
#include "nn/conv_impl.h"
#undef CONV_GEMM_IMP
#undef CONV_GEMM
#undef CONV_GEMM_EX
#include "runtime/types_end.h"

/* ---- the public functions (fastdl/conv.h) ---------------------------------------- */

int fdl_conv2d_forward_f32(float *out, const float *x, const float *w, const float *bias,
                           const fdl_conv2d_params *p, void *ws, int64_t ws_bytes) {
    return fdl_conv2d_forward_ex_f32(out, x, w, bias, FDL_ACT_NONE, p, ws, ws_bytes);
}

int fdl_conv2d_forward_f64(double *out, const double *x, const double *w, const double *bias,
                           const fdl_conv2d_params *p, void *ws, int64_t ws_bytes) {
    return conv2d_forward_f64(out, x, w, bias, 0, p, ws, ws_bytes);
}

int fdl_conv2d_forward_ex_f32(float *out, const float *x, const float *w, const float *bias,
                              fdl_act act, const fdl_conv2d_params *p, void *ws,
                              int64_t ws_bytes) {
    if (act != FDL_ACT_NONE && act != FDL_ACT_RELU) return FDL_ERR_ARG;
    int st;
    if (nn_conv2d_winograd_forward_f32(p, out, x, w, bias, act == FDL_ACT_RELU, ws, ws_bytes,
                                       &st))
        return st;
    return conv2d_forward_f32(out, x, w, bias, act == FDL_ACT_RELU, p, ws, ws_bytes);
}

int fdl_conv2d_forward_ex_f64(double *out, const double *x, const double *w, const double *bias,
                              fdl_act act, const fdl_conv2d_params *p, void *ws,
                              int64_t ws_bytes) {
    if (act != FDL_ACT_NONE && act != FDL_ACT_RELU) return FDL_ERR_ARG;
    return conv2d_forward_f64(out, x, w, bias, act == FDL_ACT_RELU, p, ws, ws_bytes);
}

static int backward_f32(float *dx, float *dw, float *db, const float *dout, const float *y,
                        const float *x, const float *w, const fdl_conv2d_params *p, void *ws,
                        int64_t ws_bytes, int acc) {
    int st;   /* Winograd reads the fused ReLU's mask (y > 0) inside its dout transforms */
    if (nn_conv2d_winograd_backward_f32(p, dx, dw, db, dout, y, x, w, ws, ws_bytes, acc, &st))
        return st;
    return conv2d_backward_f32(dx, dw, db, dout, y, x, w, p, ws, ws_bytes, acc);
}

int fdl_conv2d_backward_f32(float *dx, float *dw, float *db, const float *dout, const float *x,
                            const float *w, const fdl_conv2d_params *p, void *ws,
                            int64_t ws_bytes) {
    return backward_f32(dx, dw, db, dout, NULL, x, w, p, ws, ws_bytes, 1);
}

int fdl_conv2d_backward_f64(double *dx, double *dw, double *db, const double *dout,
                            const double *x, const double *w, const fdl_conv2d_params *p,
                            void *ws, int64_t ws_bytes) {
    return conv2d_backward_f64(dx, dw, db, dout, NULL, x, w, p, ws, ws_bytes, 1);
}

int fdl_conv2d_backward_ex_f32(float *dx, float *dw, float *db, const float *dout,
                               const float *y, const float *x, const float *w,
                               const fdl_conv2d_params *p, void *ws, int64_t ws_bytes) {
    return backward_f32(dx, dw, db, dout, y, x, w, p, ws, ws_bytes, 1);
}

int fdl_conv2d_backward_ex_f64(double *dx, double *dw, double *db, const double *dout,
                               const double *y, const double *x, const double *w,
                               const fdl_conv2d_params *p, void *ws, int64_t ws_bytes) {
    return conv2d_backward_f64(dx, dw, db, dout, y, x, w, p, ws, ws_bytes, 1);
}

/* The write variants: dw and db are zeroed here (small; also when N == 0,
 * where no kernel runs), dx is written by the kernels themselves. */
static int zero_dw_db(const fdl_conv2d_params *p, void *dw, void *db, size_t es) {
    int64_t P, Q;
    int st = conv_dims(p, &P, &Q);
    if (st != FDL_OK) return st;
    if (dw) memset(dw, 0, (size_t)(p->K * (p->C / p->groups) * p->R * p->S) * es);
    if (db) memset(db, 0, (size_t)p->K * es);
    return FDL_OK;
}

int fdl_conv2d_backward_write_f32(float *dx, float *dw, float *db, const float *dout,
                                  const float *y, const float *x, const float *w,
                                  const fdl_conv2d_params *p, void *ws, int64_t ws_bytes) {
    int st = zero_dw_db(p, dw, db, sizeof(float));
    return st != FDL_OK ? st : backward_f32(dx, dw, db, dout, y, x, w, p, ws, ws_bytes, 0);
}

int fdl_conv2d_backward_write_f64(double *dx, double *dw, double *db, const double *dout,
                                  const double *y, const double *x, const double *w,
                                  const fdl_conv2d_params *p, void *ws, int64_t ws_bytes) {
    int st = zero_dw_db(p, dw, db, sizeof(double));
    return st != FDL_OK ? st
                        : conv2d_backward_f64(dx, dw, db, dout, y, x, w, p, ws, ws_bytes, 0);
}
