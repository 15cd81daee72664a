/*
 * runtime.c — CPU feature detection, ISA choice, thread count, build facts.
 *
 * The ISA is picked once, lazily, from CPU features (gcc's
 * __builtin_cpu_supports reads cpuid and checks with xgetbv that the OS
 * saves the wide registers), unless FASTDL_ISA forces one. Kernels read the
 * choice with fdl_active_isa(), one load per call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#ifdef _OPENMP
#include <pthread.h>
#endif

#include "runtime/internal.h"

static int g_isa = -1;          /* fdl_isa, -1 until first use */
static int g_isa_env_status = FDL_OK;
static int g_threads = 0;       /* 0 until first use */

const char *fdl_strerror(int status) {
    switch (status) {
    case FDL_OK: return "success";
    case FDL_ERR_ARG: return "invalid argument";
    case FDL_ERR_NULL: return "required pointer is NULL";
    case FDL_ERR_SHAPE: return "inconsistent sizes";
    case FDL_ERR_ISA: return "instruction set not supported by this CPU";
    case FDL_ERR_WORKSPACE: return "workspace missing or too small";
    case FDL_ERR_IO: return "I/O error";
    case FDL_ERR_FORMAT: return "bad file format";
    case FDL_ERR_NOMEM: return "out of memory for scratch buffers";
    default: return "unknown fastdl status";
    }
}

fdl_isa fdl_detected_isa(void) {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("fma"))
        return FDL_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return FDL_ISA_AVX2;
#endif
    return FDL_ISA_GENERIC;
}

const char *fdl_isa_name(fdl_isa isa) {
    switch (isa) {
    case FDL_ISA_AVX512: return "avx512";
    case FDL_ISA_AVX2: return "avx2";
    case FDL_ISA_GENERIC: return "generic";
    default: return "unknown";
    }
}

int fdl_isa_from_name(const char *name) {
    if (!name) return -1;
    if (!strcasecmp(name, "avx512")) return FDL_ISA_AVX512;
    if (!strcasecmp(name, "avx2")) return FDL_ISA_AVX2;
    if (!strcasecmp(name, "generic")) return FDL_ISA_GENERIC;
    return -1;
}

static void isa_init(void) {
    int best = (int)fdl_detected_isa();
    int isa = best;
    const char *env = getenv("FASTDL_ISA");
    if (env && *env) {
        int want = fdl_isa_from_name(env);
        if (want < 0) g_isa_env_status = FDL_ERR_ARG;
        else if (want > best) g_isa_env_status = FDL_ERR_ISA;
        else isa = want;
    }
    g_isa = isa;
}

fdl_isa fdl_active_isa(void) {
    if (FDL_UNLIKELY(g_isa < 0)) isa_init();
    return (fdl_isa)g_isa;
}

int fdl_isa_env_status(void) {
    if (g_isa < 0) isa_init();
    return g_isa_env_status;
}

int fdl_set_isa(fdl_isa isa) {
    if ((int)isa < FDL_ISA_GENERIC || (int)isa > FDL_ISA_AVX512) return FDL_ERR_ARG;
    if (isa > fdl_detected_isa()) return FDL_ERR_ISA;
    if (g_isa < 0) isa_init();
    g_isa = (int)isa;
    return FDL_OK;
}

static int default_threads(void) {
    const char *env = getenv("OMP_NUM_THREADS");
    if (env && *env) {
        int n = atoi(env);
        if (n > 0) return n;
    }
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
#endif
}

/* ---- fork safety ----
 * libgomp keeps its worker pool across fork() but the workers do not exist in
 * the child: the child's first team of 2 or more threads waits for them
 * forever (a team of 1 never touches the pool; measured on gcc's libgomp).
 * So once this process has had a thread count above 1 (a team may have run),
 * a forked child runs every kernel serially. The child cannot get teams back:
 * a later fdl_set_num_threads(n > 1) there would hang, so it keeps 1. A child
 * of a process that never had more than 1 thread may set threads as it likes. */
#ifdef _OPENMP
static int g_teams_possible = 0;   /* g_threads has been above 1 */
static int g_fork_serial = 0;      /* forked after that: serial for good */

static void fork_child_go_serial(void) {
    if (g_teams_possible) {
        g_fork_serial = 1;
        g_threads = 1;
    }
}

__attribute__((constructor)) static void register_fork_handler(void) {
    pthread_atfork(NULL, NULL, fork_child_go_serial);
}
#endif

void fdl_set_num_threads(int n) {
#ifdef _OPENMP
    g_threads = g_fork_serial ? 1 : n >= 1 ? n : default_threads();
    if (g_threads > 1) g_teams_possible = 1;
#else
    (void)n;
    g_threads = 1;
#endif
}

int fdl_get_num_threads(void) {
    if (FDL_UNLIKELY(g_threads == 0)) fdl_set_num_threads(0);
    return g_threads;
}

int fdl_has_openmp(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

const char *fdl_compiler(void) {
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#else
    return "unknown";
#endif
}

const char *fdl_version(void) { return FDL_VERSION_STRING; }

/* libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT once, in its constructor,
 * which runs before this library's (libfastdl depends on it). Capturing the
 * two variables here records what it saw, even if the program changes its
 * environment later. */
static char g_wait_policy[160];

__attribute__((constructor)) static void capture_wait_policy(void) {
#ifdef _OPENMP
    const char *names[2] = {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"};
    size_t used = 0;
    for (int i = 0; i < 2; ++i) {
        const char *v = getenv(names[i]);
        if (!v) continue;
        int n = snprintf(g_wait_policy + used, sizeof g_wait_policy - used, "%s%s=%s",
                         used ? ", " : "", names[i], v);
        if (n < 0 || (size_t)n >= sizeof g_wait_policy - used) break;
        used += (size_t)n;
    }
#else
    snprintf(g_wait_policy, sizeof g_wait_policy, "n/a");
#endif
}

const char *fdl_omp_wait_policy(void) { return g_wait_policy; }
