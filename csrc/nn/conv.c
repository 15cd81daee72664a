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
#include "runtime/template.h"
#include "nn/winograd.h"

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

/* The kernel width, read here: inside a body S names the type suffix. */
static inline int64_t conv_kw(const fdl_conv2d_params *p) { return p->S; }

#include "runtime/types_begin.h"
#define CONV_GEMM fdl_sgemm
#include "nn/conv_impl.h"
#undef CONV_GEMM
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#define CONV_GEMM fdl_dgemm
#include "nn/conv_impl.h"
#undef CONV_GEMM
#include "runtime/types_end.h"

/* ---- the public functions (fastdl/conv.h) ---------------------------------------- */

int fdl_conv2d_forward_f32(float *out, const float *x, const float *w, const float *bias,
                           const fdl_conv2d_params *p, void *ws, int64_t ws_bytes) {
    int st;
    if (nn_conv2d_winograd_forward_f32(p, out, x, w, bias, ws, ws_bytes, &st)) return st;
    return conv2d_forward_f32(out, x, w, bias, p, ws, ws_bytes);
}

int fdl_conv2d_forward_f64(double *out, const double *x, const double *w, const double *bias,
                           const fdl_conv2d_params *p, void *ws, int64_t ws_bytes) {
    return conv2d_forward_f64(out, x, w, bias, p, ws, ws_bytes);
}

int fdl_conv2d_backward_f32(float *dx, float *dw, float *db, const float *dout, const float *x,
                            const float *w, const fdl_conv2d_params *p, void *ws,
                            int64_t ws_bytes) {
    int st;
    if (nn_conv2d_winograd_backward_f32(p, dx, dw, db, dout, x, w, ws, ws_bytes, &st)) return st;
    return conv2d_backward_f32(dx, dw, db, dout, x, w, p, ws, ws_bytes);
}

int fdl_conv2d_backward_f64(double *dx, double *dw, double *db, const double *dout,
                            const double *x, const double *w, const fdl_conv2d_params *p,
                            void *ws, int64_t ws_bytes) {
    return conv2d_backward_f64(dx, dw, db, dout, x, w, p, ws, ws_bytes);
}
