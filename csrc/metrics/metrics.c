/*
 * metrics.c — batch statistics for streaming metrics (see fastdl/metrics.h).
 *
 * Legend: N samples, C classes, D regression outputs, K = top-k.
 *
 * Threads: classification counts are exact int64 sums, so any split gives
 * the same counts; the confusion matrix still uses private per-thread
 * matrices summed in thread order, never atomics. Regression sums are
 * floating point, so the split is fixed by FDL_REG_BLOCK (not by the thread
 * count) and blocks are merged serially in row order.
 */
#include <math.h>
#include <string.h>

#include "runtime/internal.h"
#include "runtime/template.h"

#define FDL_REG_ROUND 64  /* blocks computed in parallel before a serial merge */

int64_t fdl_labels_first_invalid(const int64_t *labels, int64_t N, int64_t C) {
    for (int64_t i = 0; i < N; i++)
        if (labels[i] < 0 || labels[i] >= C) return i;
    return -1;
}

int64_t fdl_confusion_workspace_size(int64_t N, int64_t C) {
    if (N <= 0 || C <= 0) return 0;
    int nt = fdl_threads_for(N * C);
    /* Zeroing and summing nt private C*C matrices must stay small next to
     * the N-sample pass, or one thread is faster. */
    if (nt <= 1 || C * C > N / 4) return 0;
    return (int64_t)nt * C * C;
}

static int confusion_threads(int64_t work, int64_t ws, int64_t C) {
    if (ws <= 0) return 1;
    int64_t by_ws = ws / (C * C);
    int nt = fdl_threads_for(work);
    int64_t n = by_ws < nt ? by_ws : nt;
    return n < 1 ? 1 : (int)n;
}

/* Runs rows(dst, lo, hi) over [0, N): serially into cm, or over nt chunks
 * into private matrices in work that are then summed in thread order. */
#define FDL_CONFUSION_DRIVER(rows_call)                                          \
    do {                                                                         \
        const int64_t CC = C * C;                                                \
        if (nt <= 1) {                                                           \
            int64_t *dst = cm, lo = 0, hi = N;                                   \
            rows_call;                                                           \
            break;                                                               \
        }                                                                        \
        _Pragma("omp parallel for schedule(static) num_threads(nt)")             \
        for (int t = 0; t < nt; t++) {                                           \
            int64_t *dst = work + (int64_t)t * CC;                               \
            int64_t lo = N * t / nt, hi = N * (t + 1) / nt;                      \
            memset(dst, 0, (size_t)CC * sizeof(int64_t));                        \
            rows_call;                                                           \
        }                                                                        \
        int ntc = fdl_threads_for(CC * nt) > 1 ? nt : 1;                         \
        (void)ntc;  /* unused without OpenMP */                                 \
        _Pragma("omp parallel for schedule(static) num_threads(ntc)")            \
        for (int64_t c = 0; c < CC; c++) {                                       \
            int64_t s = cm[c];                                                   \
            for (int t = 0; t < nt; t++) s += work[(int64_t)t * CC + c];         \
            cm[c] = s;                                                           \
        }                                                                        \
    } while (0)

/* ---- argmax confusion update: cm [C, C], scores [N, C] ---------------- */


/* ---- label confusion update: cm [C, C], preds [N] --------------------- */
static void confusion_label_rows(int64_t *cm, const int64_t *preds,
                                 const int64_t *labels, int64_t lo, int64_t hi,
                                 int64_t C) {
    for (int64_t i = lo; i < hi; i++) cm[labels[i] * C + preds[i]]++;
}

int fdl_confusion_update_labels(int64_t *cm, int64_t *work, int64_t ws,
                                const int64_t *preds, const int64_t *labels,
                                int64_t N, int64_t C) {
    if (N < 0 || C < 1 || ws < 0) return FDL_ERR_ARG;
    if (N == 0) return FDL_OK;
    if (!cm || !preds || !labels || (ws > 0 && !work)) return FDL_ERR_NULL;
    if (fdl_labels_first_invalid(labels, N, C) >= 0 ||
        fdl_labels_first_invalid(preds, N, C) >= 0) return FDL_ERR_ARG;
    int nt = confusion_threads(N, ws, C);
    FDL_CONFUSION_DRIVER(confusion_label_rows(dst, preds, labels, lo, hi, C));
    return FDL_OK;
}

/* ---- binary threshold: cm [2, 2], scores [N] -------------------------- */


/* ---- top-k hits: scores [N, C], labels [N] ---------------------------- */


/* ---- regression moments: state [D, 5], pred/target [N, D] ------------- */
int fdl_regression_merge(double *a, const double *b) {
    if (!a || !b) return FDL_ERR_NULL;
    double na = a[0], nb = b[0];
    if (nb == 0) return FDL_OK;
    if (na == 0) { memcpy(a, b, FDL_REG_STATE * sizeof(double)); return FDL_OK; }
    double n = na + nb, delta = b[3] - a[3];
    a[0] = n;
    a[1] += b[1];
    a[2] += b[2];
    a[3] += delta * (nb / n);
    a[4] += b[4] + delta * delta * (na * nb / n);
    return FDL_OK;
}

#include "runtime/types_begin.h"
#include "metrics/metrics_impl.h"
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#include "metrics/metrics_impl.h"
#include "runtime/types_end.h"

/* ---- the public functions (fastdl/metrics.h); the bodies check their arguments */

int fdl_confusion_update_scores_f32(int64_t *cm, int64_t *work, int64_t ws, const float *scores, const int64_t *labels, int64_t N, int64_t C) {
    return confusion_update_scores_f32(cm, work, ws, scores, labels, N, C);
}

int fdl_confusion_update_scores_f64(int64_t *cm, int64_t *work, int64_t ws, const double *scores, const int64_t *labels, int64_t N, int64_t C) {
    return confusion_update_scores_f64(cm, work, ws, scores, labels, N, C);
}

int fdl_confusion_update_binary_f32(int64_t *cm, const float *scores, const int64_t *labels, int64_t N, double threshold) {
    return confusion_update_binary_f32(cm, scores, labels, N, threshold);
}

int fdl_confusion_update_binary_f64(int64_t *cm, const double *scores, const int64_t *labels, int64_t N, double threshold) {
    return confusion_update_binary_f64(cm, scores, labels, N, threshold);
}

int fdl_topk_correct_f32(int64_t *correct, const float *scores, const int64_t *labels, int64_t N, int64_t C, int64_t k) {
    return topk_correct_f32(correct, scores, labels, N, C, k);
}

int fdl_topk_correct_f64(int64_t *correct, const double *scores, const int64_t *labels, int64_t N, int64_t C, int64_t k) {
    return topk_correct_f64(correct, scores, labels, N, C, k);
}

int fdl_regression_update_f32(double *state, const float *pred, const float *target, int64_t N, int64_t D) {
    return regression_update_f32(state, pred, target, N, D);
}

int fdl_regression_update_f64(double *state, const double *pred, const double *target, int64_t N, int64_t D) {
    return regression_update_f64(state, pred, target, N, D);
}
