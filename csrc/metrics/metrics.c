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
#define FDL_DEFINE_CONFUSION_SCORES(SUF, T)                                      \
static void confusion_rows_##SUF(int64_t *cm, const T *scores,                  \
                                 const int64_t *labels, int64_t lo, int64_t hi, \
                                 int64_t C) {                                    \
    for (int64_t i = lo; i < hi; i++) {                                          \
        const T *row = scores + i * C;                                           \
        int64_t best = 0;                                                        \
        T bv = row[0];                                                           \
        int nan = bv != bv;                                                      \
        /* Select, not branch: on unsorted scores the "new maximum" branch     \
         * mispredicts often enough to dominate the loop. */                     \
        for (int64_t j = 1; j < C; j++) {                                        \
            T v = row[j];                                                        \
            int gt = v > bv;                                                     \
            bv = gt ? v : bv;                                                    \
            best = gt ? j : best;                                                \
            nan |= v != v;                                                       \
        }                                                                        \
        if (FDL_UNLIKELY(nan))                                                   \
            for (best = 0; row[best] == row[best]; best++) {}                    \
        cm[labels[i] * C + best]++;                                              \
    }                                                                            \
}                                                                                \
int fdl_confusion_update_scores_##SUF(int64_t *cm, int64_t *work, int64_t ws,    \
                                      const T *scores, const int64_t *labels,    \
                                      int64_t N, int64_t C) {                    \
    if (N < 0 || C < 1 || ws < 0) return FDL_ERR_ARG;                            \
    if (N == 0) return FDL_OK;                                                   \
    if (!cm || !scores || !labels || (ws > 0 && !work)) return FDL_ERR_NULL;     \
    if (fdl_labels_first_invalid(labels, N, C) >= 0) return FDL_ERR_ARG;         \
    int nt = confusion_threads(N * C, ws, C);                                    \
    FDL_CONFUSION_DRIVER(confusion_rows_##SUF(dst, scores, labels, lo, hi, C));  \
    return FDL_OK;                                                               \
}

FDL_DEFINE_CONFUSION_SCORES(f32, float)
FDL_DEFINE_CONFUSION_SCORES(f64, double)

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
#define FDL_DEFINE_CONFUSION_BINARY(SUF, T)                                      \
int fdl_confusion_update_binary_##SUF(int64_t *cm, const T *scores,             \
                                      const int64_t *labels, int64_t N,          \
                                      double threshold) {                        \
    if (N < 0) return FDL_ERR_ARG;                                               \
    if (N == 0) return FDL_OK;                                                   \
    if (!cm || !scores || !labels) return FDL_ERR_NULL;                          \
    if (fdl_labels_first_invalid(labels, N, 2) >= 0) return FDL_ERR_ARG;         \
    /* counts[y*2 + p]: exact integers, so the OpenMP reduction is exact. */     \
    int64_t c00 = 0, c01 = 0, c10 = 0, c11 = 0;                                  \
    int nt = fdl_threads_for(N);                                                 \
    (void)nt;                                                                    \
    _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1) reduction(+:c00, c01, c10, c11)") \
    for (int64_t i = 0; i < N; i++) {                                            \
        int p = (double)scores[i] > threshold;                                   \
        int64_t y = labels[i];                                                   \
        c00 += (y == 0) & (p == 0);                                              \
        c01 += (y == 0) & (p == 1);                                              \
        c10 += (y == 1) & (p == 0);                                              \
        c11 += (y == 1) & (p == 1);                                              \
    }                                                                            \
    cm[0] += c00; cm[1] += c01; cm[2] += c10; cm[3] += c11;                      \
    return FDL_OK;                                                               \
}

FDL_DEFINE_CONFUSION_BINARY(f32, float)
FDL_DEFINE_CONFUSION_BINARY(f64, double)

/* ---- top-k hits: scores [N, C], labels [N] ---------------------------- */
#define FDL_DEFINE_TOPK(SUF, T)                                                  \
int fdl_topk_correct_##SUF(int64_t *correct, const T *scores,                   \
                           const int64_t *labels, int64_t N, int64_t C,          \
                           int64_t k) {                                          \
    if (N < 0 || C < 1 || k < 1) return FDL_ERR_ARG;                             \
    if (N == 0) return FDL_OK;                                                   \
    if (!correct || !scores || !labels) return FDL_ERR_NULL;                     \
    if (fdl_labels_first_invalid(labels, N, C) >= 0) return FDL_ERR_ARG;         \
    int64_t hits = 0;                                                            \
    int nt = fdl_threads_for(N * C);                                             \
    (void)nt;                                                                    \
    _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1) reduction(+:hits)") \
    for (int64_t i = 0; i < N; i++) {                                            \
        const T *row = scores + i * C;                                           \
        T s = row[labels[i]];                                                    \
        if (s != s) continue;                                                    \
        int64_t above = 0;                                                       \
        for (int64_t j = 0; j < C && above < k; j++) above += row[j] > s;        \
        hits += above < k;                                                       \
    }                                                                            \
    *correct += hits;                                                            \
    return FDL_OK;                                                               \
}

FDL_DEFINE_TOPK(f32, float)
FDL_DEFINE_TOPK(f64, double)

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

#define FDL_DEFINE_REGRESSION(SUF, T)                                            \
static void regression_block_##SUF(double *st, const T *pred, const T *target,   \
                                   int64_t lo, int64_t hi, int64_t D) {          \
    double sae = 0, sse = 0, sy = 0;                                             \
    for (int64_t i = lo; i < hi; i++) {                                          \
        double y = (double)target[i * D], e = (double)pred[i * D] - y;           \
        sae += fabs(e);                                                          \
        sse += e * e;                                                            \
        sy += y;                                                                 \
    }                                                                            \
    double n = (double)(hi - lo), mean = sy / n, m2 = 0;                         \
    /* Second pass over the (cache-hot) block: centred squares keep SS_tot     \
     * accurate when the mean dwarfs the spread. */                              \
    for (int64_t i = lo; i < hi; i++) {                                          \
        double d = (double)target[i * D] - mean;                                 \
        m2 += d * d;                                                             \
    }                                                                            \
    st[0] = n; st[1] = sae; st[2] = sse; st[3] = mean; st[4] = m2;               \
}                                                                                \
int fdl_regression_update_##SUF(double *state, const T *pred, const T *target,   \
                                int64_t N, int64_t D) {                          \
    if (N < 0 || D < 1) return FDL_ERR_ARG;                                      \
    if (N == 0) return FDL_OK;                                                   \
    if (!state || !pred || !target) return FDL_ERR_NULL;                         \
    int64_t nblocks = FDL_CDIV(N, FDL_REG_BLOCK);                                \
    double part[FDL_REG_ROUND][FDL_REG_STATE];                                   \
    for (int64_t d = 0; d < D; d++) {                                            \
        double *sd = state + d * FDL_REG_STATE;                                  \
        for (int64_t b0 = 0; b0 < nblocks; b0 += FDL_REG_ROUND) {                \
            int64_t nb = FDL_MIN(FDL_REG_ROUND, nblocks - b0);                   \
            int64_t rows = FDL_MIN(N, (b0 + nb) * FDL_REG_BLOCK) -               \
                           b0 * FDL_REG_BLOCK;                                   \
            int nt = fdl_threads_for(2 * rows);                                  \
            (void)nt;                                                            \
            _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1)") \
            for (int64_t b = 0; b < nb; b++) {                                   \
                int64_t lo = (b0 + b) * FDL_REG_BLOCK;                           \
                int64_t hi = FDL_MIN(N, lo + FDL_REG_BLOCK);                     \
                regression_block_##SUF(part[b], pred + d, target + d, lo, hi, D); \
            }                                                                    \
            for (int64_t b = 0; b < nb; b++) fdl_regression_merge(sd, part[b]);  \
        }                                                                        \
    }                                                                            \
    return FDL_OK;                                                               \
}

FDL_DEFINE_REGRESSION(f32, float)
FDL_DEFINE_REGRESSION(f64, double)
