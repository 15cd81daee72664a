/*
 * pool_rows.h — max and adaptive-average pooling plane loops over T (see
 * types_begin.h), compiled once per ISA by pool_<isa>.c, so gcc vectorizes
 * the same plain loops at that file's vector width (the float 2x2 max rows
 * are intrinsics, pool_simd.h). pool.c owns the loop over planes (one plane
 * per thread at a time, so no element is written twice).
 *
 * Legend (nn_pool_geom): one plane x[H, W] -> out[OH, OW]; kernel kh x kw,
 * stride sh, sw, padding ph, pw, dilation dh, dw. win[OH, OW] is the compact
 * argmax i * kw + j (pool_table.h), NN_POOL_NONE where nothing routes.
 *
 * Max rule (PyTorch's): the first strict maximum in row-major window order
 * wins, and a NaN wins over anything, a later NaN over an earlier one.
 * relu(max(window)) == max(relu(window)) exactly (relu is monotone), so a
 * ReLU before the pool runs on the 4x smaller output; its backward mask is
 * the pooled value itself (max > 0), folded into win as NN_POOL_NONE.
 */

/* relu of a pooled value: NaN stays NaN, as in the ReLU kernel */
#define POOL_RELU(m) ((m) > 0 ? (m) : ((m) == (m) ? (T)0 : (m)))
/* the window-order step: v replaces the running max m when larger or NaN */
#define POOL_TAKES(v, m) (((v) > (m)) | ((v) != (v)))

/* The CNN case, 2x2 stride 2 without padding over two input rows: straight
 * selects over the interleaved pairs, no data-dependent branch, so the loop
 * vectorizes (the stride-2 loads become shuffles). */
static void FN(max2x2_row)(T *restrict o, uint8_t *restrict w, const T *restrict r0,
                           const T *restrict r1, int64_t OW, int relu) {
    if (!w) {
        for (int64_t j = 0; j < OW; j++) {
            T a = r0[2 * j], b = r0[2 * j + 1], e = r1[2 * j], f = r1[2 * j + 1];
            T m = a;
            m = POOL_TAKES(b, m) ? b : m;
            m = POOL_TAKES(e, m) ? e : m;
            m = POOL_TAKES(f, m) ? f : m;
            o[j] = relu ? POOL_RELU(m) : m;
        }
        return;
    }
    for (int64_t j = 0; j < OW; j++) {
        T a = r0[2 * j], b = r0[2 * j + 1], e = r1[2 * j], f = r1[2 * j + 1];
        T m = a, c = 0;
        int t = POOL_TAKES(b, m);
        m = t ? b : m; c = t ? (T)1 : c;
        t = POOL_TAKES(e, m);
        m = t ? e : m; c = t ? (T)2 : c;
        t = POOL_TAKES(f, m);
        m = t ? f : m; c = t ? (T)3 : c;
        if (relu) {
            t = m > 0;
            c = t ? c : (T)NN_POOL_NONE;
            m = t ? m : (m == m ? (T)0 : m);
        }
        o[j] = m;
        w[j] = (uint8_t)c;
    }
}

/* d0, d1: the two input-gradient rows under one output row */
static int FN(max2x2_bwd_row)(T *restrict d0, T *restrict d1, const uint8_t *restrict w,
                              const T *restrict gr, int64_t OW) {
    int bad = 0;
    for (int64_t j = 0; j < OW; j++) {
        T v = gr[j], c = (T)w[j];
        bad |= (c > 3) & (c != NN_POOL_NONE);
        d0[2 * j] = c == 0 ? v : (T)0;
        d0[2 * j + 1] = c == 1 ? v : (T)0;
        d1[2 * j] = c == 2 ? v : (T)0;
        d1[2 * j + 1] = c == 3 ? v : (T)0;
    }
    return bad;
}

/* any kernel, stride, padding and dilation; valid kernel rows [i0, i1) and
 * columns [j0, j1) are found first, so the inner loops test no bounds */
static void FN(max_general)(T *out, uint8_t *win, const T *x, const nn_pool_geom *g, int relu) {
    const int64_t H = g->H, W = g->W, OH = g->OH, OW = g->OW, kh = g->kh, kw = g->kw;
    const int64_t sh = g->sh, sw = g->sw, ph = g->ph, pw = g->pw, dh = g->dh, dw = g->dw;
    for (int64_t oh = 0; oh < OH; oh++) {
        int64_t hs = oh * sh - ph;
        int64_t i0 = hs < 0 ? FDL_CDIV(-hs, dh) : 0, i1 = FDL_MIN(kh, FDL_CDIV(H - hs, dh));
        for (int64_t ow = 0; ow < OW; ow++) {
            int64_t ws = ow * sw - pw;
            int64_t j0 = ws < 0 ? FDL_CDIV(-ws, dw) : 0, j1 = FDL_MIN(kw, FDL_CDIV(W - ws, dw));
            int64_t c = NN_POOL_NONE;
            T best = -(T)INFINITY;
            if (i0 < i1 && j0 < j1) {
                c = i0 * kw + j0;
                best = x[(hs + i0 * dh) * W + ws + j0 * dw];
            }
            for (int64_t i = i0; i < i1; i++) {
                const T *row = x + (hs + i * dh) * W + ws;
                for (int64_t j = j0; j < j1; j++) {
                    T v = row[j * dw];
                    if (POOL_TAKES(v, best)) { best = v; c = i * kw + j; }
                }
            }
            if (relu && !(best > 0)) {
                c = NN_POOL_NONE;
                best = best == best ? (T)0 : best;
            }
            out[oh * OW + ow] = best;
            if (win) win[oh * OW + ow] = (uint8_t)c;
        }
    }
}

static int FN(pool_is_2x2)(const nn_pool_geom *g) {
    return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->ph == 0 && g->pw == 0 &&
           g->dh == 1 && g->dw == 1 && 2 * g->OH <= g->H && 2 * g->OW <= g->W;
}

/* x[H, W] -> out[OH, OW], win[OH, OW] (win may be NULL) */
static void FN(max_fwd)(T *out, uint8_t *win, const T *x, const nn_pool_geom *g, int relu) {
    if (FN(pool_is_2x2)(g)) {
        /* (ceil_mode's partial last window takes the general loop) */
        for (int64_t oh = 0; oh < g->OH; oh++) {
            const T *r0 = x + 2 * oh * g->W;
            T *o = out + oh * g->OW;
            uint8_t *w = win ? win + oh * g->OW : NULL;
#if defined(POOL_SIMD_F32) && !defined(NN_F64) && defined(__AVX512F__)
            max2x2_row_simd_f32(o, w, r0, r0 + g->W, g->OW, relu);
#elif defined(POOL_SIMD_F32) && !defined(NN_F64) && defined(__AVX2__)
            max2x2_row_simd_f32(o, w, r0, r0 + g->W, g->OW, relu);
#elif defined(POOL_SIMD_F32) && !defined(NN_F64)
            max2x2_row_sse2_f32(o, w, r0, r0 + g->W, g->OW, relu);
#else
            FN(max2x2_row)(o, w, r0, r0 + g->W, g->OW, relu);
#endif
        }
        return;
    }
    FN(max_general)(out, win, x, g, relu);
}

/* dx[H, W] = dout[OH, OW] routed through win; every element of dx is written
 * (the gradient of a pool input is fresh: no zeroing pass, no read of dx).
 * Returns 1 when win holds a position outside its window (then the rest of
 * that output routes nothing). */
static int FN(max_bwd)(T *dx, const uint8_t *win, const T *dout, const nn_pool_geom *g) {
    const int64_t H = g->H, W = g->W, OH = g->OH, OW = g->OW;
    int bad = 0;
    if (FN(pool_is_2x2)(g)) {
        for (int64_t oh = 0; oh < OH; oh++) {
            T *d0 = dx + 2 * oh * W;
#if defined(POOL_SIMD_F32) && !defined(NN_F64) && defined(__AVX2__)
            bad |= max2x2_bwd_row_simd_f32(d0, d0 + W, win + oh * OW, dout + oh * OW, OW);
#elif defined(POOL_SIMD_F32) && !defined(NN_F64)
            int64_t j = max2x2_bwd_row_sse2_f32(d0, d0 + W, win + oh * OW, dout + oh * OW, OW, &bad);
            bad |= FN(max2x2_bwd_row)(d0 + 2 * j, d0 + W + 2 * j, win + oh * OW + j,
                                      dout + oh * OW + j, OW - j);
#else
            bad |= FN(max2x2_bwd_row)(d0, d0 + W, win + oh * OW, dout + oh * OW, OW);
#endif
            for (int64_t j = 2 * OW; j < W; j++) d0[j] = d0[W + j] = 0;
        }
        for (int64_t i = 2 * OH * W; i < H * W; i++) dx[i] = 0;
        return bad;
    }
    const int64_t kw = g->kw;
    for (int64_t i = 0; i < H * W; i++) dx[i] = 0;
    for (int64_t oh = 0; oh < OH; oh++)
        for (int64_t ow = 0; ow < OW; ow++) {
            int c = win[oh * OW + ow];
            if (c == NN_POOL_NONE) continue;
            int64_t h = oh * g->sh - g->ph + (c / kw) * g->dh;
            int64_t w = ow * g->sw - g->pw + (c % kw) * g->dw;
            if (c >= g->kh * kw || h < 0 || h >= H || w < 0 || w >= W) { bad = 1; continue; }
            dx[h * W + w] += dout[oh * OW + ow];
        }
    return bad;
}

/* x[H, W] -> out[OH, OW], the mean of each adaptive window [floor(oh H / OH),
 * ceil((oh + 1) H / OH)). A whole-plane window (global average pooling,
 * ResNet's AdaptiveAvgPool2d(1)) sums in 16 lanes combined in a fixed order:
 * vectorized without -ffast-math, and the same sum for any ISA. */
static void FN(adaptive_avg_fwd)(T *out, const T *x, const nn_pool_geom *g) {
    const int64_t H = g->H, W = g->W, OH = g->OH, OW = g->OW;
    if (OH == 1 && OW == 1) {
        T acc[16] = {0};
        int64_t n = H * W, i = 0;
        for (; i + 16 <= n; i += 16)
            for (int l = 0; l < 16; l++) acc[l] += x[i + l];
        for (int l = 0; i < n; i++, l++) acc[l] += x[i];
        for (int l = 0; l < 8; l++) acc[l] += acc[l + 8];
        for (int l = 0; l < 4; l++) acc[l] += acc[l + 4];
        out[0] = ((acc[0] + acc[2]) + (acc[1] + acc[3])) / (T)n;
        return;
    }
    for (int64_t oh = 0; oh < OH; oh++) {
        int64_t hs = oh * H / OH, he = ((oh + 1) * H + OH - 1) / OH;
        for (int64_t ow = 0; ow < OW; ow++) {
            int64_t ws = ow * W / OW, we = ((ow + 1) * W + OW - 1) / OW;
            T s = 0;
            for (int64_t h = hs; h < he; h++)
                for (int64_t w = ws; w < we; w++) s += x[h * W + w];
            out[oh * OW + ow] = s / (T)((he - hs) * (we - ws));
        }
    }
}

/* dx[H, W] += dout[OH, OW] spread evenly over each adaptive window */
static void FN(adaptive_avg_bwd)(T *dx, const T *dout, const nn_pool_geom *g) {
    const int64_t H = g->H, W = g->W, OH = g->OH, OW = g->OW;
    for (int64_t oh = 0; oh < OH; oh++) {
        int64_t hs = oh * H / OH, he = ((oh + 1) * H + OH - 1) / OH;
        for (int64_t ow = 0; ow < OW; ow++) {
            int64_t ws = ow * W / OW, we = ((ow + 1) * W + OW - 1) / OW;
            T v = dout[oh * OW + ow] / (T)((he - hs) * (we - ws));
            for (int64_t h = hs; h < he; h++) {
                T *row = dx + h * W;
                for (int64_t w = ws; w < we; w++) row[w] += v;
            }
        }
    }
}

#undef POOL_RELU
#undef POOL_TAKES
