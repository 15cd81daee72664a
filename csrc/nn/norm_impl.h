/* norm_impl.h — batch_norm and layer_norm over T; see norm.c for the legend. */

/* x[N, C, S] -> out; mean[C], rstd[C] saved. training: batch statistics, and
 * running_mean/var (either may be NULL) updated in place with momentum, the
 * variance unbiased; eval: the running statistics. weight/bias may be NULL. */
void FN(fdl_batch_norm_forward)(T *out, T *mean, T *rstd, T *running_mean, T *running_var,
                                const T *x, const T *weight, const T *bias, int64_t N,
                                int64_t C, int64_t S, int training, T momentum, T eps) {
    int64_t M = N * S;
    int nt_ = fdl_threads_for(M * C * 3);
    NN_OMP_FOR
    for (int64_t c = 0; c < C; c++) {
        T mu, rs;
        if (training) {
            double s = 0, q = 0;
            for (int64_t n = 0; n < N; n++) {
                const T *xr = x + (n * C + c) * S;
                for (int64_t k = 0; k < S; k++) s += xr[k];
            }
            double m = s / (double)M;
            for (int64_t n = 0; n < N; n++) {
                const T *xr = x + (n * C + c) * S;
                for (int64_t k = 0; k < S; k++) { double d = xr[k] - m; q += d * d; }
            }
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

/* dx[N, C, S] += ..., dweight[C] += sum dout xhat, dbias[C] += sum dout; any
 * of dx, dweight, dbias may be NULL. One thread owns a channel's slices. */
void FN(fdl_batch_norm_backward)(T *dx, T *dweight, T *dbias, const T *mean, const T *rstd,
                                 const T *x, const T *weight, const T *dout, int64_t N,
                                 int64_t C, int64_t S, int training) {
    int64_t M = N * S;
    int nt_ = fdl_threads_for(M * C * 3);
    NN_OMP_FOR
    for (int64_t c = 0; c < C; c++) {
        T mu = mean[c], rs = rstd[c];
        double sg = 0, sgx = 0;
        for (int64_t n = 0; n < N; n++) {
            const T *xr = x + (n * C + c) * S, *gr = dout + (n * C + c) * S;
            for (int64_t k = 0; k < S; k++) { sg += gr[k]; sgx += gr[k] * ((xr[k] - mu) * rs); }
        }
        if (dweight) dweight[c] += (T)sgx;
        if (dbias) dbias[c] += (T)sg;
        if (!dx) continue;
        T a = rs * (weight ? weight[c] : (T)1);
        T mg = training ? (T)(sg / (double)M) : (T)0, mgx = training ? (T)(sgx / (double)M) : (T)0;
        for (int64_t n = 0; n < N; n++) {
            const T *xr = x + (n * C + c) * S, *gr = dout + (n * C + c) * S;
            T *dr = dx + (n * C + c) * S;
            for (int64_t k = 0; k < S; k++)
                dr[k] += a * (gr[k] - mg - (xr[k] - mu) * rs * mgx);
        }
    }
}

/* x[R, D] -> out, normalized over D; mean[R], rstd[R] saved */
void FN(fdl_layer_norm_forward)(T *out, T *mean, T *rstd, const T *x, const T *weight,
                                const T *bias, int64_t R, int64_t D, T eps) {
    int nt_ = fdl_threads_for(R * D * 3);
    NN_OMP_FOR
    for (int64_t r = 0; r < R; r++) {
        const T *xr = x + r * D;
        T *orow = out + r * D;
        double s = 0, q = 0;
        for (int64_t j = 0; j < D; j++) s += xr[j];
        double m = s / (double)D;
        for (int64_t j = 0; j < D; j++) { double d = xr[j] - m; q += d * d; }
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
void FN(fdl_layer_norm_backward)(T *dx, T *dweight, T *dbias, const T *mean, const T *rstd,
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
