/*
 * conv_impl.h — the convolution body over T (see conv.c and
 * runtime/template.h): per-sample im2col + GEMM forward, col2im backward,
 * weight gradients in fixed sample slots. CONV_GEMM is fdl_sgemm or
 * fdl_dgemm.
 */

/* col[CRS, PQ] from one sample's channel group x[Cg, H, W] */
static void FN(im2col)(T *col, const T *x, int64_t Cg, const fdl_conv2d_params *p,
                         int64_t P, int64_t Q) {
    const int64_t H = p->H, W = p->W, R = p->R, KW = conv_kw(p), sw = p->stride_w;
    for (int64_t c = 0; c < Cg; c++)
        for (int64_t r = 0; r < R; r++)
            for (int64_t s = 0; s < KW; s++) {
                T *row = col + ((c * R + r) * KW + s) * P * Q;
                int64_t off = s * p->dil_w - p->pad_w, lo, hi;
                valid_q(off, sw, W, Q, &lo, &hi);
                for (int64_t pp = 0; pp < P; pp++) {
                    int64_t ih = pp * p->stride_h - p->pad_h + r * p->dil_h;
                    T *dst = row + pp * Q;
                    if (ih < 0 || ih >= H) { memset(dst, 0, Q * sizeof(T)); continue; }
                    const T *src = x + (c * H + ih) * W + off;
                    for (int64_t q = 0; q < lo; q++) dst[q] = 0;
                    if (sw == 1) memcpy(dst + lo, src + lo, (hi - lo) * sizeof(T));
                    else for (int64_t q = lo; q < hi; q++) dst[q] = src[q * sw];
                    for (int64_t q = hi; q < Q; q++) dst[q] = 0;
                }
            }
}
/* dx[Cg, H, W] += col2im(dcol[CRS, PQ]) */
static void FN(col2im)(T *dx, const T *dcol, int64_t Cg, const fdl_conv2d_params *p,
                         int64_t P, int64_t Q) {
    const int64_t H = p->H, W = p->W, R = p->R, KW = conv_kw(p), sw = p->stride_w;
    for (int64_t c = 0; c < Cg; c++)
        for (int64_t r = 0; r < R; r++)
            for (int64_t s = 0; s < KW; s++) {
                const T *row = dcol + ((c * R + r) * KW + s) * P * Q;
                int64_t off = s * p->dil_w - p->pad_w, lo, hi;
                valid_q(off, sw, W, Q, &lo, &hi);
                for (int64_t pp = 0; pp < P; pp++) {
                    int64_t ih = pp * p->stride_h - p->pad_h + r * p->dil_h;
                    if (ih < 0 || ih >= H) continue;
                    T *dst = dx + (c * H + ih) * W + off;
                    const T *src = row + pp * Q;
                    for (int64_t q = lo; q < hi; q++) dst[q * sw] += src[q];
                }
            }
}

static int FN(conv2d_forward)(T *out, const T *x, const T *w, const T *bias,
                            const fdl_conv2d_params *p, void *ws, int64_t ws_bytes) {
    int64_t P, Q;
    int st = conv_dims(p, &P, &Q);
    if (st != FDL_OK) return st;
    if (p->N == 0) return FDL_OK;
    int err = FDL_OK;
    if (!out || !x || !w) return FDL_ERR_NULL;
    const int64_t G = p->groups, Cg = p->C / G, Kg = p->K / G, PQ = P * Q;
    const int64_t CRS = Cg * p->R * conv_kw(p), HW = p->H * p->W;
    const int direct = is_direct(p);
    const int64_t panel = conv_panel(p, P, Q);
    int64_t nt = conv_threads(p, P, Q);
    if (panel) {
        if (!ws) return FDL_ERR_WORKSPACE;
        nt = FDL_MIN(nt, ws_bytes / (int64_t)sizeof(T) / panel);
        if (nt < 1) return FDL_ERR_WORKSPACE;
    }
    T *wsT = (T *)ws;
    _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1)")
    for (int64_t n = 0; n < p->N; n++) {
        T *col = panel ? wsT + thread_id() * panel : NULL;
        for (int64_t g = 0; g < G; g++) {
            const T *xg = x + (n * p->C + g * Cg) * HW;
            T *og = out + (n * p->K + g * Kg) * PQ;
            const T *B = xg;
            if (!direct) { FN(im2col)(col, xg, Cg, p, P, Q); B = col; }
            T beta = 0;
            if (bias) {
                for (int64_t k = 0; k < Kg; k++) {
                    T b = bias[g * Kg + k];
                    for (int64_t i = 0; i < PQ; i++) og[k * PQ + i] = b;
                }
                beta = 1;
            }
            CONV_NOTE(err, CONV_GEMM(0, 0, Kg, PQ, CRS, 1, w + g * Kg * CRS, CRS, B, PQ, beta, og, PQ));
        }
    }
    return err;
}

static int FN(conv2d_backward)(T *dx, T *dw, T *db, const T *dout, const T *x, const T *w,
                             const fdl_conv2d_params *p, void *ws, int64_t ws_bytes) {
    int64_t P, Q;
    int st = conv_dims(p, &P, &Q);
    if (st != FDL_OK) return st;
    if (p->N == 0) return FDL_OK;
    int err = FDL_OK;
    if (!dout || (dx && !w) || (dw && !x)) return FDL_ERR_NULL;
    const int64_t G = p->groups, Cg = p->C / G, Kg = p->K / G, PQ = P * Q;
    const int64_t CRS = Cg * p->R * conv_kw(p), HW = p->H * p->W, wsz = p->K * CRS;
    const int direct = is_direct(p);
    const int64_t panel = conv_panel(p, P, Q);
    const int64_t ns = dw ? conv_slots(p) : 0;
    int64_t avail = ws ? ws_bytes / (int64_t)sizeof(T) - ns * wsz : 0;
    if (ns && avail < 0) return FDL_ERR_WORKSPACE;
    int64_t nt = conv_threads(p, P, Q);
    if (panel) {
        nt = FDL_MIN(nt, avail / panel);
        if (nt < 1) return FDL_ERR_WORKSPACE;
    }
    T *wsT = (T *)ws;
    if (dx) {
        _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1)")
        for (int64_t n = 0; n < p->N; n++) {
            T *dcol = panel ? wsT + thread_id() * panel : NULL;
            for (int64_t g = 0; g < G; g++) {
                const T *wg = w + g * Kg * CRS;
                const T *dg = dout + (n * p->K + g * Kg) * PQ;
                T *dxg = dx + (n * p->C + g * Cg) * HW;
                if (direct) {
                    CONV_NOTE(err, CONV_GEMM(1, 0, CRS, PQ, Kg, 1, wg, CRS, dg, PQ, 1, dxg, PQ));
                } else {
                    CONV_NOTE(err, CONV_GEMM(1, 0, CRS, PQ, Kg, 1, wg, CRS, dg, PQ, 0, dcol, PQ));
                    FN(col2im)(dxg, dcol, Cg, p, P, Q);
                }
            }
        }
    }
    if (dw) {
        T *slots = wsT + (panel ? nt * panel : 0);
        memset(slots, 0, ns * wsz * sizeof(T));
        int64_t nts = FDL_MIN(nt, ns);
        _Pragma("omp parallel for schedule(static) num_threads(nts) if(nts > 1)")
        for (int64_t s = 0; s < ns; s++) {
            T *col = panel ? wsT + thread_id() * panel : NULL;
            for (int64_t n = s; n < p->N; n += ns)
                for (int64_t g = 0; g < G; g++) {
                    const T *xg = x + (n * p->C + g * Cg) * HW;
                    const T *dg = dout + (n * p->K + g * Kg) * PQ;
                    const T *B = xg;
                    if (!direct) { FN(im2col)(col, xg, Cg, p, P, Q); B = col; }
                    CONV_NOTE(err, CONV_GEMM(0, 1, Kg, CRS, PQ, 1, dg, PQ, B, PQ, 1,
                         slots + s * wsz + g * Kg * CRS, CRS));
                }
        }
        int nt2 = fdl_threads_for(wsz * ns);
        _Pragma("omp parallel for schedule(static) num_threads(nt2) if(nt2 > 1)")
        for (int64_t i = 0; i < wsz; i++) {
            T acc = 0;
            for (int64_t s = 0; s < ns; s++) acc += slots[s * wsz + i];
            dw[i] += acc;
        }
    }
    if (db) {
        int ntb = fdl_threads_for(p->N * p->K * PQ);
        _Pragma("omp parallel for schedule(static) num_threads(ntb) if(ntb > 1)")
        for (int64_t k = 0; k < p->K; k++) {
            double acc = 0;
            for (int64_t n = 0; n < p->N; n++) {
                const T *d = dout + (n * p->K + k) * PQ;
                for (int64_t i = 0; i < PQ; i++) acc += (double)d[i];
            }
            db[k] += (T)acc;
        }
    }
    return err;
}
