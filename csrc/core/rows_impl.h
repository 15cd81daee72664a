/*
 * rows_impl.h — the row loops over T (see rows.h and runtime/template.h),
 * included per type by rows.h, itself compiled once per ISA. ROW_EXP,
 * ROW_LOG, ROW_SQRT, ROW_FABS and ROW_POW are T's math functions.
 */
static void FDL_NAME(FN(bin_row))(int op, int64_t n, T *o, const T *a, int64_t sa,
                                   const T *b, int64_t sb) {
    if ((op == FDL_BIN_MAX || op == FDL_BIN_MIN) &&
        FN(fdl_simd_maxmin)(op == FDL_BIN_MIN, n, o, a, sa, b, sb)) return;
    if (op <= FDL_BIN_DIV &&
        FN(fdl_simd_arith)(op, n, o, a, sa, b, sb)) return;
    switch (op) {
    case FDL_BIN_ADD: FDL_BIN_LOOP(T, x + y); break;
    case FDL_BIN_SUB: FDL_BIN_LOOP(T, x - y); break;
    case FDL_BIN_MUL: FDL_BIN_LOOP(T, x * y); break;
    case FDL_BIN_DIV: FDL_BIN_LOOP(T, x / y); break;
    case FDL_BIN_POW: FDL_BIN_LOOP(T, ROW_POW(x, y)); break;
    case FDL_BIN_MAX: FDL_BIN_LOOP(T, FDL_NANMAX(x, y)); break;
    case FDL_BIN_MIN: FDL_BIN_LOOP(T, FDL_NANMIN(x, y)); break;
    default: break;
    }
}
static void FDL_NAME(FN(cmp_row))(int op, int64_t n, uint8_t *o, const T *a, int64_t sa,
                                   const T *b, int64_t sb) {
    switch (op) {
    case FDL_CMP_EQ: FDL_BIN_LOOP(T, x == y); break;
    case FDL_CMP_NE: FDL_BIN_LOOP(T, x != y); break;
    case FDL_CMP_LT: FDL_BIN_LOOP(T, x < y); break;
    case FDL_CMP_LE: FDL_BIN_LOOP(T, x <= y); break;
    case FDL_CMP_GT: FDL_BIN_LOOP(T, x > y); break;
    case FDL_CMP_GE: FDL_BIN_LOOP(T, x >= y); break;
    default: break;
    }
}
static void FDL_NAME(FN(un_row))(int op, int64_t n, T *o, const T *xp, int64_t sx,
                                  T p0, T p1) {
    switch (op) {
    case FDL_UN_NEG: FDL_UN_LOOP(T, -x); break;
    case FDL_UN_EXP:
        if (sx == 1 && FN(fdl_simd_exp)(n, o, xp)) break;
        FDL_UN_LOOP(T, ROW_EXP(x)); break;
    case FDL_UN_LOG:
        if (sx == 1 && FN(fdl_simd_log)(n, o, xp)) break;
        FDL_UN_LOOP(T, ROW_LOG(x)); break;
    case FDL_UN_SQRT: FDL_UN_LOOP(T, ROW_SQRT(x)); break;
    case FDL_UN_ABS: FDL_UN_LOOP(T, ROW_FABS(x)); break;
    case FDL_UN_SQUARE: FDL_UN_LOOP(T, x * x); break;
    case FDL_UN_RECIPROCAL: FDL_UN_LOOP(T, (T)1 / x); break;
    case FDL_UN_POW: /* x ** 0.5 is sqrt at -0 and -inf too, as in NumPy/PyTorch */
        if (p0 == (T)2) FDL_UN_LOOP(T, x * x);
        else if (p0 == (T)0.5) FDL_UN_LOOP(T, ROW_SQRT(x));
        else if (p0 == (T)1) FDL_UN_LOOP(T, x);
        else if (p0 == (T)-1) FDL_UN_LOOP(T, (T)1 / x);
        else FDL_UN_LOOP(T, ROW_POW(x, p0));
        break;
    case FDL_UN_CLIP: FDL_UN_LOOP(T, FDL_CLIP(T, x, p0, p1)); break;
    case FDL_UN_SIGN: FDL_UN_LOOP(T, x != x ? x : (T)((x > 0) - (x < 0))); break;
    case FDL_UN_COPY: FDL_UN_LOOP(T, x); break;
    case FDL_UN_AFFINE: FDL_UN_LOOP(T, p0 * x + p1); break;
    default: break;
    }
}
/* sum of a contiguous row in double: 16 independent lanes so the loop
 * vectorizes without reassociating, then a fixed-order combine */
static double FDL_NAME(FN(sum_row))(int64_t n, const T *x) {
    double acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) acc[l] += (double)x[i + l];
    for (; i < n; i++) acc[i & 15] += (double)x[i];
    for (int l = 0; l < 8; l++) acc[l] += acc[l + 8];
    for (int l = 0; l < 4; l++) acc[l] += acc[l + 4];
    return (acc[0] + acc[2]) + (acc[1] + acc[3]);
}
static T FDL_NAME(FN(max_row))(int is_min, int64_t n, const T *x) {
    T acc[16];
    if (FN(fdl_simd_maxrow)(is_min, n, x, acc)) return acc[0];
    int64_t i = 0;
    for (int l = 0; l < 16; l++) acc[l] = x[0];
    if (is_min) {
        for (; i + 16 <= n; i += 16)
            for (int l = 0; l < 16; l++) acc[l] = FDL_NANMIN(acc[l], x[i + l]);
        for (; i < n; i++) acc[0] = FDL_NANMIN(acc[0], x[i]);
        for (int l = 1; l < 16; l++) acc[0] = FDL_NANMIN(acc[0], acc[l]);
    } else {
        for (; i + 16 <= n; i += 16)
            for (int l = 0; l < 16; l++) acc[l] = FDL_NANMAX(acc[l], x[i + l]);
        for (; i < n; i++) acc[0] = FDL_NANMAX(acc[0], x[i]);
        for (int l = 1; l < 16; l++) acc[0] = FDL_NANMAX(acc[0], acc[l]);
    }
    return acc[0];
}
/* Column reductions over r rows of x (row stride ld): acc[n] += x[k][n]
 * (sum, in double) or acc = max/min(acc, x[k]). Four rows per pass cut
 * the accumulator traffic 4x and keep four DRAM streams in flight; each
 * acc[i] still adds its rows in order k = 0, 1, ..., so the result is the
 * same as one row at a time. */
static void FDL_NAME(FN(col_sum))(int64_t n, int64_t r, int64_t ld, double *acc,
                                   const T *x) {
    int64_t k = 0;
    for (; k + 4 <= r; k += 4) {
        const T *x0 = x + k * ld, *x1 = x0 + ld, *x2 = x1 + ld, *x3 = x2 + ld;
        for (int64_t i = 0; i < n; i++)
            acc[i] = (((acc[i] + (double)x0[i]) + (double)x1[i]) + (double)x2[i])
                     + (double)x3[i];
    }
    for (; k < r; k++) {
        const T *x0 = x + k * ld;
        for (int64_t i = 0; i < n; i++) acc[i] += (double)x0[i];
    }
}
static void FDL_NAME(FN(col_max))(int is_min, int64_t n, int64_t r, int64_t ld, T *acc,
                                   const T *x) {
    if (FN(fdl_simd_colmax)(is_min, n, r, ld, acc, x)) return;
    int64_t k = 0;
    for (; k + 4 <= r; k += 4) {
        const T *x0 = x + k * ld, *x1 = x0 + ld, *x2 = x1 + ld, *x3 = x2 + ld;
        if (is_min)
            for (int64_t i = 0; i < n; i++) {
                T v = acc[i], w;
                w = x0[i]; v = FDL_NANMIN(v, w);
                w = x1[i]; v = FDL_NANMIN(v, w);
                w = x2[i]; v = FDL_NANMIN(v, w);
                w = x3[i]; acc[i] = FDL_NANMIN(v, w);
            }
        else
            for (int64_t i = 0; i < n; i++) {
                T v = acc[i], w;
                w = x0[i]; v = FDL_NANMAX(v, w);
                w = x1[i]; v = FDL_NANMAX(v, w);
                w = x2[i]; v = FDL_NANMAX(v, w);
                w = x3[i]; acc[i] = FDL_NANMAX(v, w);
            }
    }
    for (; k < r; k++) {
        const T *x0 = x + k * ld;
        if (is_min) for (int64_t i = 0; i < n; i++) acc[i] = FDL_NANMIN(acc[i], x0[i]);
        else for (int64_t i = 0; i < n; i++) acc[i] = FDL_NANMAX(acc[i], x0[i]);
    }
}
