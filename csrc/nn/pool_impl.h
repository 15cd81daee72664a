/* pool_impl.h — pooling kernels over T; see pool.c for the legend. */

/* x[P, H, W] -> out[P, OH, OW], argmax[P, OH, OW] = h * W + w of the max
 * (NaN wins, like PyTorch); padding counts as -inf. A window that lies
 * entirely in the padding (possible with dilation or ceil_mode) gives -inf
 * and argmax -1, which backward skips: PyTorch stores an index outside the
 * plane there and then scatters out of bounds. */
static void FN(nn_max_pool2d_forward)(T *out, int64_t *argmax, const T *x, int64_t P, int64_t H,
                                int64_t W, int64_t OH, int64_t OW, int64_t kh, int64_t kw,
                                int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh,
                                int64_t dw) {
    int nt_ = fdl_threads_for(P * OH * OW * kh * kw);
    if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && dh == 1 && dw == 1 &&
        2 * OH <= H && 2 * OW <= W) {
        /* (ceil_mode's partial last window takes the general loop below) */
        /* The CNN case: straight-line selects instead of the general window
         * loops (about 5x faster); same comparison order, so same result. */
        NN_OMP_FOR
        for (int64_t p = 0; p < P; p++) {
            const T *xp = x + p * H * W;
            T *op = out + p * OH * OW;
            int64_t *ap = argmax + p * OH * OW;
            for (int64_t oh = 0; oh < OH; oh++) {
                const T *r0 = xp + 2 * oh * W, *r1 = r0 + W;
                const int64_t base = 2 * oh * W;
                for (int64_t ow = 0; ow < OW; ow++) {
                    const int64_t c = 2 * ow;
                    const T a = r0[c], b = r0[c + 1], e = r1[c], f = r1[c + 1];
                    T best = a;
                    int64_t idx = base + c;
                    if (FDL_UNLIKELY((a != a) | (b != b) | (e != e) | (f != f))) {
                        /* NaN wins and stays: the general rule, rarely taken */
                        int t;
                        t = (b > best) | (b != b); best = t ? b : best; idx = t ? base + c + 1 : idx;
                        t = (e > best) | (e != e); best = t ? e : best; idx = t ? base + W + c : idx;
                        t = (f > best) | (f != f); best = t ? f : best; idx = t ? base + W + c + 1 : idx;
                    } else {
                        /* no NaN: plain max/select, no data-dependent branches */
                        idx = b > best ? base + c + 1 : idx;
                        best = b > best ? b : best;
                        idx = e > best ? base + W + c : idx;
                        best = e > best ? e : best;
                        idx = f > best ? base + W + c + 1 : idx;
                        best = f > best ? f : best;
                    }
                    op[oh * OW + ow] = best;
                    ap[oh * OW + ow] = idx;
                }
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

/* x[P, H, W] -> out[P, OH, OW]; window of oh is [floor(oh H / OH), ceil((oh + 1) H / OH)) */
static void FN(nn_adaptive_avg_pool2d_forward)(T *out, const T *x, int64_t P, int64_t H, int64_t W,
                                         int64_t OH, int64_t OW) {
    int nt_ = fdl_threads_for(P * H * W);
    NN_OMP_FOR
    for (int64_t p = 0; p < P; p++) {
        const T *xp = x + p * H * W;
        for (int64_t oh = 0; oh < OH; oh++) {
            int64_t hs = oh * H / OH, he = ((oh + 1) * H + OH - 1) / OH;
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t ws = ow * W / OW, we = ((ow + 1) * W + OW - 1) / OW;
                T s = 0;
                for (int64_t h = hs; h < he; h++)
                    for (int64_t w = ws; w < we; w++) s += xp[h * W + w];
                out[(p * OH + oh) * OW + ow] = s / (T)((he - hs) * (we - ws));
            }
        }
    }
}

static void FN(nn_adaptive_avg_pool2d_backward)(T *dx, const T *dout, int64_t P, int64_t H, int64_t W,
                                          int64_t OH, int64_t OW) {
    int nt_ = fdl_threads_for(P * H * W);
    NN_OMP_FOR
    for (int64_t p = 0; p < P; p++) {
        T *dp = dx + p * H * W;
        for (int64_t oh = 0; oh < OH; oh++) {
            int64_t hs = oh * H / OH, he = ((oh + 1) * H + OH - 1) / OH;
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t ws = ow * W / OW, we = ((ow + 1) * W + OW - 1) / OW;
                T g = dout[(p * OH + oh) * OW + ow] / (T)((he - hs) * (we - ws));
                for (int64_t h = hs; h < he; h++)
                    for (int64_t w = ws; w < we; w++) dp[h * W + w] += g;
            }
        }
    }
}
#undef AVG_WINDOW
