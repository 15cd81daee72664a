/*
 * conv_rows.h — the convolution's phase-plane loops over T (see
 * conv_table.h and types_begin.h), compiled once per ISA by conv_<isa>.c so
 * gcc vectorizes the same plain loops at that file's vector width: rows of
 * 8 to 64 elements, where baseline SSE2 code spends more in loop overhead
 * than in moving data. CONV_ROWS_FN keeps gcc from turning the short row
 * loops into memcpy/memset calls, whose call costs more than the row.
 */
#ifndef CONV_ROWS_FN
#define CONV_ROWS_FN static __attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif

CONV_ROWS_FN void FN(planes)(T *restrict dst, const T *restrict x, const nn_conv_geom *g) {
    const int64_t H = g->H, W = g->W, sh = g->sh, sw = g->sw, ph = g->ph, pw = g->pw;
    const int64_t Ws = g->Ws, HWs = g->HWs;
    memset(dst, 0, (size_t)g->plane_c * sizeof(T));
    for (int64_t ih = 0; ih < H; ih++) {
        const int64_t ihp = ih + ph;
        T *ra = dst + (ihp % sh) * sw * HWs + (ihp / sh) * Ws;
        const T *restrict xr = x + ih * W;
        if (sw == 1) {
            T *restrict d = ra + pw;
            for (int64_t iw = 0; iw < W; iw++) d[iw] = xr[iw];
        } else if (sw == 2) {
            /* even iw = 2m goes to phase pw % 2 at m + pw / 2, odd ones to the other */
            T *restrict de = ra + (pw % 2) * HWs + pw / 2;
            T *restrict dd = ra + ((pw + 1) % 2) * HWs + (pw + 1) / 2;
            const int64_t half = W / 2;
            for (int64_t m = 0; m < half; m++) {
                de[m] = xr[2 * m];
                dd[m] = xr[2 * m + 1];
            }
            if (W % 2) de[half] = xr[W - 1];
        } else {
            for (int64_t iw = 0; iw < W; iw++) {
                const int64_t iwp = iw + pw;
                ra[(iwp % sw) * HWs + iwp / sw] = xr[iw];
            }
        }
    }
}

CONV_ROWS_FN void FN(rows)(T *restrict dst, const T *restrict src, const nn_conv_geom *g) {
    const int64_t P = g->P, Q = g->Q, Ws = g->Ws;
    for (int64_t p = 0; p < P; p++)
        for (int64_t q = 0; q < Q; q++) dst[p * Q + q] = src[p * Ws + q];
}

CONV_ROWS_FN void FN(col2im)(T *restrict dx, T *restrict dp, const T *restrict dcol, int64_t ldc,
                       const int64_t *toff, int64_t taps, const nn_conv_geom *g) {
    const int64_t H = g->H, W = g->W, sh = g->sh, sw = g->sw, ph = g->ph, pw = g->pw;
    const int64_t P = g->P, Q = g->Q, Ws = g->Ws, HWs = g->HWs;
    memset(dp, 0, (size_t)g->plane_c * sizeof(T));
    for (int64_t t = 0; t < taps; t++) {
        T *restrict d = dp + toff[t];
        const T *restrict src = dcol + t * ldc;
        for (int64_t p = 0; p < P; p++)
            for (int64_t q = 0; q < Q; q++) d[p * Ws + q] += src[p * Q + q];
    }
    for (int64_t ih = 0; ih < H; ih++) {
        const int64_t ihp = ih + ph;
        const T *ra = dp + (ihp % sh) * sw * HWs + (ihp / sh) * Ws;
        T *restrict dr = dx + ih * W;
        if (sw == 1) {
            const T *restrict se = ra + pw;
            for (int64_t iw = 0; iw < W; iw++) dr[iw] += se[iw];
        } else if (sw == 2) {
            const T *restrict se = ra + (pw % 2) * HWs + pw / 2;
            const T *restrict so = ra + ((pw + 1) % 2) * HWs + (pw + 1) / 2;
            const int64_t half = W / 2;
            for (int64_t m = 0; m < half; m++) {
                dr[2 * m] += se[m];
                dr[2 * m + 1] += so[m];
            }
            if (W % 2) dr[W - 1] += se[half];
        } else {
            for (int64_t iw = 0; iw < W; iw++) {
                const int64_t iwp = iw + pw;
                dr[iw] += ra[(iwp % sw) * HWs + iwp / sw];
            }
        }
    }
}

CONV_ROWS_FN void FN(cols8)(T *restrict d, int64_t nr, const T *restrict rows, int64_t ldr, int m,
                      int64_t len) {
    if (m == 8) {
        for (int64_t k = 0; k < len; k++)
            for (int u = 0; u < 8; u++) d[k * nr + u] = rows[u * ldr + k];
    } else {
        for (int64_t k = 0; k < len; k++)
            for (int u = 0; u < m; u++) d[k * nr + u] = rows[u * ldr + k];
    }
}
