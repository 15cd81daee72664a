/* Shared by the csrc/train/ sources: the thread-local error text behind
 * fdl_train_last_error(). */
#ifndef FDL_TRAIN_INTERNAL_H
#define FDL_TRAIN_INTERNAL_H

#include "fastdl.h"

/* Formats into the thread-local message and returns `status`, so a failure
 * reads `return fdl__fail(FDL_ERR_FORMAT, "...", ...);`. */
int fdl__fail(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), visibility("hidden")));
void fdl__clear_error(void) __attribute__((visibility("hidden")));

/* Mean softmax cross-entropy of logits z[B, C] against y[B] (labels
 * already checked); dz[B, C] = (softmax(z) - onehot(y)) / B when dz != NULL,
 * *correct = rows whose argmax is the label when correct != NULL. mlp.c. */
double fdl__softmax_xent(const float *z, const int64_t *y, int64_t B, int64_t C, float *dz,
                         int64_t *correct) __attribute__((visibility("hidden")));

#endif
