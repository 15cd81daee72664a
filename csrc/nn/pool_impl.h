/* pool_impl.h — pooling kernels over T; see pool.c for the legend. */

/* x[P, H, W] -> out[P, OH, OW], win[P, OH, OW] (compact argmax, pool_table.h;
 * NULL: not computed) through the active ISA's plane loop; relu: out =
 * relu(max), and win marks the outputs it cuts. */
static void FN(nn_max_pool2d_forward_win)(T *out, uint8_t *win, const T *x, int64_t P,
                                          const nn_pool_geom *g, int relu) {
    const nn_pool_kernels *k = fdl_isa_kernels()->pool;
    const int64_t HW = g->H * g->W, OHW = g->OH * g->OW;
    int nt_ = fdl_threads_for(P * OHW * g->kh * g->kw);
    NN_OMP_FOR
    for (int64_t p = 0; p < P; p++)
        k->FN(max_fwd)(out + p * OHW, win ? win + p * OHW : NULL, x + p * HW, g, relu);
}

/* dx[P, H, W] = dout routed through win (written: dx needs no zeroing).
 * Returns 1 when some win entry lies outside its window. */
static int FN(nn_max_pool2d_backward_win)(T *dx, const uint8_t *win, const T *dout, int64_t P,
                                          const nn_pool_geom *g) {
    const nn_pool_kernels *k = fdl_isa_kernels()->pool;
    const int64_t HW = g->H * g->W, OHW = g->OH * g->OW;
    int nt_ = fdl_threads_for(P * (OHW + HW));
    int bad = 0;
    (void)nt_;
    #pragma omp parallel for schedule(static) num_threads(nt_) if(nt_ > 1) reduction(|:bad)
    for (int64_t p = 0; p < P; p++)
        bad |= k->FN(max_bwd)(dx + p * HW, win + p * OHW, dout + p * OHW, g);
    return bad;
}

/* x[P, H, W] -> out[P, OH, OW], argmax[P, OH, OW] = h * W + w of the max
 * (NaN wins, like PyTorch); padding counts as -inf. A window that lies
 * entirely in the padding (possible with dilation or ceil_mode) gives -inf
 * and argmax -1, which backward skips: PyTorch stores an index outside the
 * plane there and then scatters out of bounds. Windows of up to 255
 * elements run the compact plane loop, written into the first bytes of the
 * plane's own argmax rows and widened in place from the end (index k's
 * 8 bytes never overlap the bytes of an earlier, still unread entry). */
static void FN(nn_max_pool2d_forward)(T *out, int64_t *argmax, const T *x, int64_t P, int64_t H,
                                int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw,
                                int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh,
                                int64_t dw) {
    int nt_ = fdl_threads_for(P * OH * OW * kh * kw);
    if (kh * kw <= NN_POOL_NONE) {
        const nn_pool_kernels *k = fdl_isa_kernels()->pool;
        const nn_pool_geom g = {H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw};
        NN_OMP_FOR
        for (int64_t p = 0; p < P; p++) {
            int64_t *ap = argmax + p * OH * OW;
            uint8_t *wp = (uint8_t *)ap;
            k->FN(max_fwd)(out + p * OH * OW, wp, x + p * H * W, &g, 0);
            /* code -> offset from the window's corner, the 2x2 case's four (and every
             * window of up to 255) without a division per output */
            int64_t off[NN_POOL_NONE];
            for (int64_t c = 0; c < kh * kw; c++) off[c] = (c / kw) * dh * W + (c % kw) * dw;
            for (int64_t oh = OH - 1; oh >= 0; oh--)
                for (int64_t ow = OW - 1; ow >= 0; ow--) {
                    int64_t i = oh * OW + ow, c = wp[i];
                    ap[i] = c == NN_POOL_NONE ? -1
                            : (oh * sh - ph) * W + ow * sw - pw + off[c];
                }
        }
        return;
    }
    NN_OMP_FOR
    for (int64_t p = 0; p < P; p++) {
        const T *xp = x + p * H * W;
        T *op = out + p * OH * OW;
        int64_t *ap = argmax + p * OH * OW;
        for (int64_t oh = 0; oh < OH; oh++) {
            /* valid kernel rows [i0, i1): no bounds tests in the inner loops */
            int64_t hs = oh * sh - ph;
            int64_t i0 = hs < 0 ? FDL_CDIV(-hs, dh) : 0, i1 = FDL_MIN(kh, FDL_CDIV(H - hs, dh));
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t ws = ow * sw - pw;
                int64_t j0 = ws < 0 ? FDL_CDIV(-ws, dw) : 0, j1 = FDL_MIN(kw, FDL_CDIV(W - ws, dw));
                int64_t idx = -1;
                T best = -(T)INFINITY;
                if (i0 < i1 && j0 < j1) {
                    idx = (hs + i0 * dh) * W + ws + j0 * dw;
                    best = xp[idx];
                }
                for (int64_t i = i0; i < i1; i++) {
                    const T *row = xp + (hs + i * dh) * W + ws;
                    for (int64_t j = j0; j < j1; j++) {
                        T v = row[j * dw];
                        /* NaN wins and stays, like PyTorch */
                        if ((v > best) | (v != v)) { best = v; idx = (hs + i * dh) * W + ws + j * dw; }
                    }
                }
                op[oh * OW + ow] = best;
                ap[oh * OW + ow] = idx;
            }
        }
    }
}

/* dx[P, H, W] += dout routed through argmax; planes are disjoint, so the
 * plane-parallel loop needs no atomics. An argmax outside [0, H W) (-1 for
 * an all-padding window) routes nothing: backward never leaves its plane.
 * Returns 1 when some argmax other than -1 lies outside its plane. The check
 * rides on the scatter's own bounds test: a separate pass over the int64
 * indices cost as much as the scatter (max_pool2d backward, 64x32x28x28:
 * 0.26 ms -> 0.40 ms on 2 threads). */
static int FN(nn_max_pool2d_backward)(T *dx, const int64_t *argmax, const T *dout, int64_t P,
                                int64_t H, int64_t W, int64_t OH, int64_t OW) {
    int nt_ = fdl_threads_for(P * (OH * OW + H * W));
    int bad = 0;
    (void)nt_;
    #pragma omp parallel for schedule(static) num_threads(nt_) if(nt_ > 1) reduction(|:bad)
    for (int64_t p = 0; p < P; p++) {
        T *dp = dx + p * H * W;
        const T *gp = dout + p * OH * OW;
        const int64_t *ap = argmax + p * OH * OW;
        for (int64_t k = 0; k < OH * OW; k++) {
            if ((uint64_t)ap[k] < (uint64_t)(H * W)) dp[ap[k]] += gp[k];
            else bad |= ap[k] != -1;
        }
    }
    return bad;
}

/* window [hs, he) x [ws, we) of output (oh, ow) and its divisor, PyTorch's rule:
 * the padded window size, or the in-bounds size without count_include_pad */
#define AVG_WINDOW                                                               \
    int64_t hs = oh * sh - ph, ws = ow * sw - pw;                                \
    int64_t he = FDL_MIN(hs + kh, H + ph), we = FDL_MIN(ws + kw, W + pw);        \
    int64_t pool = (he - hs) * (we - ws);                                        \
    hs = FDL_MAX(hs, 0); ws = FDL_MAX(ws, 0);                                    \
    he = FDL_MIN(he, H); we = FDL_MIN(we, W);                                    \
    T div = (T)(count_include_pad ? pool : (he - hs) * (we - ws));

/* x[P, H, W] -> out[P, OH, OW] */
static void FN(nn_avg_pool2d_forward)(T *out, const T *x, int64_t P, int64_t H, int64_t W,
                                int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh,
                                int64_t sw, int64_t ph, int64_t pw, int count_include_pad) {
    int nt_ = fdl_threads_for(P * OH * OW * kh * kw);
    NN_OMP_FOR
    for (int64_t p = 0; p < P; p++) {
        const T *xp = x + p * H * W;
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                AVG_WINDOW
                T s = 0;
                for (int64_t h = hs; h < he; h++)
                    for (int64_t w = ws; w < we; w++) s += xp[h * W + w];
                out[(p * OH + oh) * OW + ow] = div > 0 ? s / div : (T)0;
            }
    }
}

static void FN(nn_avg_pool2d_backward)(T *dx, const T *dout, int64_t P, int64_t H, int64_t W,
                                 int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh,
                                 int64_t sw, int64_t ph, int64_t pw, int count_include_pad) {
    int nt_ = fdl_threads_for(P * OH * OW * kh * kw);
    NN_OMP_FOR
    for (int64_t p = 0; p < P; p++) {
        T *dp = dx + p * H * W;
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                AVG_WINDOW
                if (div <= 0) continue;
                T g = dout[(p * OH + oh) * OW + ow] / div;
                for (int64_t h = hs; h < he; h++)
                    for (int64_t w = ws; w < we; w++) dp[h * W + w] += g;
            }
    }
}

/* x[P, H, W] -> out[P, OH, OW] through the active ISA's plane loop (pool_rows.h) */
static void FN(nn_adaptive_avg_pool2d_forward)(T *out, const T *x, int64_t P, int64_t H, int64_t W,
                                         int64_t OH, int64_t OW) {
    const nn_pool_kernels *k = fdl_isa_kernels()->pool;
    const nn_pool_geom g = {H, W, OH, OW, 1, 1, 1, 1, 0, 0, 1, 1};
    int nt_ = fdl_threads_for(P * H * W);
    NN_OMP_FOR
    for (int64_t p = 0; p < P; p++) k->FN(adaptive_avg_fwd)(out + p * OH * OW, x + p * H * W, &g);
}

static void FN(nn_adaptive_avg_pool2d_backward)(T *dx, const T *dout, int64_t P, int64_t H, int64_t W,
                                          int64_t OH, int64_t OW) {
    const nn_pool_kernels *k = fdl_isa_kernels()->pool;
    const nn_pool_geom g = {H, W, OH, OW, 1, 1, 1, 1, 0, 0, 1, 1};
    int nt_ = fdl_threads_for(P * H * W);
    NN_OMP_FOR
    for (int64_t p = 0; p < P; p++) k->FN(adaptive_avg_bwd)(dx + p * H * W, dout + p * OH * OW, &g);
}
#undef AVG_WINDOW
