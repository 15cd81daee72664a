/* norm_impl.h — batch_norm and layer_norm over T; see norm.c for the legend. */

/* Sums over a channel's segments in 16 double lanes, combined in a fixed
 * order: gcc vectorizes the lane loop (a single serial double accumulator
 * would not), and the order does not depend on threads. */
static inline double FDL_CAT(lanes_total, S)(double *acc) {
    for (int l = 0; l < 8; l++) acc[l] += acc[l + 8];
    for (int l = 0; l < 4; l++) acc[l] += acc[l + 4];
    return (acc[0] + acc[2]) + (acc[1] + acc[3]);
}

/* sum of x[k] - shift (or its square when sq) over one segment, added into acc */
static inline void FDL_CAT(seg_sum, S)(double *acc, const T *x, int64_t n, double shift, int sq) {
    int64_t k = 0;
    if (sq) {
        for (; k + 16 <= n; k += 16)
            for (int l = 0; l < 16; l++) { double d = (double)x[k + l] - shift; acc[l] += d * d; }
        for (; k < n; k++) { double d = (double)x[k] - shift; acc[k & 15] += d * d; }
    } else {
        for (; k + 16 <= n; k += 16)
            for (int l = 0; l < 16; l++) acc[l] += (double)x[k + l] - shift;
        for (; k < n; k++) acc[k & 15] += (double)x[k] - shift;
    }
}

/* sum of g[k] and of g[k] * (x[k] - mu) over one segment */
static inline void FDL_CAT(seg_gsum, S)(double *ag, double *agx, const T *g, const T *x,
                                      int64_t n, T mu) {
    int64_t k = 0;
    for (; k + 16 <= n; k += 16)
        for (int l = 0; l < 16; l++) {
            ag[l] += (double)g[k + l];
            agx[l] += (double)g[k + l] * (double)(x[k + l] - mu);
        }
    for (; k < n; k++) { ag[k & 15] += (double)g[k]; agx[k & 15] += (double)g[k] * (double)(x[k] - mu); }
}

/* x[N, C, S] -> out; mean[C], rstd[C] saved. training: batch statistics, and
 * running_mean/var (either may be NULL) updated in place with momentum, the
 * variance unbiased; eval: the running statistics. weight/bias may be NULL. */
static void FN(nn_batch_norm_forward)(T *out, T *mean, T *rstd, T *running_mean, T *running_var,
                                const T *x, const T *weight, const T *bias, int64_t N,
                                int64_t C, int64_t S, int training, T momentum, T eps) {
    int64_t M = N * S;
    int nt_ = fdl_threads_for(M * C * 3);
    NN_OMP_FOR
    for (int64_t c = 0; c < C; c++) {
        T mu, rs;
        if (training) {
            double acc[16] = {0}, accq[16] = {0};
            for (int64_t n = 0; n < N; n++) FDL_CAT(seg_sum, S)(acc, x + (n * C + c) * S, S, 0, 0);
            double m = FDL_CAT(lanes_total, S)(acc) / (double)M;
            for (int64_t n = 0; n < N; n++) FDL_CAT(seg_sum, S)(accq, x + (n * C + c) * S, S, m, 1);
            double q = FDL_CAT(lanes_total, S)(accq);
            double var = q / (double)M;
            mu = (T)m;
            rs = (T)(1.0 / sqrt(var + (double)eps));
            if (running_mean)
                running_mean[c] = (T)((1.0 - momentum) * running_mean[c] + momentum * m);
            if (running_var)
                running_var[c] = (T)((1.0 - momentum) * running_var[c]
                                     + momentum * (M > 1 ? q / (double)(M - 1) : var));
        } else {
            mu = running_mean[c];
            rs = (T)(1.0 / sqrt((double)running_var[c] + (double)eps));
        }
        mean[c] = mu;
        rstd[c] = rs;
        T a = rs * (weight ? weight[c] : (T)1), b = bias ? bias[c] : (T)0;
        for (int64_t n = 0; n < N; n++) {
            const T *xr = x + (n * C + c) * S;
            T *orow = out + (n * C + c) * S;
            for (int64_t k = 0; k < S; k++) orow[k] = (xr[k] - mu) * a + b;
        }
    }
}

/* dx[N, C, S] = ... (written: the input gradient is fresh, so no zeroing pass and
 * no read of dx), dweight[C] += sum dout xhat, dbias[C] += sum dout; any of dx,
 * dweight, dbias may be NULL. One thread owns a channel's slices. */
static void FN(nn_batch_norm_backward)(T *dx, T *dweight, T *dbias, const T *mean, const T *rstd,
                                 const T *x, const T *weight, const T *dout, int64_t N,
                                 int64_t C, int64_t S, int training) {
    int64_t M = N * S;
    int nt_ = fdl_threads_for(M * C * 3);
    NN_OMP_FOR
    for (int64_t c = 0; c < C; c++) {
        T mu = mean[c], rs = rstd[c];
        double ag[16] = {0}, agx[16] = {0};
        for (int64_t n = 0; n < N; n++)
            FDL_CAT(seg_gsum, S)(ag, agx, dout + (n * C + c) * S, x + (n * C + c) * S, S, mu);
        double sg = FDL_CAT(lanes_total, S)(ag), sgx = FDL_CAT(lanes_total, S)(agx) * (double)rs;
        if (dweight) dweight[c] += (T)sgx;
        if (dbias) dbias[c] += (T)sg;
        if (!dx) continue;
        T a = rs * (weight ? weight[c] : (T)1);
        T mg = training ? (T)(sg / (double)M) : (T)0, mgx = training ? (T)(sgx / (double)M) : (T)0;
        for (int64_t n = 0; n < N; n++) {
            const T *xr = x + (n * C + c) * S, *gr = dout + (n * C + c) * S;
            T *dr = dx + (n * C + c) * S;
            for (int64_t k = 0; k < S; k++)
                dr[k] = a * (gr[k] - mg - (xr[k] - mu) * rs * mgx);
        }
    }
}

/* x[R, D] -> out, normalized over D; mean[R], rstd[R] saved */
static void FN(nn_layer_norm_forward)(T *out, T *mean, T *rstd, const T *x, const T *weight,
                                const T *bias, int64_t R, int64_t D, T eps) {
    int nt_ = fdl_threads_for(R * D * 3);
    NN_OMP_FOR
    for (int64_t r = 0; r < R; r++) {
        const T *xr = x + r * D;
        T *orow = out + r * D;
        double acc[16] = {0}, accq[16] = {0};
        FDL_CAT(seg_sum, S)(acc, xr, D, 0, 0);
        double m = FDL_CAT(lanes_total, S)(acc) / (double)D;
        FDL_CAT(seg_sum, S)(accq, xr, D, m, 1);
        double q = FDL_CAT(lanes_total, S)(accq);
        T mu = (T)m, rs = (T)(1.0 / sqrt(q / (double)D + (double)eps));
        mean[r] = mu;
        rstd[r] = rs;
        for (int64_t j = 0; j < D; j++) {
            T v = (xr[j] - mu) * rs;
            orow[j] = v * (weight ? weight[j] : (T)1) + (bias ? bias[j] : (T)0);
        }
    }
}

/* Two loop nests writing disjoint memory: rows for dx, column blocks for
 * dweight/dbias (each column summed over rows in order by one thread). */
static void FN(nn_layer_norm_backward)(T *dx, T *dweight, T *dbias, const T *mean, const T *rstd,
                                 const T *x, const T *weight, const T *dout, int64_t R,
                                 int64_t D) {
    if (dx) {
        int nt_ = fdl_threads_for(R * D * 3);
        NN_OMP_FOR
        for (int64_t r = 0; r < R; r++) {
            const T *xr = x + r * D, *gr = dout + r * D;
            T *dr = dx + r * D;
            T mu = mean[r], rs = rstd[r];
            double a = 0, b = 0;
            for (int64_t j = 0; j < D; j++) {
                T gw = gr[j] * (weight ? weight[j] : (T)1);
                a += gw;
                b += gw * ((xr[j] - mu) * rs);
            }
            T ma = (T)(a / (double)D), mb = (T)(b / (double)D);
            for (int64_t j = 0; j < D; j++) {
                T gw = gr[j] * (weight ? weight[j] : (T)1);
                dr[j] += rs * (gw - ma - (xr[j] - mu) * rs * mb);
            }
        }
    }
    if (dweight || dbias) {
        int nt_ = fdl_threads_for(R * D * 2);
        if (D < 64 * nt_) nt_ = 1;
        NN_OMP_FOR
        for (int t = 0; t < nt_; t++) {
            int64_t j0 = D * t / nt_, j1 = D * (t + 1) / nt_;
            for (int64_t r = 0; r < R; r++) {
                const T *xr = x + r * D, *gr = dout + r * D;
                T mu = mean[r], rs = rstd[r];
                if (dweight) for (int64_t j = j0; j < j1; j++) dweight[j] += gr[j] * ((xr[j] - mu) * rs);
                if (dbias) for (int64_t j = j0; j < j1; j++) dbias[j] += gr[j];
            }
        }
    }
}
