/*
 * dropout_embedding.c — dropout (counter-based masks) and embedding lookup.
 *
 * Legend: N elements (dropout) or indices (embedding), V embeddings of D
 * features.
 */
#include "nn/common.h"

#include "runtime/types_begin.h"
#include "nn/misc_impl.h"
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#include "nn/misc_impl.h"
#include "runtime/types_end.h"

/* ---- the public functions (fastdl/nn.h): check, then run the body above */

int fdl_dropout_forward_f32(float *out, uint8_t *mask, const float *x, int64_t n, float p, uint64_t seed, uint64_t stream) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_dropout_forward_f32(out, mask, x, n, p, seed, stream);
    return FDL_OK;
}

int fdl_dropout_forward_f64(double *out, uint8_t *mask, const double *x, int64_t n, double p, uint64_t seed, uint64_t stream) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    nn_dropout_forward_f64(out, mask, x, n, p, seed, stream);
    return FDL_OK;
}

int fdl_dropout_backward_f32(float *dx, const uint8_t *mask, const float *dout, int64_t n, float p) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !dout)) return FDL_ERR_NULL;
    nn_dropout_backward_f32(dx, mask, dout, n, p);
    return FDL_OK;
}

int fdl_dropout_backward_f64(double *dx, const uint8_t *mask, const double *dout, int64_t n, double p) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!dx || !dout)) return FDL_ERR_NULL;
    nn_dropout_backward_f64(dx, mask, dout, n, p);
    return FDL_OK;
}

int fdl_embedding_forward_f32(float *out, const int64_t *idx, const float *weight, int64_t N, int64_t D) {
    if (N < 0 || D < 0) return FDL_ERR_ARG;
    if (N > 0 && D > 0 && (!out || !idx)) return FDL_ERR_NULL;
    nn_embedding_forward_f32(out, idx, weight, N, D);
    return FDL_OK;
}

int fdl_embedding_forward_f64(double *out, const int64_t *idx, const double *weight, int64_t N, int64_t D) {
    if (N < 0 || D < 0) return FDL_ERR_ARG;
    if (N > 0 && D > 0 && (!out || !idx)) return FDL_ERR_NULL;
    nn_embedding_forward_f64(out, idx, weight, N, D);
    return FDL_OK;
}

int fdl_embedding_backward_f32(float *dweight, const int64_t *idx, const float *dout, int64_t N, int64_t D, int64_t padding_idx) {
    if (N < 0 || D < 0) return FDL_ERR_ARG;
    if (N > 0 && D > 0 && (!idx || !dout)) return FDL_ERR_NULL;
    nn_embedding_backward_f32(dweight, idx, dout, N, D, padding_idx);
    return FDL_OK;
}

int fdl_embedding_backward_f64(double *dweight, const int64_t *idx, const double *dout, int64_t N, int64_t D, int64_t padding_idx) {
    if (N < 0 || D < 0) return FDL_ERR_ARG;
    if (N > 0 && D > 0 && (!idx || !dout)) return FDL_ERR_NULL;
    nn_embedding_backward_f64(dweight, idx, dout, N, D, padding_idx);
    return FDL_OK;
}
