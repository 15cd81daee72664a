/*
 * Model files: safetensors with the architecture as JSON in the metadata,
 * under "fastdl_model" (the format fastdl.export writes and
 * fastdl.load_model reads):
 *   {"format": 1, "input_shape": [1, 28, 28] | null, "input_dtype": "float32",
 *    "layers": [{"type": "Conv2d", "in_channels": 1, ...}, ...]}
 * Each layer's keys are PyTorch's constructor arguments. Tensors carry the
 * nn.Sequential's state-dict names; the strict safetensors reader checks
 * every one (name, dtype, shape, offsets) before reading data.
 *
 * Nothing in a file is trusted: the JSON reader is bounded, every field is
 * type- and range-checked (fdl_model_add_layer's checks), the layer shapes
 * are checked against the input shape, and a missing, extra or misshapen
 * tensor fails the load. Every failure returns a status and a message.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastdl.h"
#include "fastdl/model.h"
#include "train_internal.h"

/* ---- writer ---------------------------------------------------------------- */

static void put_num(fdl_strbuf *b, const char *key, double v)
{
    if (isnan(v)) fdl_strbuf_put(b, ", \"%s\": NaN", key);
    else if (isinf(v)) fdl_strbuf_put(b, ", \"%s\": %sInfinity", key, v < 0 ? "-" : "");
    else fdl_strbuf_put(b, ", \"%s\": %.17g", key, v);
}

static void put_pair(fdl_strbuf *b, const char *key, const int64_t *v)
{
    fdl_strbuf_put(b, ", \"%s\": [%lld, %lld]", key, (long long)v[0], (long long)v[1]);
}

static void put_bool(fdl_strbuf *b, const char *key, int v)
{
    fdl_strbuf_put(b, ", \"%s\": %s", key, v ? "true" : "false");
}

static void layer_json(fdl_strbuf *b, const fdl_layer_desc *d)
{
    fdl_strbuf_put(b, "{\"type\": \"%s\"", fdl_layer_name(d->kind));
    switch (d->kind) {
    case FDL_LAYER_LINEAR:
        fdl_strbuf_put(b, ", \"in_features\": %lld, \"out_features\": %lld", (long long)d->in_features,
            (long long)d->out_features);
        put_bool(b, "bias", d->bias);
        break;
    case FDL_LAYER_CONV2D:
        fdl_strbuf_put(b, ", \"in_channels\": %lld, \"out_channels\": %lld", (long long)d->in_channels,
            (long long)d->out_channels);
        put_pair(b, "kernel_size", d->kernel_size);
        put_pair(b, "stride", d->stride);
        put_pair(b, "padding", d->padding);
        put_pair(b, "dilation", d->dilation);
        fdl_strbuf_put(b, ", \"groups\": %lld", (long long)d->groups);
        put_bool(b, "bias", d->bias);
        break;
    case FDL_LAYER_MAXPOOL2D:
    case FDL_LAYER_AVGPOOL2D: {
        int64_t st[2] = {d->stride[0] ? d->stride[0] : d->kernel_size[0],
                         d->stride[1] ? d->stride[1] : d->kernel_size[1]};
        put_pair(b, "kernel_size", d->kernel_size);
        put_pair(b, "stride", st);
        put_pair(b, "padding", d->padding);
        if (d->kind == FDL_LAYER_MAXPOOL2D) put_pair(b, "dilation", d->dilation);
        put_bool(b, "ceil_mode", d->ceil_mode);
        if (d->kind == FDL_LAYER_AVGPOOL2D) put_bool(b, "count_include_pad", d->count_include_pad);
        break;
    }
    case FDL_LAYER_ADAPTIVE_AVGPOOL2D:
        put_pair(b, "output_size", d->output_size);
        break;
    case FDL_LAYER_BATCHNORM1D:
    case FDL_LAYER_BATCHNORM2D:
        fdl_strbuf_put(b, ", \"num_features\": %lld", (long long)d->num_features);
        put_num(b, "eps", d->eps);
        if (d->momentum < 0) fdl_strbuf_put(b, ", \"momentum\": null");
        else put_num(b, "momentum", d->momentum);
        put_bool(b, "affine", d->affine);
        put_bool(b, "track_running_stats", d->track_running_stats);
        fdl_strbuf_put(b, ", \"num_batches_tracked\": %lld", (long long)d->num_batches_tracked);
        break;
    case FDL_LAYER_LAYERNORM:
        fdl_strbuf_put(b, ", \"normalized_shape\": [");
        for (int k = 0; k < d->normalized_ndim; k++)
            fdl_strbuf_put(b, "%s%lld", k ? ", " : "", (long long)d->normalized_shape[k]);
        fdl_strbuf_put(b, "]");
        put_num(b, "eps", d->eps);
        put_bool(b, "elementwise_affine", d->affine);
        break;
    case FDL_LAYER_DROPOUT: put_num(b, "p", d->p); break;
    case FDL_LAYER_FLATTEN:
        fdl_strbuf_put(b, ", \"start_dim\": %lld, \"end_dim\": %lld", (long long)d->start_dim,
            (long long)d->end_dim);
        break;
    case FDL_LAYER_LEAKY_RELU: put_num(b, "negative_slope", d->negative_slope); break;
    case FDL_LAYER_ELU: put_num(b, "alpha", d->alpha); break;
    case FDL_LAYER_GELU:
        fdl_strbuf_put(b, ", \"approximate\": \"%s\"", d->approximate_tanh ? "tanh" : "none");
        break;
    case FDL_LAYER_SOFTPLUS:
        put_num(b, "beta", d->beta);
        put_num(b, "threshold", d->threshold);
        break;
    case FDL_LAYER_SOFTMAX:
    case FDL_LAYER_LOG_SOFTMAX: fdl_strbuf_put(b, ", \"dim\": %lld", (long long)d->dim); break;
    case FDL_LAYER_EMBEDDING:
        fdl_strbuf_put(b, ", \"num_embeddings\": %lld, \"embedding_dim\": %lld", (long long)d->num_embeddings,
            (long long)d->embedding_dim);
        if (d->padding_idx == -1) fdl_strbuf_put(b, ", \"padding_idx\": null");
        else fdl_strbuf_put(b, ", \"padding_idx\": %lld", (long long)d->padding_idx);
        break;
    case FDL_LAYER_LSTM:
    case FDL_LAYER_GRU:
        fdl_strbuf_put(b, ", \"input_size\": %lld, \"hidden_size\": %lld, \"num_layers\": %lld",
            (long long)d->input_size, (long long)d->hidden_size, (long long)d->num_layers);
        put_bool(b, "bias", d->bias);
        put_bool(b, "batch_first", 1);
        break;
    default:
        break;
    }
    fdl_strbuf_put(b, "}");
}

int fdl_model_save(const fdl_model *cm, const char *path)
{
    fdl_model *m = (fdl_model *)cm;   /* tensors are only read */
    if (!m || !path) return FDL_ERR_NULL;
    fdl__clear_error();
    fdl_strbuf b = {0};
    fdl_strbuf_put(&b, "{\"format\": 1, \"input_shape\": ");
    int nd;
    int64_t s[8];
    if (fdl_model_input_shape(m, &nd, s) == FDL_OK) {
        fdl_strbuf_put(&b, "[");
        for (int k = 0; k < nd; k++) fdl_strbuf_put(&b, "%s%lld", k ? ", " : "", (long long)s[k]);
        fdl_strbuf_put(&b, "]");
    } else {
        fdl_strbuf_put(&b, "null");
    }
    fdl_strbuf_put(&b, ", \"input_dtype\": \"%s\", \"layers\": [",
        fdl_model_input_dtype(m) == FDL_DTYPE_I64 ? "int64" : "float32");
    int n = fdl_model_num_layers(m);
    for (int i = 0; i < n; i++) {
        fdl_layer_desc d;
        fdl_model_layer(m, i, &d);
        if (i) fdl_strbuf_put(&b, ", ");
        layer_json(&b, &d);
    }
    fdl_strbuf_put(&b, "]}");
    int nt = fdl_model_num_tensors(m);
    fdl_tensor_ref *t = calloc((size_t)(nt > 0 ? nt : 1), sizeof *t);
    if (b.oom || !t) {
        free(b.p);
        free(t);
        return fdl__fail(FDL_ERR_NOMEM, "fdl_model_save: out of memory");
    }
    for (int i = 0; i < nt; i++)
        fdl_model_tensor(m, i, &t[i].name, &t[i].ndim, t[i].shape, &t[i].data, NULL);
    int st = fdl__safetensors_save_meta(path, t, nt, b.p);
    free(t);
    free(b.p);
    return st;
}

/* ---- reader ---------------------------------------------------------------- */

#define FMT(...) fdl__fail(FDL_ERR_FORMAT, __VA_ARGS__)

typedef struct {
    const char *path;
    int idx;
    const char *type;
    int st;
} rctx;

static int is_int(const jval *v, double lo, double hi)
{
    return v && v->type == J_NUM && v->num == floor(v->num) && v->num >= lo && v->num <= hi;
}

static void get_int(rctx *c, const jval *o, const char *key, int64_t *out, int required,
                    double lo)
{
    const jval *v = fdl__json_get(o, key);
    if (c->st) return;
    if (!v) {
        if (required)
            c->st = FMT("%s: layer %d (%s): missing \"%s\"", c->path, c->idx, c->type, key);
        return;
    }
    if (!is_int(v, lo, 4e15)) {
        c->st = FMT("%s: layer %d (%s): \"%s\" must be an integer >= %g", c->path, c->idx,
                    c->type, key, lo);
        return;
    }
    *out = (int64_t)v->num;
}

static void get_pair(rctx *c, const jval *o, const char *key, int64_t *out, int required)
{
    const jval *v = fdl__json_get(o, key);
    if (c->st) return;
    if (!v) {
        if (required)
            c->st = FMT("%s: layer %d (%s): missing \"%s\"", c->path, c->idx, c->type, key);
        return;
    }
    if (is_int(v, 0, 1e9)) { out[0] = out[1] = (int64_t)v->num; return; }
    if (v->type == J_ARR && v->n == 2 && is_int(&v->items[0], 0, 1e9) && is_int(&v->items[1], 0, 1e9)) {
        out[0] = (int64_t)v->items[0].num;
        out[1] = (int64_t)v->items[1].num;
        return;
    }
    c->st = FMT("%s: layer %d (%s): \"%s\" must be an integer or a pair of integers >= 0",
                c->path, c->idx, c->type, key);
}

static void get_bool(rctx *c, const jval *o, const char *key, int *out)
{
    const jval *v = fdl__json_get(o, key);
    if (c->st || !v) return;
    if (v->type != J_BOOL) {
        c->st = FMT("%s: layer %d (%s): \"%s\" must be true or false", c->path, c->idx, c->type,
                    key);
        return;
    }
    *out = v->num != 0;
}

static void get_num(rctx *c, const jval *o, const char *key, double *out)
{
    const jval *v = fdl__json_get(o, key);
    if (c->st || !v) return;
    if (v->type != J_NUM) {
        c->st = FMT("%s: layer %d (%s): \"%s\" must be a number", c->path, c->idx, c->type, key);
        return;
    }
    *out = v->num;
}

static int parse_layer(const char *path, int idx, const jval *o, fdl_layer_desc *d)
{
    if (!o || o->type != J_OBJ) return FMT("%s: layer %d is not a JSON object", path, idx);
    const jval *ty = fdl__json_get(o, "type");
    if (!ty || ty->type != J_STR) return FMT("%s: layer %d has no \"type\"", path, idx);
    int kind = -1;
    for (int k = 0; k < FDL_LAYER_COUNT; k++)
        if (!strcmp(ty->str, fdl_layer_name((fdl_layer_kind)k))) kind = k;
    if (kind < 0)
        return FMT("%s: layer %d: unknown layer type \"%.64s\"", path, idx, ty->str);
    fdl_layer_init(d, (fdl_layer_kind)kind);
    rctx c = {path, idx, ty->str, FDL_OK};
    int64_t tmp;
    switch (d->kind) {
    case FDL_LAYER_LINEAR:
        get_int(&c, o, "in_features", &d->in_features, 1, 1);
        get_int(&c, o, "out_features", &d->out_features, 1, 1);
        get_bool(&c, o, "bias", &d->bias);
        break;
    case FDL_LAYER_CONV2D:
        get_int(&c, o, "in_channels", &d->in_channels, 1, 1);
        get_int(&c, o, "out_channels", &d->out_channels, 1, 1);
        get_pair(&c, o, "kernel_size", d->kernel_size, 1);
        get_pair(&c, o, "stride", d->stride, 0);
        get_pair(&c, o, "padding", d->padding, 0);
        get_pair(&c, o, "dilation", d->dilation, 0);
        get_int(&c, o, "groups", &d->groups, 0, 1);
        get_bool(&c, o, "bias", &d->bias);
        break;
    case FDL_LAYER_MAXPOOL2D:
    case FDL_LAYER_AVGPOOL2D:
        get_pair(&c, o, "kernel_size", d->kernel_size, 1);
        get_pair(&c, o, "stride", d->stride, 0);
        get_pair(&c, o, "padding", d->padding, 0);
        if (d->kind == FDL_LAYER_MAXPOOL2D) get_pair(&c, o, "dilation", d->dilation, 0);
        get_bool(&c, o, "ceil_mode", &d->ceil_mode);
        get_bool(&c, o, "count_include_pad", &d->count_include_pad);
        break;
    case FDL_LAYER_ADAPTIVE_AVGPOOL2D:
        get_pair(&c, o, "output_size", d->output_size, 1);
        break;
    case FDL_LAYER_BATCHNORM1D:
    case FDL_LAYER_BATCHNORM2D: {
        get_int(&c, o, "num_features", &d->num_features, 1, 1);
        get_num(&c, o, "eps", &d->eps);
        const jval *mo = fdl__json_get(o, "momentum");
        if (mo && mo->type == J_NULL) d->momentum = -1.0;
        else get_num(&c, o, "momentum", &d->momentum);
        if (!c.st && !(d->momentum >= -1.0)) c.st = FMT("%s: layer %d: bad momentum", path, idx);
        get_bool(&c, o, "affine", &d->affine);
        get_bool(&c, o, "track_running_stats", &d->track_running_stats);
        get_int(&c, o, "num_batches_tracked", &d->num_batches_tracked, 0, 0);
        break;
    }
    case FDL_LAYER_LAYERNORM: {
        const jval *ns = fdl__json_get(o, "normalized_shape");
        if (is_int(ns, 1, 4e15)) { d->normalized_ndim = 1; d->normalized_shape[0] = (int64_t)ns->num; }
        else if (ns && ns->type == J_ARR && ns->n >= 1 && ns->n <= 4) {
            d->normalized_ndim = ns->n;
            for (int k = 0; k < ns->n; k++) {
                if (!is_int(&ns->items[k], 1, 4e15)) { d->normalized_ndim = 0; break; }
                d->normalized_shape[k] = (int64_t)ns->items[k].num;
            }
        }
        if (!d->normalized_ndim)
            c.st = FMT("%s: layer %d (LayerNorm): \"normalized_shape\" must be 1 to 4 integers",
                       path, idx);
        get_num(&c, o, "eps", &d->eps);
        get_bool(&c, o, "elementwise_affine", &d->affine);
        break;
    }
    case FDL_LAYER_DROPOUT: get_num(&c, o, "p", &d->p); break;
    case FDL_LAYER_FLATTEN:
        get_int(&c, o, "start_dim", &d->start_dim, 0, -64);
        get_int(&c, o, "end_dim", &d->end_dim, 0, -64);
        break;
    case FDL_LAYER_LEAKY_RELU: get_num(&c, o, "negative_slope", &d->negative_slope); break;
    case FDL_LAYER_ELU: get_num(&c, o, "alpha", &d->alpha); break;
    case FDL_LAYER_GELU: {
        const jval *a = fdl__json_get(o, "approximate");
        if (a) {
            if (a->type == J_STR && !strcmp(a->str, "tanh")) d->approximate_tanh = 1;
            else if (!(a->type == J_STR && !strcmp(a->str, "none")))
                c.st = FMT("%s: layer %d (GELU): approximate must be \"none\" or \"tanh\"", path,
                           idx);
        }
        break;
    }
    case FDL_LAYER_SOFTPLUS:
        get_num(&c, o, "beta", &d->beta);
        get_num(&c, o, "threshold", &d->threshold);
        break;
    case FDL_LAYER_SOFTMAX:
    case FDL_LAYER_LOG_SOFTMAX:
        get_int(&c, o, "dim", &d->dim, 1, -64);
        break;
    case FDL_LAYER_EMBEDDING: {
        get_int(&c, o, "num_embeddings", &d->num_embeddings, 1, 1);
        get_int(&c, o, "embedding_dim", &d->embedding_dim, 1, 1);
        const jval *pi = fdl__json_get(o, "padding_idx");
        if (pi && pi->type != J_NULL) {
            tmp = -1;
            get_int(&c, o, "padding_idx", &tmp, 1, -4e15);
            if (!c.st && tmp < 0) tmp += d->num_embeddings;
            d->padding_idx = tmp;
        }
        break;
    }
    case FDL_LAYER_LSTM:
    case FDL_LAYER_GRU: {
        get_int(&c, o, "input_size", &d->input_size, 1, 1);
        get_int(&c, o, "hidden_size", &d->hidden_size, 1, 1);
        get_int(&c, o, "num_layers", &d->num_layers, 0, 1);
        get_bool(&c, o, "bias", &d->bias);
        int bf = 1;
        get_bool(&c, o, "batch_first", &bf);
        if (!c.st && !bf)
            c.st = FMT("%s: layer %d (%s): only batch_first=True is supported", path, idx,
                       ty->str);
        break;
    }
    default:
        break;
    }
    return c.st;
}

int fdl_model_load(const char *path, fdl_model **out)
{
    if (!path || !out) return FDL_ERR_NULL;
    *out = NULL;
    fdl__clear_error();
    char *h = NULL;
    int64_t hn = 0;
    int st = fdl__safetensors_header(path, &h, &hn);
    if (st) return st;
    jval top = {0}, arch = {0};
    fdl_model *m = NULL;
    if (!fdl__json_parse(h, (size_t)hn, &top)) {
        st = FMT("%s: the safetensors header is not valid JSON", path);
        goto done;
    }
    const jval *meta = fdl__json_get(&top, "__metadata__");
    const jval *ms = fdl__json_get(meta, "fastdl_model");
    if (!ms || ms->type != J_STR) {
        st = FMT("%s: no architecture record (\"fastdl_model\" in the metadata): not written by "
                 "fastdl.export or fdl_model_save", path);
        goto done;
    }
    if (!fdl__json_parse(ms->str, strlen(ms->str), &arch) || arch.type != J_OBJ) {
        st = FMT("%s: the architecture record is not valid JSON", path);
        goto done;
    }
    const jval *fmt = fdl__json_get(&arch, "format");
    if (!is_int(fmt, 1, 1)) {
        st = FMT("%s: unsupported architecture format (expected 1)", path);
        goto done;
    }
    const jval *layers = fdl__json_get(&arch, "layers");
    if (!layers || layers->type != J_ARR) {
        st = FMT("%s: the architecture record has no \"layers\" list", path);
        goto done;
    }
    if ((st = fdl_model_new(&m))) goto done;
    for (int i = 0; i < layers->n; i++) {
        fdl_layer_desc d;
        if ((st = parse_layer(path, i, &layers->items[i], &d))) goto done;
        if ((st = fdl_model_add_layer(m, &d))) {
            if (st == FDL_ERR_ARG) st = FDL_ERR_FORMAT;
            goto done;
        }
    }
    const jval *is = fdl__json_get(&arch, "input_shape");
    if (is && is->type == J_ARR) {
        int64_t s[8];
        if (is->n < 1 || is->n > 5) {
            st = FMT("%s: input_shape must have 1 to 5 dims", path);
            goto done;
        }
        for (int k = 0; k < is->n; k++) {
            if (!is_int(&is->items[k], 1, 2147483648.0)) {
                st = FMT("%s: input_shape must hold integers >= 1", path);
                goto done;
            }
            s[k] = (int64_t)is->items[k].num;
        }
        if ((st = fdl_model_set_input_shape(m, is->n, s))) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", fdl_model_last_error());
            st = fdl__fail(st == FDL_ERR_ARG ? FDL_ERR_FORMAT : st, "%s: %s", path, msg);
            goto done;
        }
    } else if (is && is->type != J_NULL) {
        st = FMT("%s: input_shape must be a list or null", path);
        goto done;
    }
    int nt = fdl_model_num_tensors(m);
    fdl_tensor_ref *t = calloc((size_t)(nt > 0 ? nt : 1), sizeof *t);
    if (!t) { st = fdl__fail(FDL_ERR_NOMEM, "fdl_model_load: out of memory"); goto done; }
    for (int i = 0; i < nt; i++)
        fdl_model_tensor(m, i, &t[i].name, &t[i].ndim, t[i].shape, &t[i].data, NULL);
    st = fdl_safetensors_load(path, t, nt);
    free(t);
done:
    fdl__json_free(&arch);
    fdl__json_free(&top);
    free(h);
    if (st) { fdl_model_free(m); return st; }
    *out = m;
    return FDL_OK;
}
