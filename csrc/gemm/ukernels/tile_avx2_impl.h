/*
 * ukernels/tile_avx2_impl.h — the AVX2+FMA GEMM micro-kernel over T:
 * fdl_sgemm_avx2_6x16 / fdl_dgemm_avx2_6x8 (6 rows x 2 vectors). Included
 * once per type by gemm_avx2.c, between runtime/types_begin.h and
 * types_end.h.
 *
 * Legend: see gemm/gemm_internal.h (k, a/rsa/csa, b/rsb, c/ldc, m x n).
 *
 * 12 ymm accumulators + 2 B vectors + 1 broadcast = 15 of 16 registers;
 * 12 independent FMA chains cover 4-cycle latency on two pipes. Edges only
 * change the store (maskstore), outside the k loop.
 */

#ifdef NN_F64
#define VEC __m256d
#define VL 4
#define EPI fdl_dgemm_epi
#define TILE_KERNEL fdl_dgemm_avx2_6x8
#define V(op) _mm256_##op##_pd
#define BROADCAST _mm256_broadcast_sd
#else
#define VEC __m256
#define VL 8
#define EPI fdl_sgemm_epi
#define TILE_KERNEL fdl_sgemm_avx2_6x16
#define V(op) _mm256_##op##_ps
#define BROADCAST _mm256_broadcast_ss
#endif

/* Lane j of loadu(mask_tab + 2*VL - n) is on iff j < n (n in 0..2*VL). */
#ifdef NN_F64
static const int64_t mask_tab_f64[4 * VL] = {
    -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
#else
static const int32_t mask_tab_f32[4 * VL] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
#endif

#define ROW_FMA(r)                                              \
    do {                                                        \
        VEC ar = BROADCAST(a + (r));                            \
        c##r##0 = V(fmadd)(ar, b0, c##r##0);                    \
        c##r##1 = V(fmadd)(ar, b1, c##r##1);                    \
    } while (0)

#define ROW_FMA_IN(r, base, off)                                \
    do {                                                        \
        VEC ar = BROADCAST(base + (off));                       \
        c##r##0 = V(fmadd)(ar, b0, c##r##0);                    \
        c##r##1 = V(fmadd)(ar, b1, c##r##1);                    \
    } while (0)

#define ROW_STORE(r)                                                        \
    do {                                                                    \
        if ((r) < m) {                                                      \
            T *cr = c + (int64_t)(r) * ldc;                                 \
            VEC v0 = V(mul)(c##r##0, valpha);                               \
            VEC v1 = V(mul)(c##r##1, valpha);                               \
            if (beta != (T)0) {                                             \
                v0 = V(fmadd)(vbeta, V(maskload)(cr, k0), v0);              \
                v1 = V(fmadd)(vbeta, V(maskload)(cr + VL, k1), v1);         \
            }                                                               \
            if (bias) {                                                     \
                v0 = V(add)(v0, bias0);                                     \
                v1 = V(add)(v1, bias1);                                     \
            }                                                               \
            if (relu) {                                                     \
                v0 = V(max)(zero, v0);                                      \
                v1 = V(max)(zero, v1);                                      \
            }                                                               \
            if (full) {                                                     \
                V(storeu)(cr, v0);                                          \
                V(storeu)(cr + VL, v1);                                     \
            } else {                                                        \
                V(maskstore)(cr, k0, v0);                                   \
                V(maskstore)(cr + VL, k1, v1);                              \
            }                                                               \
        }                                                                   \
    } while (0)

/* C[m<=6, n<=2*VL] = epi(A[6, k] @ B[k, 2*VL]) */
void TILE_KERNEL(int64_t k, const T *restrict a, int64_t rsa, int64_t csa,
                 const T *restrict b, int64_t rsb, T *restrict c, int64_t ldc, int m, int n,
                 const EPI *epi) {
    VEC c00 = V(setzero)(), c01 = c00, c10 = c00, c11 = c00;
    VEC c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    VEC c40 = c00, c41 = c00, c50 = c00, c51 = c00;

    for (int r = 0; r < m; ++r) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 2 * VL - 1), _MM_HINT_T0);
    }

    if (csa == 1) {
#pragma GCC unroll 4
        for (int64_t p = 0; p < k; ++p) {
            VEC b0 = V(loadu)(b);
            VEC b1 = V(loadu)(b + VL);
            ROW_FMA(0); ROW_FMA(1); ROW_FMA(2);
            ROW_FMA(3); ROW_FMA(4); ROW_FMA(5);
            a += rsa;
            b += rsb;
        }
    } else {
        /* Rows of A read in place, as base + {0,1,2}*csa. */
        const T *a0 = a, *a3 = a + 3 * csa;
        const int64_t c2 = 2 * csa;
#pragma GCC unroll 4
        for (int64_t p = 0; p < k; ++p) {
            VEC b0 = V(loadu)(b);
            VEC b1 = V(loadu)(b + VL);
            ROW_FMA_IN(0, a0, 0); ROW_FMA_IN(1, a0, csa); ROW_FMA_IN(2, a0, c2);
            ROW_FMA_IN(3, a3, 0); ROW_FMA_IN(4, a3, csa); ROW_FMA_IN(5, a3, c2);
            a0 += rsa; a3 += rsa;
            b += rsb;
        }
    }

    const T beta = epi->beta;
    const T *bias = epi->bias;
    const int relu = epi->relu;
    const int full = n >= 2 * VL;
    const VEC valpha = V(set1)(epi->alpha);
    const VEC vbeta = V(set1)(beta);
    const VEC zero = V(setzero)();
    const int nn = n >= 2 * VL ? 2 * VL : n;
    const __m256i k0 = _mm256_loadu_si256((const __m256i *)(FN(mask_tab) + 2 * VL - nn));
    const __m256i k1 = _mm256_loadu_si256((const __m256i *)(FN(mask_tab) + 3 * VL - nn));
    VEC bias0 = zero, bias1 = zero;
    if (bias) {
        bias0 = V(maskload)(bias, k0);
        bias1 = V(maskload)(bias + VL, k1);
    }
    ROW_STORE(0); ROW_STORE(1); ROW_STORE(2);
    ROW_STORE(3); ROW_STORE(4); ROW_STORE(5);
}

#undef VEC
#undef VL
#undef EPI
#undef TILE_KERNEL
#undef V
#undef BROADCAST
#undef ROW_FMA
#undef ROW_FMA_IN
#undef ROW_STORE
