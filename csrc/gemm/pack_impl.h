/*
 * gemm/pack_impl.h — body of pack.c over the element type T (see
 * runtime/template.h); included once per type.
 *
 * Legend: op(A) is m x kc, op(B) is kc x n (see gemm_internal.h for how
 * trans selects the element); mr / nr are the kernel's tile sizes.
 *   packed A tile:  dst[p*mr + i],  p < kc, i < mr  (rows >= m are zero)
 *   replicated A:   dst[(p*mr + i)*rep + r], r < rep (the same value rep times)
 *   packed B panel: dst[p*nr + j],  p < kc, j < nr  (columns >= n are zero)
 */

/* dst[kc][mr] <- op(A)[m, kc] */
static void FN(pack_a)(int transa, const T *restrict a, int64_t lda, int m, int64_t kc, int mr,
                       T *restrict dst) {
    if (transa) {
        /* op(A) columns are contiguous rows of A: a straight copy. */
        for (int64_t p = 0; p < kc; ++p) {
            const T *src = a + p * lda;
            T *d = dst + p * mr;
            int i = 0;
            for (; i < m; ++i) d[i] = src[i];
            for (; i < mr; ++i) d[i] = (T)0;
        }
        return;
    }
    /* Transpose m rows into k-major order. Blocks of 8 k keep both the
     * reads (8 elements per row) and the writes (8 x mr) within few lines. */
    if (m < mr) memset(dst, 0, (size_t)(kc * mr) * sizeof(T));
    int64_t p0 = 0;
    for (; p0 + 8 <= kc; p0 += 8) {
        T *d = dst + p0 * mr;
        for (int i = 0; i < m; ++i) {
            const T *src = a + i * lda + p0;
            for (int q = 0; q < 8; ++q) d[q * mr + i] = src[q];
        }
    }
    for (int64_t p = p0; p < kc; ++p) {
        T *d = dst + p * mr;
        for (int i = 0; i < m; ++i) d[i] = a[i * lda + p];
    }
}

/* dst[kc][mr][rep] <- op(A)[m, kc], every element stored rep times, rows
 * m..mr-1 zero. For kernels without a broadcast load (baseline SSE2): a
 * plain vector load replaces a scalar load + shuffle in their k loop. */
static void FN(pack_a_rep)(int transa, const T *restrict a, int64_t lda, int m, int64_t kc,
                           int mr, int rep, T *restrict dst) {
    if (m < mr) memset(dst, 0, (size_t)(kc * mr * rep) * sizeof(T));
    for (int64_t p = 0; p < kc; ++p) {
        T *d = dst + p * mr * rep;
        for (int i = 0; i < m; ++i) {
            const T v = transa ? a[p * lda + i] : a[i * lda + p];
            for (int r = 0; r < rep; ++r) d[rep * i + r] = v;
        }
    }
}

/* dst[kc][nr] <- op(B)[kc, n] */
static void FN(pack_b)(int transb, const T *restrict b, int64_t ldb, int n, int64_t kc, int nr,
                       T *restrict dst) {
    if (!transb) {
        for (int64_t p = 0; p < kc; ++p) {
            const T *src = b + p * ldb;
            T *d = dst + p * nr;
            if (n == nr) {
                memcpy(d, src, (size_t)nr * sizeof(T));
            } else {
                int j = 0;
                for (; j < n; ++j) d[j] = src[j];
                for (; j < nr; ++j) d[j] = (T)0;
            }
        }
        return;
    }
    /* op(B) = B^T: row j of B becomes column j of the panel. */
    if (n < nr) memset(dst, 0, (size_t)(kc * nr) * sizeof(T));
    int64_t p0 = 0;
    for (; p0 + 8 <= kc; p0 += 8) {
        T *d = dst + p0 * nr;
        for (int j = 0; j < n; ++j) {
            const T *src = b + j * ldb + p0;
            for (int q = 0; q < 8; ++q) d[q * nr + j] = src[q];
        }
    }
    for (int64_t p = p0; p < kc; ++p) {
        T *d = dst + p * nr;
        for (int j = 0; j < n; ++j) d[j] = b[j * ldb + p];
    }
}
