# Declarations of csrc/include/fastdl/metrics.h, 1:1.
from libc.stdint cimport int64_t

cdef extern from "fastdl.h" nogil:
    enum:
        FDL_REG_STATE
        FDL_REG_BLOCK

    int64_t fdl_labels_first_invalid(const int64_t *labels, int64_t N, int64_t C)
    int64_t fdl_confusion_workspace_size(int64_t N, int64_t C)
    int fdl_confusion_update_scores_f32(int64_t *cm, int64_t *work, int64_t ws,
                                        const float *scores, const int64_t *labels,
                                        int64_t N, int64_t C)
    int fdl_confusion_update_scores_f64(int64_t *cm, int64_t *work, int64_t ws,
                                        const double *scores, const int64_t *labels,
                                        int64_t N, int64_t C)
    int fdl_confusion_update_labels(int64_t *cm, int64_t *work, int64_t ws,
                                    const int64_t *preds, const int64_t *labels,
                                    int64_t N, int64_t C)
    int fdl_confusion_update_binary_f32(int64_t *cm, const float *scores,
                                        const int64_t *labels, int64_t N,
                                        double threshold)
    int fdl_confusion_update_binary_f64(int64_t *cm, const double *scores,
                                        const int64_t *labels, int64_t N,
                                        double threshold)
    int fdl_topk_correct_f32(int64_t *correct, const float *scores,
                             const int64_t *labels, int64_t N, int64_t C, int64_t k)
    int fdl_topk_correct_f64(int64_t *correct, const double *scores,
                             const int64_t *labels, int64_t N, int64_t C, int64_t k)
    int fdl_regression_update_f32(double *state, const float *pred,
                                  const float *target, int64_t N, int64_t D)
    int fdl_regression_update_f64(double *state, const double *pred,
                                  const double *target, int64_t N, int64_t D)
    int fdl_regression_merge(double *a, const double *b)
