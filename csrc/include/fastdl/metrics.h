/*
 * fastdl/metrics.h — sufficient statistics for streaming evaluation metrics.
 *
 * Each kernel folds one batch into a small state the caller owns (a
 * confusion matrix, a hit count, regression moments); metrics are computed
 * from that state afterwards, so any number of batches gives the same
 * answer as one big batch.
 *
 * Shapes: N samples, C classes, D regression outputs.
 * Labels are int64 in [0, C); every kernel checks them in a separate pass
 * before touching the state and returns FDL_ERR_ARG (state unchanged) when
 * one is out of range.
 */
#ifndef FASTDL_METRICS_H
#define FASTDL_METRICS_H

#include <stdint.h>

#include "fastdl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Index of the first label outside [0, C), or -1 when all are valid.
 * labels [N] */
FDL_API int64_t fdl_labels_first_invalid(const int64_t *labels, int64_t N, int64_t C);

/* int64 elements of workspace that lets the confusion-matrix kernels use
 * the current thread count on a batch of N samples; 0 means they run
 * serially (small N, or C*C too large for private per-thread matrices). */
FDL_API int64_t fdl_confusion_workspace_size(int64_t N, int64_t C);

/* cm[t, p] += number of samples with true label t and predicted class p.
 * The prediction is the argmax of each row of scores (the first maximum
 * wins; a NaN counts as the maximum, as in numpy.argmax).
 * cm [C, C] (row = true, column = predicted), scores [N, C], labels [N],
 * work [ws] int64 scratch (may be NULL when ws == 0).
 * Counts are exact integers, so the result is the same for any thread count;
 * threads still fill private matrices summed in thread order. */
FDL_API int fdl_confusion_update_scores_f32(int64_t *cm, int64_t *work, int64_t ws,
                                    const float *scores, const int64_t *labels,
                                    int64_t N, int64_t C);
FDL_API int fdl_confusion_update_scores_f64(int64_t *cm, int64_t *work, int64_t ws,
                                    const double *scores, const int64_t *labels,
                                    int64_t N, int64_t C);

/* Same, from predicted labels. cm [C, C], preds [N], labels [N]. */
FDL_API int fdl_confusion_update_labels(int64_t *cm, int64_t *work, int64_t ws,
                                const int64_t *preds, const int64_t *labels,
                                int64_t N, int64_t C);

/* Binary: predicted class is 1 when score > threshold (strictly, as Keras's
 * BinaryAccuracy), else 0. For logits pass threshold = log(t / (1 - t)).
 * cm [2, 2], scores [N], labels [N] in {0, 1}. NaN scores predict 0. */
FDL_API int fdl_confusion_update_binary_f32(int64_t *cm, const float *scores,
                                    const int64_t *labels, int64_t N,
                                    double threshold);
FDL_API int fdl_confusion_update_binary_f64(int64_t *cm, const double *scores,
                                    const int64_t *labels, int64_t N,
                                    double threshold);

/* *correct += number of samples whose label is among the top k scores.
 * Tie rule (that of TensorFlow's in_top_k): a sample is a hit when fewer
 * than k classes score strictly higher than its label, so classes tied at
 * the k-th place all count as in the top k. With distinct scores this is
 * exactly torch.topk-based accuracy. A NaN label score is a miss; NaN
 * scores of other classes never rank above it.
 * scores [N, C], labels [N], 1 <= k. */
FDL_API int fdl_topk_correct_f32(int64_t *correct, const float *scores,
                         const int64_t *labels, int64_t N, int64_t C, int64_t k);
FDL_API int fdl_topk_correct_f64(int64_t *correct, const double *scores,
                         const int64_t *labels, int64_t N, int64_t C, int64_t k);

/* Regression moments, merged into state [D, FDL_REG_STATE] per output column:
 *   [0] n, [1] sum |e|, [2] sum e^2, [3] mean of y, [4] sum (y - mean)^2
 * where e = pred - target, y = target. Start from all zeros.
 * SS_tot is kept as a centred sum (Welford/Chan) rather than
 * sum y^2 - (sum y)^2 / n, which loses every digit when |mean| >> std.
 * Rows are cut into fixed blocks of FDL_REG_BLOCK; each block is summed
 * serially (two passes: mean, then centred squares) and blocks are merged
 * in row order with Chan's formula, so the result is bitwise the same for
 * any thread count. pred, target [N, D] row-major. */
#define FDL_REG_STATE 5
#define FDL_REG_BLOCK 4096
FDL_API int fdl_regression_update_f32(double *state, const float *pred,
                              const float *target, int64_t N, int64_t D);
FDL_API int fdl_regression_update_f64(double *state, const double *pred,
                              const double *target, int64_t N, int64_t D);
/* Merge moments b into a (both [FDL_REG_STATE]); Chan et al.'s pairwise
 * update. Lets callers combine states from separate streams. */
FDL_API int fdl_regression_merge(double *a, const double *b);

#ifdef __cplusplus
}
#endif

#endif
