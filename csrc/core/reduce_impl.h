/*
 * reduce_impl.h — the reduction body over T (see reduce.c and
 * runtime/template.h): row-wise (inner == 1) and column-wise (inner > 1)
 * sum/mean/max/min and argmax/argmin, threads over whole outputs.
 */

/* ---- inner == 1: each output reduces a contiguous row of r ---------- */
static void FN(rows_range)(const fdl_rows *R, int op, int64_t lo, int64_t hi,
                            int64_t r, T *out, const T *x) {
    int is_min = op == FDL_RED_MIN;
    int sum = op == FDL_RED_SUM || op == FDL_RED_MEAN;
    for (int64_t o = lo; o < hi; o++) {
        const T *row = x + o * r;
        if (sum) {
            double s = R->FN(sum)(r, row);
            out[o] = (T)(op == FDL_RED_MEAN ? s / (double)r : s);
        } else {
            out[o] = R->FN(max)(is_min, r, row);
        }
    }
}
static void FN(rowwise)(const fdl_rows *R, int op, int64_t outer, int64_t r,
                         T *out, const T *x) {
    int is_min = op == FDL_RED_MIN;
    int sum = op == FDL_RED_SUM || op == FDL_RED_MEAN;
    if (r < 4 * FDL_PAR_MIN_ELEMS) { /* the path never depends on threads */
        int nt = fdl_threads_for(outer * r);
        if (nt > outer) nt = (int)outer;
        FDL_SPLIT(nt, outer, FN(rows_range)(R, op, lo_, hi_, r, out, x));
        return;
    }
    /* few long rows: fixed chunks, partials combined in order */
    int64_t chunk = FDL_MAX(FDL_PAR_MIN_ELEMS, FDL_CDIV(r, RED_MAX_CHUNKS));
    int64_t nch = FDL_CDIV(r, chunk);
    for (int64_t o = 0; o < outer; o++) {
        const T *row = x + o * r;
        double ps[RED_MAX_CHUNKS];
        T pm[RED_MAX_CHUNKS];
        int nt = fdl_get_num_threads();
        (void)nt; /* unused in a build without OpenMP */
        _Pragma("omp parallel for schedule(static) num_threads(nt) if(nt > 1)")
        for (int64_t c = 0; c < nch; c++) {
            int64_t lo = c * chunk, n = FDL_MIN(chunk, r - lo);
            if (sum) ps[c] = R->FN(sum)(n, row + lo);
            else pm[c] = R->FN(max)(is_min, n, row + lo);
        }
        if (sum) {
            double s = 0;
            for (int64_t c = 0; c < nch; c++) s += ps[c];
            out[o] = (T)(op == FDL_RED_MEAN ? s / (double)r : s);
        } else {
            out[o] = R->FN(max)(is_min, nch, pm);
        }
    }
}

/* ---- inner > 1: column reductions, vectorized along inner ------------- */
static void FN(cols_range)(const fdl_rows *R, int op, int64_t lo, int64_t hi,
                            int64_t ntile, int64_t r, int64_t inner, T *out,
                            const T *x) {
    int is_min = op == FDL_RED_MIN;
    int sum = op == FDL_RED_SUM || op == FDL_RED_MEAN;
    for (int64_t jb = lo; jb < hi; jb++) {
        int64_t o = jb / ntile, i0 = (jb % ntile) * COL_TILE;
        int64_t n = FDL_MIN(COL_TILE, inner - i0);
        const T *base = x + o * r * inner + i0;
        T *dst = out + o * inner + i0;
        if (sum) {
            double acc[COL_TILE];
            for (int64_t i = 0; i < n; i++) acc[i] = 0;
            R->FN(colsum)(n, r, inner, acc, base);
            double scale = op == FDL_RED_MEAN ? 1.0 / (double)r : 1.0;
            if (op == FDL_RED_MEAN && r == 0) scale = NAN;
            for (int64_t i = 0; i < n; i++) dst[i] = (T)(acc[i] * scale);
        } else {
            for (int64_t i = 0; i < n; i++) dst[i] = base[i];
            R->FN(colmax)(is_min, n, r - 1, inner, dst, base + inner);
        }
    }
}
static void FN(colwise)(const fdl_rows *R, int op, int64_t outer, int64_t r,
                         int64_t inner, T *out, const T *x) {
    int64_t ntile = FDL_CDIV(inner, COL_TILE);
    int64_t jobs = outer * ntile;
    int nt = fdl_threads_for(outer * r * inner);
    if (nt > jobs) nt = (int)jobs;
    FDL_SPLIT(nt, jobs, FN(cols_range)(R, op, lo_, hi_, ntile, r, inner, out, x));
}

static void FN(reduce_op)(int op, int64_t outer, int64_t r, int64_t inner, T *out,
                     const T *x) {
    if (outer <= 0 || inner <= 0) return;
    const fdl_rows *R = fdl_rows_active();
    if (r <= 0) {
        T v = op == FDL_RED_MEAN ? (T)NAN : (T)0;
        for (int64_t i = 0; i < outer * inner; i++) out[i] = v;
        return;
    }
    if (inner == 1) FN(rowwise)(R, op, outer, r, out, x);
    else FN(colwise)(R, op, outer, r, inner, out, x);
}
static void FN(args_range)(int is_min, int64_t lo, int64_t hi, int64_t r,
                            int64_t inner, int64_t *out, const T *x);
static void FN(argreduce_op)(int is_min, int64_t outer, int64_t r, int64_t inner,
                        int64_t *out, const T *x) {
    if (outer <= 0 || inner <= 0 || r <= 0) return;
    int nt = fdl_threads_for(outer * r * inner);
    if (nt > outer * inner) nt = (int)(outer * inner);
    FDL_SPLIT(nt, outer * inner, FN(args_range)(is_min, lo_, hi_, r, inner, out, x));
}
static void FN(args_range)(int is_min, int64_t lo, int64_t hi, int64_t r,
                            int64_t inner, int64_t *out, const T *x) {
    for (int64_t oi = lo; oi < hi; oi++) {
        int64_t o = oi / inner, i = oi % inner;
        const T *p = x + o * r * inner + i;
        T best = p[0];
        int64_t arg = 0;
        if (best == best) {
            for (int64_t k = 1; k < r; k++) {
                T v = p[k * inner];
                if (v != v) { arg = k; break; }
                if (is_min ? v < best : v > best) { best = v; arg = k; }
            }
        }
        out[oi] = arg;
    }
}
