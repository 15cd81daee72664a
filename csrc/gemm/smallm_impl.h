/*
 * gemm/smallm_impl.h — body of the small-M kernels over the element type T
 * and one ISA's vector width (VBYTES bytes); included per type by
 * ukernels/smallm_<isa>.c (see runtime/template.h).
 *
 * Legend: X[m, k] row-major (row i at x + i*ldx), m small (a few rows);
 *   dot:  C[m, n] = epi(X @ W^T), W[n, k] row-major (Linear's weight);
 *   axpy: C[m, n] = epi(X @ B),   B[k, n] row-major.
 * Nothing is packed: B or W is read once per call from where it lies, which
 * is what a batch-1 product needs (packing W costs as much as the product).
 *
 * GCC vector extensions lower to the ISA this file is compiled for (SSE2,
 * AVX2+FMA, AVX-512) and contract a*b+c into FMAs where the ISA has them.
 * Every C element is computed by the same operation sequence whatever block
 * or thread range it falls in (the 4-row and 1-row dot share one routine,
 * the column tails of axpy compute the same per-lane FMA chain), so results
 * do not depend on the thread count.
 */

#define VL ((int64_t)(VBYTES / sizeof(T)))
#if defined(__GNUC__)
typedef T FN(vec) __attribute__((vector_size(VBYTES), aligned(sizeof(T))));
#else
typedef T FN(vec);   /* one lane: VBYTES must equal sizeof(T) */
#endif
#define V FN(vec)

static inline V FN(vload)(const T *p) {
    V v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* lanes of v summed in lane order */
static inline T FN(hsum)(V v) {
    T t[VBYTES / sizeof(T)];
    memcpy(t, &v, sizeof v);
    T s = t[0];
    for (int64_t i = 1; i < VL; ++i) s += t[i];
    return s;
}

/* act(alpha * acc + beta * c + bias[j]) */
static inline T FN(smallm_epi)(T acc, T c, const FN(gemm_epi) *e, int64_t j) {
    T v = e->alpha * acc;
    if (e->beta != (T)0) v += e->beta * c;
    if (e->bias) v += e->bias[j];
    if (e->relu && v < (T)0) v = (T)0;   /* NaN stays NaN */
    return v;
}

/* out[r] = x[k] . w[r*ldw + (0..k)] for r < R (R = 4 or 1, a constant after
 * inlining); two vector accumulators per row cover the FMA latency. */
static inline __attribute__((always_inline)) void FN(dot_rows)(
        const int R, int64_t k, const T *restrict x, const T *restrict w, int64_t ldw,
        T *restrict out) {
    V a0[4], a1[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) a0[r] = a1[r] = (V){0};
    int64_t p = 0;
    for (; p + 2 * VL <= k; p += 2 * VL) {
        const V x0 = FN(vload)(x + p), x1 = FN(vload)(x + p + VL);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            a0[r] += x0 * FN(vload)(w + r * ldw + p);
            a1[r] += x1 * FN(vload)(w + r * ldw + p + VL);
        }
    }
    for (; p + VL <= k; p += VL) {
        const V x0 = FN(vload)(x + p);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) a0[r] += x0 * FN(vload)(w + r * ldw + p);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
        T s = FN(hsum)(a0[r] + a1[r]);
        for (int64_t q = p; q < k; ++q) s += x[q] * w[r * ldw + q];
        out[r] = s;
    }
}

/* C[m, n] = epi(X[m, k] @ W[n, k]^T) */
static void FN(smallm_dot)(int64_t m, int64_t n, int64_t k, const T *x, int64_t ldx,
                           const T *w, int64_t ldw, T *c, int64_t ldc,
                           const FN(gemm_epi) *e) {
    T s[4];
    int64_t j = 0;
    /* Four rows of W stay in L1 while every row of X passes over them. */
    for (; j + 4 <= n; j += 4)
        for (int64_t i = 0; i < m; ++i) {
            FN(dot_rows)(4, k, x + i * ldx, w + j * ldw, ldw, s);
            T *cr = c + i * ldc + j;
            for (int r = 0; r < 4; ++r) cr[r] = FN(smallm_epi)(s[r], cr[r], e, j + r);
        }
    for (; j < n; ++j)
        for (int64_t i = 0; i < m; ++i) {
            FN(dot_rows)(1, k, x + i * ldx, w + j * ldw, ldw, s);
            T *cr = c + i * ldc + j;
            cr[0] = FN(smallm_epi)(s[0], cr[0], e, j);
        }
}

/* acc[r][0..NV*VL) = X[r, k] @ B[k, NV*VL] for r < R (R <= 2, NV <= 4) */
static inline __attribute__((always_inline)) void FN(axpy_cols)(
        const int R, const int NV, int64_t k, const T *restrict x, int64_t ldx,
        const T *restrict b, int64_t ldb, T acc[2][4 * VBYTES / sizeof(T)]) {
    V a[2][4];
#pragma GCC unroll 2
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) a[r][v] = (V){0};
    for (int64_t p = 0; p < k; ++p) {
        V bv[4];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) bv[v] = FN(vload)(b + p * ldb + v * VL);
#pragma GCC unroll 2
        for (int r = 0; r < R; ++r) {
            const V xr = (V){0} + x[r * ldx + p];
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) a[r][v] += xr * bv[v];
        }
    }
    for (int r = 0; r < R; ++r) memcpy(acc[r], a[r], (size_t)NV * sizeof(V));
}

/* C[i0 .. i0+R, j .. j+w) = epi(acc) */
static inline void FN(axpy_store)(int R, int64_t w, T acc[2][4 * VBYTES / sizeof(T)], T *c,
                                  int64_t ldc, int64_t j, const FN(gemm_epi) *e) {
    for (int r = 0; r < R; ++r)
        for (int64_t q = 0; q < w; ++q)
            c[r * ldc + j + q] = FN(smallm_epi)(acc[r][q], c[r * ldc + j + q], e, j + q);
}

/* C[m, n] = epi(X[m, k] @ B[k, n]) */
static void FN(smallm_axpy)(int64_t m, int64_t n, int64_t k, const T *x, int64_t ldx,
                            const T *b, int64_t ldb, T *c, int64_t ldc,
                            const FN(gemm_epi) *e) {
    T acc[2][4 * VBYTES / sizeof(T)];
    int64_t i = 0;
    for (; i < m; i += 2) {
        const T *xi = x + i * ldx;
        T *ci = c + i * ldc;
        const int two = i + 1 < m;
        int64_t j = 0;
        for (; j + 4 * VL <= n; j += 4 * VL) {
            if (two) FN(axpy_cols)(2, 4, k, xi, ldx, b + j, ldb, acc);
            else FN(axpy_cols)(1, 4, k, xi, ldx, b + j, ldb, acc);
            FN(axpy_store)(two ? 2 : 1, 4 * VL, acc, ci, ldc, j, e);
        }
        for (; j + VL <= n; j += VL) {
            if (two) FN(axpy_cols)(2, 1, k, xi, ldx, b + j, ldb, acc);
            else FN(axpy_cols)(1, 1, k, xi, ldx, b + j, ldb, acc);
            FN(axpy_store)(two ? 2 : 1, VL, acc, ci, ldc, j, e);
        }
        /* Last columns (fewer than a vector): one FMA chain over p per
         * column, as in a lane, with the columns' chains interleaved. */
        if (j < n)
            for (int r = 0; r < 1 + two; ++r) {
                T s[VBYTES / sizeof(T)] = {0};
                const int64_t w = n - j;
                for (int64_t p = 0; p < k; ++p) {
                    const T xp = xi[r * ldx + p];
                    for (int64_t q = 0; q < w; ++q) s[q] += xp * b[p * ldb + j + q];
                }
                for (int64_t q = 0; q < w; ++q)
                    ci[r * ldc + j + q] = FN(smallm_epi)(s[q], ci[r * ldc + j + q], e, j + q);
            }
    }
}

#undef V
#undef VL
