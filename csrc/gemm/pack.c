/*
 * gemm/pack.c — packing of A blocks and B panels for the micro-kernels.
 *
 * Legend: op(A) is m x kc, op(B) is kc x n (see gemm_internal.h for how
 * trans selects the element); mr / nr are the kernel's tile sizes.
 *   packed A tile:  dst[p*mr + i],  p < kc, i < mr  (rows >= m are zero)
 *   replicated A:   dst[(p*mr + i)*4 + r], r < 4  (the same value 4 times)
 *   packed B panel: dst[p*nr + j],  p < kc, j < nr  (columns >= n are zero)
 * Zero padding lets every kernel run its full tile; only its store is
 * masked, so edge tiles cost no branch inside the k loop.
 */
#include <string.h>

#include "gemm/gemm_internal.h"

/* dst[kc][mr] <- op(A)[m, kc] */
void fdl_sgemm_pack_a(int transa, const float *restrict a, int64_t lda, int m,
                      int64_t kc, int mr, float *restrict dst) {
    if (transa) {
        /* op(A) columns are contiguous rows of A: a straight copy. */
        for (int64_t p = 0; p < kc; ++p) {
            const float *src = a + p * lda;
            float *d = dst + p * mr;
            int i = 0;
            for (; i < m; ++i) d[i] = src[i];
            for (; i < mr; ++i) d[i] = 0.0f;
        }
        return;
    }
    /* Transpose m rows into k-major order. Blocks of 8 k keep both the
     * reads (8 floats per row) and the writes (8 x mr) within few lines. */
    if (m < mr) memset(dst, 0, (size_t)(kc * mr) * sizeof(float));
    int64_t p0 = 0;
    for (; p0 + 8 <= kc; p0 += 8) {
        float *d = dst + p0 * mr;
        int i = 0;
        for (; i < m; ++i) {
            const float *src = a + i * lda + p0;
            for (int q = 0; q < 8; ++q) d[q * mr + i] = src[q];
        }
    }
    for (int64_t p = p0; p < kc; ++p) {
        float *d = dst + p * mr;
        int i = 0;
        for (; i < m; ++i) d[i] = a[i * lda + p];
    }
}

/* dst[kc][mr][4] <- op(A)[m, kc], every element stored 4 times, rows
 * m..mr-1 zero. For kernels without a broadcast load (baseline SSE2): a
 * plain 4-lane load replaces a scalar load + shuffle in their k loop. */
void fdl_sgemm_pack_a_rep4(int transa, const float *restrict a, int64_t lda, int m,
                           int64_t kc, int mr, float *restrict dst) {
    if (m < mr) memset(dst, 0, (size_t)(kc * mr * 4) * sizeof(float));
    for (int64_t p = 0; p < kc; ++p) {
        float *d = dst + p * mr * 4;
        for (int i = 0; i < m; ++i) {
            const float v = transa ? a[p * lda + i] : a[i * lda + p];
            d[4 * i] = v;
            d[4 * i + 1] = v;
            d[4 * i + 2] = v;
            d[4 * i + 3] = v;
        }
    }
}

/* dst[kc][nr] <- op(B)[kc, n] */
void fdl_sgemm_pack_b(int transb, const float *restrict b, int64_t ldb, int n,
                      int64_t kc, int nr, float *restrict dst) {
    if (!transb) {
        for (int64_t p = 0; p < kc; ++p) {
            const float *src = b + p * ldb;
            float *d = dst + p * nr;
            if (n == nr) {
                memcpy(d, src, (size_t)nr * sizeof(float));
            } else {
                int j = 0;
                for (; j < n; ++j) d[j] = src[j];
                for (; j < nr; ++j) d[j] = 0.0f;
            }
        }
        return;
    }
    /* op(B) = B^T: row j of B becomes column j of the panel. */
    if (n < nr) memset(dst, 0, (size_t)(kc * nr) * sizeof(float));
    int64_t p0 = 0;
    for (; p0 + 8 <= kc; p0 += 8) {
        float *d = dst + p0 * nr;
        int j = 0;
        for (; j < n; ++j) {
            const float *src = b + j * ldb + p0;
            for (int q = 0; q < 8; ++q) d[q * nr + j] = src[q];
        }
    }
    for (int64_t p = p0; p < kc; ++p) {
        float *d = dst + p * nr;
        int j = 0;
        for (; j < n; ++j) d[j] = b[j * ldb + p];
    }
}
