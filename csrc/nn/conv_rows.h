/*
 * conv_rows.h — the convolution's phase-plane loops over T (see
 * conv_table.h and types_begin.h), compiled once per ISA by conv_<isa>.c so
 * gcc vectorizes the same plain loops at that file's vector width: rows of
 * 8 to 64 elements, where baseline SSE2 code spends more in loop overhead
 * than in moving data.
 */
#ifndef CONV_ROWS_FN
#define CONV_ROWS_FN static NN_CONV_NO_LIBCALL
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

/* AVX-512 float rows: 16 lanes, the tail under a mask, so a row of any
 * length is one straight-line pass (gcc's vectorized loops spend more in
 * their prologue and epilogue than in rows of 8 or 16). */
#if defined(__AVX512F__) && !defined(NN_F64) && !defined(CONV_ROWS_AVX512_DONE)
#define CONV_ROWS_AVX512_DONE
static inline __mmask16 conv_m16(int64_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}
/* d[0, n) = s[0, n) */
static inline void conv_cpy_f32(float *d, const float *s, int64_t n) {
    int64_t q = 0;
    for (; q + 16 <= n; q += 16) _mm512_storeu_ps(d + q, _mm512_loadu_ps(s + q));
    if (q + 8 <= n) {
        _mm256_storeu_ps(d + q, _mm256_loadu_ps(s + q));
        q += 8;
    }
    if (q < n) {
        const __mmask16 m = conv_m16(n - q);
        _mm512_mask_storeu_ps(d + q, m, _mm512_maskz_loadu_ps(m, s + q));
    }
}
/* d[0, n) += s[0, n): no masked stores here, the rows of the next taps
 * read them back at once, and a masked store does not forward to a load */
static inline void conv_add_f32(float *d, const float *s, int64_t n) {
    int64_t q = 0;
    for (; q + 16 <= n; q += 16)
        _mm512_storeu_ps(d + q, _mm512_add_ps(_mm512_loadu_ps(d + q), _mm512_loadu_ps(s + q)));
    if (q + 8 <= n) {
        _mm256_storeu_ps(d + q, _mm256_add_ps(_mm256_loadu_ps(d + q), _mm256_loadu_ps(s + q)));
        q += 8;
    }
    for (; q < n; q++) d[q] += s[q];
}
/* de[m] = x[2m], dd[m] = x[2m + 1] for m < n */
static inline void conv_deint_f32(float *de, float *dd, const float *x, int64_t n) {
    const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                         28, 30);
    const __m512i io = _mm512_add_epi32(ie, _mm512_set1_epi32(1));
    for (int64_t m = 0; m < n; m += 16) {
        const int64_t k = FDL_MIN(n - m, (int64_t)16);
        const __m512 lo = _mm512_maskz_loadu_ps(conv_m16(2 * k), x + 2 * m);
        const __m512 hi = _mm512_maskz_loadu_ps(conv_m16(2 * k - 16), x + 2 * m + 16);
        const __mmask16 mk = conv_m16(k);
        _mm512_mask_storeu_ps(de + m, mk, _mm512_permutex2var_ps(lo, ie, hi));
        _mm512_mask_storeu_ps(dd + m, mk, _mm512_permutex2var_ps(lo, io, hi));
    }
}
/* d[2m] += se[m], d[2m + 1] += so[m] for m < n (unmasked, as conv_add_f32) */
static inline void conv_int_add_f32(float *d, const float *se, const float *so, int64_t n) {
    const __m512i il = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7,
                                         23);
    const __m512i ih = _mm512_add_epi32(il, _mm512_set1_epi32(8));
    int64_t m = 0;
    for (; m + 16 <= n; m += 16) {
        const __m512 e = _mm512_loadu_ps(se + m), o = _mm512_loadu_ps(so + m);
        float *d0 = d + 2 * m;
        _mm512_storeu_ps(d0, _mm512_add_ps(_mm512_loadu_ps(d0), _mm512_permutex2var_ps(e, il, o)));
        _mm512_storeu_ps(d0 + 16, _mm512_add_ps(_mm512_loadu_ps(d0 + 16),
                                                _mm512_permutex2var_ps(e, ih, o)));
    }
    if (m + 8 <= n) {
        const __m512 e = _mm512_castps256_ps512(_mm256_loadu_ps(se + m));
        const __m512 o = _mm512_castps256_ps512(_mm256_loadu_ps(so + m));
        float *d0 = d + 2 * m;
        _mm512_storeu_ps(d0, _mm512_add_ps(_mm512_loadu_ps(d0), _mm512_permutex2var_ps(e, il, o)));
        m += 8;
    }
    for (; m < n; m++) {
        d[2 * m] += se[m];
        d[2 * m + 1] += so[m];
    }
}
#endif
#if defined(__AVX512F__) && !defined(NN_F64)
#define ROW_CPY(d, s, n) conv_cpy_f32(d, s, n)
#define ROW_ADD(d, s, n) conv_add_f32(d, s, n)
#define ROW_DEINT(de, dd, x, n) conv_deint_f32(de, dd, x, n)
#define ROW_INT_ADD(d, se, so, n) conv_int_add_f32(d, se, so, n)
#else
#define ROW_CPY(d, s, n) ROW_BLOCKS(n, (d)[q] = (s)[q], (d)[q] = (s)[q])
#define ROW_ADD(d, s, n) ROW_BLOCKS(n, (d)[q] += (s)[q], (d)[q] += (s)[q])
#define ROW_DEINT(de, dd, x, n)                                                          \
    ROW_BLOCKS(n, ((de)[q] = (x)[2 * q], (dd)[q] = (x)[2 * q + 1]),                      \
               ((de)[q] = (x)[2 * q], (dd)[q] = (x)[2 * q + 1]))
#define ROW_INT_ADD(d, se, so, n)                                                        \
    ROW_BLOCKS(n, ((d)[2 * q] += (se)[q], (d)[2 * q + 1] += (so)[q]),                    \
               ((d)[2 * q] += (se)[q], (d)[2 * q + 1] += (so)[q]))
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
            ROW_CPY(d, xr, W);
        } else if (sw == 2) {
            /* even iw = 2m goes to phase pw % 2 at m + pw / 2, odd ones to the other */
            T *restrict de = ra + (pw % 2) * HWs + pw / 2;
            T *restrict dd = ra + ((pw + 1) % 2) * HWs + (pw + 1) / 2;
            const int64_t half = W / 2;
            ROW_DEINT(de, dd, xr, half);
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
                ROW_CPY(dr, sr, Q);
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
            ROW_ADD(dr, sr, Q);
        }
    }
    for (int64_t ih = 0; ih < H; ih++) {
        const int64_t ihp = ih + ph;
        const T *ra = dp + (ihp % sh) * sw * HWs + (ihp / sh) * Ws;
        T *restrict dr = dx + ih * W;
        if (sw == 1) {
            const T *restrict se = ra + pw;
            ROW_ADD(dr, se, W);
        } else if (sw == 2) {
            const T *restrict se = ra + (pw % 2) * HWs + pw / 2;
            const T *restrict so = ra + ((pw + 1) % 2) * HWs + (pw + 1) / 2;
            const int64_t half = W / 2;
            ROW_INT_ADD(dr, se, so, half);
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
#undef ROW_CPY
#undef ROW_ADD
#undef ROW_DEINT
#undef ROW_INT_ADD
