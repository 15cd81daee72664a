/*
 * The sequential model runtime (fastdl/model.h): layers described at run
 * time, each forward/backward one or a few calls of the public kernels the
 * Python package calls (fdl_sgemm_ex, fdl_conv2d_*, fdl_*_pool2d_*,
 * fdl_batch_norm_*, fdl_layer_norm_*, fdl_dropout_*, fdl_embedding_*, the
 * activation kernels, fdl_{lstm,gru}_layer_*, the loss kernels and the fused
 * optimizer steps). Nothing here computes a loss, an activation or a norm
 * itself.
 *
 * Legend: B batch; a layer maps one sample of shape in[0..in_nd) (in_n
 * elements) to out[0..out_nd) (out_n elements); every tensor is
 * [B, sample...], C-contiguous.
 *
 * Memory: parameters (and gradients, same layout) in two float arenas, each
 * tensor starting on a 16-float boundary (padding stays 0, so a fused
 * optimizer step over the whole arena leaves it 0); buffers (BatchNorm
 * running statistics) in a third. Each layer owns its output and what its
 * backward needs, sized for the largest batch seen; view layers (Flatten,
 * Identity, Dropout in eval, ReLU fused into the GEMM before it) alias
 * their input. Backward walks the layers with two ping-pong gradient
 * buffers.
 *
 * Fusion: a ReLU right after a Linear runs in the GEMM's epilogue; a ReLU
 * after a layer whose backward does not read its own output (Linear,
 * Conv2d, pools, norms) runs in place. ReLU's backward reads its output
 * (out > 0 iff in > 0), so both are exact.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastdl.h"
#include "fastdl/model.h"
#include "train_internal.h"

#define MAX_ND 6
#define MAX_T 8                 /* tensors of one layer, beyond LSTM's 4 per stacked layer */
#define MAX_RNN_LAYERS 16
#define NAME_LEN 48

typedef struct {
    char name[NAME_LEN];
    int ndim;
    int64_t shape[8];
    int64_t off;                /* floats into params (or bufs) */
    int buffer;                 /* 1: lives in bufs, no gradient */
} tensor;

typedef struct {
    fdl_layer_desc d;
    int in_nd, out_nd;
    int64_t in[8], out[8], in_n, out_n;
    int t0, nt;                 /* tensors [t0, t0 + nt) of the model */
    int alias;                  /* output is the input (views) */
    int fuse_relu;              /* Linear: the next ReLU runs in the epilogue */
    int fused;                  /* ReLU already applied by the Linear before it */
    int inplace;                /* ReLU computed in place over its input */
    int64_t cap;                /* batch the buffers below are sized for */
    float *y;
    void *aux[6];
    int64_t T;                  /* LSTM/GRU/LastStep: sequence length */
} layer;

struct fdl_model {
    layer *L;
    int n, cap_layers;
    tensor *t;
    int nt, cap_t;
    float *params, *grads, *bufs;
    int64_t np, nb;             /* floats in params / bufs */
    int shaped;
    int in_nd;
    int64_t in[8], in_n;
    uint64_t seed, stream, init_stream;
    int training;
    /* last forward */
    const void *x;
    int64_t B;
    const float *yout;
    int fwd_training;
    /* shared scratch */
    float *g0, *g1;
    int64_t gcap;
    void *cws;
    int64_t cws_bytes;
    float *rwork;
    int64_t rwork_n;
    float *colsum;
    int64_t colsum_n;
    float *lossbuf;
    int64_t lossbuf_n;
    int64_t *lbl;
    int64_t lbl_n;
    /* optimizer */
    float *ostate;
    int64_t ostate_n;
    int64_t ostep;
};

static const char *const kind_names[FDL_LAYER_COUNT] = {
    "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d",
    "BatchNorm2d", "LayerNorm", "Dropout", "Flatten", "Identity", "ReLU", "LeakyReLU", "ELU",
    "GELU", "SiLU", "Sigmoid", "Tanh", "Softplus", "Softmax", "LogSoftmax", "Embedding", "LSTM",
    "GRU", "LastTimeStep",
};

const char *fdl_model_last_error(void) { return fdl_train_last_error(); }

const char *fdl_layer_name(fdl_layer_kind k)
{
    return (unsigned)k < FDL_LAYER_COUNT ? kind_names[k] : "";
}

static void *amalloc(int64_t bytes)
{
    void *p = NULL;
    if (bytes < 1) bytes = 1;
    if (posix_memalign(&p, 64, (size_t)bytes) != 0) return NULL;
    return p;
}

int fdl_layer_init(fdl_layer_desc *d, fdl_layer_kind kind)
{
    if (!d) return FDL_ERR_NULL;
    if ((unsigned)kind >= FDL_LAYER_COUNT) return FDL_ERR_ARG;
    memset(d, 0, sizeof *d);
    d->kind = kind;
    d->bias = 1;
    d->stride[0] = d->stride[1] = 1;
    d->dilation[0] = d->dilation[1] = 1;
    d->groups = 1;
    d->count_include_pad = 1;
    d->eps = 1e-5;
    d->momentum = 0.1;
    d->affine = 1;
    d->track_running_stats = 1;
    d->p = 0.5;
    d->start_dim = 1;
    d->end_dim = -1;
    d->negative_slope = 0.01;
    d->alpha = 1.0;
    d->beta = 1.0;
    d->threshold = 20.0;
    d->dim = -1;
    d->padding_idx = -1;
    d->num_layers = 1;
    if (kind == FDL_LAYER_MAXPOOL2D) d->stride[0] = d->stride[1] = 0;   /* 0: kernel_size */
    if (kind == FDL_LAYER_AVGPOOL2D) d->stride[0] = d->stride[1] = 0;
    return FDL_OK;
}

int fdl_model_new(fdl_model **out)
{
    if (!out) return FDL_ERR_NULL;
    fdl__clear_error();
    fdl_model *m = calloc(1, sizeof *m);
    if (!m) return fdl__fail(FDL_ERR_NOMEM, "fdl_model_new: out of memory");
    m->training = 1;
    *out = m;
    return FDL_OK;
}

static void free_layer_buffers(layer *l)
{
    if (!l->alias && !l->inplace) free(l->y);
    l->y = NULL;
    for (int i = 0; i < 6; i++) { free(l->aux[i]); l->aux[i] = NULL; }
    l->cap = 0;
}

static void free_scratch(fdl_model *m)
{
    for (int i = 0; i < m->n; i++) free_layer_buffers(&m->L[i]);
    free(m->g0); free(m->g1); free(m->cws); free(m->rwork); free(m->colsum);
    free(m->lossbuf); free(m->lbl);
    m->g0 = m->g1 = NULL; m->cws = NULL; m->rwork = NULL; m->colsum = NULL;
    m->lossbuf = NULL; m->lbl = NULL;
    m->gcap = m->cws_bytes = m->rwork_n = m->colsum_n = m->lossbuf_n = m->lbl_n = 0;
    m->yout = NULL;
    m->B = -1;
}

void fdl_model_free(fdl_model *m)
{
    if (!m) return;
    free_scratch(m);
    free(m->L); free(m->t); free(m->params); free(m->grads); free(m->bufs); free(m->ostate);
    free(m);
}

int fdl_model_num_layers(const fdl_model *m) { return m ? m->n : -1; }

int fdl_model_layer(const fdl_model *m, int i, fdl_layer_desc *d)
{
    if (!m || !d) return FDL_ERR_NULL;
    if (i < 0 || i >= m->n) return FDL_ERR_ARG;
    *d = m->L[i].d;
    return FDL_OK;
}

/* ---- descriptors: checks, tensors, init ---------------------------------- */

#define NUMEL_LIM ((int64_t)1 << 40)

/* Product of sizes, or -1 when it exceeds NUMEL_LIM (never overflows). */
static int64_t prod(const int64_t *s, int n)
{
    int64_t p = 1;
    for (int i = 0; i < n; i++) {
        if (s[i] < 0) return -1;
        if (s[i] > 0 && p > NUMEL_LIM / s[i]) return -1;
        p *= s[i];
    }
    return p;
}

#define LIM ((int64_t)1 << 31)
#define BAD(...) fdl__fail(FDL_ERR_ARG, __VA_ARGS__)

static int in_range(int64_t v, int64_t lo, int64_t hi) { return v >= lo && v <= hi; }

/* Checks a descriptor on its own (shapes against the input come later). */
static int check_desc(int idx, const fdl_layer_desc *d)
{
    const char *nm = fdl_layer_name(d->kind);
    switch (d->kind) {
    case FDL_LAYER_LINEAR:
        if (!in_range(d->in_features, 1, LIM) || !in_range(d->out_features, 1, LIM))
            return BAD("layer %d (Linear): in_features %lld, out_features %lld must be >= 1",
                       idx, (long long)d->in_features, (long long)d->out_features);
        return FDL_OK;
    case FDL_LAYER_CONV2D:
        if (!in_range(d->in_channels, 1, LIM) || !in_range(d->out_channels, 1, LIM) ||
            !in_range(d->groups, 1, LIM) || d->in_channels % d->groups ||
            d->out_channels % d->groups)
            return BAD("layer %d (Conv2d): channels %lld -> %lld must be >= 1 and divisible by "
                       "groups %lld", idx, (long long)d->in_channels,
                       (long long)d->out_channels, (long long)d->groups);
        /* fall through: kernel, stride, padding, dilation */
    case FDL_LAYER_MAXPOOL2D:
    case FDL_LAYER_AVGPOOL2D:
        for (int k = 0; k < 2; k++) {
            int64_t st = d->stride[k] ? d->stride[k] : d->kernel_size[k];
            if (!in_range(d->kernel_size[k], 1, 1 << 16) || !in_range(st, 1, 1 << 16) ||
                !in_range(d->padding[k], 0, 1 << 16) || !in_range(d->dilation[k], 1, 1 << 16))
                return BAD("layer %d (%s): kernel_size, stride, dilation must be >= 1 and "
                           "padding >= 0", idx, nm);
            if (d->kind != FDL_LAYER_CONV2D && d->padding[k] * 2 > d->kernel_size[k])
                return BAD("layer %d (%s): padding should be at most half of kernel_size",
                           idx, nm);
        }
        return FDL_OK;
    case FDL_LAYER_ADAPTIVE_AVGPOOL2D:
        if (!in_range(d->output_size[0], 1, LIM) || !in_range(d->output_size[1], 1, LIM))
            return BAD("layer %d (AdaptiveAvgPool2d): output_size must be >= 1", idx);
        return FDL_OK;
    case FDL_LAYER_BATCHNORM1D:
    case FDL_LAYER_BATCHNORM2D:
        if (!in_range(d->num_features, 1, LIM) || !(d->eps >= 0))
            return BAD("layer %d (%s): num_features %lld must be >= 1, eps >= 0", idx, nm,
                       (long long)d->num_features);
        return FDL_OK;
    case FDL_LAYER_LAYERNORM:
        if (!in_range(d->normalized_ndim, 1, 4) || !(d->eps >= 0))
            return BAD("layer %d (LayerNorm): normalized_shape needs 1 to 4 dims", idx);
        for (int k = 0; k < d->normalized_ndim; k++)
            if (!in_range(d->normalized_shape[k], 1, LIM))
                return BAD("layer %d (LayerNorm): normalized_shape dims must be >= 1", idx);
        return FDL_OK;
    case FDL_LAYER_DROPOUT:
        if (!(d->p >= 0.0 && d->p <= 1.0))
            return BAD("layer %d (Dropout): p must be in [0, 1], got %g", idx, d->p);
        return FDL_OK;
    case FDL_LAYER_EMBEDDING:
        if (idx != 0) return BAD("layer %d (Embedding): only the first layer can be one", idx);
        if (!in_range(d->num_embeddings, 1, LIM) || !in_range(d->embedding_dim, 1, LIM) ||
            d->padding_idx < -1 || d->padding_idx >= d->num_embeddings)
            return BAD("layer %d (Embedding): num_embeddings, embedding_dim must be >= 1, padding_idx in [0, num_embeddings) or -1 (none)", idx);
        return FDL_OK;
    case FDL_LAYER_LSTM:
    case FDL_LAYER_GRU:
        if (!in_range(d->input_size, 1, LIM) || !in_range(d->hidden_size, 1, LIM) ||
            !in_range(d->num_layers, 1, MAX_RNN_LAYERS))
            return BAD("layer %d (%s): input_size, hidden_size >= 1, num_layers in [1, %d]",
                       idx, nm, MAX_RNN_LAYERS);
        return FDL_OK;
    case FDL_LAYER_SOFTPLUS:
        if (!(d->beta != 0)) return BAD("layer %d (Softplus): beta must not be 0", idx);
        return FDL_OK;
    default:
        return (unsigned)d->kind < FDL_LAYER_COUNT ? FDL_OK
                                                   : BAD("layer %d: unknown kind %d", idx, (int)d->kind);
    }
}

static int add_tensor(fdl_model *m, const char *name, int ndim, const int64_t *shape,
                      int buffer)
{
    if (m->nt == m->cap_t) {
        int nc = m->cap_t ? 2 * m->cap_t : 16;
        tensor *t = realloc(m->t, sizeof *t * (size_t)nc);
        if (!t) return FDL_ERR_NOMEM;
        m->t = t;
        m->cap_t = nc;
    }
    int64_t n = prod(shape, ndim);
    if (n < 0 || n > ((int64_t)1 << 34) || m->np > NUMEL_LIM || m->nb > NUMEL_LIM)
        return fdl__fail(FDL_ERR_ARG, "tensor %s is too large", name);
    tensor *t = &m->t[m->nt++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, NAME_LEN, "%s", name);
    t->ndim = ndim;
    memcpy(t->shape, shape, sizeof(int64_t) * (size_t)ndim);
    t->buffer = buffer;
    if (buffer) { t->off = m->nb; m->nb += fdl_arena_round(n); }
    else { t->off = m->np; m->np += fdl_arena_round(n); }
    return FDL_OK;
}

/* The layer's tensors, in PyTorch's state-dict order. */
static int layer_tensors(fdl_model *m, int idx, const fdl_layer_desc *d)
{
    char nm[NAME_LEN];
    int st = FDL_OK;
#define T(suffix, buf, nd, ...) do { int64_t s_[] = {__VA_ARGS__}; \
        snprintf(nm, sizeof nm, "%d.%s", idx, suffix); \
        if ((st = add_tensor(m, nm, nd, s_, buf)) != FDL_OK) return st; } while (0)
    switch (d->kind) {
    case FDL_LAYER_LINEAR:
        T("weight", 0, 2, d->out_features, d->in_features);
        if (d->bias) T("bias", 0, 1, d->out_features);
        break;
    case FDL_LAYER_CONV2D:
        T("weight", 0, 4, d->out_channels, d->in_channels / d->groups, d->kernel_size[0],
          d->kernel_size[1]);
        if (d->bias) T("bias", 0, 1, d->out_channels);
        break;
    case FDL_LAYER_BATCHNORM1D:
    case FDL_LAYER_BATCHNORM2D:
        if (d->affine) { T("weight", 0, 1, d->num_features); T("bias", 0, 1, d->num_features); }
        if (d->track_running_stats) {
            T("running_mean", 1, 1, d->num_features);
            T("running_var", 1, 1, d->num_features);
        }
        break;
    case FDL_LAYER_LAYERNORM:
        if (d->affine) {
            int64_t s[4];
            memcpy(s, d->normalized_shape, sizeof s);
            snprintf(nm, sizeof nm, "%d.weight", idx);
            if ((st = add_tensor(m, nm, d->normalized_ndim, s, 0))) return st;
            snprintf(nm, sizeof nm, "%d.bias", idx);
            if ((st = add_tensor(m, nm, d->normalized_ndim, s, 0))) return st;
        }
        break;
    case FDL_LAYER_EMBEDDING:
        T("weight", 0, 2, d->num_embeddings, d->embedding_dim);
        break;
    case FDL_LAYER_LSTM:
    case FDL_LAYER_GRU: {
        int64_t G = d->kind == FDL_LAYER_LSTM ? 4 : 3, H = d->hidden_size;
        for (int k = 0; k < d->num_layers; k++) {
            char s[32];
            snprintf(s, sizeof s, "weight_ih_l%d", k);
            T(s, 0, 2, G * H, k ? H : d->input_size);
            snprintf(s, sizeof s, "weight_hh_l%d", k);
            T(s, 0, 2, G * H, H);
            if (d->bias) {
                snprintf(s, sizeof s, "bias_ih_l%d", k);
                T(s, 0, 1, G * H);
                snprintf(s, sizeof s, "bias_hh_l%d", k);
                T(s, 0, 1, G * H);
            }
        }
        break;
    }
    default:
        break;
    }
#undef T
    return FDL_OK;
}

static float *tdata(fdl_model *m, int i)
{
    return (m->t[i].buffer ? m->bufs : m->params) + m->t[i].off;
}

static float *tgrad(fdl_model *m, int i)
{
    return m->t[i].buffer ? NULL : m->grads + m->t[i].off;
}

/* PyTorch's reset_parameters, from fastdl's Philox RNG. */
static void init_layer(fdl_model *m, layer *l)
{
    const fdl_layer_desc *d = &l->d;
    for (int i = l->t0; i < l->t0 + l->nt; i++) {
        tensor *t = &m->t[i];
        float *p = tdata(m, i);
        int64_t n = prod(t->shape, t->ndim);
        const char *suf = strchr(t->name, '.') + 1;
        uint64_t s = m->init_stream++;
        double bound = 0;
        switch (d->kind) {
        case FDL_LAYER_LINEAR: bound = 1.0 / sqrt((double)d->in_features); break;
        case FDL_LAYER_CONV2D:
            bound = 1.0 / sqrt((double)(d->in_channels / d->groups * d->kernel_size[0] *
                                        d->kernel_size[1]));
            break;
        case FDL_LAYER_LSTM: case FDL_LAYER_GRU:
            bound = 1.0 / sqrt((double)d->hidden_size);
            break;
        case FDL_LAYER_EMBEDDING:
            fdl_rng_normal_f32(p, n, m->seed, s, 0, 0.0f, 1.0f);
            if (d->padding_idx >= 0) memset(p + d->padding_idx * d->embedding_dim, 0,
                                            sizeof(float) * (size_t)d->embedding_dim);
            continue;
        default:   /* norms: weight / running_var 1, bias / running_mean 0 */
            for (int64_t j = 0; j < n; j++)
                p[j] = (!strcmp(suf, "weight") || !strcmp(suf, "running_var")) ? 1.0f : 0.0f;
            continue;
        }
        fdl_rng_uniform_f32(p, n, m->seed, s, 0, (float)-bound, (float)bound);
    }
}

/* Grows the arenas to m->np / m->nb floats, keeping the contents. */
static int grow_arenas(fdl_model *m, int64_t old_np, int64_t old_nb)
{
    float *p = amalloc((m->np ? m->np : 1) * 4), *g = amalloc((m->np ? m->np : 1) * 4);
    float *b = amalloc((m->nb ? m->nb : 1) * 4);
    if (!p || !g || !b) { free(p); free(g); free(b); return FDL_ERR_NOMEM; }
    memset(p, 0, (size_t)m->np * 4);
    memset(g, 0, (size_t)m->np * 4);
    memset(b, 0, (size_t)m->nb * 4);
    if (old_np) { memcpy(p, m->params, (size_t)old_np * 4); memcpy(g, m->grads, (size_t)old_np * 4); }
    if (old_nb) memcpy(b, m->bufs, (size_t)old_nb * 4);
    free(m->params); free(m->grads); free(m->bufs);
    m->params = p; m->grads = g; m->bufs = b;
    free(m->ostate);
    m->ostate = NULL;
    m->ostate_n = 0;
    m->ostep = 0;
    return FDL_OK;
}

static int infer_shapes(fdl_model *m);

int fdl_model_add_layer(fdl_model *m, const fdl_layer_desc *d)
{
    if (!m || !d) return FDL_ERR_NULL;
    fdl__clear_error();
    int st = check_desc(m->n, d);
    if (st) return st;
    if (m->n == m->cap_layers) {
        int nc = m->cap_layers ? 2 * m->cap_layers : 8;
        layer *L = realloc(m->L, sizeof *L * (size_t)nc);
        if (!L) return fdl__fail(FDL_ERR_NOMEM, "fdl_model_add_layer: out of memory");
        m->L = L;
        m->cap_layers = nc;
    }
    free_scratch(m);
    layer *l = &m->L[m->n];
    memset(l, 0, sizeof *l);
    l->d = *d;
    l->t0 = m->nt;
    int64_t onp = m->np, onb = m->nb;
    int ont = m->nt;
    if ((st = layer_tensors(m, m->n, d)) != FDL_OK) {
        m->nt = ont; m->np = onp; m->nb = onb;
        if (st == FDL_ERR_ARG) {
            char msg[200];
            snprintf(msg, sizeof msg, "%s", fdl_model_last_error());
            return fdl__fail(st, "layer %d (%s): %s", m->n, fdl_layer_name(d->kind), msg);
        }
        return fdl__fail(FDL_ERR_NOMEM, "fdl_model_add_layer: out of memory");
    }
    if ((st = grow_arenas(m, onp, onb)) != FDL_OK) {
        m->nt = ont; m->np = onp; m->nb = onb;
        return fdl__fail(FDL_ERR_NOMEM, "fdl_model_add_layer: out of memory");
    }
    l->nt = m->nt - l->t0;
    m->n++;
    init_layer(m, l);
    if (m->shaped && (st = infer_shapes(m)) != FDL_OK) {
        /* keep the model usable: drop the layer again */
        m->n--;
        m->nt = ont; m->np = onp; m->nb = onb;
        infer_shapes(m);
        return st;
    }
    return FDL_OK;
}

/* ---- shapes ---------------------------------------------------------------- */

#define SHAPE_FAIL(...) fdl__fail(FDL_ERR_SHAPE, __VA_ARGS__)

static void shape_str(char *buf, size_t cap, int nd, const int64_t *s)
{
    size_t k = (size_t)snprintf(buf, cap, "[B");
    for (int i = 0; i < nd && k < cap; i++) k += (size_t)snprintf(buf + k, cap - k, ", %lld", (long long)s[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

static int64_t pool_out(int64_t n, int64_t k, int64_t s, int64_t p, int64_t dil, int ceil_mode)
{
    int64_t span = n + 2 * p - dil * (k - 1) - 1;
    if (span < 0) return 0;
    int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (o - 1) * s >= n + p) o--;
    return o;
}

static int layer_shape(int idx, layer *l, int first_kind_embedding)
{
    fdl_layer_desc *d = &l->d;
    const char *nm = fdl_layer_name(d->kind);
    int nd = l->in_nd;
    const int64_t *in = l->in;
    char got[160];
    shape_str(got, sizeof got, nd, in);
    memcpy(l->out, in, sizeof l->out);
    l->out_nd = nd;
    (void)first_kind_embedding;
    switch (d->kind) {
    case FDL_LAYER_LINEAR:
        if (nd < 1 || in[nd - 1] != d->in_features)
            return SHAPE_FAIL("layer %d (Linear): expected input [B, ..., %lld], got %s", idx,
                              (long long)d->in_features, got);
        l->out[nd - 1] = d->out_features;
        break;
    case FDL_LAYER_CONV2D:
    case FDL_LAYER_MAXPOOL2D:
    case FDL_LAYER_AVGPOOL2D:
    case FDL_LAYER_ADAPTIVE_AVGPOOL2D: {
        if (nd != 3)
            return SHAPE_FAIL("layer %d (%s): expected input [B, C, H, W], got %s", idx, nm, got);
        if (d->kind == FDL_LAYER_CONV2D && in[0] != d->in_channels)
            return SHAPE_FAIL("layer %d (Conv2d): expected %lld input channels, got %s", idx,
                              (long long)d->in_channels, got);
        for (int k = 0; k < 2; k++) {
            int64_t o;
            if (d->kind == FDL_LAYER_ADAPTIVE_AVGPOOL2D) o = d->output_size[k];
            else {
                int64_t s = d->stride[k] ? d->stride[k] : d->kernel_size[k];
                o = pool_out(in[1 + k], d->kernel_size[k], s, d->padding[k],
                             d->kind == FDL_LAYER_AVGPOOL2D ? 1 : d->dilation[k],
                             d->kind == FDL_LAYER_CONV2D ? 0 : d->ceil_mode);
            }
            if (o < 1)
                return SHAPE_FAIL("layer %d (%s): input %s is too small for the kernel", idx,
                                  nm, got);
            l->out[1 + k] = o;
        }
        if (d->kind == FDL_LAYER_CONV2D) l->out[0] = d->out_channels;
        break;
    }
    case FDL_LAYER_BATCHNORM1D:
        if ((nd != 1 && nd != 2) || in[0] != d->num_features)
            return SHAPE_FAIL("layer %d (BatchNorm1d): expected input [B, %lld] or [B, %lld, L], "
                              "got %s", idx, (long long)d->num_features,
                              (long long)d->num_features, got);
        break;
    case FDL_LAYER_BATCHNORM2D:
        if (nd != 3 || in[0] != d->num_features)
            return SHAPE_FAIL("layer %d (BatchNorm2d): expected input [B, %lld, H, W], got %s",
                              idx, (long long)d->num_features, got);
        break;
    case FDL_LAYER_LAYERNORM: {
        int k = d->normalized_ndim;
        int ok = nd >= k;
        for (int i = 0; ok && i < k; i++) ok = in[nd - k + i] == d->normalized_shape[i];
        if (!ok)
            return SHAPE_FAIL("layer %d (LayerNorm): input %s does not end in normalized_shape",
                              idx, got);
        break;
    }
    case FDL_LAYER_FLATTEN: {
        int bnd = nd + 1;   /* batched dims */
        int64_t s = d->start_dim < 0 ? d->start_dim + bnd : d->start_dim;
        int64_t e = d->end_dim < 0 ? d->end_dim + bnd : d->end_dim;
        if (s < 1 || e >= bnd || s > e)
            return SHAPE_FAIL("layer %d (Flatten): start_dim %lld / end_dim %lld do not fit "
                              "input %s (the batch dim is kept)", idx, (long long)d->start_dim,
                              (long long)d->end_dim, got);
        int o = 0;
        for (int i = 0; i < s - 1; i++) l->out[o++] = in[i];
        l->out[o++] = prod(in + s - 1, (int)(e - s + 1));
        for (int i = (int)e; i < nd; i++) l->out[o++] = in[i];
        l->out_nd = o;
        break;
    }
    case FDL_LAYER_SOFTMAX:
    case FDL_LAYER_LOG_SOFTMAX: {
        int64_t dd = d->dim < 0 ? d->dim + nd + 1 : d->dim;
        if (dd < 0 || dd > nd)
            return SHAPE_FAIL("layer %d (%s): dim %lld out of range for input %s", idx, nm,
                              (long long)d->dim, got);
        break;
    }
    case FDL_LAYER_EMBEDDING:
        if (nd + 1 > MAX_ND) return SHAPE_FAIL("layer %d (Embedding): too many dims", idx);
        l->out[nd] = d->embedding_dim;
        l->out_nd = nd + 1;
        break;
    case FDL_LAYER_LSTM:
    case FDL_LAYER_GRU:
        if (nd != 2 || in[1] != d->input_size)
            return SHAPE_FAIL("layer %d (%s): expected input [B, T, %lld] (batch_first), got %s",
                              idx, nm, (long long)d->input_size, got);
        l->out[1] = d->hidden_size;
        l->T = in[0];
        break;
    case FDL_LAYER_LAST_STEP:
        if (nd != 2)
            return SHAPE_FAIL("layer %d (LastTimeStep): expected input [B, T, H], got %s", idx,
                              got);
        l->T = in[0];
        l->out[0] = in[1];
        l->out_nd = 1;
        break;
    default:
        break;
    }
    l->in_n = prod(l->in, l->in_nd);
    l->out_n = prod(l->out, l->out_nd);
    if (l->in_n < 1 || l->out_n < 1)
        return SHAPE_FAIL("layer %d (%s): empty or oversized sample %s", idx, nm, got);
    return FDL_OK;
}

static int readonly_output_kind(fdl_layer_kind k)
{
    /* layers whose backward never reads their own output */
    return k == FDL_LAYER_LINEAR || k == FDL_LAYER_CONV2D || k == FDL_LAYER_MAXPOOL2D ||
           k == FDL_LAYER_AVGPOOL2D || k == FDL_LAYER_ADAPTIVE_AVGPOOL2D ||
           k == FDL_LAYER_BATCHNORM1D || k == FDL_LAYER_BATCHNORM2D || k == FDL_LAYER_LAYERNORM;
}

static int infer_shapes(fdl_model *m)
{
    free_scratch(m);
    int nd = m->in_nd;
    int64_t s[8];
    memcpy(s, m->in, sizeof s);
    for (int i = 0; i < m->n; i++) {
        layer *l = &m->L[i];
        l->in_nd = nd;
        memcpy(l->in, s, sizeof s);
        int st = layer_shape(i, l, 0);
        if (st) return st;
        nd = l->out_nd;
        memcpy(s, l->out, sizeof s);
        fdl_layer_kind k = l->d.kind;
        l->alias = k == FDL_LAYER_FLATTEN || k == FDL_LAYER_IDENTITY;
        l->fuse_relu = 0;
        l->fused = 0;
        l->inplace = 0;
        if (k == FDL_LAYER_RELU && i > 0 && readonly_output_kind(m->L[i - 1].d.kind)) {
            l->inplace = 1;
            if (m->L[i - 1].d.kind == FDL_LAYER_LINEAR) m->L[i - 1].fuse_relu = l->fused = 1;
        }
    }
    return FDL_OK;
}

int fdl_model_set_input_shape(fdl_model *m, int ndim, const int64_t *shape)
{
    if (!m || (!shape && ndim > 0)) return FDL_ERR_NULL;
    fdl__clear_error();
    if (ndim < 1 || ndim > MAX_ND - 1)
        return fdl__fail(FDL_ERR_ARG, "fdl_model_set_input_shape: ndim %d not in [1, %d]", ndim,
                         MAX_ND - 1);
    for (int i = 0; i < ndim; i++)
        if (!in_range(shape[i], 1, LIM))
            return fdl__fail(FDL_ERR_ARG, "fdl_model_set_input_shape: dim %d is %lld", i,
                             (long long)shape[i]);
    m->in_nd = ndim;
    memset(m->in, 0, sizeof m->in);
    memcpy(m->in, shape, sizeof(int64_t) * (size_t)ndim);
    m->in_n = prod(shape, ndim);
    if (m->in_n < 1) {
        m->shaped = 0;
        return fdl__fail(FDL_ERR_ARG, "fdl_model_set_input_shape: the sample is too large");
    }
    int st = infer_shapes(m);
    m->shaped = st == FDL_OK;
    return st;
}

int fdl_model_input_shape(const fdl_model *m, int *ndim, int64_t *shape)
{
    if (!m || !ndim || !shape) return FDL_ERR_NULL;
    if (!m->shaped) return FDL_ERR_ARG;
    *ndim = m->in_nd;
    memcpy(shape, m->in, sizeof(int64_t) * (size_t)m->in_nd);
    return FDL_OK;
}

int fdl_model_output_shape(const fdl_model *m, int *ndim, int64_t *shape)
{
    if (!m || !ndim || !shape) return FDL_ERR_NULL;
    if (!m->shaped) return FDL_ERR_ARG;
    if (m->n == 0) return fdl_model_input_shape(m, ndim, shape);
    const layer *l = &m->L[m->n - 1];
    *ndim = l->out_nd;
    memcpy(shape, l->out, sizeof(int64_t) * (size_t)l->out_nd);
    return FDL_OK;
}

int64_t fdl_model_input_numel(const fdl_model *m) { return m && m->shaped ? m->in_n : -1; }

int64_t fdl_model_output_numel(const fdl_model *m)
{
    if (!m || !m->shaped) return -1;
    return m->n ? m->L[m->n - 1].out_n : m->in_n;
}

fdl_dtype fdl_model_input_dtype(const fdl_model *m)
{
    return m && m->n && m->L[0].d.kind == FDL_LAYER_EMBEDDING ? FDL_DTYPE_I64 : FDL_DTYPE_F32;
}

void fdl_model_manual_seed(fdl_model *m, uint64_t seed, uint64_t stream)
{
    if (!m) return;
    m->seed = seed;
    m->stream = stream;
    m->init_stream = stream;
}

void fdl_model_train(fdl_model *m, int training)
{
    if (m) m->training = training != 0;
}

int64_t fdl_model_num_params(const fdl_model *m)
{
    if (!m) return -1;
    int64_t n = 0;
    for (int i = 0; i < m->nt; i++)
        if (!m->t[i].buffer) n += prod(m->t[i].shape, m->t[i].ndim);
    return n;
}

int64_t fdl_model_arena_size(const fdl_model *m) { return m ? m->np : -1; }
float *fdl_model_params(fdl_model *m) { return m ? m->params : NULL; }
float *fdl_model_grads(fdl_model *m) { return m ? m->grads : NULL; }

void fdl_model_zero_grad(fdl_model *m)
{
    if (m && m->grads && m->np) memset(m->grads, 0, sizeof(float) * (size_t)m->np);
}

int fdl_model_num_tensors(const fdl_model *m) { return m ? m->nt : -1; }

int fdl_model_tensor(fdl_model *m, int i, const char **name, int *ndim, int64_t *shape,
                     float **data, float **grad)
{
    if (!m) return FDL_ERR_NULL;
    if (i < 0 || i >= m->nt) return FDL_ERR_ARG;
    if (name) *name = m->t[i].name;
    if (ndim) *ndim = m->t[i].ndim;
    if (shape) memcpy(shape, m->t[i].shape, sizeof m->t[i].shape);
    if (data) *data = tdata(m, i);
    if (grad) *grad = tgrad(m, i);
    return FDL_OK;
}

/* ---- buffers for a batch ------------------------------------------------- */

static int ensure(void **p, int64_t *cap, int64_t bytes)
{
    if (*cap >= bytes && *p) return 1;
    free(*p);
    *p = amalloc(bytes);
    *cap = *p ? bytes : 0;
    return *p != NULL;
}

static fdl_conv2d_params conv_params(const layer *l, int64_t B)
{
    const fdl_layer_desc *d = &l->d;
    fdl_conv2d_params p = {.N = B, .C = l->in[0], .H = l->in[1], .W = l->in[2],
                           .K = d->out_channels, .R = d->kernel_size[0], .S = d->kernel_size[1],
                           .stride_h = d->stride[0], .stride_w = d->stride[1],
                           .pad_h = d->padding[0], .pad_w = d->padding[1],
                           .dil_h = d->dilation[0], .dil_w = d->dilation[1], .groups = d->groups};
    return p;
}

/* Sizes (bytes) of a layer's aux buffers for batch B. */
static void aux_sizes(const layer *l, int64_t B, int64_t sz[6])
{
    const fdl_layer_desc *d = &l->d;
    memset(sz, 0, sizeof(int64_t) * 6);
    switch (d->kind) {
    case FDL_LAYER_MAXPOOL2D: sz[0] = B * l->out_n * 8; break;
    case FDL_LAYER_BATCHNORM1D: case FDL_LAYER_BATCHNORM2D:
        sz[0] = sz[1] = d->num_features * 4;
        break;
    case FDL_LAYER_LAYERNORM: {
        int64_t D = prod(d->normalized_shape, d->normalized_ndim);
        sz[0] = sz[1] = B * l->in_n / D * 4;
        break;
    }
    case FDL_LAYER_DROPOUT: sz[0] = B * l->in_n; break;
    case FDL_LAYER_LSTM: case FDL_LAYER_GRU: {
        int64_t T = l->T, H = d->hidden_size, L = d->num_layers;
        int64_t G = d->kind == FDL_LAYER_LSTM ? 4 : 3;
        int64_t mx = d->input_size > H ? d->input_size : H;
        sz[0] = L * (T + 1) * B * H * 4;                                  /* hs */
        sz[1] = d->kind == FDL_LAYER_LSTM ? L * (T + 1) * B * H * 4 : 0;  /* cs */
        sz[2] = L * T * B * G * H * 4;                                    /* act */
        sz[3] = L * T * B * H * 4;                                        /* tanh_c / ghn */
        sz[4] = T * B * d->input_size * 4;                                /* x time-major */
        sz[5] = 2 * T * B * mx * 4;                                       /* dy, dx time-major */
        break;
    }
    default: break;
    }
}

static int prepare(fdl_model *m, int64_t B)
{
    if (B <= 0) return FDL_OK;
    for (int i = 0; i < m->n; i++) {
        const layer *l = &m->L[i];
        /* in double: the sizes of a hostile file must not overflow the check itself */
        double big = (double)(l->in_n > l->out_n ? l->in_n : l->out_n);
        if (l->T > 0)
            big *= 4.0 * (double)(l->d.num_layers + 1) *
                   (double)(l->d.hidden_size + l->d.input_size + 1);
        if (big * (double)B > (double)(NUMEL_LIM / 8))
            return fdl__fail(FDL_ERR_ARG, "model: batch %lld is too large for layer %d",
                             (long long)B, i);
    }
    int64_t gmax = m->in_n > 1 ? m->in_n : 1, cws = 0, rw = 0, cs = 1;
    int nthreads = fdl_get_num_threads();
    for (int i = 0; i < m->n; i++) {
        layer *l = &m->L[i];
        const fdl_layer_desc *d = &l->d;
        if (l->in_n > gmax) gmax = l->in_n;
        if (l->out_n > gmax) gmax = l->out_n;
        if (d->kind == FDL_LAYER_CONV2D) {
            fdl_conv2d_params p = conv_params(l, B);
            int64_t w = fdl_conv2d_workspace_size(&p, nthreads);
            if (w > cws) cws = w;
        }
        if (d->kind == FDL_LAYER_LINEAR && d->out_features > cs) cs = d->out_features;
        if (d->kind == FDL_LAYER_LSTM || d->kind == FDL_LAYER_GRU) {
            int64_t H = d->hidden_size, T = l->T, a, b;
            if (d->kind == FDL_LAYER_LSTM) {
                a = fdl_lstm_layer_forward_workspace(B, H);
                b = fdl_lstm_layer_backward_workspace(T, B, H);
            } else {
                a = fdl_gru_layer_forward_workspace(B, H);
                b = fdl_gru_layer_backward_workspace(T, B, H);
            }
            if (a > rw) rw = a;
            if (b > rw) rw = b;
        }
        if (l->cap >= B) continue;
        free_layer_buffers(l);
        if (!l->alias && !l->inplace) {
            l->y = amalloc(B * l->out_n * 4);
            if (!l->y) return fdl__fail(FDL_ERR_NOMEM, "model: out of memory for batch %lld",
                                        (long long)B);
        }
        int64_t sz[6];
        aux_sizes(l, B, sz);
        for (int k = 0; k < 6; k++)
            if (sz[k] && !(l->aux[k] = amalloc(sz[k])))
                return fdl__fail(FDL_ERR_NOMEM, "model: out of memory for batch %lld",
                                 (long long)B);
        l->cap = B;
    }
    int ok = 1;
    int64_t gb = m->gcap;
    if (gb < B * gmax * 4) {
        free(m->g0); free(m->g1);
        m->g0 = amalloc(B * gmax * 4);
        m->g1 = amalloc(B * gmax * 4);
        ok = m->g0 && m->g1;
        m->gcap = ok ? B * gmax * 4 : 0;
    }
    ok = ok && (cws == 0 || ensure(&m->cws, &m->cws_bytes, cws));
    int64_t rwb = m->rwork_n * 4;
    ok = ok && (rw == 0 || ensure((void **)&m->rwork, &rwb, rw * 4));
    m->rwork_n = rwb / 4;
    int64_t csb = m->colsum_n * 4;
    ok = ok && ensure((void **)&m->colsum, &csb, cs * 4);
    m->colsum_n = csb / 4;
    if (!ok) return fdl__fail(FDL_ERR_NOMEM, "model: out of memory for batch %lld", (long long)B);
    return FDL_OK;
}

/* ---- forward ---------------------------------------------------------------- */

#define CK(call) do { int s_ = (call); if (s_ != FDL_OK) \
        return fdl__fail(s_, "layer %d (%s): %s", i, fdl_layer_name(l->d.kind), \
                         fdl_strerror(s_)); } while (0)

/* Softmax geometry over the batched tensor [B, in...]. */
static void softmax_geom(const layer *l, int64_t B, int64_t *outer, int64_t *dim, int64_t *inner)
{
    int nd = l->in_nd;
    int64_t dd = l->d.dim < 0 ? l->d.dim + nd + 1 : l->d.dim;
    int64_t full[9];
    full[0] = B;
    for (int k = 0; k < nd; k++) full[k + 1] = l->in[k];
    *outer = prod(full, (int)dd);
    *dim = full[dd];
    *inner = prod(full + dd + 1, nd - (int)dd);
}

static int rnn_forward(fdl_model *m, int i, layer *l, const float *x, int64_t B)
{
    const fdl_layer_desc *d = &l->d;
    int lstm = d->kind == FDL_LAYER_LSTM;
    int64_t T = l->T, H = d->hidden_size, I = d->input_size, G = lstm ? 4 : 3;
    float *hs = l->aux[0], *cs = l->aux[1], *act = l->aux[2], *tc = l->aux[3], *xt = l->aux[4];
    int64_t shp[3] = {T, B, I}, xs[3] = {I, T * I, 1};
    CK(fdl_copy_f32(3, shp, xt, x, xs));       /* [B, T, I] -> [T, B, I] */
    const float *in = xt;
    int per = d->bias ? 4 : 2;
    for (int k = 0; k < d->num_layers; k++) {
        int ti = l->t0 + k * per;
        const float *wih = tdata(m, ti), *whh = tdata(m, ti + 1);
        const float *bih = d->bias ? tdata(m, ti + 2) : NULL, *bhh = d->bias ? tdata(m, ti + 3) : NULL;
        int64_t In = k ? H : I;
        float *hk = hs + k * (T + 1) * B * H;
        if (lstm)
            CK(fdl_lstm_layer_forward_f32(hk, cs + k * (T + 1) * B * H, act + k * T * B * G * H,
                                          tc + k * T * B * H, m->rwork, in, NULL, NULL, wih, whh,
                                          bih, bhh, T, B, In, H, 0));
        else
            CK(fdl_gru_layer_forward_f32(hk, act + k * T * B * G * H, tc + k * T * B * H,
                                         m->rwork, in, NULL, wih, whh, bih, bhh, T, B, In, H, 0));
        in = hk + B * H;
    }
    int64_t oshp[3] = {B, T, H}, os[3] = {H, B * H, 1};
    CK(fdl_copy_f32(3, oshp, l->y, in, os));  /* [T, B, H] -> [B, T, H] */
    return FDL_OK;
}

static int layer_forward(fdl_model *m, int i, const void *xin, int64_t B, int training)
{
    layer *l = &m->L[i];
    const fdl_layer_desc *d = &l->d;
    const float *x = xin;
    int64_t n = B * l->in_n;
    const int t0 = l->t0;
    if (l->alias) { l->y = (float *)x; return FDL_OK; }
    if (l->inplace) l->y = (float *)x;
    if (l->fused) return FDL_OK;     /* the Linear's epilogue applied it */
    float *y = l->y;
    switch (d->kind) {
    case FDL_LAYER_LINEAR: {
        int64_t M = n / d->in_features;
        CK(fdl_sgemm_ex(0, 1, M, d->out_features, d->in_features, 1.0f, x, d->in_features,
                        tdata(m, t0), d->in_features, 0.0f, y, d->out_features,
                        d->bias ? tdata(m, t0 + 1) : NULL,
                        l->fuse_relu ? FDL_ACT_RELU : FDL_ACT_NONE));
        return FDL_OK;
    }
    case FDL_LAYER_CONV2D: {
        fdl_conv2d_params p = conv_params(l, B);
        CK(fdl_conv2d_forward_f32(y, x, tdata(m, t0), d->bias ? tdata(m, t0 + 1) : NULL, &p,
                                  m->cws, m->cws_bytes));
        return FDL_OK;
    }
    case FDL_LAYER_MAXPOOL2D:
        CK(fdl_max_pool2d_forward_f32(y, l->aux[0], x, B * l->in[0], l->in[1], l->in[2],
                                      l->out[1], l->out[2], d->kernel_size[0], d->kernel_size[1],
                                      d->stride[0] ? d->stride[0] : d->kernel_size[0],
                                      d->stride[1] ? d->stride[1] : d->kernel_size[1],
                                      d->padding[0], d->padding[1], d->dilation[0],
                                      d->dilation[1]));
        return FDL_OK;
    case FDL_LAYER_AVGPOOL2D:
        CK(fdl_avg_pool2d_forward_f32(y, x, B * l->in[0], l->in[1], l->in[2], l->out[1],
                                      l->out[2], d->kernel_size[0], d->kernel_size[1],
                                      d->stride[0] ? d->stride[0] : d->kernel_size[0],
                                      d->stride[1] ? d->stride[1] : d->kernel_size[1],
                                      d->padding[0], d->padding[1], d->count_include_pad));
        return FDL_OK;
    case FDL_LAYER_ADAPTIVE_AVGPOOL2D:
        CK(fdl_adaptive_avg_pool2d_forward_f32(y, x, B * l->in[0], l->in[1], l->in[2],
                                               l->out[1], l->out[2]));
        return FDL_OK;
    case FDL_LAYER_BATCHNORM1D:
    case FDL_LAYER_BATCHNORM2D: {
        fdl_layer_desc *dm = &m->L[i].d;
        int track = d->track_running_stats, use_batch = training || !track;
        double mom = d->momentum;
        if (training && track) {
            dm->num_batches_tracked++;
            if (mom < 0) mom = 1.0 / (double)dm->num_batches_tracked;   /* momentum=None */
        }
        int w = d->affine ? t0 : -1, r = d->affine ? t0 + 2 : t0;
        float *rm = track ? tdata(m, r) : NULL, *rv = track ? tdata(m, r + 1) : NULL;
        int64_t C = d->num_features, S = l->in_n / C;
        CK(fdl_batch_norm_forward_f32(y, l->aux[0], l->aux[1], rm, rv, x,
                                      w >= 0 ? tdata(m, w) : NULL, w >= 0 ? tdata(m, w + 1) : NULL,
                                      B, C, S, use_batch, (float)(mom < 0 ? 0.0 : mom),
                                      (float)d->eps));
        return FDL_OK;
    }
    case FDL_LAYER_LAYERNORM: {
        int64_t D = prod(d->normalized_shape, d->normalized_ndim);
        CK(fdl_layer_norm_forward_f32(y, l->aux[0], l->aux[1], x,
                                      d->affine ? tdata(m, t0) : NULL,
                                      d->affine ? tdata(m, t0 + 1) : NULL, n / D, D,
                                      (float)d->eps));
        return FDL_OK;
    }
    case FDL_LAYER_DROPOUT:
        if (!training || d->p == 0.0) { memcpy(y, x, (size_t)n * 4); return FDL_OK; }
        CK(fdl_dropout_forward_f32(y, l->aux[0], x, n, (float)d->p, m->seed, m->stream++));
        return FDL_OK;
    case FDL_LAYER_RELU: CK(fdl_relu_forward_f32(y, x, n)); return FDL_OK;
    case FDL_LAYER_LEAKY_RELU:
        CK(fdl_leaky_relu_forward_f32(y, x, n, (float)d->negative_slope));
        return FDL_OK;
    case FDL_LAYER_ELU: CK(fdl_elu_forward_f32(y, x, n, (float)d->alpha)); return FDL_OK;
    case FDL_LAYER_GELU: CK(fdl_gelu_forward_f32(y, x, n, d->approximate_tanh)); return FDL_OK;
    case FDL_LAYER_SILU: CK(fdl_silu_forward_f32(y, x, n)); return FDL_OK;
    case FDL_LAYER_SIGMOID: CK(fdl_sigmoid_forward_f32(y, x, n)); return FDL_OK;
    case FDL_LAYER_TANH: CK(fdl_tanh_forward_f32(y, x, n)); return FDL_OK;
    case FDL_LAYER_SOFTPLUS:
        CK(fdl_softplus_forward_f32(y, x, n, (float)d->beta, (float)d->threshold));
        return FDL_OK;
    case FDL_LAYER_SOFTMAX:
    case FDL_LAYER_LOG_SOFTMAX: {
        int64_t o, dm, in;
        softmax_geom(l, B, &o, &dm, &in);
        if (d->kind == FDL_LAYER_SOFTMAX) CK(fdl_softmax_forward_f32(y, x, o, dm, in));
        else CK(fdl_log_softmax_forward_f32(y, x, o, dm, in));
        return FDL_OK;
    }
    case FDL_LAYER_EMBEDDING: {
        const int64_t *idx = xin;
        int64_t V = d->num_embeddings;
        for (int64_t k = 0; k < n; k++)
            if (idx[k] < 0 || idx[k] >= V)
                return fdl__fail(FDL_ERR_ARG, "layer 0 (Embedding): index %lld at %lld is "
                                 "outside [0, %lld)", (long long)idx[k], (long long)k,
                                 (long long)V);
        CK(fdl_embedding_forward_f32(y, idx, tdata(m, t0), n, d->embedding_dim));
        return FDL_OK;
    }
    case FDL_LAYER_LSTM:
    case FDL_LAYER_GRU:
        return rnn_forward(m, i, l, x, B);
    case FDL_LAYER_LAST_STEP: {
        int64_t H = l->out[0], shp[2] = {B, H}, xs[2] = {l->T * H, 1};
        CK(fdl_copy_f32(2, shp, y, x + (l->T - 1) * H, xs));
        return FDL_OK;
    }
    default:
        return fdl__fail(FDL_ERR_ARG, "layer %d: unknown kind", i);
    }
}

int fdl_model_forward(fdl_model *m, const void *x, int64_t B, float *out)
{
    if (!m) return FDL_ERR_NULL;
    fdl__clear_error();
    if (!m->shaped)
        return fdl__fail(FDL_ERR_ARG, "fdl_model_forward: the input shape is not set "
                         "(fdl_model_set_input_shape)");
    if (B < 0) return fdl__fail(FDL_ERR_ARG, "fdl_model_forward: negative batch %lld", (long long)B);
    if (B > ((int64_t)1 << 31)) return fdl__fail(FDL_ERR_ARG, "fdl_model_forward: batch too large");
    if (B > 0 && !x) return FDL_ERR_NULL;
    m->B = -1;
    if (B == 0) { m->B = 0; m->x = x; m->yout = NULL; return FDL_OK; }
    int st = prepare(m, B);
    if (st) return st;
    const void *h = x;
    for (int i = 0; i < m->n; i++) {
        if ((st = layer_forward(m, i, h, B, m->training)) != FDL_OK) return st;
        h = m->L[i].y;
    }
    m->x = x;
    m->B = B;
    m->yout = h;
    m->fwd_training = m->training;
    if (out && h != out) memcpy(out, h, sizeof(float) * (size_t)(B * fdl_model_output_numel(m)));
    return FDL_OK;
}

const float *fdl_model_output(const fdl_model *m) { return m ? m->yout : NULL; }

/* ---- backward ---------------------------------------------------------------- */

static void add_bias_grad(fdl_model *m, float *db, const float *g, int64_t M, int64_t n)
{
    fdl_sum_f32(1, M, n, m->colsum, g);
    for (int64_t j = 0; j < n; j++) db[j] += m->colsum[j];
}

static int rnn_backward(fdl_model *m, int i, layer *l, const float *g, float *dx, int64_t B)
{
    const fdl_layer_desc *d = &l->d;
    int lstm = d->kind == FDL_LAYER_LSTM;
    int64_t T = l->T, H = d->hidden_size, I = d->input_size, G = lstm ? 4 : 3;
    int64_t mx = I > H ? I : H;
    float *hs = l->aux[0], *cs = l->aux[1], *act = l->aux[2], *tc = l->aux[3];
    const float *xt = l->aux[4];                 /* time-major input, kept from forward */
    float *dy = l->aux[5], *dxt = (float *)l->aux[5] + T * B * mx;
    int64_t shp[3] = {T, B, H}, gs[3] = {H, T * H, 1};
    CK(fdl_copy_f32(3, shp, dy, g, gs));        /* [B, T, H] -> [T, B, H] */
    int per = d->bias ? 4 : 2;
    for (int k = (int)d->num_layers - 1; k >= 0; k--) {
        int ti = l->t0 + k * per;
        int64_t In = k ? H : I;
        const float *in = k ? hs + (k - 1) * (T + 1) * B * H + B * H : xt;
        int want_dx = k > 0 || dx != NULL;
        if (want_dx) memset(dxt, 0, sizeof(float) * (size_t)(T * B * In));
        float *hk = hs + k * (T + 1) * B * H;
        float *db_ih = d->bias ? tgrad(m, ti + 2) : NULL, *db_hh = d->bias ? tgrad(m, ti + 3) : NULL;
        if (lstm)
            CK(fdl_lstm_layer_backward_f32(want_dx ? dxt : NULL, NULL, NULL, tgrad(m, ti),
                                           tgrad(m, ti + 1), db_ih, db_hh, m->rwork, hk,
                                           cs + k * (T + 1) * B * H, act + k * T * B * G * H,
                                           tc + k * T * B * H, in, tdata(m, ti),
                                           tdata(m, ti + 1), dy, H, NULL, NULL, T, B, In, H, 0));
        else
            CK(fdl_gru_layer_backward_f32(want_dx ? dxt : NULL, NULL, tgrad(m, ti),
                                          tgrad(m, ti + 1), db_ih, db_hh, m->rwork, hk,
                                          act + k * T * B * G * H, tc + k * T * B * H, in,
                                          tdata(m, ti), tdata(m, ti + 1), dy, H, NULL, T, B, In,
                                          H, 0));
        if (k > 0) { float *t = dy; dy = dxt; dxt = t; }
        else if (dx) {
            int64_t s3[3] = {B, T, I}, xs[3] = {I, B * I, 1};
            CK(fdl_copy_f32(3, s3, dx, dxt, xs));   /* [T, B, I] -> [B, T, I] */
        }
    }
    return FDL_OK;
}

/* dL/d(input of layer i) into dx (NULL: not needed) from g = dL/d(output). */
static int layer_backward(fdl_model *m, int i, const float *g, float *dx, int64_t B)
{
    layer *l = &m->L[i];
    const fdl_layer_desc *d = &l->d;
    const float *x = i == 0 ? m->x : m->L[i - 1].y;
    const int t0 = l->t0;
    int64_t n = B * l->in_n;
    int training = m->fwd_training;
    /* kernels that add into dx get a zeroed one */
    int adds = !(d->kind == FDL_LAYER_LINEAR || d->kind == FDL_LAYER_LSTM ||
                 d->kind == FDL_LAYER_GRU);
    if (dx && adds) memset(dx, 0, sizeof(float) * (size_t)n);
    switch (d->kind) {
    case FDL_LAYER_LINEAR: {
        int64_t M = n / d->in_features, K = d->out_features, N = d->in_features;
        CK(fdl_sgemm(1, 0, K, N, M, 1.0f, g, K, x, N, 1.0f, tgrad(m, t0), N));
        if (d->bias) add_bias_grad(m, tgrad(m, t0 + 1), g, M, K);
        if (dx) CK(fdl_sgemm(0, 0, M, N, K, 1.0f, g, K, tdata(m, t0), N, 0.0f, dx, N));
        return FDL_OK;
    }
    case FDL_LAYER_CONV2D: {
        fdl_conv2d_params p = conv_params(l, B);
        CK(fdl_conv2d_backward_f32(dx, tgrad(m, t0), d->bias ? tgrad(m, t0 + 1) : NULL, g, x,
                                   tdata(m, t0), &p, m->cws, m->cws_bytes));
        return FDL_OK;
    }
    case FDL_LAYER_MAXPOOL2D:
        if (dx) CK(fdl_max_pool2d_backward_f32(dx, l->aux[0], g, B * l->in[0], l->in[1],
                                               l->in[2], l->out[1], l->out[2]));
        return FDL_OK;
    case FDL_LAYER_AVGPOOL2D:
        if (dx) CK(fdl_avg_pool2d_backward_f32(dx, g, B * l->in[0], l->in[1], l->in[2],
                                               l->out[1], l->out[2], d->kernel_size[0],
                                               d->kernel_size[1],
                                               d->stride[0] ? d->stride[0] : d->kernel_size[0],
                                               d->stride[1] ? d->stride[1] : d->kernel_size[1],
                                               d->padding[0], d->padding[1],
                                               d->count_include_pad));
        return FDL_OK;
    case FDL_LAYER_ADAPTIVE_AVGPOOL2D:
        if (dx) CK(fdl_adaptive_avg_pool2d_backward_f32(dx, g, B * l->in[0], l->in[1], l->in[2],
                                                        l->out[1], l->out[2]));
        return FDL_OK;
    case FDL_LAYER_BATCHNORM1D:
    case FDL_LAYER_BATCHNORM2D: {
        int use_batch = training || !d->track_running_stats;
        int64_t C = d->num_features, S = l->in_n / C;
        const float *mean = l->aux[0], *rstd = l->aux[1];
        CK(fdl_batch_norm_backward_f32(dx, d->affine ? tgrad(m, t0) : NULL,
                                       d->affine ? tgrad(m, t0 + 1) : NULL, mean, rstd, x,
                                       d->affine ? tdata(m, t0) : NULL, g, B, C, S, use_batch));
        return FDL_OK;
    }
    case FDL_LAYER_LAYERNORM: {
        int64_t D = prod(d->normalized_shape, d->normalized_ndim);
        CK(fdl_layer_norm_backward_f32(dx, d->affine ? tgrad(m, t0) : NULL,
                                       d->affine ? tgrad(m, t0 + 1) : NULL, l->aux[0], l->aux[1],
                                       x, d->affine ? tdata(m, t0) : NULL, g, n / D, D));
        return FDL_OK;
    }
    case FDL_LAYER_DROPOUT:
        if (!dx) return FDL_OK;
        if (!training || d->p == 0.0) { memcpy(dx, g, (size_t)n * 4); return FDL_OK; }
        CK(fdl_dropout_backward_f32(dx, l->aux[0], g, n, (float)d->p));
        return FDL_OK;
    case FDL_LAYER_RELU: if (dx) CK(fdl_relu_backward_f32(dx, l->y, g, n)); return FDL_OK;
    case FDL_LAYER_LEAKY_RELU:
        if (dx) CK(fdl_leaky_relu_backward_f32(dx, x, g, n, (float)d->negative_slope));
        return FDL_OK;
    case FDL_LAYER_ELU: if (dx) CK(fdl_elu_backward_f32(dx, x, g, n, (float)d->alpha)); return FDL_OK;
    case FDL_LAYER_GELU:
        if (dx) CK(fdl_gelu_backward_f32(dx, x, g, n, d->approximate_tanh));
        return FDL_OK;
    case FDL_LAYER_SILU: if (dx) CK(fdl_silu_backward_f32(dx, x, g, n)); return FDL_OK;
    case FDL_LAYER_SIGMOID: if (dx) CK(fdl_sigmoid_backward_f32(dx, l->y, g, n)); return FDL_OK;
    case FDL_LAYER_TANH: if (dx) CK(fdl_tanh_backward_f32(dx, l->y, g, n)); return FDL_OK;
    case FDL_LAYER_SOFTPLUS:
        if (dx) CK(fdl_softplus_backward_f32(dx, x, g, n, (float)d->beta, (float)d->threshold));
        return FDL_OK;
    case FDL_LAYER_SOFTMAX:
    case FDL_LAYER_LOG_SOFTMAX: {
        if (!dx) return FDL_OK;
        int64_t o, dm, in;
        softmax_geom(l, B, &o, &dm, &in);
        if (d->kind == FDL_LAYER_SOFTMAX) CK(fdl_softmax_backward_f32(dx, l->y, g, o, dm, in));
        else CK(fdl_log_softmax_backward_f32(dx, l->y, g, o, dm, in));
        return FDL_OK;
    }
    case FDL_LAYER_EMBEDDING:
        CK(fdl_embedding_backward_f32(tgrad(m, t0), m->x, g, n, d->embedding_dim,
                                      d->padding_idx));
        return FDL_OK;
    case FDL_LAYER_LSTM:
    case FDL_LAYER_GRU:
        return rnn_backward(m, i, l, g, dx, B);
    case FDL_LAYER_LAST_STEP:
        if (dx) {
            int64_t H = l->out[0];
            for (int64_t b = 0; b < B; b++)
                memcpy(dx + (b * l->T + l->T - 1) * H, g + b * H, sizeof(float) * (size_t)H);
        }
        return FDL_OK;
    default:
        return FDL_OK;
    }
}

int fdl_model_backward(fdl_model *m, const float *dout, float *dx)
{
    if (!m) return FDL_ERR_NULL;
    fdl__clear_error();
    if (m->B < 0)
        return fdl__fail(FDL_ERR_ARG, "fdl_model_backward: no forward to differentiate");
    int64_t B = m->B;
    if (B == 0) return FDL_OK;
    if (!dout) return FDL_ERR_NULL;
    if (dx && fdl_model_input_dtype(m) == FDL_DTYPE_I64)
        return fdl__fail(FDL_ERR_ARG, "fdl_model_backward: no dx for integer (Embedding) inputs");
    const float *g = dout;
    for (int i = m->n - 1; i >= 0; i--) {
        layer *l = &m->L[i];
        if (l->alias) continue;   /* views: the gradient passes through */
        float *dst;
        if (i == 0) dst = dx;
        else dst = g == m->g0 ? m->g1 : m->g0;
        int st = layer_backward(m, i, g, dst, B);
        if (st) return st;
        g = dst;
    }
    if (dx && m->n > 0 && g != dx) {
        /* the first non-view layer was preceded only by views (or none ran) */
        memcpy(dx, g, sizeof(float) * (size_t)(B * m->in_n));
    } else if (dx && m->n == 0) {
        memcpy(dx, dout, sizeof(float) * (size_t)(B * m->in_n));
    }
    return FDL_OK;
}

/* ---- loss, optimizer ----------------------------------------------------------- */

int fdl_model_loss(fdl_model *m, fdl_loss_kind kind, const void *target, float *loss,
                   int64_t *correct, float *dout)
{
    if (!m) return FDL_ERR_NULL;
    fdl__clear_error();
    if (m->B < 0) return fdl__fail(FDL_ERR_ARG, "fdl_model_loss: no forward output");
    int64_t B = m->B, on = fdl_model_output_numel(m), n = B * on;
    if (B == 0) {
        if (loss) *loss = 0;
        if (correct) *correct = 0;
        return FDL_OK;
    }
    if (!target) return FDL_ERR_NULL;
    const float *y = m->yout;
    int64_t need = n > B ? n : B;
    int64_t lb = m->lossbuf_n * 4;
    if (!ensure((void **)&m->lossbuf, &lb, 2 * need * 4))
        return fdl__fail(FDL_ERR_NOMEM, "fdl_model_loss: out of memory");
    m->lossbuf_n = lb / 4;
    float *lv = m->lossbuf, *lse = m->lossbuf + need;
    const float one = 1.0f;
    int st;
    int64_t cnt = n;
    int cls = kind == FDL_LOSS_CROSS_ENTROPY || kind == FDL_LOSS_NLL;
    const char *nm = kind == FDL_LOSS_CROSS_ENTROPY ? "cross_entropy" : kind == FDL_LOSS_NLL ? "nll_loss"
                   : kind == FDL_LOSS_MSE ? "mse_loss" : kind == FDL_LOSS_L1 ? "l1_loss"
                   : "binary_cross_entropy_with_logits";
    if (cls && m->n && m->L[m->n - 1].out_nd != 1)
        return fdl__fail(FDL_ERR_SHAPE, "fdl_model_loss: %s needs an output [B, C]", nm);
    if (dout) memset(dout, 0, sizeof(float) * (size_t)n);
    switch (kind) {
    case FDL_LOSS_CROSS_ENTROPY:
        st = fdl_cross_entropy_forward_f32(lv, lse, y, target, NULL, B, on, -100, 0.0f);
        if (!st && dout)
            st = fdl_cross_entropy_backward_f32(dout, lse, y, target, NULL, &one, B, on, 0,
                                                (float)(1.0 / B), -100, 0.0f);
        cnt = B;
        break;
    case FDL_LOSS_NLL:
        st = fdl_nll_loss_forward_f32(lv, y, target, NULL, B, on, -100);
        if (!st && dout)
            st = fdl_nll_loss_backward_f32(dout, target, NULL, &one, B, on, 0, (float)(1.0 / B),
                                           -100);
        cnt = B;
        break;
    case FDL_LOSS_MSE:
        st = fdl_mse_loss_forward_f32(lv, y, target, n);
        if (!st && dout) st = fdl_mse_loss_backward_f32(dout, y, target, &one, n, 0, (float)(1.0 / n));
        break;
    case FDL_LOSS_L1:
        st = fdl_l1_loss_forward_f32(lv, y, target, n);
        if (!st && dout) st = fdl_l1_loss_backward_f32(dout, y, target, &one, n, 0, (float)(1.0 / n));
        break;
    case FDL_LOSS_BCE_WITH_LOGITS:
        st = fdl_binary_cross_entropy_with_logits_forward_f32(lv, y, target, NULL, NULL, n);
        if (!st && dout)
            st = fdl_binary_cross_entropy_with_logits_backward_f32(dout, y, target, NULL, NULL,
                                                                   &one, n, 0, (float)(1.0 / n));
        break;
    default:
        return fdl__fail(FDL_ERR_ARG, "fdl_model_loss: unknown loss kind %d", (int)kind);
    }
    if (st) return fdl__fail(st, "%s: %s (a class index outside [0, %lld)?)", nm,
                             fdl_strerror(st), (long long)on);
    double s = 0;
    for (int64_t k = 0; k < cnt; k++) s += lv[k];
    if (loss) *loss = (float)(s / (double)cnt);
    if (correct) {
        *correct = 0;
        if (cls) {
            int64_t lbn = m->lbl_n * 8;
            if (!ensure((void **)&m->lbl, &lbn, B * 8))
                return fdl__fail(FDL_ERR_NOMEM, "fdl_model_loss: out of memory");
            m->lbl_n = lbn / 8;
            fdl_argmax_f32(B, on, 1, m->lbl, y);
            const int64_t *t = target;
            for (int64_t k = 0; k < B; k++) *correct += m->lbl[k] == t[k];
        }
    }
    return FDL_OK;
}

int fdl_optim_init(fdl_optim *o, fdl_optim_kind kind, double lr)
{
    if (!o) return FDL_ERR_NULL;
    if ((unsigned)kind > FDL_OPTIM_ADAMW) return FDL_ERR_ARG;
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->lr = lr;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->weight_decay = kind == FDL_OPTIM_ADAMW ? 1e-2 : 0.0;
    return FDL_OK;
}

void fdl_model_reset_optimizer(fdl_model *m)
{
    if (!m) return;
    if (m->ostate) memset(m->ostate, 0, sizeof(float) * (size_t)m->ostate_n);
    m->ostep = 0;
}

int fdl_model_step(fdl_model *m, const fdl_optim *o)
{
    if (!m || !o) return FDL_ERR_NULL;
    fdl__clear_error();
    if (!(o->lr >= 0) || !(o->momentum >= 0) || !(o->weight_decay >= 0) ||
        (unsigned)o->kind > FDL_OPTIM_ADAMW)
        return fdl__fail(FDL_ERR_ARG, "fdl_model_step: invalid optimizer settings");
    int64_t n = m->np;
    if (n == 0) return FDL_OK;
    int64_t need = o->kind == FDL_OPTIM_SGD ? n : 3 * n;
    if (m->ostate_n < need) {
        float *s = amalloc(need * 4);
        if (!s) return fdl__fail(FDL_ERR_NOMEM, "fdl_model_step: out of memory");
        memset(s, 0, (size_t)need * 4);
        if (m->ostate) memcpy(s, m->ostate, (size_t)m->ostate_n * 4);
        free(m->ostate);
        m->ostate = s;
        m->ostate_n = need;
    }
    int st;
    if (o->kind == FDL_OPTIM_SGD)
        st = fdl_sgd_step_f32(m->params, o->momentum != 0 ? m->ostate : NULL, m->grads, n, o->lr,
                              o->momentum, o->dampening, o->weight_decay, o->nesterov, 0,
                              m->ostep == 0);
    else
        st = fdl_adam_step_f32(m->params, m->ostate, m->ostate + n,
                               o->amsgrad ? m->ostate + 2 * n : NULL, m->grads, n,
                               (double)(m->ostep + 1), o->lr, o->beta1, o->beta2, o->eps,
                               o->weight_decay, o->kind == FDL_OPTIM_ADAMW, o->amsgrad, 0);
    if (st) return fdl__fail(st, "fdl_model_step: %s", fdl_strerror(st));
    m->ostep++;
    return FDL_OK;
}

int fdl_model_train_step(fdl_model *m, const void *x, const void *target, int64_t B,
                         fdl_loss_kind loss_kind, const fdl_optim *o, float *loss,
                         int64_t *correct)
{
    if (!m || !o) return FDL_ERR_NULL;
    int was = m->training;
    m->training = 1;
    fdl_model_zero_grad(m);
    int st = fdl_model_forward(m, x, B, NULL);
    m->training = was;
    if (st) return st;
    if (B == 0) return fdl_model_loss(m, loss_kind, target, loss, correct, NULL);
    /* dL/doutput into the spare gradient buffer (the last layer's backward writes the other) */
    float *dout = m->g1;
    if ((st = fdl_model_loss(m, loss_kind, target, loss, correct, dout))) return st;
    /* backward ping-pongs between g0 and g1; start from a copy in g0's partner */
    if ((st = fdl_model_backward(m, dout, NULL))) return st;
    return fdl_model_step(m, o);
}
