/*
 * fastdl.h — the public C API of libfastdl.
 *
 * Every fdl_* function is declared here or in a family header under fastdl/
 * that this file includes; including fastdl.h is all a C program needs.
 *
 * Rules that hold for every kernel:
 *   - Pure functions over raw pointers and int64_t sizes. Inputs are const.
 *   - Names: fdl_<op>_<forward|backward>_<f32|f64> for kernels with a
 *     gradient, fdl_<op>_<f32|f64> for the others; fdl_sgemm / fdl_dgemm
 *     keep their BLAS names. One function per op: no op codes.
 *   - No kernel prints or exits, and none allocates except the GEMM's
 *     scratch pool (below). Other scratch space comes from the caller; the
 *     size a kernel needs is given by fdl_<op>_workspace_size().
 *   - Every kernel checks its arguments and returns an int status (FDL_OK ==
 *     0, negative on error); fdl_strerror() turns it into text.
 *   - Threads: OpenMP over independent output blocks, never over a reduction,
 *     so results are bitwise identical for any thread count. Small problems
 *     run on the calling thread.
 *   - Row-major (C order) everywhere.
 *
 * Ownership: the caller allocates every input, output and workspace buffer
 * and keeps ownership; no kernel keeps a pointer after it returns. The only
 * exceptions are explicit and documented where they are declared:
 *   - the GEMM's packing buffers: blocks of a scratch pool inside the
 *     library, taken for one call and given back at its end; idle blocks
 *     stay cached for the next call until fdl_empty_cache() frees them
 *     (fastdl/gemm.h); fdl_cache_alloc/fdl_cache_free hand out blocks of
 *     the same cache to a caller that asks for them;
 *   - fastdl/train.h, the C training layer: fdl_arena_create/_destroy
 *     allocate and free, and the safetensors functions use a temporary
 *     header buffer freed before they return;
 *   - fastdl/model.h, the model runtime: a model owns its parameters and
 *     activations (fdl_model_new/fdl_model_load allocate, fdl_model_free
 *     frees).
 * Strings returned by fdl_strerror, fdl_isa_name, fdl_version, fdl_compiler,
 * fdl_sgemm_kernel_name, fdl_train_last_error, fdl_model_last_error and fdl_layer_name
 * are owned by the library;
 * never free them.
 *
 * Workspace sizes: a kernel that needs scratch memory has a size query next
 * to it, called with the same shapes: fdl_conv2d_workspace_size (bytes),
 * fdl_confusion_workspace_size (int64 elements). Passing less returns FDL_ERR_WORKSPACE; passing more is fine.
 *
 * Threads: fdl_set_num_threads() is process-wide (it sets the OpenMP team
 * size of later kernel calls). A child forked from a process that has had
 * 2 or more threads runs serially for good (libgomp's pool does not survive
 * fork; a team there would hang), and fdl_get_num_threads() says 1. Kernels
 * may be called from several OS threads at once on disjoint outputs. The
 * library never changes the process's environment, allocator or OpenMP
 * settings. On a machine shared with other busy processes,
 * OMP_WAIT_POLICY=passive (or GOMP_SPINCOUNT=1000, spin briefly then sleep)
 * keeps OpenMP workers from spinning at barriers while the other thread of
 * their team is descheduled; fdl_omp_wait_policy() reports the setting in
 * force.
 *
 * Visibility: libfastdl exports exactly the functions declared with FDL_API
 * (all named fdl_*); everything else is hidden.
 *
 * Errors: status codes are the FDL_ERR_* values below, stable across
 * versions; fdl_strerror(status) gives a short text for any int (unknown
 * codes included). Kernels check their arguments before computing (sizes,
 * NULL pointers, enum values, class and pooling indices); each family
 * header lists what it checks. Buffer lengths cannot be checked in C: they
 * are the caller's promise (the Cython layer checks them for Python).
 *
 * Linking: libfastdl.so / libfastdl.a and fastdl.pc come from `make -C csrc
 * install PREFIX=...`; the Python package carries the same library and
 * headers (fastdl.get_lib(), fastdl.get_include()).
 */
#ifndef FASTDL_H
#define FASTDL_H

#include <stddef.h>
#include <stdint.h>

#include "fastdl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FDL_VERSION_MAJOR 0
#define FDL_VERSION_MINOR 1
#define FDL_VERSION_PATCH 0
#define FDL_VERSION_STRING "0.1.0"

/* ---- status codes --------------------------------------------------- */
enum {
    FDL_OK = 0,
    FDL_ERR_ARG = -1,        /* an argument is out of its valid range */
    FDL_ERR_NULL = -2,       /* a required pointer is NULL */
    FDL_ERR_SHAPE = -3,      /* sizes are inconsistent with each other */
    FDL_ERR_ISA = -4,        /* the requested ISA is not supported by this CPU */
    FDL_ERR_WORKSPACE = -5,  /* workspace missing or too small */
    FDL_ERR_IO = -6,         /* a file could not be read or written */
    FDL_ERR_FORMAT = -7,     /* a file is not in the expected format */
    FDL_ERR_NOMEM = -8       /* scratch memory could not be allocated */
};
FDL_API const char *fdl_strerror(int status);

/* ---- runtime: ISA dispatch, threads, build facts ------------------- */
typedef enum {
    FDL_ISA_GENERIC = 0,     /* portable C, any x86-64 (or any CPU) */
    FDL_ISA_AVX2 = 1,        /* AVX2 + FMA */
    FDL_ISA_AVX512 = 2       /* AVX-512 F/DQ/BW/VL */
} fdl_isa;

/* Best ISA this CPU (and OS) supports. */
FDL_API fdl_isa fdl_detected_isa(void);
/* ISA the kernels use now. On first use it is the detected one, or the one
 * named by the environment variable FASTDL_ISA=avx512|avx2|generic when the
 * CPU supports it (otherwise the detected one; fdl_isa_env_status() tells). */
FDL_API fdl_isa fdl_active_isa(void);
/* FDL_OK, or FDL_ERR_ISA when FASTDL_ISA named an ISA the CPU lacks, or
 * FDL_ERR_ARG when it named no ISA at all. */
FDL_API int fdl_isa_env_status(void);
/* Force an ISA. FDL_ERR_ISA if the CPU lacks it; the active ISA is kept. */
FDL_API int fdl_set_isa(fdl_isa isa);
FDL_API const char *fdl_isa_name(fdl_isa isa);
/* Parse "avx512" / "avx2" / "generic"; -1 if unknown. */
FDL_API int fdl_isa_from_name(const char *name);

/* Threads used by kernels; n < 1 means "default" (OMP_NUM_THREADS or the
 * number of processors). Always 1 in a build without OpenMP. */
FDL_API void fdl_set_num_threads(int n);
FDL_API int fdl_get_num_threads(void);
FDL_API int fdl_has_openmp(void);
FDL_API const char *fdl_compiler(void);
FDL_API const char *fdl_version(void);
/* How idle OpenMP threads wait, as the OpenMP runtime read it when the
 * library was loaded: "OMP_WAIT_POLICY=passive", "GOMP_SPINCOUNT=1000",
 * both joined by ", ", or "" when neither was set (the runtime's default).
 * "n/a" in a build without OpenMP. */
FDL_API const char *fdl_omp_wait_policy(void);

/* ---- scratch memory ------------------------------------------------- */
/* Free the idle blocks of the library's scratch pool (the GEMM packing
 * buffers); blocks in use by a running call are kept. Later calls allocate
 * again. Safe to call from any thread at any time. */
FDL_API void fdl_empty_cache(void);
/* Bytes held by idle blocks of the scratch pool. */
FDL_API int64_t fdl_cached_bytes(void);
/* A 64-byte aligned block of at least `bytes` from the same cache, or NULL
 * when out of memory; give it back with fdl_cache_free (NULL is ignored).
 * A block given back is reused by a later request of up to its size and at
 * least half of it, until fdl_empty_cache frees it. The Python package keeps
 * the storage of large tensors here, so a training step reuses memory instead
 * of page-faulting fresh pages in; any thread may call these. */
FDL_API void *fdl_cache_alloc(size_t bytes);
FDL_API void fdl_cache_free(void *p);

#ifdef __cplusplus
}
#endif

#include "fastdl/elementwise.h"
#include "fastdl/reduce.h"
#include "fastdl/rng.h"
#include "fastdl/gemm.h"
#include "fastdl/nn.h"
#include "fastdl/conv.h"
#include "fastdl/winograd.h"
#include "fastdl/optim.h"
#include "fastdl/rnn.h"
#include "fastdl/data.h"
#include "fastdl/metrics.h"
#include "fastdl/train.h"
#include "fastdl/model.h"

#endif /* FASTDL_H */
