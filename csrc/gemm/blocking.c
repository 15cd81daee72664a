/*
 * gemm/blocking.c — the CPU's cache sizes and the block sizes derived from
 * them, once per process.
 *
 * Legend: L1d / L2 are per core, L3 the cache shared by a core's cluster;
 * s = bytes per element, rep = copies of each packed A element; MR/NR, MC,
 * KC, NC as in config.h.
 *
 * The rule (BLIS's analytical model, adjusted to what was measured: the
 * deep-K blocking that beat an L1-resident B micro-panel on Zen 5, see
 * config.h):
 *   KC: the KC x NR micro-panel of B fills L2/8       (8 <= KC <= 1024, x8)
 *   MC: the MC x KC block of A fills L2/4             (a multiple of MR)
 *   NC: the KC x NC panel of B fills min(L3/2, its buffer) (a multiple of NR)
 * and MC x KC x rep never exceeds the A buffer. A deeper KC reads and writes
 * C less often; the L2 holds the A block, the micro-panel in use and the
 * next one. On Zen 5 (L1d 48 KiB, L2 1 MiB) it gives sgemm KC 1024, MC 60,
 * NC 1024 and dgemm KC 1024, MC 24, NC 512. Measured there (1 thread, CPU
 * time, one run): sgemm MC 60 and the earlier hand-tuned MC 48 within 2% of
 * each other at 1024^3 and 2048^3; dgemm KC 1024 vs 512 (MC 60): equal at
 * 256^3-512^3, 1024 up to 5% faster at 1024^3-2048^3.
 *
 * Sizes come from cpuid (AMD leaf 0x8000001D, Intel leaf 4: the
 * deterministic cache parameters), else from sysconf; when neither reports
 * an L2, the compiled fallback blocking of config.h is kept.
 */
#include <unistd.h>
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>
#endif

#include "runtime/internal.h"
#include "gemm/gemm_internal.h"

static int64_t g_cache[3];
static int g_cache_ready;

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
/* Walks one deterministic-cache-parameters leaf; returns 1 if it had any. */
static int cpuid_cache_leaf(unsigned leaf, int64_t sz[3]) {
    int any = 0;
    for (unsigned sub = 0; sub < 16; ++sub) {
        unsigned a, b, c, d;
        __cpuid_count(leaf, sub, a, b, c, d);
        const unsigned type = a & 0x1f;   /* 1 data, 2 instruction, 3 unified */
        if (type == 0) break;
        const unsigned level = (a >> 5) & 7;
        const int64_t size = (int64_t)((b >> 22) + 1) * (((b >> 12) & 0x3ff) + 1) *
                             ((b & 0xfff) + 1) * ((int64_t)c + 1);
        if (type == 2 || level < 1 || level > 3) continue;
        sz[level - 1] = size;
        any = 1;
    }
    return any;
}
#endif

static void read_caches(int64_t sz[3]) {
    sz[0] = sz[1] = sz[2] = 0;
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    if (__get_cpuid_max(0x80000000u, NULL) >= 0x8000001Du &&
        cpuid_cache_leaf(0x8000001Du, sz))
        return;
    if (__get_cpuid_max(0, NULL) >= 4 && cpuid_cache_leaf(4, sz)) return;
#endif
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE) && \
    defined(_SC_LEVEL3_CACHE_SIZE)
    long v;
    if ((v = sysconf(_SC_LEVEL1_DCACHE_SIZE)) > 0) sz[0] = v;
    if ((v = sysconf(_SC_LEVEL2_CACHE_SIZE)) > 0) sz[1] = v;
    if ((v = sysconf(_SC_LEVEL3_CACHE_SIZE)) > 0) sz[2] = v;
#endif
}

void fdl_gemm_cache_sizes(int64_t *l1d, int64_t *l2, int64_t *l3) {
    if (!__atomic_load_n(&g_cache_ready, __ATOMIC_ACQUIRE)) {
        int64_t sz[3];
        read_caches(sz);
        for (int i = 0; i < 3; ++i) g_cache[i] = sz[i];
        __atomic_store_n(&g_cache_ready, 1, __ATOMIC_RELEASE);
    }
    *l1d = g_cache[0];
    *l2 = g_cache[1];
    *l3 = g_cache[2];
}

/* The rule above for one kernel; keeps the fallback mc, kc, nc when the
 * L2 size is unknown. abuf/bbuf: buffer capacities in elements. */
void fdl_gemm_blocking(int mr, int nr, int rep, int esize, int64_t abuf, int64_t bbuf,
                       int64_t *mc, int64_t *kc, int64_t *nc) {
    int64_t l1d, l2, l3;
    fdl_gemm_cache_sizes(&l1d, &l2, &l3);
    if (l2 <= 0) return;
    int64_t k = l2 / 8 / ((int64_t)nr * esize);
    k = FDL_MAX(8, FDL_MIN(1024, k)) / 8 * 8;
    int64_t m = l2 / 4 / (k * esize * rep);
    m = FDL_MIN(m, abuf / (k * rep));
    m = FDL_MAX(mr, m / mr * mr);
    int64_t bytes = (int64_t)bbuf * esize;
    if (l3 > 0) bytes = FDL_MIN(bytes, l3 / 2);
    int64_t n = bytes / (k * esize);
    n = FDL_MAX(nr, n / nr * nr);
    *mc = m;
    *kc = k;
    *nc = n;
}
