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

/* Rows are moved in blocks of 8 (a constant trip count compiles to one or
 * two vector moves at any width; rows of 8 or 16 elements, the usual Q of a
 * stride-2 layer, leave no tail). */
#define ROW_BLOCKS(n, body8, body1)                                                      \
    do {                                                                                 \
        int64_t q_ = 0;                                                                  \
        for (; q_ + 8 <= (n); q_ += 8)                                                   \
            for (int u_ = 0; u_ < 8; u_++) { const int64_t q = q_ + u_; body8; }         \
        for (; q_ < (n); q_++) { const int64_t q = q_; body1; }                          \
    } while (0)

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
            ROW_BLOCKS(W, d[q] = xr[q], d[q] = xr[q]);
        } else if (sw == 2) {
            /* even iw = 2m goes to phase pw % 2 at m + pw / 2, odd ones to the other */
            T *restrict de = ra + (pw % 2) * HWs + pw / 2;
            T *restrict dd = ra + ((pw + 1) % 2) * HWs + (pw + 1) / 2;
            const int64_t half = W / 2;
            ROW_BLOCKS(half, (de[q] = xr[2 * q], dd[q] = xr[2 * q + 1]),
                       (de[q] = xr[2 * q], dd[q] = xr[2 * q + 1]));
            if (W % 2) de[half] = xr[W - 1];
        } else {
            for (int64_t iw = 0; iw < W; iw++) {
                const int64_t iwp = iw + pw;
                ra[(iwp % sw) * HWs + iwp / sw] = xr[iw];
            }
        }
    }
}

CONV_ROWS_FN void FN(im2col)(T *restrict col, int64_t ldc, const T *restrict pc, int64_t sn,
                             int64_t nb, const int64_t *toff, int64_t taps,
                             const nn_conv_geom *g) {
    const int64_t P = g->P, Q = g->Q, Ws = g->Ws, PQ = P * Q;
    for (int64_t t = 0; t < taps; t++)
        for (int64_t nl = 0; nl < nb; nl++) {
            T *restrict dst = col + t * ldc + nl * PQ;
            const T *restrict src = pc + nl * sn + toff[t];
            for (int64_t p = 0; p < P; p++) {
                T *restrict dr = dst + p * Q;
                const T *restrict sr = src + p * Ws;
                ROW_BLOCKS(Q, dr[q] = sr[q], dr[q] = sr[q]);
            }
        }
}

CONV_ROWS_FN void FN(col2im)(T *restrict dx, T *restrict dp, const T *restrict dcol, int64_t ldc,
                       const int64_t *toff, int64_t taps, const nn_conv_geom *g) {
    const int64_t H = g->H, W = g->W, sh = g->sh, sw = g->sw, ph = g->ph, pw = g->pw;
    const int64_t P = g->P, Q = g->Q, Ws = g->Ws, HWs = g->HWs;
    memset(dp, 0, (size_t)g->plane_c * sizeof(T));
    for (int64_t t = 0; t < taps; t++) {
        T *restrict d = dp + toff[t];
        const T *restrict src = dcol + t * ldc;
        for (int64_t p = 0; p < P; p++) {
            T *restrict dr = d + p * Ws;
            const T *restrict sr = src + p * Q;
            ROW_BLOCKS(Q, dr[q] += sr[q], dr[q] += sr[q]);
        }
    }
    for (int64_t ih = 0; ih < H; ih++) {
        const int64_t ihp = ih + ph;
        const T *ra = dp + (ihp % sh) * sw * HWs + (ihp / sh) * Ws;
        T *restrict dr = dx + ih * W;
        if (sw == 1) {
            const T *restrict se = ra + pw;
            ROW_BLOCKS(W, dr[q] += se[q], dr[q] += se[q]);
        } else if (sw == 2) {
            const T *restrict se = ra + (pw % 2) * HWs + pw / 2;
            const T *restrict so = ra + ((pw + 1) % 2) * HWs + (pw + 1) / 2;
            const int64_t half = W / 2;
            ROW_BLOCKS(half, (dr[2 * q] += se[q], dr[2 * q + 1] += so[q]),
                       (dr[2 * q] += se[q], dr[2 * q + 1] += so[q]));
            if (W % 2) dr[W - 1] += se[half];
        } else {
            for (int64_t iw = 0; iw < W; iw++) {
                const int64_t iwp = iw + pw;
                dr[iw] += ra[(iwp % sw) * HWs + iwp / sw];
            }
        }
    }
}

#if defined(__AVX2__) && !defined(NN_F64)
/* 8 rows of 8 floats (row stride lds) -> 8 columns (row stride ldt) */
static inline void conv_t8x8_f32(float *dt, int64_t ldt, const __m256 *r) {
    const __m256 a0 = _mm256_unpacklo_ps(r[0], r[1]), a1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 a2 = _mm256_unpacklo_ps(r[2], r[3]), a3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 a4 = _mm256_unpacklo_ps(r[4], r[5]), a5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 a6 = _mm256_unpacklo_ps(r[6], r[7]), a7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 b0 = _mm256_shuffle_ps(a0, a2, 0x44), b1 = _mm256_shuffle_ps(a0, a2, 0xEE);
    const __m256 b2 = _mm256_shuffle_ps(a1, a3, 0x44), b3 = _mm256_shuffle_ps(a1, a3, 0xEE);
    const __m256 b4 = _mm256_shuffle_ps(a4, a6, 0x44), b5 = _mm256_shuffle_ps(a4, a6, 0xEE);
    const __m256 b6 = _mm256_shuffle_ps(a5, a7, 0x44), b7 = _mm256_shuffle_ps(a5, a7, 0xEE);
    _mm256_storeu_ps(dt + 0 * ldt, _mm256_permute2f128_ps(b0, b4, 0x20));
    _mm256_storeu_ps(dt + 1 * ldt, _mm256_permute2f128_ps(b1, b5, 0x20));
    _mm256_storeu_ps(dt + 2 * ldt, _mm256_permute2f128_ps(b2, b6, 0x20));
    _mm256_storeu_ps(dt + 3 * ldt, _mm256_permute2f128_ps(b3, b7, 0x20));
    _mm256_storeu_ps(dt + 4 * ldt, _mm256_permute2f128_ps(b0, b4, 0x31));
    _mm256_storeu_ps(dt + 5 * ldt, _mm256_permute2f128_ps(b1, b5, 0x31));
    _mm256_storeu_ps(dt + 6 * ldt, _mm256_permute2f128_ps(b2, b6, 0x31));
    _mm256_storeu_ps(dt + 7 * ldt, _mm256_permute2f128_ps(b3, b7, 0x31));
}
#endif

CONV_ROWS_FN void FN(dout_t)(T *restrict dt, int64_t ldt, T *restrict dc, int64_t ldc,
                             const T *restrict d, const T *restrict y, int64_t ldd,
                             int64_t rows, int64_t cols) {
    int64_t r0 = 0;
#if defined(__AVX2__) && !defined(NN_F64)
    for (; r0 + 8 <= rows; r0 += 8) {
        int64_t j0 = 0;
        for (; j0 + 8 <= cols; j0 += 8) {
            __m256 v[8];
            for (int u = 0; u < 8; u++) {
                const int64_t at = (r0 + u) * ldd + j0;
                v[u] = _mm256_loadu_ps(d + at);
                if (y)   /* blend, not a branch on the sign (see relu_mask) */
                    v[u] = _mm256_and_ps(v[u], _mm256_cmp_ps(_mm256_loadu_ps(y + at),
                                                             _mm256_setzero_ps(), _CMP_GT_OQ));
                if (dc) _mm256_storeu_ps(dc + (r0 + u) * ldc + j0, v[u]);
            }
            conv_t8x8_f32(dt + j0 * ldt + r0, ldt, v);
        }
        for (int64_t r = r0; r < r0 + 8; r++)
            for (int64_t j = j0; j < cols; j++) {
                const T v = y ? (y[r * ldd + j] > 0 ? d[r * ldd + j] : 0) : d[r * ldd + j];
                if (dc) dc[r * ldc + j] = v;
                dt[j * ldt + r] = v;
            }
    }
#endif
    for (int64_t r = r0; r < rows; r++)
        for (int64_t j = 0; j < cols; j++) {
            const T v = y ? (y[r * ldd + j] > 0 ? d[r * ldd + j] : 0) : d[r * ldd + j];
            if (dc) dc[r * ldc + j] = v;
            dt[j * ldt + r] = v;
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

#undef ROW_BLOCKS
