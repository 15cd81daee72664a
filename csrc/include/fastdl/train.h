/*
 * fastdl/train.h — the pieces under the model runtime (fastdl/model.h):
 * parameter arenas, a fused optimizer step over an arena, and weights in
 * safetensors files compatible with fastdl.save / fastdl.load. Models
 * themselves (any nn.Sequential of the supported layers) are in model.h.
 *
 * Ownership. This layer is the one place in libfastdl that may allocate,
 * and only in functions whose name says so:
 *   - fdl_arena_create() allocates; fdl_arena_destroy() frees. An arena over
 *     memory the caller owns (fdl_arena_wrap) is never freed by libfastdl.
 *   - fdl_safetensors_save/load allocate a temporary header buffer (at most
 *     FDL_ST_MAX_HEADER bytes) and free it before returning; tensor data goes
 *     straight between the file and the caller's buffers.
 *
 * Conventions (as the kernels): row-major, float32, backward adds into the
 * gradients (+=) and the caller zeroes them (fdl_arena_zero), status codes
 * FDL_OK / FDL_ERR_* (fdl_strerror). Functions that fail on a file or a
 * model mismatch also leave a one-line explanation for fdl_train_last_error().
 * Threads: the GEMMs use fdl_get_num_threads(); every other loop here is
 * elementwise or reduces in a fixed order, so results are bitwise identical
 * for any thread count.
 */
#ifndef FASTDL_TRAIN_H
#define FASTDL_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "fastdl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Text describing the last failure of a train.h function on this thread
 * ("" when none). Owned by libfastdl (thread-local); valid until the next
 * train.h call on this thread. */
FDL_API const char *fdl_train_last_error(void);

/* ---- arenas ----------------------------------------------------------- */

/* A bump allocator over one float array. `data` is 64-byte aligned when
 * created here; each fdl_arena_take() rounds up to 16 floats (64 bytes) so
 * every tensor in it starts on a cache line (and an AVX-512 vector). */
typedef struct {
    float *data;
    int64_t capacity;   /* floats */
    int64_t used;       /* floats handed out so far */
    int owned;          /* 1: created by fdl_arena_create, freed by destroy */
} fdl_arena;

/* Floats that fdl_arena_take() of `n` floats consumes (n rounded up to 16). */
FDL_API int64_t fdl_arena_round(int64_t n);
/* Arena over caller memory (`data` of `capacity` floats); nothing allocated.
 * FDL_ERR_NULL, FDL_ERR_ARG (capacity < 0). */
FDL_API int fdl_arena_wrap(fdl_arena *a, float *data, int64_t capacity);
/* Allocates `capacity` floats, zeroed, 64-byte aligned. FDL_ERR_ARG when
 * the allocation fails or capacity < 0. Free with fdl_arena_destroy(). */
FDL_API int fdl_arena_create(fdl_arena *a, int64_t capacity);
/* Frees what fdl_arena_create allocated (no-op for wrapped memory and for
 * NULL); leaves *a empty. */
FDL_API void fdl_arena_destroy(fdl_arena *a);
/* Next `n` floats of the arena, or NULL when it is full (or n < 0). */
FDL_API float *fdl_arena_take(fdl_arena *a, int64_t n);
/* Sets the used part (data[0 .. used)) to 0; e.g. before each backward. */
FDL_API void fdl_arena_zero(fdl_arena *a);

/* ---- fused optimizer steps over an arena ----------------------------- */

/* Adam/AdamW hyperparameters, PyTorch's names and defaults
 * (fdl_adam_defaults: lr 1e-3, betas 0.9/0.999, eps 1e-8, no decay). */
typedef struct {
    double lr, beta1, beta2, eps, weight_decay;
    int decoupled;      /* AdamW */
    int amsgrad;
    int64_t step;       /* steps taken so far; fdl_adam_arena_step bumps it */
} fdl_adam_config;
FDL_API void fdl_adam_defaults(fdl_adam_config *c);
/* Optimizer-state floats Adam needs for n parameters: exp_avg and
 * exp_avg_sq (and max_exp_avg_sq with amsgrad), n each. */
FDL_API int64_t fdl_adam_state_size(const fdl_adam_config *c, int64_t n);
/* One Adam step over params[0..n) with grads[0..n): the same per-element
 * update as torch.optim.Adam (and fastdl.optim.Adam) applied to every
 * tensor of the model, in one pass. state holds fdl_adam_state_size floats,
 * zero before the first step. Increments c->step first. */
FDL_API int fdl_adam_arena_step(fdl_adam_config *c, float *params, const float *grads,
                        float *state, int64_t n);
/* SGD with momentum (PyTorch's rules); state is n floats (unused and may be
 * NULL when momentum == 0). first_step != 0 on the first call. */
FDL_API int fdl_sgd_arena_step(float *params, const float *grads, float *state, int64_t n,
                       double lr, double momentum, double weight_decay, int nesterov,
                       int first_step);

/* ---- safetensors (the format fastdl.save writes) ---------------------- */

/* One named float32 tensor for save/load. data is owned by the caller. */
typedef struct {
    const char *name;                  /* e.g. "0.weight"; printable ASCII, no '"' or '\' */
    int ndim;                          /* 0 .. FDL_MAX_DIMS */
    int64_t shape[8];
    float *data;                       /* prod(shape) floats */
} fdl_tensor_ref;

#define FDL_ST_MAX_HEADER (100 << 20)  /* larger headers are rejected as corrupt */

/* Writes the tensors (dtype F32, little-endian) in the given order to path,
 * atomically: a temporary file in the same directory, fsync, rename. The
 * file carries fastdl's metadata, so fastdl.load(path) returns a flat dict
 * {name: Tensor} - a state dict. FDL_ERR_ARG (bad name, duplicate, ndim),
 * FDL_ERR_NULL, FDL_ERR_IO. */
FDL_API int fdl_safetensors_save(const char *path, const fdl_tensor_ref *t, int n);

/* Strict load: every tensor in t[0..n) must be in the file with dtype F32
 * and exactly t[i].shape, and the file must hold no other tensor (as
 * load_state_dict(strict=True)); the data is copied into t[i].data.
 * Offsets are checked against the file size before anything is read.
 * FDL_ERR_IO (cannot open or read), FDL_ERR_FORMAT (truncated, corrupt,
 * wrong dtype, missing or extra tensor), FDL_ERR_SHAPE (shape differs),
 * FDL_ERR_NULL / FDL_ERR_ARG. On failure the buffers may be partly written. */
FDL_API int fdl_safetensors_load(const char *path, const fdl_tensor_ref *t, int n);

#ifdef __cplusplus
}
#endif

#endif
