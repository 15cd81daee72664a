/*
 * runtime/pool.c — the library's block cache: GEMM packing buffers and the
 * large tensors of the Python package.
 *
 * The GEMM packs blocks of A and panels of B into scratch memory (about
 * 4.2 MiB for one single-threaded float product). Blocks are taken from
 * this pool at the start of a call and given back at its end, so a thread
 * that ran one product keeps nothing, and fdl_empty_cache() can return every
 * idle block to the system (PyTorch's torch.cuda.empty_cache, for the CPU).
 *
 * The Python package takes the storage of large outputs and gradients from
 * the same cache (fdl_cache_alloc/fdl_cache_free). Why: glibc serves a large
 * request with a fresh mmap and unmaps it on free, so every training step
 * page-faults its activations in again (relu forward + backward over 4M
 * floats: 2.3 ms with reused memory, 5.8 ms with fresh pages). Tuning glibc
 * (mallopt) would change the allocator of the user's whole process; this
 * cache changes only fastdl's own buffers.
 *
 * A request takes the smallest idle block that is large enough and at most
 * twice its size (best fit, bounded so a small tensor never pins a large
 * block), so the cache stays about as large as the largest set of blocks in
 * use at once. Idle blocks beyond FDL_CACHE_MAX_IDLE go back to the system.
 * One mutex guards the idle list: taking and returning a block is a few
 * list operations per call, never per tile or element.
 */
#include <pthread.h>
#include <stdlib.h>

#include "runtime/internal.h"

#define POOL_ALIGN 64
#define FDL_CACHE_MAX_IDLE ((size_t)1 << 30)   /* 1 GiB of idle blocks at most */

typedef struct pool_block {
    struct pool_block *next;
    size_t bytes;            /* usable bytes after the header */
} pool_block;

/* The header keeps the usable memory 64-byte aligned. */
#define POOL_HDR ((sizeof(pool_block) + POOL_ALIGN - 1) / POOL_ALIGN * POOL_ALIGN)

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pool_block *g_idle;       /* blocks not in use */
static size_t g_idle_bytes;      /* their usable bytes */

void *fdl_scratch_get(size_t bytes) {
    pool_block **best = NULL;
    pthread_mutex_lock(&g_lock);
    for (pool_block **pp = &g_idle; *pp; pp = &(*pp)->next)
        if ((*pp)->bytes >= bytes && (*pp)->bytes / 2 <= bytes &&
            (!best || (*pp)->bytes < (*best)->bytes)) best = pp;
    pool_block *b = NULL;
    if (best) {
        b = *best;
        *best = b->next;
        g_idle_bytes -= b->bytes;
    }
    pthread_mutex_unlock(&g_lock);
    if (!b) {
        size_t total = POOL_HDR + (bytes + POOL_ALIGN - 1) / POOL_ALIGN * POOL_ALIGN;
        b = aligned_alloc(POOL_ALIGN, total);
        if (!b) return NULL;
        b->bytes = total - POOL_HDR;
    }
    return (char *)b + POOL_HDR;
}

void fdl_scratch_put(void *p) {
    if (!p) return;
    pool_block *b = (pool_block *)((char *)p - POOL_HDR);
    pthread_mutex_lock(&g_lock);
    int keep = g_idle_bytes + b->bytes <= FDL_CACHE_MAX_IDLE;
    if (keep) {
        b->next = g_idle;
        g_idle = b;
        g_idle_bytes += b->bytes;
    }
    pthread_mutex_unlock(&g_lock);
    if (!keep) free(b);
}

void *fdl_cache_alloc(size_t bytes) { return fdl_scratch_get(bytes ? bytes : 1); }

void fdl_cache_free(void *p) { fdl_scratch_put(p); }

/* A fork can happen while another thread holds the lock; the child has only
 * the forking thread, so it starts with a fresh, unlocked mutex. */
static void pool_fork_child(void) { pthread_mutex_init(&g_lock, NULL); }

__attribute__((constructor)) static void pool_register_fork_handler(void) {
    pthread_atfork(NULL, NULL, pool_fork_child);
}

void fdl_empty_cache(void) {
    pthread_mutex_lock(&g_lock);
    pool_block *b = g_idle;
    g_idle = NULL;
    g_idle_bytes = 0;
    pthread_mutex_unlock(&g_lock);
    while (b) {
        pool_block *next = b->next;
        free(b);
        b = next;
    }
}

int64_t fdl_cached_bytes(void) {
    pthread_mutex_lock(&g_lock);
    size_t n = g_idle_bytes;
    pthread_mutex_unlock(&g_lock);
    return (int64_t)n;
}
