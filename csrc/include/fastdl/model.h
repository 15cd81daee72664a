/*
 * fastdl/model.h — a sequential model built at run time, from C alone:
 * forward, backward, a loss and an optimizer step, and files that
 * fastdl.export(model, path, example_input) writes and
 * fastdl.load_model(path) reads.
 *
 * A model is an nn.Sequential: a list of layers, each described by an
 * fdl_layer_desc whose fields carry PyTorch's constructor arguments
 * (fdl_layer_init() sets PyTorch's defaults). Every layer runs the same
 * public fdl_* kernels the Python package calls (GEMM, conv, pooling,
 * normalization, activations, losses, recurrent layers, fused optimizers).
 *
 * Shapes. The batch is dim 0 of every tensor; the model is given the shape
 * of one sample (fdl_model_set_input_shape, or the file's) and infers every
 * layer's output shape from it. Tensors are C-contiguous float32, except the
 * input of a model whose first layer is Embedding: int64 indices
 * (fdl_model_input_dtype says which). LSTM and GRU are batch_first and
 * return their output sequence [B, T, H]; FDL_LAYER_LAST_STEP (Python:
 * fastdl.nn.LastTimeStep) keeps its last step [B, H].
 *
 * Parameters live in one float arena (fdl_model_params), gradients in a
 * second with the same layout (fdl_model_grads), so an optimizer step is one
 * fused call over the whole model. Tensor names are those of the
 * nn.Sequential's state dict ("0.weight", "3.running_mean", ...); BatchNorm
 * running statistics are buffers, outside the parameter arena.
 *
 * Ownership: the model allocates (its arenas, its activations for the largest
 * batch seen so far) and fdl_model_free releases everything. Pointers
 * returned by fdl_model_params/grads/tensor stay valid until the next
 * fdl_model_add_layer or fdl_model_free.
 *
 * Errors: functions return FDL_OK or an FDL_ERR_* status; a failure leaves a
 * one-line explanation in fdl_model_last_error() (thread-local). Loading a
 * malformed file (not safetensors, bad JSON, unknown layer, inconsistent
 * shapes, missing or extra tensor, truncated data) returns FDL_ERR_FORMAT,
 * FDL_ERR_SHAPE or FDL_ERR_IO, never crashes.
 *
 * Threads: as the kernels; a model is used by one thread at a time.
 */
#ifndef FASTDL_MODEL_H
#define FASTDL_MODEL_H

#include <stdint.h>

#include "fastdl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    FDL_LAYER_LINEAR = 0,
    FDL_LAYER_CONV2D,
    FDL_LAYER_MAXPOOL2D,
    FDL_LAYER_AVGPOOL2D,
    FDL_LAYER_ADAPTIVE_AVGPOOL2D,
    FDL_LAYER_BATCHNORM1D,
    FDL_LAYER_BATCHNORM2D,
    FDL_LAYER_LAYERNORM,
    FDL_LAYER_DROPOUT,
    FDL_LAYER_FLATTEN,
    FDL_LAYER_IDENTITY,
    FDL_LAYER_RELU,
    FDL_LAYER_LEAKY_RELU,
    FDL_LAYER_ELU,
    FDL_LAYER_GELU,
    FDL_LAYER_SILU,
    FDL_LAYER_SIGMOID,
    FDL_LAYER_TANH,
    FDL_LAYER_SOFTPLUS,
    FDL_LAYER_SOFTMAX,
    FDL_LAYER_LOG_SOFTMAX,
    FDL_LAYER_EMBEDDING,
    FDL_LAYER_LSTM,
    FDL_LAYER_GRU,
    FDL_LAYER_LAST_STEP,
    FDL_LAYER_COUNT
} fdl_layer_kind;

/* One layer: the fields its kind uses, with PyTorch's names. */
typedef struct {
    fdl_layer_kind kind;
    /* Linear */
    int64_t in_features, out_features;
    int bias;                        /* Linear, Conv2d, LSTM, GRU (default 1) */
    /* Conv2d; kernel_size/stride/padding/dilation also for the pools */
    int64_t in_channels, out_channels;
    int64_t kernel_size[2], stride[2], padding[2], dilation[2];
    int64_t groups;
    int ceil_mode, count_include_pad;    /* pools (count_include_pad default 1) */
    int64_t output_size[2];              /* AdaptiveAvgPool2d */
    /* BatchNorm1d/2d, LayerNorm */
    int64_t num_features;
    double eps, momentum;                /* eps 1e-5, momentum 0.1 */
    int affine, track_running_stats;     /* default 1, 1 (LayerNorm: elementwise_affine) */
    int normalized_ndim;                 /* LayerNorm: trailing dims normalized */
    int64_t normalized_shape[4];
    int64_t num_batches_tracked;         /* BatchNorm state, carried in files */
    /* Dropout */
    double p;                            /* 0.5 */
    /* Flatten: dims of the batched tensor (default 1, -1) */
    int64_t start_dim, end_dim;
    /* activations */
    double negative_slope;               /* LeakyReLU 0.01 */
    double alpha;                        /* ELU 1.0 */
    int approximate_tanh;                /* GELU: 0 'none', 1 'tanh' */
    double beta, threshold;              /* Softplus 1.0, 20.0 */
    int64_t dim;                         /* Softmax, LogSoftmax: dim of the batched tensor */
    /* Embedding */
    int64_t num_embeddings, embedding_dim;
    int64_t padding_idx;                 /* -1: none */
    /* LSTM, GRU (batch_first) */
    int64_t input_size, hidden_size, num_layers;
} fdl_layer_desc;

/* Sets every field to PyTorch's default for `kind` (sizes 0: the caller
 * sets them). FDL_ERR_NULL, FDL_ERR_ARG (unknown kind). */
FDL_API int fdl_layer_init(fdl_layer_desc *d, fdl_layer_kind kind);
/* PyTorch's class name of a kind ("Linear", "Conv2d", ...); "" if unknown. */
FDL_API const char *fdl_layer_name(fdl_layer_kind kind);

typedef struct fdl_model fdl_model;

/* Text of the last failure of an fdl_model_* function on this thread ("" if none). */
FDL_API const char *fdl_model_last_error(void);

/* An empty model. FDL_ERR_NULL, FDL_ERR_NOMEM. */
FDL_API int fdl_model_new(fdl_model **out);
/* Frees the model and everything it owns (NULL is ignored). */
FDL_API void fdl_model_free(fdl_model *m);
/* Appends a layer; its parameters are initialized as PyTorch's
 * reset_parameters does, from fastdl's Philox RNG (fdl_model_manual_seed).
 * The shapes are checked against the model's input shape once it is set.
 * FDL_ERR_ARG (bad or inconsistent arguments), FDL_ERR_NOMEM. */
FDL_API int fdl_model_add_layer(fdl_model *m, const fdl_layer_desc *d);
FDL_API int fdl_model_num_layers(const fdl_model *m);
/* A copy of layer i's descriptor. */
FDL_API int fdl_model_layer(const fdl_model *m, int i, fdl_layer_desc *d);
/* Shape of one sample (ndim <= 6, no batch dim); checks every layer against
 * it. FDL_ERR_SHAPE with the layer named when one does not fit. */
FDL_API int fdl_model_set_input_shape(fdl_model *m, int ndim, const int64_t *shape);
/* The per-sample output shape (shape has room for 8); FDL_ERR_ARG before
 * the input shape is set. */
FDL_API int fdl_model_output_shape(const fdl_model *m, int *ndim, int64_t *shape);
FDL_API int fdl_model_input_shape(const fdl_model *m, int *ndim, int64_t *shape);
/* Elements of one input / output sample (-1 before the input shape is set). */
FDL_API int64_t fdl_model_input_numel(const fdl_model *m);
FDL_API int64_t fdl_model_output_numel(const fdl_model *m);

typedef enum { FDL_DTYPE_F32 = 0, FDL_DTYPE_I64 = 1 } fdl_dtype;
/* FDL_DTYPE_I64 when the first layer is Embedding, else FDL_DTYPE_F32. */
FDL_API fdl_dtype fdl_model_input_dtype(const fdl_model *m);

/* Seed of Dropout's masks: call k of a dropout layer uses (seed, stream),
 * stream counting up from `stream` (fastdl.manual_seed(seed) then a
 * forward in Python draws the same masks). Also keys parameter init. */
FDL_API void fdl_model_manual_seed(fdl_model *m, uint64_t seed, uint64_t stream);
/* Training mode (BatchNorm batch statistics, Dropout on) or eval; a new
 * model trains. */
FDL_API void fdl_model_train(fdl_model *m, int training);

/* ---- parameters ---- */
/* Parameters (as sum(p.numel() for p in model.parameters())). */
FDL_API int64_t fdl_model_num_params(const fdl_model *m);
/* Floats in the parameter (and gradient) arena: the parameters plus the
 * padding that starts each tensor on a 64-byte boundary (kept at 0). */
FDL_API int64_t fdl_model_arena_size(const fdl_model *m);
FDL_API float *fdl_model_params(fdl_model *m);
FDL_API float *fdl_model_grads(fdl_model *m);
/* Sets every gradient to 0. */
FDL_API void fdl_model_zero_grad(fdl_model *m);
/* Named tensors (parameters, then buffers, state-dict order). */
FDL_API int fdl_model_num_tensors(const fdl_model *m);
/* Tensor i: name (owned by the model), ndim, shape[8], data (params or
 * buffer memory), grad (NULL for buffers). Any out pointer may be NULL. */
FDL_API int fdl_model_tensor(fdl_model *m, int i, const char **name, int *ndim, int64_t *shape,
                             float **data, float **grad);

/* ---- files ---- */
/* Reads an architecture + weights file (fastdl.export or fdl_model_save). */
FDL_API int fdl_model_load(const char *path, fdl_model **out);
/* Writes the architecture (JSON in the safetensors metadata) and every
 * tensor, atomically (temporary file + rename). fastdl.load_model reads it,
 * fastdl.load returns its state dict. */
FDL_API int fdl_model_save(const fdl_model *m, const char *path);

/* ---- compute ---- */
/* out[B, out...] = model(x[B, in...]); x is float32, or int64 when
 * fdl_model_input_dtype says so. In training mode the activations are kept
 * for fdl_model_backward (x must stay alive and unchanged until then).
 * out may be NULL (then read fdl_model_output). */
FDL_API int fdl_model_forward(fdl_model *m, const void *x, int64_t B, float *out);
/* The last forward's output [B, out...], owned by the model. */
FDL_API const float *fdl_model_output(const fdl_model *m);
/* Backward of the last forward from dout[B, out...] = dL/doutput: adds
 * dL/dparams into the gradient arena (+=); dx (may be NULL; float inputs
 * only) receives dL/dx (written, not added). */
FDL_API int fdl_model_backward(fdl_model *m, const float *dout, float *dx);

typedef enum {
    FDL_LOSS_CROSS_ENTROPY = 0,   /* target int64 [B] class indices, mean */
    FDL_LOSS_NLL,                 /* on log-probabilities, target int64 [B], mean */
    FDL_LOSS_MSE,                 /* target float like the output, mean */
    FDL_LOSS_L1,
    FDL_LOSS_BCE_WITH_LOGITS      /* target float like the output, mean */
} fdl_loss_kind;

/* Mean loss of the last forward's output against target (int64 for
 * CROSS_ENTROPY/NLL, float otherwise); with dout != NULL also
 * dL/doutput (written). correct (may be NULL): rows whose argmax is the
 * class (class losses only). */
FDL_API int fdl_model_loss(fdl_model *m, fdl_loss_kind kind, const void *target, float *loss,
                           int64_t *correct, float *dout);

typedef enum { FDL_OPTIM_SGD = 0, FDL_OPTIM_ADAM = 1, FDL_OPTIM_ADAMW = 2 } fdl_optim_kind;

/* Optimizer settings, PyTorch's names; fdl_optim_init sets torch.optim's
 * defaults (SGD lr must be given; Adam lr 1e-3, betas 0.9/0.999, eps 1e-8,
 * AdamW weight_decay 1e-2). */
typedef struct {
    fdl_optim_kind kind;
    double lr, momentum, dampening, weight_decay;
    int nesterov;
    double beta1, beta2, eps;
    int amsgrad;
} fdl_optim;
FDL_API int fdl_optim_init(fdl_optim *o, fdl_optim_kind kind, double lr);

/* One optimizer step over the whole parameter arena (fused kernels of
 * fastdl/optim.h); the model keeps the optimizer state (zeroed by
 * fdl_model_reset_optimizer). */
FDL_API int fdl_model_step(fdl_model *m, const fdl_optim *o);
FDL_API void fdl_model_reset_optimizer(fdl_model *m);

/* zero_grad, forward (training mode), loss, backward, step: one training
 * step, as optimizer.zero_grad(); loss_fn(model(x), y).backward();
 * optimizer.step(). loss and correct may be NULL. */
FDL_API int fdl_model_train_step(fdl_model *m, const void *x, const void *target, int64_t B,
                                 fdl_loss_kind loss_kind, const fdl_optim *o, float *loss,
                                 int64_t *correct);

#ifdef __cplusplus
}
#endif

#endif
