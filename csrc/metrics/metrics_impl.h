/*
 * metrics_impl.h — the metric kernels over the score type T (see metrics.c
 * and runtime/template.h): argmax and threshold confusion updates, top-k
 * hits, regression sums.
 */

static void FN(confusion_rows)(int64_t *cm, const T *scores,
                                 const int64_t *labels, int64_t lo, int64_t hi,
                                 int64_t C) {
    for (int64_t i = lo; i < hi; i++) {
        const T *row = scores + i * C;
        int64_t best = 0;
        T bv = row[0];
        int nan = bv != bv;
        /* Select, not branch: on unsorted scores the "new maximum" branch
         * mispredicts often enough to dominate the loop. */
        for (int64_t j = 1; j < C; j++) {
            T v = row[j];
            int gt = v > bv;
            bv = gt ? v : bv;
            best = gt ? j : best;
            nan |= v != v;
        }
        if (FDL_UNLIKELY(nan))
            for (best = 0; row[best] == row[best]; best++) {}
        cm[labels[i] * C + best]++;
    }
}
static int FN(confusion_update_scores)(int64_t *cm, int64_t *work, int64_t ws,
                                      const T *scores, const int64_t *labels,
                                      int64_t N, int64_t C) {
    if (N < 0 || C < 1 || ws < 0) return FDL_ERR_ARG;
    if (N == 0) return FDL_OK;
    if (!cm || !scores || !labels || (ws > 0 && !work)) return FDL_ERR_NULL;
    if (fdl_labels_first_invalid(labels, N, C) >= 0) return FDL_ERR_ARG;
    int nt = confusion_threads(N * C, ws, C);
    FDL_CONFUSION_DRIVER(FN(confusion_rows)(dst, scores, labels, lo, hi, C));
    return FDL_OK;
}

static int FN(confusion_update_binary)(int64_t *cm, const T *scores,
                                      const int64_t *labels, int64_t N,
                                      double threshold) {
    if (N < 0) return FDL_ERR_ARG;
    if (N == 0) return FDL_OK;
    if (!cm || !scores || !labels) return FDL_ERR_NULL;
    if (fdl_labels_first_invalid(labels, N, 2) >= 0) return FDL_ERR_ARG;
    /* counts[y*2 + p]: exact integers, so the OpenMP reduction is exact. */
    int64_t c00 = 0, c01 = 0, c10 = 0, c11 = 0;
    int nt = fdl_threads_for(N);
    (void)nt;
    _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1) reduction(+:c00, c01, c10, c11)")
    for (int64_t i = 0; i < N; i++) {
        int p = (double)scores[i] > threshold;
        int64_t y = labels[i];
        c00 += (y == 0) & (p == 0);
        c01 += (y == 0) & (p == 1);
        c10 += (y == 1) & (p == 0);
        c11 += (y == 1) & (p == 1);
    }
    cm[0] += c00; cm[1] += c01; cm[2] += c10; cm[3] += c11;
    return FDL_OK;
}

static int FN(topk_correct)(int64_t *correct, const T *scores,
                           const int64_t *labels, int64_t N, int64_t C,
                           int64_t k) {
    if (N < 0 || C < 1 || k < 1) return FDL_ERR_ARG;
    if (N == 0) return FDL_OK;
    if (!correct || !scores || !labels) return FDL_ERR_NULL;
    if (fdl_labels_first_invalid(labels, N, C) >= 0) return FDL_ERR_ARG;
    int64_t hits = 0;
    int nt = fdl_threads_for(N * C);
    (void)nt;
    _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1) reduction(+:hits)")
    for (int64_t i = 0; i < N; i++) {
        const T *row = scores + i * C;
        T s = row[labels[i]];
        if (s != s) continue;
        int64_t above = 0;
        for (int64_t j = 0; j < C && above < k; j++) above += row[j] > s;
        hits += above < k;
    }
    *correct += hits;
    return FDL_OK;
}

static void FN(regression_block)(double *st, const T *pred, const T *target,
                                   int64_t lo, int64_t hi, int64_t D) {
    double sae = 0, sse = 0, sy = 0;
    for (int64_t i = lo; i < hi; i++) {
        double y = (double)target[i * D], e = (double)pred[i * D] - y;
        sae += fabs(e);
        sse += e * e;
        sy += y;
    }
    double n = (double)(hi - lo), mean = sy / n, m2 = 0;
    /* Second pass over the (cache-hot) block: centred squares keep SS_tot
     * accurate when the mean dwarfs the spread. */
    for (int64_t i = lo; i < hi; i++) {
        double d = (double)target[i * D] - mean;
        m2 += d * d;
    }
    st[0] = n; st[1] = sae; st[2] = sse; st[3] = mean; st[4] = m2;
}
static int FN(regression_update)(double *state, const T *pred, const T *target,
                                int64_t N, int64_t D) {
    if (N < 0 || D < 1) return FDL_ERR_ARG;
    if (N == 0) return FDL_OK;
    if (!state || !pred || !target) return FDL_ERR_NULL;
    int64_t nblocks = FDL_CDIV(N, FDL_REG_BLOCK);
    double part[FDL_REG_ROUND][FDL_REG_STATE];
    for (int64_t d = 0; d < D; d++) {
        double *sd = state + d * FDL_REG_STATE;
        for (int64_t b0 = 0; b0 < nblocks; b0 += FDL_REG_ROUND) {
            int64_t nb = FDL_MIN(FDL_REG_ROUND, nblocks - b0);
            int64_t rows = FDL_MIN(N, (b0 + nb) * FDL_REG_BLOCK) -
                           b0 * FDL_REG_BLOCK;
            int nt = fdl_threads_for(2 * rows);
            (void)nt;
            _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1)")
            for (int64_t b = 0; b < nb; b++) {
                int64_t lo = (b0 + b) * FDL_REG_BLOCK;
                int64_t hi = FDL_MIN(N, lo + FDL_REG_BLOCK);
                FN(regression_block)(part[b], pred + d, target + d, lo, hi, D);
            }
            for (int64_t b = 0; b < nb; b++) fdl_regression_merge(sd, part[b]);
        }
    }
    return FDL_OK;
}
