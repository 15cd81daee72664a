/*
 * conv_impl.h — the convolution body over T (see conv.c and
 * runtime/template.h): batched im2col + GEMM, per-sample forward, depthwise
 * direct kernels. CONV_GEMM / CONV_GEMM_EX are fdl_sgemm(_ex) or
 * fdl_dgemm(_ex). The kernel width is conv_kw(p): S names the type suffix.
 */

/* dst[k - q] = sr[k * sw] for k in [a, b) (strides 1 and 2 spelled out: the
 * compiler vectorizes those with constant strides) */
static inline void FN(seg_copy)(T *restrict d, const T *restrict sr, int64_t a, int64_t b,
                                int64_t sw) {
    if (sw == 1)
        for (int64_t k = a; k < b; k++) d[k] = sr[k];
    else if (sw == 2)
        for (int64_t k = a; k < b; k++) d[k] = sr[2 * k];
    else
        for (int64_t k = a; k < b; k++) d[k] = sr[k * sw];
}

/* col[CRS, ldc] columns [0, nb*PQ) from nb samples' channel groups
 * x[nb][C, H, W] (x points at the first sample's first channel of the
 * group); row (c, i, j) holds tap (tap_r(i), tap_s(j)) of channel c. */
static void FN(im2col)(T *col, int64_t ldc, const T *x, int64_t nb, const fdl_conv2d_params *p,
                       const conv_plan *pl, int nt) {
    const int64_t H = p->H, W = p->W, sw = p->stride_w, P = pl->P, Q = pl->Q, PQ = pl->PQ;
    const int64_t taps = pl->nr * pl->ns;
    (void)nt;     /* unused without OpenMP */
    _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1)")
    for (int64_t row = 0; row < pl->crs; row++) {
        const int64_t c = row / taps, t = row % taps;
        const int64_t r = tap_r(pl, t / pl->ns), s = tap_s(pl, t % pl->ns);
        const int64_t off = s * p->dil_w - p->pad_w;
        int64_t lo, hi;
        valid_q(off, sw, W, Q, &lo, &hi);
        for (int64_t nl = 0; nl < nb; nl++) {
            const T *xc = x + (nl * p->C + c) * H * W;
            T *dstn = col + row * ldc + nl * PQ;
            for (int64_t pp = 0; pp < P; pp++) {
                int64_t ih = pp * p->stride_h - p->pad_h + r * p->dil_h;
                T *dst = dstn + pp * Q;
                if (ih < 0 || ih >= H) { memset(dst, 0, Q * sizeof(T)); continue; }
                const T *src = xc + ih * W + off;
                for (int64_t q = 0; q < lo; q++) dst[q] = 0;
                if (sw == 1) memcpy(dst + lo, src + lo, (hi - lo) * sizeof(T));
                else if (sw == 2) FN(seg_copy)(dst, src, lo, hi, 2);   /* vectorized */
                else for (int64_t q = lo; q < hi; q++) dst[q] = src[q * sw];
                for (int64_t q = hi; q < Q; q++) dst[q] = 0;
            }
        }
    }
}

/* ---- padded phase planes (conv.c's conv_plan_planes) ---------------------------- */

/* pln[nl][c] <- the phase planes (nn/conv_table.h) of nb samples' channel
 * group x[nb][C, H, W] (x at the group's first channel); one (sample,
 * channel) per iteration: threads write disjoint planes. */
static void FN(build_planes)(T *pln, const T *x, int64_t nb, const fdl_conv2d_params *p,
                             const conv_plan *pl, int nt) {
    const nn_conv_kernels *ck = fdl_isa_kernels()->conv;
    const nn_conv_geom cg = conv_geom(p, pl);
    const int64_t Cg = pl->Cg;
    (void)nt;
    _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1)")
    for (int64_t nc = 0; nc < nb * Cg; nc++) {
        const int64_t nl = nc / Cg, c = nc % Cg;
        ck->FN(planes)(pln + nc * pl->plane_c, x + (nl * p->C + c) * p->H * p->W, &cg);
    }
}

/* dst[n] = src[n]: short contiguous rows (8 to 64 elements; a memcpy call
 * would cost more than the copy) */
static inline NN_CONV_NO_LIBCALL void FN(row_copy)(T *restrict dst, const T *restrict src,
                                                  int64_t n) {
    for (int64_t k = 0; k < n; k++) dst[k] = src[k];
}

/* im2col (below) from the planes pln of nb samples: every output row of a
 * patch-matrix row is one contiguous copy; one channel (its taps' rows) per
 * iteration. */
static void FN(im2col_planes)(T *col, int64_t ldc, const T *pln, int64_t nb,
                              const fdl_conv2d_params *p, const conv_plan *pl, int nt) {
    const nn_conv_kernels *ck = fdl_isa_kernels()->conv;
    const nn_conv_geom cg = conv_geom(p, pl);
    const int64_t Cg = pl->Cg, taps = pl->nr * pl->ns;
    int64_t toff[CONV_MAX_TAPS * CONV_MAX_TAPS];
    for (int64_t t = 0; t < taps; t++)
        toff[t] = conv_plane_off(tap_r(pl, t / pl->ns), tap_s(pl, t % pl->ns), p, pl);
    (void)nt;
    _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1)")
    for (int64_t c = 0; c < Cg; c++)
        ck->FN(im2col)(col + c * taps * ldc, ldc, pln + c * pl->plane_c, Cg * pl->plane_c, nb,
                       toff, taps, &cg);
}

/* dx[nb][C, H, W] (channels of one group) += col2im(dcol[CRS, ldc]) through
 * planes: each (sample, channel)'s taps are added into its zeroed phase
 * planes (contiguous rows), which are then added into dx in one pass. */
static void FN(col2im_planes)(T *dx, T *dpln, const T *dcol, int64_t ldc, int64_t nb,
                              const fdl_conv2d_params *p, const conv_plan *pl, int nt) {
    const nn_conv_kernels *ck = fdl_isa_kernels()->conv;
    const nn_conv_geom cg = conv_geom(p, pl);
    const int64_t PQ = pl->PQ, Cg = pl->Cg, taps = pl->nr * pl->ns;
    int64_t toff[CONV_MAX_TAPS * CONV_MAX_TAPS];
    for (int64_t t = 0; t < taps; t++)
        toff[t] = conv_plane_off(tap_r(pl, t / pl->ns), tap_s(pl, t % pl->ns), p, pl);
    (void)nt;
    _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1)")
    for (int64_t nc = 0; nc < nb * Cg; nc++) {
        const int64_t nl = nc / Cg, c = nc % Cg;
        ck->FN(col2im)(dx + (nl * p->C + c) * p->H * p->W, dpln + nc * pl->plane_c,
                       dcol + c * taps * ldc + nl * PQ, ldc, toff, taps, &cg);
    }
}

/* dx[nb][C, H, W] (channels of one group) += col2im(dcol[CRS, ldc]); one
 * (sample, channel) plane per iteration, so threads write disjoint planes. */
static void FN(col2im)(T *dx, const T *dcol, int64_t ldc, int64_t nb,
                       const fdl_conv2d_params *p, const conv_plan *pl, int nt) {
    const int64_t H = p->H, W = p->W, sw = p->stride_w, P = pl->P, Q = pl->Q, PQ = pl->PQ;
    const int64_t taps = pl->nr * pl->ns, Cg = pl->Cg;
    (void)nt;
    _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1)")
    for (int64_t nc = 0; nc < nb * Cg; nc++) {
        const int64_t nl = nc / Cg, c = nc % Cg;
        T *dxc = dx + (nl * p->C + c) * H * W;
        for (int64_t t = 0; t < taps; t++) {
            const int64_t r = tap_r(pl, t / pl->ns), s = tap_s(pl, t % pl->ns);
            const int64_t off = s * p->dil_w - p->pad_w;
            int64_t lo, hi;
            valid_q(off, sw, W, Q, &lo, &hi);
            const T *rowp = dcol + (c * taps + t) * ldc + nl * PQ;
            for (int64_t pp = 0; pp < P; pp++) {
                int64_t ih = pp * p->stride_h - p->pad_h + r * p->dil_h;
                if (ih < 0 || ih >= H) continue;
                T *dst = dxc + ih * W + off;
                const T *src = rowp + pp * Q;
                if (sw == 1) for (int64_t q = lo; q < hi; q++) dst[q] += src[q];
                else if (sw == 2) for (int64_t q = lo; q < hi; q++) dst[2 * q] += src[q];
                else for (int64_t q = lo; q < hi; q++) dst[q * sw] += src[q];
            }
        }
    }
}

/* ---- implicit GEMM: patch matrices packed straight into GEMM panels ----------- */

/* A virtual patch matrix: row c * ntap + t, column nl * Pg*Qg + i * Qg + j
 * holds src[nl*sn + c*sc + ih*Ws + iw] with ih = i*sh + oh[t],
 * iw = j*sw + ow[t], zero outside the Hs x Ws plane: the im2col panel of
 * nb samples' channel group, never written out whole. */
typedef struct {
    const T *src;
    int64_t sn, sc, Hs, Ws, Pg, Qg, PQg, sh, sw;
    const conv_taps *tp;
    int64_t ntap;
    int planes;     /* src: phase planes (build_planes), row i of tap t at tp->poff[t] + i*Ws */
} FN(patches);

/* dst[n_] <- columns [q, q + n_) of one output row: source row sr (NULL:
 * above or below the plane), columns [lo, hi) inside it */
static inline void FN(patch_seg)(T *restrict dst, const T *sr, int64_t q, int64_t n_,
                                 int64_t sw, int64_t lo, int64_t hi) {
    T *d = dst - q;
    if (!sr) {
        for (int64_t k = 0; k < n_; k++) dst[k] = 0;
    } else if (q >= lo && q + n_ <= hi) {
        FN(seg_copy)(d, sr, q, q + n_, sw);
    } else {
        const int64_t a = FDL_MIN(FDL_MAX(q, lo), q + n_), b = FDL_MAX(FDL_MIN(q + n_, hi), a);
        for (int64_t k = q; k < a; k++) d[k] = 0;
        FN(seg_copy)(d, sr, a, b, sw);
        for (int64_t k = b; k < q + n_; k++) d[k] = 0;
    }
}

/* The output rows met by columns [j0, j0 + n) of a patch matrix: segment u
 * covers columns q[u] .. q[u] + len[u] of output row i[u] of sample nl[u],
 * at offset k[u] of the range; returns the number of segments (<= n). */
typedef struct {
    int64_t k, len, q, i, nl;
} FN(seg);

static int FN(segments)(const FN(patches) *g, int64_t j0, int64_t n, FN(seg) *sg) {
    int64_t nl = j0 / g->PQg, rem = j0 % g->PQg, i = rem / g->Qg, q = rem % g->Qg, k = 0;
    int ns = 0;
    while (k < n) {
        const int64_t l = FDL_MIN(g->Qg - q, n - k);
        sg[ns].k = k, sg[ns].len = l, sg[ns].q = q, sg[ns].i = i, sg[ns].nl = nl;
        ns++;
        k += l;
        q += l;
        if (q == g->Qg) {
            q = 0;
            if (++i == g->Pg) { i = 0; nl++; }
        }
    }
    return ns;
}

/* dst[0 .. n) <- row (c, t) of the patch matrix over the segments sg */
static inline void FN(patch_row)(T *restrict dst, const FN(patches) *g, int64_t c, int64_t t,
                                 const FN(seg) *sg, int ns) {
    const conv_taps *tp = g->tp;
    if (g->planes) {
        const T *base = g->src + c * g->sc + tp->poff[t];
        for (int u = 0; u < ns; u++)
            FN(row_copy)(dst + sg[u].k, base + sg[u].nl * g->sn + sg[u].i * g->Ws + sg[u].q,
                         sg[u].len);
        return;
    }
    const int64_t oh = tp->oh[t], lo = tp->qlo[t], hi = tp->qhi[t];
    const T *base = g->src + c * g->sc + tp->ow[t];
    for (int u = 0; u < ns; u++) {
        const int64_t ih = sg[u].i * g->sh + oh;
        const T *sr = ih >= 0 && ih < g->Hs ? base + sg[u].nl * g->sn + ih * g->Ws : NULL;
        FN(patch_seg)(dst + sg[u].k, sr, sg[u].q, sg[u].len, g->sw, lo, hi);
    }
}

/* GEMM B panel (gemm/implicit.h): dst[p*nr + j] = patches(pc + p, j0 + j) */
static void FN(patch_rows)(const void *ctx, int64_t pc, int64_t kc, int64_t j0, int n, int nr,
                           T *dst) {
    const FN(patches) *g = (const FN(patches) *)ctx;
    FN(seg) sg[CONV_SEG];
    const int ns = FN(segments)(g, j0, n, sg);     /* n <= nr <= CONV_SEG */
    int64_t c = pc / g->ntap, t = pc % g->ntap;
    for (int64_t pk = 0; pk < kc; pk++) {
        T *d = dst + pk * nr;
        FN(patch_row)(d, g, c, t, sg, ns);
        for (int64_t j = n; j < nr; j++) d[j] = 0;
        if (++t == g->ntap) { t = 0; c++; }
    }
}

/* GEMM B panel of the transposed patch matrix (the weight gradient's
 * op(B) = col^T): dst[p*nr + j] = patches(j0 + j, pc + p). Rows are gathered
 * 8 at a time, CONV_SEG columns long, and written out as 8 contiguous columns. */
static void FN(patch_cols)(const void *ctx, int64_t pc, int64_t kc, int64_t j0, int n, int nr,
                           T *dst) {
    const FN(patches) *g = (const FN(patches) *)ctx;
    const nn_conv_kernels *ck = fdl_isa_kernels()->conv;
    T buf[8][CONV_SEG];
    FN(seg) sg[CONV_SEG];
    if (n < nr)
        for (int64_t pk = 0; pk < kc; pk++)
            for (int j = n; j < nr; j++) dst[pk * nr + j] = 0;
    for (int64_t k0 = 0; k0 < kc; k0 += CONV_SEG) {
        const int64_t len = FDL_MIN((int64_t)CONV_SEG, kc - k0);
        const int ns = FN(segments)(g, pc + k0, len, sg);
        int64_t c = j0 / g->ntap, t = j0 % g->ntap;
        for (int j8 = 0; j8 < n; j8 += 8) {
            const int m = n - j8 < 8 ? n - j8 : 8;
            for (int u = 0; u < m; u++) {
                FN(patch_row)(buf[u], g, c, t, sg, ns);
                if (++t == g->ntap) { t = 0; c++; }
            }
            ck->FN(cols8)(dst + k0 * nr + j8, nr, &buf[0][0], CONV_SEG, m, len);
        }
    }
}

/* The forward's patches of nb samples' channel group at x (x[nb][C, H, W]). */
static FN(patches) FN(patches_x)(const T *x, const fdl_conv2d_params *p, const conv_plan *pl,
                                 const conv_taps *tp) {
    FN(patches) g = {x, p->C * p->H * p->W, p->H * p->W, p->H, p->W, pl->P, pl->Q, pl->PQ,
                     p->stride_h, p->stride_w, tp, tp->n, 0};
    return g;
}

/* The same patches read from the phase planes of nb samples (build_planes). */
static FN(patches) FN(patches_planes)(const T *pln, const conv_plan *pl, const conv_taps *tp) {
    FN(patches) g = {pln, pl->Cg * pl->plane_c, pl->plane_c, pl->Hs, pl->Ws, pl->P, pl->Q,
                     pl->PQ, 1, 1, tp, tp->n, 1};
    return g;
}

/* wc[K, CRS] <- the kept taps of w[K, Cg, R, S] */
static void FN(gather_taps)(T *wc, const T *w, const fdl_conv2d_params *p, const conv_plan *pl) {
    const int64_t KW = conv_kw(p), taps = pl->nr * pl->ns;
    for (int64_t k = 0; k < p->K; k++)
        for (int64_t c = 0; c < pl->Cg; c++)
            for (int64_t t = 0; t < taps; t++) {
                int64_t r = tap_r(pl, t / pl->ns), s = tap_s(pl, t % pl->ns);
                wc[(k * pl->Cg + c) * taps + t] = w[((k * pl->Cg + c) * p->R + r) * KW + s];
            }
}

/* dw[K, Cg, R, S] += the kept taps' gradient: dwc[K, CRS], or per group
 * dwc[CRS, Kg] when transposed */
static void FN(scatter_taps)(T *dw, const T *dwc, const fdl_conv2d_params *p,
                             const conv_plan *pl) {
    const int64_t KW = conv_kw(p), taps = pl->nr * pl->ns, Kg = pl->Kg, crs = pl->crs;
    for (int64_t k = 0; k < p->K; k++) {
        const T *src = pl->dw_t ? dwc + (k / Kg) * Kg * crs + k % Kg : dwc + k * crs;
        const int64_t step = pl->dw_t ? Kg : 1;
        for (int64_t c = 0; c < pl->Cg; c++)
            for (int64_t t = 0; t < taps; t++) {
                int64_t r = tap_r(pl, t / pl->ns), s = tap_s(pl, t % pl->ns);
                dw[((k * pl->Cg + c) * p->R + r) * KW + s] += src[(c * taps + t) * step];
            }
    }
}

/* dst[n] = y > 0 ? d : 0, the ReLU's backward. Both loads happen
 * unconditionally so the select compiles to a blend: a branch on the sign
 * of ReLU outputs mispredicts half the time (measured 15x slower). */
static inline void FN(relu_mask)(T *dst, const T *d, const T *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const T dv = d[i], yv = y[i];
        dst[i] = yv > 0 ? dv : 0;
    }
}

/* ---- depthwise (groups == C == K): one plane at a time ----------------------- */

/* o[P, Q] = act(bias + sum_rs wc[r, s] * x-plane shifted) */
static void FN(dw_plane_forward)(T *o, const T *xp, const T *wc, T b, int relu,
                                 const fdl_conv2d_params *p, const conv_plan *pl) {
    const int64_t H = p->H, W = p->W, R = p->R, KW = conv_kw(p), sw = p->stride_w;
    const int64_t Q = pl->Q;
    for (int64_t pp = 0; pp < pl->P; pp++) {
        T *orow = o + pp * Q;
        for (int64_t q = 0; q < Q; q++) orow[q] = b;
        for (int64_t r = 0; r < R; r++) {
            int64_t ih = pp * p->stride_h - p->pad_h + r * p->dil_h;
            if (ih < 0 || ih >= H) continue;
            const T *xrow = xp + ih * W;
            for (int64_t s = 0; s < KW; s++) {
                const int64_t off = s * p->dil_w - p->pad_w;
                const T wv = wc[r * KW + s];
                int64_t lo, hi;
                valid_q(off, sw, W, Q, &lo, &hi);
                const T *src = xrow + off;
                if (sw == 1) for (int64_t q = lo; q < hi; q++) orow[q] += wv * src[q];
                else for (int64_t q = lo; q < hi; q++) orow[q] += wv * src[q * sw];
            }
        }
        if (relu)
            for (int64_t q = 0; q < Q; q++) orow[q] = orow[q] < 0 ? 0 : orow[q];
    }
}

static void FN(dw_forward)(T *out, const T *x, const T *w, const T *bias, int relu,
                           const fdl_conv2d_params *p, const conv_plan *pl) {
    const int64_t RS = p->R * conv_kw(p), C = p->C;
    int64_t nt = FDL_MIN(conv_threads(p, pl), p->N * C);
    (void)nt;
    _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1)")
    for (int64_t nc = 0; nc < p->N * C; nc++) {
        const int64_t c = nc % C;
        FN(dw_plane_forward)(out + nc * pl->PQ, x + nc * p->H * p->W, w + c * RS,
                             bias ? bias[c] : 0, relu, p, pl);
    }
}

/* sum_i a[i] * b[i * sb]; lanes kept apart so the compiler vectorizes the
 * contiguous case without reassociating one running sum. */
static inline T FN(dot_lanes)(const T *a, const T *b, int64_t n, int64_t sb) {
    T acc = 0;
    int64_t i = 0;
    if (sb == 1) {
        T l[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (; i + 8 <= n; i += 8)
            for (int j = 0; j < 8; j++) l[j] += a[i + j] * b[i + j];
        acc = ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
    }
    for (; i < n; i++) acc += a[i] * b[i * sb];
    return acc;
}

/* One thread per channel c: dx planes of channel c, dw[c] and nothing else. */
static void FN(dw_backward)(T *dx, T *dw, const T *dout, const T *y, const T *x, const T *w,
                            const fdl_conv2d_params *p, const conv_plan *pl, T *bufs,
                            int64_t nt) {
    const int64_t H = p->H, W = p->W, R = p->R, KW = conv_kw(p), sw = p->stride_w;
    const int64_t C = p->C, P = pl->P, Q = pl->Q, PQ = pl->PQ, HW = H * W;
    (void)nt;
    _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1)")
    for (int64_t c = 0; c < C; c++) {
        T *buf = bufs + thread_id() * PQ;
        const T *wc = w ? w + c * R * KW : NULL;
        for (int64_t n = 0; n < p->N; n++) {
            const T *d = dout + (n * C + c) * PQ;
            if (y) {
                const T *yy = y + (n * C + c) * PQ;
                FN(relu_mask)(buf, d, yy, PQ);
                d = buf;
            }
            const T *xp = x ? x + (n * C + c) * HW : NULL;
            T *dxp = dx ? dx + (n * C + c) * HW : NULL;
            for (int64_t r = 0; r < R; r++)
                for (int64_t s = 0; s < KW; s++) {
                    const int64_t off = s * p->dil_w - p->pad_w;
                    int64_t lo, hi;
                    valid_q(off, sw, W, Q, &lo, &hi);
                    if (lo >= hi) continue;
                    const T wv = dx ? wc[r * KW + s] : 0;
                    T acc = 0;
                    for (int64_t pp = 0; pp < P; pp++) {
                        int64_t ih = pp * p->stride_h - p->pad_h + r * p->dil_h;
                        if (ih < 0 || ih >= H) continue;
                        const T *drow = d + pp * Q;
                        if (dw) acc += FN(dot_lanes)(drow + lo, xp + ih * W + off + lo * sw,
                                                     hi - lo, sw);
                        if (dx) {
                            T *dst = dxp + ih * W + off;
                            if (sw == 1) for (int64_t q = lo; q < hi; q++) dst[q] += wv * drow[q];
                            else for (int64_t q = lo; q < hi; q++) dst[q * sw] += wv * drow[q];
                        }
                    }
                    if (dw) dw[(c * R + r) * KW + s] += acc;
                }
        }
    }
}

/* ---- forward ------------------------------------------------------------------ */

/* Chunk ci of the chunked forward (a function so that one thread runs it outside any
 * parallel region; see backward_slot). */
static int FN(forward_chunk)(int64_t ci, int tid, int64_t nt, T *out, const T *x,
                             const T *wk, const T *bias, int relu, T *rest, int64_t cbuf,
                             const fdl_conv2d_params *p, const conv_plan *ppl,
                             const conv_taps *tp) {
    const conv_plan pl = *ppl;
    const int64_t G = pl.G, Cg = pl.Cg, Kg = pl.Kg, PQ = pl.PQ, crs = pl.crs;
    const int64_t HW = p->H * p->W, nb = pl.nb;
    int err = FDL_OK;
    const int64_t n0 = ci * nb;
    T *col = rest + tid * cbuf, *tmp = col + crs * nb * PQ;
    T *pbuf = col + (2 * crs + Kg) * nb * PQ;      /* conv_chunk_elems */
    const int64_t nbc = FDL_MIN(nb, p->N - n0), ld = nbc * PQ;
    const int ntc = nt > 1 ? 1 : fdl_threads_for((crs + Kg) * ld);
    for (int64_t g = 0; g < G; g++) {
        const T *xg = x + (n0 * p->C + g * Cg) * HW;
        if (pl.planes) FN(build_planes)(pbuf, xg, nbc, p, &pl, ntc);
        if (pl.direct && nbc == 1) {
            CONV_NOTE(err, CONV_GEMM(0, 0, Kg, ld, crs, 1, wk + g * Kg * crs, crs, xg, ld,
                                     0, tmp, ld));
        } else if (pl.imp && crs * nb * PQ * (int64_t)sizeof(T) > CONV_IMPLICIT_MIN_BYTES) {
            const FN(patches) pt = pl.planes ? FN(patches_planes)(pbuf, &pl, tp)
                                             : FN(patches_x)(xg, p, &pl, tp);
            CONV_NOTE(err, CONV_GEMM_IMP(0, Kg, ld, crs, wk + g * Kg * crs, crs,
                                         FN(patch_rows), &pt, 0, tmp, ld, 0));
        } else {
            if (pl.planes)
                FN(im2col_planes)(col, ld, pbuf, nbc, p, &pl, ntc);
            else
                FN(im2col)(col, ld, xg, nbc, p, &pl, ntc);
            CONV_NOTE(err, CONV_GEMM(0, 0, Kg, ld, crs, 1, wk + g * Kg * crs, crs, col, ld,
                                     0, tmp, ld));
        }
        _Pragma("omp parallel for schedule(static) num_threads(ntc) if(ntc > 1)")
        for (int64_t kn = 0; kn < Kg * nbc; kn++) {
            const int64_t k = kn / nbc, nl = kn % nbc;
            const T *src = tmp + k * ld + nl * PQ;
            T *dst = out + ((n0 + nl) * p->K + g * Kg + k) * PQ;
            const T b = bias ? bias[g * Kg + k] : 0;
            if (relu)
                for (int64_t i = 0; i < PQ; i++) {
                    T v = src[i] + b;
                    dst[i] = v < 0 ? 0 : v;
                }
            else
                for (int64_t i = 0; i < PQ; i++) dst[i] = src[i] + b;
        }
    }
    return err;
}

static int FN(conv2d_forward)(T *out, const T *x, const T *w, const T *bias, int relu,
                              const fdl_conv2d_params *p, void *ws, int64_t ws_bytes) {
    conv_plan pl;
    int st = conv_plan_make(p, &pl);
    if (st != FDL_OK) return st;
    if (p->N == 0) return FDL_OK;
    if (!out || !x || !w) return FDL_ERR_NULL;
    if (pl.depthwise) {
        FN(dw_forward)(out, x, w, bias, relu, p, &pl);
        return FDL_OK;
    }
    int err = FDL_OK;
    const int64_t G = pl.G, Cg = pl.Cg, Kg = pl.Kg, PQ = pl.PQ, crs = pl.crs;
    const int64_t HW = p->H * p->W;
    const fdl_act act = relu ? FDL_ACT_RELU : FDL_ACT_NONE;
    T *wsT = (T *)ws;
    int64_t avail = ws ? ws_bytes / (int64_t)sizeof(T) : 0;
    const int64_t wcrop = conv_wbuf_elems(p, &pl) + conv_dwbuf_elems(p, &pl);
    if (avail < wcrop) return FDL_ERR_WORKSPACE;
    const T *wk = w;
    if (pl.cropped) {
        FN(gather_taps)(wsT, w, p, &pl);
        wk = wsT;
    }
    T *rest = wsT ? wsT + wcrop : NULL;
    avail -= wcrop;
    conv_taps tp;
    if (pl.imp) conv_taps_forward(&tp, p, &pl);

    if (pl.per_sample) {
        const int imp = pl.imp && crs * PQ * (int64_t)sizeof(T) > CONV_IMPLICIT_MIN_BYTES;
        const int64_t cols = pl.direct || imp ? 0 : crs * PQ;
        const int64_t panel = cols + (pl.direct ? 0 : conv_plane_elems(&pl, 1));
        int64_t nt = conv_threads(p, &pl);
        if (panel) {
            nt = FDL_MIN(nt, avail / panel);
            if (nt < 1) return FDL_ERR_WORKSPACE;
        }
        _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1)")
        for (int64_t n = 0; n < p->N; n++) {
            T *col = panel ? rest + thread_id() * panel : NULL, *pbuf = col ? col + cols : NULL;
            for (int64_t g = 0; g < G; g++) {
                const T *xg = x + (n * p->C + g * Cg) * HW;
                if (pl.planes) FN(build_planes)(pbuf, xg, 1, p, &pl, 1);
                T *og = out + (n * p->K + g * Kg) * PQ;
                T beta = 0;
                if (bias) {
                    for (int64_t k = 0; k < Kg; k++) {
                        T b = bias[g * Kg + k];
                        for (int64_t i = 0; i < PQ; i++) og[k * PQ + i] = b;
                    }
                    beta = 1;
                }
                if (!pl.direct && imp) {
                    const FN(patches) pt = pl.planes ? FN(patches_planes)(pbuf, &pl, &tp)
                                                     : FN(patches_x)(xg, p, &pl, &tp);
                    CONV_NOTE(err, CONV_GEMM_IMP(0, Kg, PQ, crs, wk + g * Kg * crs, crs,
                                                 FN(patch_rows), &pt, beta, og, PQ, relu));
                    continue;
                }
                const T *B = xg;
                if (pl.planes) {
                    FN(im2col_planes)(col, PQ, pbuf, 1, p, &pl, 1);
                    B = col;
                } else if (!pl.direct) {
                    FN(im2col)(col, PQ, xg, 1, p, &pl, 1);
                    B = col;
                }
                CONV_NOTE(err, CONV_GEMM_EX(0, 0, Kg, PQ, crs, 1, wk + g * Kg * crs, crs, B, PQ,
                                            beta, og, PQ, NULL, act));
            }
        }
        return err;
    }

    const int64_t cbuf = conv_chunk_elems(&pl);
    int64_t nt = FDL_MIN(conv_threads(p, &pl), pl.nchunks);
    nt = FDL_MIN(nt, avail / cbuf);
    if (nt < 1) return FDL_ERR_WORKSPACE;
    if (nt > 1) {
        _Pragma("omp parallel for schedule(static) num_threads(nt)")
        for (int64_t ci = 0; ci < pl.nchunks; ci++)
            CONV_NOTE(err, FN(forward_chunk)(ci, thread_id(), nt, out, x, wk, bias, relu, rest,
                                             cbuf, p, &pl, &tp));
    } else {
        for (int64_t ci = 0; ci < pl.nchunks; ci++)
            CONV_NOTE(err, FN(forward_chunk)(ci, 0, nt, out, x, wk, bias, relu, rest, cbuf, p,
                                             &pl, &tp));
    }
    return err;
}

/* ---- backward ----------------------------------------------------------------- */

/* One weight-gradient slot of the chunked backward: chunks si, si + ns, ... (a
 * function so that one thread runs it outside any parallel region: a team of one
 * around the threaded GEMMs below made them nested regions, which libgomp serves
 * with fresh threads that fight the idle pool's spinning workers: 512->512 on 1x1
 * maps took 9 ms on 2 threads against 2.7 ms on 1). */
static int FN(backward_slot)(int64_t si, int tid, int64_t ns, int64_t nt, T *dx, T *dw,
                             const T *dout, const T *y, const T *x, const T *wk, T *dwk,
                             T *slots, T *bufs, int64_t sbuf, int64_t cbuf,
                             const fdl_conv2d_params *p, const conv_plan *ppl,
                             const conv_taps *tp) {
    const conv_plan pl = *ppl;
    const int64_t G = pl.G, Cg = pl.Cg, Kg = pl.Kg, PQ = pl.PQ, crs = pl.crs, K = p->K;
    const int64_t HW = p->H * p->W, nb = pl.nb;
    int err = FDL_OK;
    T *col = bufs + tid * cbuf, *dcol = col + crs * nb * PQ;
    T *dg = dcol + crs * nb * PQ, *pbuf = dg + Kg * nb * PQ;   /* conv_chunk_elems */
    T *dgt = pbuf + conv_plane_elems(&pl, nb);
    const nn_conv_kernels *ck = fdl_isa_kernels()->conv;
    T *acc = sbuf ? slots + si * K * crs : dwk;
    for (int64_t ci = si; ci < pl.nchunks; ci += ns) {
        const int64_t n0 = ci * nb;
        const int64_t nbc = FDL_MIN(nb, p->N - n0), ld = nbc * PQ;
        const int ntc = nt > 1 ? 1 : fdl_threads_for((2 * crs + Kg) * ld);
        for (int64_t g = 0; g < G; g++) {
            /* dout of the chunk's group as [Kg, nbc*PQ], masked by the ReLU */
            const T *D = dout + (n0 * K + g * Kg) * PQ;
            /* dW^T = col @ dout^T on planes: dout^T[ld, Kg] is written here
             * (read in place by the GEMM), with dout's panel for dx */
            const int dwt = dw && pl.planes && pl.dw_t;
            if (dwt) {
                const int panel = dx && (nbc > 1 || y);
                _Pragma("omp parallel for schedule(static) num_threads(ntc) if(ntc > 1)")
                for (int64_t nl = 0; nl < nbc; nl++) {
                    const int64_t at = ((n0 + nl) * K + g * Kg) * PQ;
                    ck->FN(dout_t)(dgt + nl * PQ * Kg, Kg, panel ? dg + nl * PQ : NULL, ld,
                                   dout + at, y ? y + at : NULL, PQ, Kg, PQ);
                }
                if (panel) D = dg;
            } else if (nbc > 1 || y) {
                _Pragma("omp parallel for schedule(static) num_threads(ntc) if(ntc > 1)")
                for (int64_t kn = 0; kn < Kg * nbc; kn++) {
                    const int64_t k = kn / nbc, nl = kn % nbc;
                    const int64_t at = ((n0 + nl) * K + g * Kg + k) * PQ;
                    T *dst = dg + k * ld + nl * PQ;
                    if (y)
                        FN(relu_mask)(dst, dout + at, y + at, PQ);
                    else
                        memcpy(dst, dout + at, PQ * sizeof(T));
                }
                D = dg;
            }
            if (dw && pl.planes)
                FN(build_planes)(pbuf, x + (n0 * p->C + g * Cg) * HW, nbc, p, &pl, ntc);
            if (dw && pl.imp && !pl.dw_t && !(pl.direct && nbc == 1)) {
                const FN(patches) pt =
                    pl.planes ? FN(patches_planes)(pbuf, &pl, tp)
                              : FN(patches_x)(x + (n0 * p->C + g * Cg) * HW, p, &pl, tp);
                CONV_NOTE(err, CONV_GEMM_IMP(0, Kg, crs, ld, D, ld, FN(patch_cols), &pt, 1,
                                             acc + g * Kg * crs, crs, 0));
            } else if (dw) {
                const T *xg = x + (n0 * p->C + g * Cg) * HW;
                const T *B = xg;
                if (pl.planes) {
                    FN(im2col_planes)(col, ld, pbuf, nbc, p, &pl, ntc);
                    B = col;
                } else if (!(pl.direct && nbc == 1)) {
                    FN(im2col)(col, ld, xg, nbc, p, &pl, ntc);
                    B = col;
                }
                if (dwt)
                    CONV_NOTE(err, CONV_GEMM(0, 0, crs, Kg, ld, 1, B, ld, dgt, Kg, 1,
                                             acc + g * Kg * crs, Kg));
                else if (pl.dw_t)
                    CONV_NOTE(err, CONV_GEMM(0, 1, crs, Kg, ld, 1, B, ld, D, ld, 1,
                                             acc + g * Kg * crs, Kg));
                else
                    CONV_NOTE(err, CONV_GEMM(0, 1, Kg, crs, ld, 1, D, ld, B, ld, 1,
                                             acc + g * Kg * crs, crs));
            }
            if (dx) {
                T *dxg = dx + (n0 * p->C + g * Cg) * HW;
                const T *wg = wk + g * Kg * crs;
                if (pl.direct && nbc == 1) {
                    CONV_NOTE(err, CONV_GEMM(1, 0, crs, ld, Kg, 1, wg, crs, D, ld, 1, dxg, ld));
                } else {
                    CONV_NOTE(err, CONV_GEMM(1, 0, crs, ld, Kg, 1, wg, crs, D, ld, 0, dcol,
                                             ld));
                    if (pl.planes)   /* the input's planes are read: pbuf is free */
                        FN(col2im_planes)(dxg, pbuf, dcol, ld, nbc, p, &pl, ntc);
                    else
                        FN(col2im)(dxg, dcol, ld, nbc, p, &pl, ntc);
                }
            }
        }
    }
    return err;
}

static int FN(conv2d_backward)(T *dx, T *dw, T *db, const T *dout, const T *y, const T *x,
                               const T *w, const fdl_conv2d_params *p, void *ws,
                               int64_t ws_bytes) {
    conv_plan pl;
    int st = conv_plan_make(p, &pl);
    if (st != FDL_OK) return st;
    if (p->N == 0) return FDL_OK;
    if (!dout || (dx && !w) || (dw && !x)) return FDL_ERR_NULL;
    int err = FDL_OK;
    const int64_t PQ = pl.PQ, crs = pl.crs, K = p->K;
    T *wsT = (T *)ws;
    int64_t avail = ws ? ws_bytes / (int64_t)sizeof(T) : 0;

    if (db) {
        int ntb = fdl_threads_for(p->N * K * PQ);
        (void)ntb;
        _Pragma("omp parallel for schedule(static) num_threads(ntb) if(ntb > 1)")
        for (int64_t k = 0; k < K; k++) {
            /* 8 independent sums: one running double sum is bound by the add latency */
            double l[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            for (int64_t n = 0; n < p->N; n++) {
                const T *d = dout + (n * K + k) * PQ;
                const T *yy = y ? y + (n * K + k) * PQ : NULL;
                int64_t i = 0;
                if (yy) {
                    T m[256];
                    for (; i < PQ; i += 256) {
                        const int64_t len = FDL_MIN((int64_t)256, PQ - i);
                        FN(relu_mask)(m, d + i, yy + i, len);
                        int64_t j = 0;
                        for (; j + 8 <= len; j += 8)
                            for (int u = 0; u < 8; u++) l[u] += (double)m[j + u];
                        for (; j < len; j++) l[j & 7] += (double)m[j];
                    }
                } else {
                    for (; i + 8 <= PQ; i += 8)
                        for (int j = 0; j < 8; j++) l[j] += (double)d[i + j];
                    for (; i < PQ; i++) l[i & 7] += (double)d[i];
                }
            }
            db[k] += (T)(((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7])));
        }
    }
    if (!dx && !dw) return FDL_OK;

    if (pl.depthwise) {
        int64_t nt = FDL_MIN(conv_threads(p, &pl), p->C);
        if (y) {
            nt = FDL_MIN(nt, avail / FDL_MAX(PQ, (int64_t)1));
            if (nt < 1) return FDL_ERR_WORKSPACE;
        }
        FN(dw_backward)(dx, dw, dout, y, x, w, p, &pl, wsT, nt);
        return FDL_OK;
    }

    const int64_t wbuf = conv_wbuf_elems(p, &pl), dwbuf = conv_dwbuf_elems(p, &pl);
    const int64_t wcrop = wbuf + dwbuf;
    const int64_t cbuf = conv_chunk_elems(&pl);
    const int64_t sbuf = dw ? conv_slot_elems(p, &pl) : 0;
    /* dx alone: chunks write disjoint memory, any split will do */
    const int64_t ns = dw ? pl.nslots : pl.nchunks;
    if (avail < wcrop + sbuf + cbuf) return FDL_ERR_WORKSPACE;
    int64_t nt = FDL_MIN(conv_threads(p, &pl), ns);
    nt = FDL_MIN(nt, (avail - wcrop - sbuf) / cbuf);
    const T *wk = w;
    T *dwk = dw;
    if (pl.cropped && dx) { FN(gather_taps)(wsT, w, p, &pl); wk = wsT; }
    if (dwbuf && dw) { dwk = wsT + wbuf; memset(dwk, 0, dwbuf * sizeof(T)); }
    conv_taps tp;
    if (pl.imp && dw) conv_taps_forward(&tp, p, &pl);
    T *slots = wsT + wcrop, *bufs = slots + sbuf;
    if (sbuf) memset(slots, 0, sbuf * sizeof(T));
    if (nt > 1) {
        _Pragma("omp parallel for schedule(static) num_threads(nt)")
        for (int64_t si = 0; si < ns; si++)
            CONV_NOTE(err, FN(backward_slot)(si, thread_id(), ns, nt, dx, dw, dout, y, x, wk,
                                             dwk, slots, bufs, sbuf, cbuf, p, &pl, &tp));
    } else {
        for (int64_t si = 0; si < ns; si++)
            CONV_NOTE(err, FN(backward_slot)(si, 0, ns, nt, dx, dw, dout, y, x, wk, dwk,
                                             slots, bufs, sbuf, cbuf, p, &pl, &tp));
    }
    if (sbuf) {
        const int64_t wsz = K * crs;
        int nt2 = fdl_threads_for(wsz * ns);
        (void)nt2;
        _Pragma("omp parallel for schedule(static) num_threads(nt2) if(nt2 > 1)")
        for (int64_t i = 0; i < wsz; i++) {
            T a = 0;
            for (int64_t s2 = 0; s2 < ns; s2++) a += slots[s2 * wsz + i];
            dwk[i] += a;
        }
    }
    if (dw && dwbuf) FN(scatter_taps)(dw, dwk, p, &pl);
    return err;
}
