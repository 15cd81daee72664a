/*
 * fastdl/train.h — a small layer for training and inference from C, without
 * Python: parameter arenas, a fused optimizer step over an arena, an MLP
 * (Linear + ReLU stack, softmax cross-entropy) forward/backward built from
 * the GEMM kernels, the MNIST benchmark CNN built from the convolution and
 * pooling kernels, and weights in safetensors files compatible with
 * fastdl.save / fastdl.load.
 *
 * Ownership. This layer is the one place in libfastdl that may allocate,
 * and only in functions whose name says so:
 *   - fdl_arena_create() allocates; fdl_arena_destroy() frees. An arena over
 *     memory the caller owns (fdl_arena_wrap) is never freed by libfastdl.
 *   - fdl_safetensors_save/load allocate a temporary header buffer (at most
 *     FDL_ST_MAX_HEADER bytes) and free it before returning; tensor data goes
 *     straight between the file and the caller's buffers.
 * Everything else (fdl_mlp_*, fdl_cnn_*) works in memory the caller passes
 * in: the parameter and gradient arenas and a workspace of
 * fdl_mlp_workspace_size() / fdl_cnn_workspace_size() floats.
 *
 * Layout. An MLP with L Linear layers dims[0] -> dims[1] -> ... -> dims[L]
 * stores, in one contiguous float array, for l = 0 .. L-1:
 *   W_l [dims[l+1], dims[l]]  (PyTorch's Linear weight: out x in)
 *   b_l [dims[l+1]]
 * in that order; gradients use the same layout in their own array, so an
 * elementwise optimizer runs over the whole model in one call. The
 * safetensors names are those of nn.Sequential(Linear, ReLU, Linear, ...):
 * layer l is module 2*l, so "0.weight", "0.bias", "2.weight", "2.bias", ...
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

/* ---- MLP: Linear + ReLU stack, softmax cross-entropy ----------------- */

#define FDL_MLP_MAX_LAYERS 16

typedef struct {
    int nlayers;                              /* Linear layers, 1..FDL_MLP_MAX_LAYERS */
    int64_t dims[FDL_MLP_MAX_LAYERS + 1];     /* dims[0] inputs ... dims[nlayers] classes */
    int64_t w_off[FDL_MLP_MAX_LAYERS];        /* offsets (floats) into the params array */
    int64_t b_off[FDL_MLP_MAX_LAYERS];
    int64_t nparams;
} fdl_mlp;

/* Fills the layout for dims[0..nlayers]; no memory is touched.
 * FDL_ERR_NULL, FDL_ERR_ARG (nlayers out of range, a dim < 1). */
FDL_API int fdl_mlp_init(fdl_mlp *m, int nlayers, const int64_t *dims);
/* Floats of the params (and of the grads) array. */
FDL_API int64_t fdl_mlp_num_params(const fdl_mlp *m);
/* Floats of workspace for batches of up to `batch` rows: every layer's
 * output plus two gradient buffers. -1 on bad arguments. */
FDL_API int64_t fdl_mlp_workspace_size(const fdl_mlp *m, int64_t batch);
/* PyTorch's nn.Linear initialisation (kaiming_uniform(a=sqrt(5)) weights,
 * bias U(-1/sqrt(in), 1/sqrt(in))), from fastdl's Philox RNG keyed by seed:
 * the same numbers for any thread count, not the same numbers as torch. */
FDL_API int fdl_mlp_init_params(const fdl_mlp *m, float *params, uint64_t seed);

/* logits[B, classes] of x[B, dims[0]] (logits is the caller's buffer).
 * ws: at least fdl_mlp_workspace_size(m, B) floats (ws_floats says how
 * many there are; FDL_ERR_WORKSPACE when too few). */
FDL_API int fdl_mlp_forward(const fdl_mlp *m, const float *params, const float *x, int64_t B,
                    float *ws, int64_t ws_floats, float *logits);

/* Forward and backward of the mean softmax cross-entropy of x[B, dims[0]]
 * against labels[B] in [0, classes). Adds dLoss/dparams into grads (+=).
 * loss (may be NULL) receives the batch mean loss (as
 * nn.CrossEntropyLoss()), correct (may be NULL) the number of rows whose
 * argmax equals the label. FDL_ERR_ARG when a label is out of range (then
 * grads are untouched), FDL_ERR_WORKSPACE, FDL_ERR_NULL. */
FDL_API int fdl_mlp_forward_backward(const fdl_mlp *m, const float *params, float *grads,
                             const float *x, const int64_t *labels, int64_t B,
                             float *ws, int64_t ws_floats, float *loss, int64_t *correct);

/* Mean loss and correct count of a batch without gradients. */
FDL_API int fdl_mlp_evaluate(const fdl_mlp *m, const float *params, const float *x,
                     const int64_t *labels, int64_t B, float *ws, int64_t ws_floats,
                     float *loss, int64_t *correct);

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

/* Tensor list of an MLP over `params` ("0.weight", "0.bias", "2.weight",
 * ...); t must have room for 2 * m->nlayers entries, names points into a
 * static table. Returns the count. */
FDL_API int fdl_mlp_tensors(const fdl_mlp *m, float *params, fdl_tensor_ref *t);
/* fdl_safetensors_save/load of fdl_mlp_tensors. */
FDL_API int fdl_mlp_save(const fdl_mlp *m, const float *params, const char *path);
FDL_API int fdl_mlp_load(const fdl_mlp *m, float *params, const char *path);

/* ---- CNN: the MNIST benchmark network, softmax cross-entropy -------- */

/* nn.Sequential(Conv2d(1, C1, 3, padding=1), ReLU(), MaxPool2d(2),
 *               Conv2d(C1, C2, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(),
 *               Linear(C2*7*7, H), ReLU(), Linear(H, 10))
 * on x[B, 1, 28, 28] (NCHW). Parameters sit in one float array, packed in
 * state-dict order with no padding, and carry the Sequential's names:
 *   "0.weight" [C1, 1, 3, 3]   "0.bias" [C1]
 *   "3.weight" [C2, C1, 3, 3]  "3.bias" [C2]
 *   "7.weight" [H, C2*7*7]     "7.bias" [H]
 *   "9.weight" [10, H]         "9.bias" [10]
 * so fdl_cnn_save/load and fastdl.save/load exchange the same files.
 *
 * Ownership as for the MLP: nothing here allocates. The activations that
 * backward needs live in a workspace of fdl_cnn_workspace_size() floats
 * that the caller owns (e.g. fdl_arena_create(&ws, fdl_cnn_workspace_size(
 * &m, batch)), the one allocation, made explicitly by the caller). */

#define FDL_CNN_DEFAULT_C1 32
#define FDL_CNN_DEFAULT_C2 64
#define FDL_CNN_DEFAULT_HIDDEN 128
#define FDL_CNN_NTENSORS 8

typedef struct {
    int64_t c1, c2, hidden;     /* conv channels, hidden units */
    int64_t classes;            /* 10 */
    int64_t in_h, in_w;         /* 28 x 28 */
    int64_t flat;               /* c2 * 7 * 7: inputs of the first Linear */
    int64_t w_off[4], b_off[4]; /* offsets (floats) of modules 0, 3, 7, 9 */
    int64_t nparams;
} fdl_cnn;

/* Fills the layout; no memory is touched. FDL_ERR_NULL, FDL_ERR_ARG (a size < 1). */
FDL_API int fdl_cnn_init(fdl_cnn *m, int64_t c1, int64_t c2, int64_t hidden);
/* Floats of the params (and of the grads) array; -1 for NULL. */
FDL_API int64_t fdl_cnn_num_params(const fdl_cnn *m);
/* Floats of workspace for batches of up to `batch` images: the saved
 * activations and pooling indices, two gradient buffers and the
 * convolutions' im2col panels for fdl_get_num_threads() threads (fewer
 * threads work when the thread count has grown since; results are the
 * same). -1 on bad arguments. */
FDL_API int64_t fdl_cnn_workspace_size(const fdl_cnn *m, int64_t batch);
/* PyTorch's Conv2d/Linear initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 * for weights and biases, from fastdl's Philox RNG keyed by seed. */
FDL_API int fdl_cnn_init_params(const fdl_cnn *m, float *params, uint64_t seed);

/* Forward of x[B, 1, 28, 28]; saves in ws what fdl_cnn_backward needs.
 * logits (may be NULL) receives [B, 10]. With labels[B] in [0, 10) also
 * loss (may be NULL: the batch mean, as nn.CrossEntropyLoss()) and correct
 * (may be NULL: rows whose argmax is the label); labels may be NULL for
 * inference, then loss and correct are not written. FDL_ERR_ARG (bad
 * label, B < 0, ws not 8-byte aligned: it holds int64 pooling indices;
 * malloc and fdl_arena_create give 64), FDL_ERR_WORKSPACE, FDL_ERR_NULL. */
FDL_API int fdl_cnn_forward(const fdl_cnn *m, const float *params, const float *x,
                    const int64_t *labels, int64_t B, float *ws, int64_t ws_floats,
                    float *logits, float *loss, int64_t *correct);

/* Adds d(mean cross-entropy)/dparams into grads (+=). Uses the activations
 * the last fdl_cnn_forward left in ws, so call it right after that forward
 * with the same params, x, labels, B and ws. */
FDL_API int fdl_cnn_backward(const fdl_cnn *m, const float *params, float *grads, const float *x,
                     const int64_t *labels, int64_t B, float *ws, int64_t ws_floats);

/* Tensor list over `params` (FDL_CNN_NTENSORS entries; names static). Returns
 * the count, 0 on bad arguments. */
FDL_API int fdl_cnn_tensors(const fdl_cnn *m, float *params, fdl_tensor_ref *t);
/* fdl_safetensors_save/load (strict) of fdl_cnn_tensors. */
FDL_API int fdl_cnn_save(const fdl_cnn *m, const float *params, const char *path);
FDL_API int fdl_cnn_load(const fdl_cnn *m, float *params, const char *path);

#ifdef __cplusplus
}
#endif

#endif
