/*
 * conv.c — 2-D convolution forward/backward as GEMMs over per-sample im2col
 * panels (see fastdl/conv.h for shapes and the workspace contract).
 *
 * Legend: N batch, C/K in/out channels, H W input, R S kernel, P Q output,
 * G groups, Cg = C/G, Kg = K/G, CRS = Cg*R*S (GEMM depth), PQ = P*Q.
 *
 * Threads: samples are independent, so forward and the input gradient run
 * one sample per thread (each thread owns an im2col panel in the workspace;
 * the GEMM inside is then single-threaded because nested OpenMP regions get
 * one thread). With fewer samples than threads, samples run in turn and the
 * GEMM itself is threaded. The weight gradient is a sum over samples: it is
 * accumulated in a fixed number of slots (sample n goes to slot n % NS, NS
 * from the shapes only) and the slots are added in order, so any thread
 * count gives the same bits.
 */
#include <string.h>

#include "runtime/internal.h"

#define CONV_MAX_SLOTS 8
/* Below this many multiply-adds a convolution runs on one thread: an OpenMP
 * fork/join costs a few microseconds, more than such a layer's whole work. */
#define CONV_PAR_MIN_MACS ((int64_t)1 << 21)
#define CONV_SLOT_ELEMS (1 << 22)   /* cap on slot memory, in elements */

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

static int is_direct(const fdl_conv2d_params *p) {
    return p->R == 1 && p->S == 1 && p->stride_h == 1 && p->stride_w == 1 &&
           p->pad_h == 0 && p->pad_w == 0;
}

static int64_t conv_slots(const fdl_conv2d_params *p) {
    int64_t wsz = p->K * (p->C / p->groups) * p->R * p->S;
    int64_t ns = FDL_MIN(p->N, CONV_MAX_SLOTS);
    while (ns > 1 && ns * wsz > CONV_SLOT_ELEMS) ns--;
    return ns < 1 ? 1 : ns;
}

static int64_t conv_threads(const fdl_conv2d_params *p, int64_t P, int64_t Q) {
    int64_t macs = p->N * p->K * P * Q * (p->C / p->groups) * p->R * p->S;
    if (macs < CONV_PAR_MIN_MACS) return 1;
    return FDL_MIN((int64_t)fdl_get_num_threads(), p->N);
}

static int64_t conv_panel(const fdl_conv2d_params *p, int64_t P, int64_t Q) {
    return is_direct(p) ? 0 : (p->C / p->groups) * p->R * p->S * P * Q;
}

int64_t fdl_conv2d_workspace_size(const fdl_conv2d_params *p, int nthreads) {
    int64_t P, Q;
    if (conv_dims(p, &P, &Q) != FDL_OK) return 0;
    if (nthreads < 1) nthreads = 1;
    int64_t wsz = p->K * (p->C / p->groups) * p->R * p->S;
    /* two panels per thread (im2col and its gradient), plus the weight slots;
     * counted in doubles so one size serves both dtypes */
    return (int64_t)sizeof(double) * (2 * conv_panel(p, P, Q) * nthreads + conv_slots(p) * wsz) + 64;
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

#define DEFINE_CONV(T, SFX, GEMM)                                                         \
/* col[CRS, PQ] from one sample's channel group x[Cg, H, W] */                            \
static void im2col_##SFX(T *col, const T *x, int64_t Cg, const fdl_conv2d_params *p,      \
                         int64_t P, int64_t Q) {                                          \
    const int64_t H = p->H, W = p->W, R = p->R, S = p->S, sw = p->stride_w;               \
    for (int64_t c = 0; c < Cg; c++)                                                      \
        for (int64_t r = 0; r < R; r++)                                                   \
            for (int64_t s = 0; s < S; s++) {                                             \
                T *row = col + ((c * R + r) * S + s) * P * Q;                             \
                int64_t off = s * p->dil_w - p->pad_w, lo, hi;                            \
                valid_q(off, sw, W, Q, &lo, &hi);                                         \
                for (int64_t pp = 0; pp < P; pp++) {                                      \
                    int64_t ih = pp * p->stride_h - p->pad_h + r * p->dil_h;              \
                    T *dst = row + pp * Q;                                                \
                    if (ih < 0 || ih >= H) { memset(dst, 0, Q * sizeof(T)); continue; }   \
                    const T *src = x + (c * H + ih) * W + off;                            \
                    for (int64_t q = 0; q < lo; q++) dst[q] = 0;                          \
                    if (sw == 1) memcpy(dst + lo, src + lo, (hi - lo) * sizeof(T));       \
                    else for (int64_t q = lo; q < hi; q++) dst[q] = src[q * sw];          \
                    for (int64_t q = hi; q < Q; q++) dst[q] = 0;                          \
                }                                                                         \
            }                                                                             \
}                                                                                         \
/* dx[Cg, H, W] += col2im(dcol[CRS, PQ]) */                                               \
static void col2im_##SFX(T *dx, const T *dcol, int64_t Cg, const fdl_conv2d_params *p,    \
                         int64_t P, int64_t Q) {                                          \
    const int64_t H = p->H, W = p->W, R = p->R, S = p->S, sw = p->stride_w;               \
    for (int64_t c = 0; c < Cg; c++)                                                      \
        for (int64_t r = 0; r < R; r++)                                                   \
            for (int64_t s = 0; s < S; s++) {                                             \
                const T *row = dcol + ((c * R + r) * S + s) * P * Q;                      \
                int64_t off = s * p->dil_w - p->pad_w, lo, hi;                            \
                valid_q(off, sw, W, Q, &lo, &hi);                                         \
                for (int64_t pp = 0; pp < P; pp++) {                                      \
                    int64_t ih = pp * p->stride_h - p->pad_h + r * p->dil_h;              \
                    if (ih < 0 || ih >= H) continue;                                      \
                    T *dst = dx + (c * H + ih) * W + off;                                 \
                    const T *src = row + pp * Q;                                          \
                    for (int64_t q = lo; q < hi; q++) dst[q * sw] += src[q];              \
                }                                                                         \
            }                                                                             \
}                                                                                         \
                                                                                          \
int fdl_conv2d_forward##SFX(T *out, const T *x, const T *w, const T *bias,                \
                            const fdl_conv2d_params *p, void *ws, int64_t ws_bytes) {     \
    int64_t P, Q;                                                                         \
    int st = conv_dims(p, &P, &Q);                                                        \
    if (st != FDL_OK) return st;                                                          \
    if (p->N == 0) return FDL_OK;                                                         \
    if (!out || !x || !w) return FDL_ERR_NULL;                                            \
    const int64_t G = p->groups, Cg = p->C / G, Kg = p->K / G, PQ = P * Q;                \
    const int64_t CRS = Cg * p->R * p->S, HW = p->H * p->W;                               \
    const int direct = is_direct(p);                                                      \
    const int64_t panel = conv_panel(p, P, Q);                                            \
    int64_t nt = conv_threads(p, P, Q);                                                   \
    if (panel) {                                                                          \
        if (!ws) return FDL_ERR_WORKSPACE;                                                \
        nt = FDL_MIN(nt, ws_bytes / (int64_t)sizeof(T) / panel);                          \
        if (nt < 1) return FDL_ERR_WORKSPACE;                                             \
    }                                                                                     \
    T *wsT = (T *)ws;                                                                     \
    _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1)")               \
    for (int64_t n = 0; n < p->N; n++) {                                                  \
        T *col = panel ? wsT + thread_id() * panel : NULL;                                \
        for (int64_t g = 0; g < G; g++) {                                                 \
            const T *xg = x + (n * p->C + g * Cg) * HW;                                   \
            T *og = out + (n * p->K + g * Kg) * PQ;                                       \
            const T *B = xg;                                                              \
            if (!direct) { im2col_##SFX(col, xg, Cg, p, P, Q); B = col; }                 \
            T beta = 0;                                                                   \
            if (bias) {                                                                   \
                for (int64_t k = 0; k < Kg; k++) {                                        \
                    T b = bias[g * Kg + k];                                               \
                    for (int64_t i = 0; i < PQ; i++) og[k * PQ + i] = b;                  \
                }                                                                         \
                beta = 1;                                                                 \
            }                                                                             \
            GEMM(0, 0, Kg, PQ, CRS, 1, w + g * Kg * CRS, CRS, B, PQ, beta, og, PQ);       \
        }                                                                                 \
    }                                                                                     \
    return FDL_OK;                                                                        \
}                                                                                         \
                                                                                          \
int fdl_conv2d_backward##SFX(T *dx, T *dw, T *db, const T *dout, const T *x, const T *w,  \
                             const fdl_conv2d_params *p, void *ws, int64_t ws_bytes) {    \
    int64_t P, Q;                                                                         \
    int st = conv_dims(p, &P, &Q);                                                        \
    if (st != FDL_OK) return st;                                                          \
    if (p->N == 0) return FDL_OK;                                                         \
    if (!dout || (dx && !w) || (dw && !x)) return FDL_ERR_NULL;                           \
    const int64_t G = p->groups, Cg = p->C / G, Kg = p->K / G, PQ = P * Q;                \
    const int64_t CRS = Cg * p->R * p->S, HW = p->H * p->W, wsz = p->K * CRS;             \
    const int direct = is_direct(p);                                                      \
    const int64_t panel = conv_panel(p, P, Q);                                            \
    const int64_t ns = dw ? conv_slots(p) : 0;                                            \
    int64_t avail = ws ? ws_bytes / (int64_t)sizeof(T) - ns * wsz : 0;                    \
    if (ns && avail < 0) return FDL_ERR_WORKSPACE;                                        \
    int64_t nt = conv_threads(p, P, Q);                                                   \
    if (panel) {                                                                          \
        nt = FDL_MIN(nt, avail / panel);                                                  \
        if (nt < 1) return FDL_ERR_WORKSPACE;                                             \
    }                                                                                     \
    T *wsT = (T *)ws;                                                                     \
    if (dx) {                                                                             \
        _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1)")           \
        for (int64_t n = 0; n < p->N; n++) {                                              \
            T *dcol = panel ? wsT + thread_id() * panel : NULL;                           \
            for (int64_t g = 0; g < G; g++) {                                             \
                const T *wg = w + g * Kg * CRS;                                           \
                const T *dg = dout + (n * p->K + g * Kg) * PQ;                            \
                T *dxg = dx + (n * p->C + g * Cg) * HW;                                   \
                if (direct) {                                                             \
                    GEMM(1, 0, CRS, PQ, Kg, 1, wg, CRS, dg, PQ, 1, dxg, PQ);              \
                } else {                                                                  \
                    GEMM(1, 0, CRS, PQ, Kg, 1, wg, CRS, dg, PQ, 0, dcol, PQ);             \
                    col2im_##SFX(dxg, dcol, Cg, p, P, Q);                                 \
                }                                                                         \
            }                                                                             \
        }                                                                                 \
    }                                                                                     \
    if (dw) {                                                                             \
        T *slots = wsT + (panel ? nt * panel : 0);                                        \
        memset(slots, 0, ns * wsz * sizeof(T));                                           \
        int64_t nts = FDL_MIN(nt, ns);                                                    \
        _Pragma("omp parallel for schedule(static) num_threads(nts) if(nts > 1)")         \
        for (int64_t s = 0; s < ns; s++) {                                                \
            T *col = panel ? wsT + thread_id() * panel : NULL;                            \
            for (int64_t n = s; n < p->N; n += ns)                                        \
                for (int64_t g = 0; g < G; g++) {                                         \
                    const T *xg = x + (n * p->C + g * Cg) * HW;                           \
                    const T *dg = dout + (n * p->K + g * Kg) * PQ;                        \
                    const T *B = xg;                                                      \
                    if (!direct) { im2col_##SFX(col, xg, Cg, p, P, Q); B = col; }         \
                    GEMM(0, 1, Kg, CRS, PQ, 1, dg, PQ, B, PQ, 1,                          \
                         slots + s * wsz + g * Kg * CRS, CRS);                            \
                }                                                                         \
        }                                                                                 \
        int nt2 = fdl_threads_for(wsz * ns);                                              \
        _Pragma("omp parallel for schedule(static) num_threads(nt2) if(nt2 > 1)")         \
        for (int64_t i = 0; i < wsz; i++) {                                               \
            T acc = 0;                                                                    \
            for (int64_t s = 0; s < ns; s++) acc += slots[s * wsz + i];                   \
            dw[i] += acc;                                                                 \
        }                                                                                 \
    }                                                                                     \
    if (db) {                                                                             \
        int ntb = fdl_threads_for(p->N * p->K * PQ);                                      \
        _Pragma("omp parallel for schedule(static) num_threads(ntb) if(ntb > 1)")         \
        for (int64_t k = 0; k < p->K; k++) {                                              \
            double acc = 0;                                                               \
            for (int64_t n = 0; n < p->N; n++) {                                          \
                const T *d = dout + (n * p->K + k) * PQ;                                  \
                for (int64_t i = 0; i < PQ; i++) acc += (double)d[i];                     \
            }                                                                             \
            db[k] += (T)acc;                                                              \
        }                                                                                 \
    }                                                                                     \
    return FDL_OK;                                                                        \
}

DEFINE_CONV(float, _f32, fdl_sgemm)
DEFINE_CONV(double, _f64, fdl_dgemm)
