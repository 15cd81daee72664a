/*
 * ukernels/tile_avx512_impl.h — the AVX-512 GEMM micro-kernels over T:
 * fdl_sgemm_avx512_12x32 / fdl_dgemm_avx512_12x16 (12 rows x 2 vectors), and
 * fdl_sgemm_avx512_12x16 / fdl_dgemm_avx512_12x8 (one vector) for edge
 * panels at most one vector wide. Included once per type by gemm_avx512.c,
 * between runtime/types_begin.h and types_end.h.
 *
 * Legend: see gemm/gemm_internal.h (k, a/rsa/csa, b/rsb, c/ldc, m x n).
 *
 * 24 zmm accumulators (12 rows x 2 vectors) + 2 B vectors: with 4-cycle FMA
 * latency and two FMA pipes, 8 independent chains are the minimum; 24 leave
 * slack for the 12 broadcasts, which gcc folds into the FMAs' memory operand
 * ({1to16} for float, {1to8} for double), so the loop issues 2 loads + 24
 * FMAs per k step. Edges (m < 12, n < 2 vectors) only change the store:
 * masked stores, outside the k loop.
 */

#ifdef NN_F64
#define VEC __m512d
#define MASK __mmask8
#define VL 8
#define EPI fdl_dgemm_epi
#define TILE_KERNEL fdl_dgemm_avx512_12x16
#define EDGE_KERNEL fdl_dgemm_avx512_12x8
#define V(op) _mm512_##op##_pd
#else
#define VEC __m512
#define MASK __mmask16
#define VL 16
#define EPI fdl_sgemm_epi
#define TILE_KERNEL fdl_sgemm_avx512_12x32
#define EDGE_KERNEL fdl_sgemm_avx512_12x16
#define V(op) _mm512_##op##_ps
#endif
/* the mask of lanes j < n, for 0 <= n <= VL */
#define LANES(n) ((MASK)((1u << (n)) - 1))

#define ROW_FMA(r)                                              \
    do {                                                        \
        VEC ar = V(set1)(a[r]);                                 \
        c##r##0 = V(fmadd)(ar, b0, c##r##0);                    \
        c##r##1 = V(fmadd)(ar, b1, c##r##1);                    \
    } while (0)

/* Rows of A read in place: row r at ar[r*csa]; four base pointers keep the
 * twelve addresses as base + {0,1,2}*csa, which x86 addressing encodes. */
#define ROW_FMA_IN(r, base, off)                                \
    do {                                                        \
        VEC ar = V(set1)(base[off]);                            \
        c##r##0 = V(fmadd)(ar, b0, c##r##0);                    \
        c##r##1 = V(fmadd)(ar, b1, c##r##1);                    \
    } while (0)

#define ROW_STORE(r)                                                      \
    do {                                                                  \
        if ((r) < m) {                                                    \
            T *cr = c + (int64_t)(r) * ldc;                               \
            VEC v0 = V(mul)(c##r##0, valpha);                             \
            VEC v1 = V(mul)(c##r##1, valpha);                             \
            if (beta != (T)0) {                                           \
                v0 = V(fmadd)(vbeta, V(maskz_loadu)(m0, cr), v0);         \
                v1 = V(fmadd)(vbeta, V(maskz_loadu)(m1, cr + VL), v1);    \
            }                                                             \
            if (bias) {                                                   \
                v0 = V(add)(v0, bias0);                                   \
                v1 = V(add)(v1, bias1);                                   \
            }                                                             \
            if (relu) { /* max(0, v) returns v when v is NaN */           \
                v0 = V(max)(zero, v0);                                    \
                v1 = V(max)(zero, v1);                                    \
            }                                                             \
            V(mask_storeu)(cr, m0, v0);                                   \
            V(mask_storeu)(cr + VL, m1, v1);                              \
        }                                                                 \
    } while (0)

/* C[m<=12, n<=2*VL] = epi(A[12, k] @ B[k, 2*VL]) */
void TILE_KERNEL(int64_t k, const T *restrict a, int64_t rsa, int64_t csa,
                 const T *restrict b, int64_t rsb, T *restrict c, int64_t ldc, int m, int n,
                 const EPI *epi) {
    VEC c00 = V(setzero)(), c01 = c00, c10 = c00, c11 = c00;
    VEC c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00;
    VEC c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    VEC c80 = c00, c81 = c00, c90 = c00, c91 = c00;
    VEC c100 = c00, c101 = c00, c110 = c00, c111 = c00;

    /* The C tile is written once at the end; start fetching it now so the
     * epilogue does not stall on 24 cold lines. */
    for (int r = 0; r < m; ++r) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 2 * VL - 1), _MM_HINT_T0);
    }

    if (csa == 1) {
#pragma GCC unroll 4
        for (int64_t p = 0; p < k; ++p) {
            VEC b0 = V(loadu)(b);
            VEC b1 = V(loadu)(b + VL);
            ROW_FMA(0); ROW_FMA(1); ROW_FMA(2); ROW_FMA(3);
            ROW_FMA(4); ROW_FMA(5); ROW_FMA(6); ROW_FMA(7);
            ROW_FMA(8); ROW_FMA(9); ROW_FMA(10); ROW_FMA(11);
            a += rsa;
            b += rsb;
        }
    } else {
        const T *a0 = a, *a3 = a + 3 * csa, *a6 = a + 6 * csa, *a9 = a + 9 * csa;
        const int64_t c2 = 2 * csa;
#pragma GCC unroll 4
        for (int64_t p = 0; p < k; ++p) {
            VEC b0 = V(loadu)(b);
            VEC b1 = V(loadu)(b + VL);
            ROW_FMA_IN(0, a0, 0); ROW_FMA_IN(1, a0, csa); ROW_FMA_IN(2, a0, c2);
            ROW_FMA_IN(3, a3, 0); ROW_FMA_IN(4, a3, csa); ROW_FMA_IN(5, a3, c2);
            ROW_FMA_IN(6, a6, 0); ROW_FMA_IN(7, a6, csa); ROW_FMA_IN(8, a6, c2);
            ROW_FMA_IN(9, a9, 0); ROW_FMA_IN(10, a9, csa); ROW_FMA_IN(11, a9, c2);
            a0 += rsa; a3 += rsa; a6 += rsa; a9 += rsa;
            b += rsb;
        }
    }

    const T beta = epi->beta;
    const T *bias = epi->bias;
    const int relu = epi->relu;
    const VEC valpha = V(set1)(epi->alpha);
    const VEC vbeta = V(set1)(beta);
    const VEC zero = V(setzero)();
    MASK m0, m1;
    if (n >= 2 * VL) { m0 = LANES(VL); m1 = LANES(VL); }
    else if (n > VL) { m0 = LANES(VL); m1 = LANES(n - VL); }
    else { m0 = LANES(n); m1 = 0; }
    VEC bias0 = zero, bias1 = zero;
    if (bias) {
        bias0 = V(maskz_loadu)(m0, bias);
        bias1 = V(maskz_loadu)(m1, bias + VL);
    }
    ROW_STORE(0); ROW_STORE(1); ROW_STORE(2); ROW_STORE(3);
    ROW_STORE(4); ROW_STORE(5); ROW_STORE(6); ROW_STORE(7);
    ROW_STORE(8); ROW_STORE(9); ROW_STORE(10); ROW_STORE(11);
}

/* ---- 12 x VL: the narrow edge panel (n <= VL), e.g. N = 10 classes ----
 * Same loop with one B vector per k: half the FMAs of the full tile are not
 * wasted on zero padding. 12 chains still cover the FMA latency. */

#define ROW_FMA1(r)                                             \
    do {                                                        \
        VEC ar = V(set1)(a[r]);                                 \
        c##r = V(fmadd)(ar, b0, c##r);                          \
    } while (0)

#define ROW_FMA1_IN(r, base, off)                               \
    do {                                                        \
        VEC ar = V(set1)(base[off]);                            \
        c##r = V(fmadd)(ar, b0, c##r);                          \
    } while (0)

#define ROW_STORE1(r)                                                     \
    do {                                                                  \
        if ((r) < m) {                                                    \
            T *cr = c + (int64_t)(r) * ldc;                               \
            VEC v0 = V(mul)(c##r, valpha);                                \
            if (beta != (T)0)                                             \
                v0 = V(fmadd)(vbeta, V(maskz_loadu)(m0, cr), v0);         \
            if (bias) v0 = V(add)(v0, bias0);                             \
            if (relu) v0 = V(max)(zero, v0);                              \
            V(mask_storeu)(cr, m0, v0);                                   \
        }                                                                 \
    } while (0)

/* C[m<=12, n<=VL] = epi(A[12, k] @ B[k, VL]) */
void EDGE_KERNEL(int64_t k, const T *restrict a, int64_t rsa, int64_t csa,
                 const T *restrict b, int64_t rsb, T *restrict c, int64_t ldc, int m, int n,
                 const EPI *epi) {
    VEC c0 = V(setzero)(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    VEC c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;

    for (int r = 0; r < m; ++r) _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);

    if (csa == 1) {
#pragma GCC unroll 4
        for (int64_t p = 0; p < k; ++p) {
            VEC b0 = V(loadu)(b);
            ROW_FMA1(0); ROW_FMA1(1); ROW_FMA1(2); ROW_FMA1(3);
            ROW_FMA1(4); ROW_FMA1(5); ROW_FMA1(6); ROW_FMA1(7);
            ROW_FMA1(8); ROW_FMA1(9); ROW_FMA1(10); ROW_FMA1(11);
            a += rsa;
            b += rsb;
        }
    } else {
        const T *a0 = a, *a3 = a + 3 * csa, *a6 = a + 6 * csa, *a9 = a + 9 * csa;
        const int64_t s2 = 2 * csa;
#pragma GCC unroll 4
        for (int64_t p = 0; p < k; ++p) {
            VEC b0 = V(loadu)(b);
            ROW_FMA1_IN(0, a0, 0); ROW_FMA1_IN(1, a0, csa); ROW_FMA1_IN(2, a0, s2);
            ROW_FMA1_IN(3, a3, 0); ROW_FMA1_IN(4, a3, csa); ROW_FMA1_IN(5, a3, s2);
            ROW_FMA1_IN(6, a6, 0); ROW_FMA1_IN(7, a6, csa); ROW_FMA1_IN(8, a6, s2);
            ROW_FMA1_IN(9, a9, 0); ROW_FMA1_IN(10, a9, csa); ROW_FMA1_IN(11, a9, s2);
            a0 += rsa; a3 += rsa; a6 += rsa; a9 += rsa;
            b += rsb;
        }
    }

    const T beta = epi->beta;
    const T *bias = epi->bias;
    const int relu = epi->relu;
    const VEC valpha = V(set1)(epi->alpha);
    const VEC vbeta = V(set1)(beta);
    const VEC zero = V(setzero)();
    const MASK m0 = n >= VL ? LANES(VL) : LANES(n);
    const VEC bias0 = bias ? V(maskz_loadu)(m0, bias) : zero;
    ROW_STORE1(0); ROW_STORE1(1); ROW_STORE1(2); ROW_STORE1(3);
    ROW_STORE1(4); ROW_STORE1(5); ROW_STORE1(6); ROW_STORE1(7);
    ROW_STORE1(8); ROW_STORE1(9); ROW_STORE1(10); ROW_STORE1(11);
}

#undef VEC
#undef MASK
#undef VL
#undef EPI
#undef TILE_KERNEL
#undef EDGE_KERNEL
#undef V
#undef LANES
#undef ROW_FMA
#undef ROW_FMA_IN
#undef ROW_STORE
#undef ROW_FMA1
#undef ROW_FMA1_IN
#undef ROW_STORE1
