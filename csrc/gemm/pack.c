/*
 * gemm/pack.c — packing of A blocks and B panels for the micro-kernels,
 * float and double (the body is gemm/pack_impl.h; layouts are described
 * there and in gemm_internal.h).
 *
 * Zero padding lets every kernel run its full tile; only its store is
 * masked, so edge tiles cost no branch inside the k loop.
 */
#include <string.h>

#include "runtime/template.h"
#include "gemm/gemm_internal.h"

#include "runtime/types_begin.h"
#include "gemm/pack_impl.h"
#include "runtime/types_end.h"
#define NN_F64
#include "runtime/types_begin.h"
#include "gemm/pack_impl.h"
#include "runtime/types_end.h"

/* dst[kc][mr] <- op(A)[m, kc] */
void fdl_gemm_pack_a_f32(int transa, const float *a, int64_t lda, int m, int64_t kc, int mr,
                         int rep, float *dst) {
    if (rep == 1) pack_a_f32(transa, a, lda, m, kc, mr, dst);
    else pack_a_rep_f32(transa, a, lda, m, kc, mr, rep, dst);
}

/* dst[kc][mr] <- op(A)[m, kc] */
void fdl_gemm_pack_a_f64(int transa, const double *a, int64_t lda, int m, int64_t kc, int mr,
                         int rep, double *dst) {
    if (rep == 1) pack_a_f64(transa, a, lda, m, kc, mr, dst);
    else pack_a_rep_f64(transa, a, lda, m, kc, mr, rep, dst);
}

/* dst[kc][nr] <- op(B)[kc, n] */
void fdl_gemm_pack_b_f32(int transb, const float *b, int64_t ldb, int n, int64_t kc, int nr,
                         float *dst) {
    pack_b_f32(transb, b, ldb, n, kc, nr, dst);
}

/* dst[kc][nr] <- op(B)[kc, n] */
void fdl_gemm_pack_b_f64(int transb, const double *b, int64_t ldb, int n, int64_t kc, int nr,
                         double *dst) {
    pack_b_f64(transb, b, ldb, n, kc, nr, dst);
}
