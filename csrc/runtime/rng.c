/*
 * rng.c — Philox4x32-10 counter-based generator (Salmon et al., SC'11).
 *
 * Legend: element e = offset + i of a fill keyed by (seed, stream) comes from
 * counter block e / L (L = values per block for that distribution) and lane
 * e % L. The value is a pure function of (seed, stream, e), so threads can
 * split the range any way they like and the numbers stay the same.
 */
#include <math.h>

#include "runtime/internal.h"

typedef struct { uint32_t v[4]; } philox_block;

static inline philox_block philox(uint64_t ctr, uint64_t stream, uint64_t seed) {
    uint32_t c0 = (uint32_t)ctr, c1 = (uint32_t)(ctr >> 32);
    uint32_t c2 = (uint32_t)stream, c3 = (uint32_t)(stream >> 32);
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0;
        uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    philox_block b = {{c0, c1, c2, c3}};
    return b;
}

/* [0, 1) with 24 random bits */
static inline float u01f(uint32_t u) { return (float)(u >> 8) * 0x1.0p-24f; }
/* (0, 1] so log() is finite */
static inline float u01f_open(uint32_t u) { return ((float)(u >> 8) + 1.0f) * 0x1.0p-24f; }
static inline double u01d(uint32_t hi, uint32_t lo) {
    return (double)((((uint64_t)hi << 32) | lo) >> 11) * 0x1.0p-53;
}
static inline double u01d_open(uint32_t hi, uint32_t lo) {
    return ((double)((((uint64_t)hi << 32) | lo) >> 11) + 1.0) * 0x1.0p-53;
}

/* Runs BODY for i in [0, n) with `blk` holding the block of element
 * offset + i; lanes per block L. Threads split i; each recomputes its
 * first block, so the split never changes a value. */
#define RNG_RANGE(lo, hi, offset, L, BODY)                                   \
    do {                                                                     \
        uint64_t cur_ = UINT64_MAX;                                          \
        philox_block blk = {{0, 0, 0, 0}};                                   \
        for (int64_t i = (lo); i < (hi); i++) {                              \
            uint64_t e_ = (offset) + (uint64_t)i;                            \
            uint64_t b_ = e_ / (L);                                          \
            int lane = (int)(e_ % (L));                                      \
            if (b_ != cur_) { blk = philox(b_, stream, seed); cur_ = b_; }   \
            BODY;                                                            \
        }                                                                    \
    } while (0)

/* One thread runs the range directly: a parallel region costs about
 * 0.6 us even with if(0), more than a small fill. */
#define RNG_LOOP(n, offset, L, BODY)                                         \
    do {                                                                     \
        int nt_ = fdl_threads_for((n) * 8);                                  \
        if (nt_ <= 1) {                                                      \
            RNG_RANGE(0, (n), offset, L, BODY);                              \
        } else {                                                             \
            _Pragma("omp parallel for schedule(static) num_threads(nt_)")   \
            for (int t_ = 0; t_ < nt_; t_++)                                 \
                RNG_RANGE((n) * t_ / nt_, (n) * (t_ + 1) / nt_, offset, L, BODY); \
        }                                                                    \
    } while (0)

int fdl_rng_uniform_f32(float *out, int64_t n, uint64_t seed, uint64_t stream,
                     uint64_t offset, float low, float high) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && !out) return FDL_ERR_NULL;
    float span = high - low;
    RNG_LOOP(n, offset, 4, {
        float v = low + span * u01f(blk.v[lane]);
        out[i] = v < high ? v : low;   /* rounding may hit high; keep [low, high) */
    });
    return FDL_OK;
}

int fdl_rng_normal_f32(float *out, int64_t n, uint64_t seed, uint64_t stream,
                    uint64_t offset, float mean, float std) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && !out) return FDL_ERR_NULL;
    RNG_LOOP(n, offset, 2, {
        /* one Box-Muller pair per block, from lanes 0 and 1 */
        float r = sqrtf(-2.0f * logf(u01f_open(blk.v[0])));
        float th = 6.28318530717958648f * u01f(blk.v[1]);
        out[i] = mean + std * (lane ? r * sinf(th) : r * cosf(th));
    });
    return FDL_OK;
}

int fdl_rng_uniform_f64(double *out, int64_t n, uint64_t seed, uint64_t stream,
                         uint64_t offset, double low, double high) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && !out) return FDL_ERR_NULL;
    double span = high - low;
    RNG_LOOP(n, offset, 2, {
        double v = low + span * u01d(blk.v[2 * lane], blk.v[2 * lane + 1]);
        out[i] = v < high ? v : low;
    });
    return FDL_OK;
}

int fdl_rng_normal_f64(double *out, int64_t n, uint64_t seed, uint64_t stream,
                        uint64_t offset, double mean, double std) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && !out) return FDL_ERR_NULL;
    RNG_LOOP(n, offset, 2, {
        double r = sqrt(-2.0 * log(u01d_open(blk.v[0], blk.v[1])));
        double th = 6.283185307179586477 * u01d(blk.v[2], blk.v[3]);
        out[i] = mean + std * (lane ? r * sin(th) : r * cos(th));
    });
    return FDL_OK;
}

int fdl_rng_randint(int64_t *out, int64_t n, uint64_t seed, uint64_t stream,
                     uint64_t offset, int64_t low, int64_t high) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && !out) return FDL_ERR_NULL;
    if (n > 0 && high <= low) return FDL_ERR_ARG;
    unsigned __int128 span = (unsigned __int128)(uint64_t)(high - low);
    RNG_LOOP(n, offset, 2, {
        uint64_t u = ((uint64_t)blk.v[2 * lane] << 32) | blk.v[2 * lane + 1];
        out[i] = low + (int64_t)(uint64_t)(((unsigned __int128)u * span) >> 64);
    });
    return FDL_OK;
}

int fdl_rng_bernoulli(uint8_t *mask, int64_t n, uint64_t seed, uint64_t stream,
                       uint64_t offset, float keep) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && !mask) return FDL_ERR_NULL;
    double t = (double)keep * 4294967296.0;
    uint64_t thresh = keep >= 1.0f ? UINT64_MAX : (keep <= 0.0f ? 0 : (uint64_t)t);
    RNG_LOOP(n, offset, 4, { mask[i] = (uint64_t)blk.v[lane] < thresh; });
    return FDL_OK;
}

int fdl_rng_permutation(int64_t *out, int64_t n, uint64_t seed, uint64_t stream) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && !out) return FDL_ERR_NULL;
    for (int64_t i = 0; i < n; i++) out[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        philox_block b = philox((uint64_t)i, stream, seed);
        uint64_t u = ((uint64_t)b.v[0] << 32) | b.v[1];
        int64_t j = (int64_t)(((unsigned __int128)u * (unsigned __int128)(uint64_t)(i + 1)) >> 64);
        int64_t tmp = out[i]; out[i] = out[j]; out[j] = tmp;
    }
    return FDL_OK;
}
