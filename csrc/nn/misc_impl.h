/* misc_impl.h — dropout and embedding over T; see dropout.c and embedding.c. */

#define NN_DROP_CHUNK 8192

/* x[N] -> out[N] = mask ? x / (1 - p) : 0, mask[N] in {0, 1} saved. The mask
 * of element i is a pure function of (seed, stream, i), so the result does
 * not depend on the thread count. Chunks keep the mask in L1 for the scale. */
static void FN(nn_dropout_forward)(T *out, uint8_t *mask, const T *x, int64_t n, T p, uint64_t seed,
                             uint64_t stream) {
    T scale = p < 1 ? (T)1 / ((T)1 - p) : (T)0;
    int64_t nc = FDL_CDIV(n, NN_DROP_CHUNK);
    int nt_ = fdl_threads_for(n * 4);
    NN_OMP_FOR
    for (int64_t c = 0; c < nc; c++) {
        int64_t lo = c * NN_DROP_CHUNK, m = FDL_MIN(NN_DROP_CHUNK, n - lo);
        /* runs serially here: a nested OpenMP region gets one thread */
        fdl_rng_bernoulli(mask + lo, m, seed, stream, (uint64_t)lo, (float)(1 - p));
        for (int64_t i = lo; i < lo + m; i++) out[i] = mask[i] ? x[i] * scale : (T)0;
    }
}

/* dx[N] += mask ? dout / (1 - p) : 0 */
static void FN(nn_dropout_backward)(T *dx, const uint8_t *mask, const T *dout, int64_t n, T p) {
    T scale = p < 1 ? (T)1 / ((T)1 - p) : (T)0;
    int nt_ = fdl_threads_for(n * 2);
    NN_OMP_FOR
    for (int t = 0; t < nt_; t++) {
        int64_t lo = n * t / nt_, hi = n * (t + 1) / nt_;
        for (int64_t i = lo; i < hi; i++) dx[i] += mask[i] ? dout[i] * scale : (T)0;
    }
}

/* weight[V, D], idx[N] (validated in [0, V)) -> out[N, D] */
static void FN(nn_embedding_forward)(T *out, const int64_t *idx, const T *weight, int64_t N,
                               int64_t D) {
    int nt_ = fdl_threads_for(N * D);
    NN_OMP_FOR
    for (int64_t i = 0; i < N; i++) memcpy(out + i * D, weight + idx[i] * D, (size_t)D * sizeof(T));
}

/* dweight[V, D] += scatter of dout[N, D] by idx; rows equal to padding_idx
 * (negative: none) are skipped. Threads split the D columns and each walks
 * all N indices in order: no atomics, same sums for any thread count. */
static void FN(nn_embedding_backward)(T *dweight, const int64_t *idx, const T *dout, int64_t N,
                                int64_t D, int64_t padding_idx) {
    int nt_ = fdl_threads_for(N * D * 2);
    if (D < 64 * nt_) nt_ = 1;
    NN_OMP_FOR
    for (int t = 0; t < nt_; t++) {
        int64_t j0 = D * t / nt_, j1 = D * (t + 1) / nt_;
        for (int64_t i = 0; i < N; i++) {
            if (idx[i] == padding_idx) continue;
            T *d = dweight + idx[i] * D;
            const T *g = dout + i * D;
            for (int64_t j = j0; j < j1; j++) d[j] += g[j];
        }
    }
}
