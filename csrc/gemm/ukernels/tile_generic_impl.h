/*
 * ukernels/tile_generic_impl.h — the portable GEMM micro-kernels over T:
 * fdl_sgemm_generic_6x8 / fdl_dgemm_generic_6x4 (6 rows x 2 vectors), and
 * fdl_sgemm_generic_6x4 / fdl_dgemm_generic_6x2 (one vector) for edge panels
 * at most one vector wide. Included once per type by gemm_generic.c, between
 * runtime/types_begin.h and types_end.h.
 *
 * Legend: see gemm/gemm_internal.h (k, a/rsa/csa, b/rsb, c/ldc, m x n).
 *
 * With GCC or Clang the tile is held in 16-byte vector-extension values (4
 * floats or 2 doubles): the compilers' auto-vectorizer does not find the
 * register tile by itself (it vectorized across k and spilled the
 * accumulators, 10 GFLOP/s), while explicit 16-byte values lower to SSE2 on
 * baseline x86-64 and NEON on arm64 (12 accumulators + 2 B vectors + 1 A
 * vector + 1 product fit in 16 registers). A arrives packed VL times
 * replicated (csa == VL, see gemm_internal.h): SSE2 has no broadcast load,
 * and a scalar load + shuffle per row took the shuffle pipes the multiplies
 * and adds need. Other compilers get the same arithmetic in plain loops.
 */

#ifdef NN_F64
#define MR FDL_DGEMM_GENERIC_MR
#define NR FDL_DGEMM_GENERIC_NR
#define EPI fdl_dgemm_epi
#define TILE_KERNEL fdl_dgemm_generic_6x4
#define EDGE_KERNEL fdl_dgemm_generic_6x2
#else
#define MR FDL_SGEMM_GENERIC_MR
#define NR FDL_SGEMM_GENERIC_NR
#define EPI fdl_sgemm_epi
#define TILE_KERNEL fdl_sgemm_generic_6x8
#define EDGE_KERNEL fdl_sgemm_generic_6x4
#endif
#define VL (NR / 2)     /* lanes of one 16-byte vector */

/* C[m, n] = epi(acc[m, n]), the part of the tile inside C */
static void FN(store_tile)(const T acc[MR][NR], T *restrict c, int64_t ldc, int m, int n,
                           const EPI *epi) {
    const T alpha = epi->alpha, beta = epi->beta;
    for (int i = 0; i < m; ++i) {
        T *cr = c + i * ldc;
        for (int j = 0; j < n; ++j) {
            T v = alpha * acc[i][j];
            if (beta != (T)0) v += beta * cr[j];
            if (epi->bias) v += epi->bias[j];
            if (epi->relu && v < (T)0) v = (T)0;  /* NaN stays NaN */
            cr[j] = v;
        }
    }
}

#if defined(__GNUC__)
#define VEC FN(vec)
typedef T VEC __attribute__((vector_size(16), aligned(sizeof(T))));

static inline VEC FN(load_vec)(const T *p) {
    VEC v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* C[m<=6, n<=2*VL] = epi(A[6, k] @ B[k, 2*VL]) */
void TILE_KERNEL(int64_t k, const T *restrict a, int64_t rsa, int64_t csa,
                 const T *restrict b, int64_t rsb, T *restrict c, int64_t ldc, int m, int n,
                 const EPI *epi) {
    (void)csa;  /* VL: A is packed replicated */
    VEC c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0};
    VEC c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
    VEC c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    for (int64_t p = 0; p < k; ++p) {
        const VEC b0 = FN(load_vec)(b), b1 = FN(load_vec)(b + VL);
        const VEC a0 = FN(load_vec)(a), a1 = FN(load_vec)(a + VL);
        const VEC a2 = FN(load_vec)(a + 2 * VL), a3 = FN(load_vec)(a + 3 * VL);
        const VEC a4 = FN(load_vec)(a + 4 * VL), a5 = FN(load_vec)(a + 5 * VL);
        c00 += a0 * b0; c01 += a0 * b1;
        c10 += a1 * b0; c11 += a1 * b1;
        c20 += a2 * b0; c21 += a2 * b1;
        c30 += a3 * b0; c31 += a3 * b1;
        c40 += a4 * b0; c41 += a4 * b1;
        c50 += a5 * b0; c51 += a5 * b1;
        a += rsa;
        b += rsb;
    }
    T acc[MR][NR];
    memcpy(acc[0], &c00, 16); memcpy(acc[0] + VL, &c01, 16);
    memcpy(acc[1], &c10, 16); memcpy(acc[1] + VL, &c11, 16);
    memcpy(acc[2], &c20, 16); memcpy(acc[2] + VL, &c21, 16);
    memcpy(acc[3], &c30, 16); memcpy(acc[3] + VL, &c31, 16);
    memcpy(acc[4], &c40, 16); memcpy(acc[4] + VL, &c41, 16);
    memcpy(acc[5], &c50, 16); memcpy(acc[5] + VL, &c51, 16);
    FN(store_tile)((const T(*)[NR])acc, c, ldc, m, n, epi);
}

/* C[m<=6, n<=VL] = epi(A[6, k] @ B[k, VL]); B rows keep their NR stride */
void EDGE_KERNEL(int64_t k, const T *restrict a, int64_t rsa, int64_t csa,
                 const T *restrict b, int64_t rsb, T *restrict c, int64_t ldc, int m, int n,
                 const EPI *epi) {
    (void)csa;
    VEC c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0}, c4 = {0}, c5 = {0};
    for (int64_t p = 0; p < k; ++p) {
        const VEC b0 = FN(load_vec)(b);
        c0 += FN(load_vec)(a) * b0;
        c1 += FN(load_vec)(a + VL) * b0;
        c2 += FN(load_vec)(a + 2 * VL) * b0;
        c3 += FN(load_vec)(a + 3 * VL) * b0;
        c4 += FN(load_vec)(a + 4 * VL) * b0;
        c5 += FN(load_vec)(a + 5 * VL) * b0;
        a += rsa;
        b += rsb;
    }
    T acc[MR][NR];
    memcpy(acc[0], &c0, 16); memcpy(acc[1], &c1, 16); memcpy(acc[2], &c2, 16);
    memcpy(acc[3], &c3, 16); memcpy(acc[4], &c4, 16); memcpy(acc[5], &c5, 16);
    FN(store_tile)((const T(*)[NR])acc, c, ldc, m, n, epi);
}
#undef VEC
#else
/* acc[6, w] = A[6, k] @ B[k, w] in plain loops */
static void FN(tile_loops)(int64_t k, const T *a, int64_t rsa, int64_t csa, const T *b,
                           int64_t rsb, int w, T acc[MR][NR]) {
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) acc[i][j] = (T)0;
    for (int64_t p = 0; p < k; ++p) {
        for (int i = 0; i < MR; ++i) {
            const T ai = a[i * csa];
            for (int j = 0; j < w; ++j) acc[i][j] += ai * b[j];
        }
        a += rsa;
        b += rsb;
    }
}

/* C[m<=6, n<=2*VL] = epi(A[6, k] @ B[k, 2*VL]) */
void TILE_KERNEL(int64_t k, const T *restrict a, int64_t rsa, int64_t csa,
                 const T *restrict b, int64_t rsb, T *restrict c, int64_t ldc, int m, int n,
                 const EPI *epi) {
    T acc[MR][NR];
    FN(tile_loops)(k, a, rsa, csa, b, rsb, NR, acc);
    FN(store_tile)((const T(*)[NR])acc, c, ldc, m, n, epi);
}

/* C[m<=6, n<=VL] = epi(A[6, k] @ B[k, VL]) */
void EDGE_KERNEL(int64_t k, const T *restrict a, int64_t rsa, int64_t csa,
                 const T *restrict b, int64_t rsb, T *restrict c, int64_t ldc, int m, int n,
                 const EPI *epi) {
    T acc[MR][NR];
    FN(tile_loops)(k, a, rsa, csa, b, rsb, VL, acc);
    FN(store_tile)((const T(*)[NR])acc, c, ldc, m, n, epi);
}
#endif

#undef MR
#undef NR
#undef EPI
#undef TILE_KERNEL
#undef EDGE_KERNEL
#undef VL
