/*
 * C tests of the model runtime (fastdl/model.h), from C alone: argument and
 * shape errors return codes, models built from descriptors (a CNN with
 * BatchNorm and Dropout, an Embedding + LSTM + GRU sequence model) have
 * gradients that agree with finite differences and train, files round-trip
 * bit for bit, and malformed, truncated or corrupted files are rejected with
 * an error code (never a crash: CI runs this under ASan/UBSan).
 *
 *   test_model TMPDIR      (files are written under TMPDIR)
 *
 * Prints one line per failed check and a summary; exit status 0 only when
 * every check passed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastdl.h"

#define LAST_ERROR fdl_model_last_error
#include "check.h"

static void fill(float *x, int64_t n, uint64_t seed, float lo, float hi)
{
    fdl_rng_uniform_f32(x, n, seed, 0, 0, lo, hi);
}

static int write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t w = fwrite(p, 1, n, f);
    fclose(f);
    return w == n;
}

static unsigned char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)len + 1);
    *n = fread(p, 1, (size_t)len, f);
    fclose(f);
    return p;
}

static fdl_layer_desc L(fdl_layer_kind k)
{
    fdl_layer_desc d;
    fdl_layer_init(&d, k);
    return d;
}

/* conv(1->4, 3x3, pad 1)-BN-ReLU-maxpool2 - conv(4->6, 3x3, stride 2, pad 1)-ReLU -
 * avgpool2 - flatten - linear(24 -> 8) - tanh - dropout - linear(8 -> 3), input [1, 8, 8] */
static fdl_model *small_cnn(double dropout)
{
    fdl_model *m;
    if (fdl_model_new(&m)) return NULL;
    fdl_layer_desc d = L(FDL_LAYER_CONV2D);
    d.in_channels = 1; d.out_channels = 4; d.kernel_size[0] = d.kernel_size[1] = 3;
    d.padding[0] = d.padding[1] = 1;
    fdl_model_add_layer(m, &d);
    d = L(FDL_LAYER_BATCHNORM2D); d.num_features = 4; fdl_model_add_layer(m, &d);
    d = L(FDL_LAYER_RELU); fdl_model_add_layer(m, &d);
    d = L(FDL_LAYER_MAXPOOL2D); d.kernel_size[0] = d.kernel_size[1] = 2; fdl_model_add_layer(m, &d);
    d = L(FDL_LAYER_CONV2D);
    d.in_channels = 4; d.out_channels = 6; d.kernel_size[0] = d.kernel_size[1] = 3;
    d.padding[0] = d.padding[1] = 1; d.stride[0] = d.stride[1] = 2;
    fdl_model_add_layer(m, &d);
    d = L(FDL_LAYER_RELU); fdl_model_add_layer(m, &d);
    d = L(FDL_LAYER_AVGPOOL2D); d.kernel_size[0] = d.kernel_size[1] = 1; fdl_model_add_layer(m, &d);
    d = L(FDL_LAYER_FLATTEN); fdl_model_add_layer(m, &d);
    d = L(FDL_LAYER_LINEAR); d.in_features = 24; d.out_features = 8; fdl_model_add_layer(m, &d);
    d = L(FDL_LAYER_TANH); fdl_model_add_layer(m, &d);
    d = L(FDL_LAYER_DROPOUT); d.p = dropout; fdl_model_add_layer(m, &d);
    d = L(FDL_LAYER_LINEAR); d.in_features = 8; d.out_features = 3; fdl_model_add_layer(m, &d);
    int64_t in[3] = {1, 8, 8};
    if (fdl_model_set_input_shape(m, 3, in)) { fdl_model_free(m); return NULL; }
    return m;
}

/* Embedding(7, 4) - LSTM(4, 5, 2 layers) - GRU(5, 3) - LastTimeStep - LayerNorm(3) - Linear(3, 2) */
static fdl_model *small_seq(void)
{
    fdl_model *m;
    if (fdl_model_new(&m)) return NULL;
    fdl_layer_desc d = L(FDL_LAYER_EMBEDDING);
    d.num_embeddings = 7; d.embedding_dim = 4;
    fdl_model_add_layer(m, &d);
    d = L(FDL_LAYER_LSTM); d.input_size = 4; d.hidden_size = 5; d.num_layers = 2;
    fdl_model_add_layer(m, &d);
    d = L(FDL_LAYER_GRU); d.input_size = 5; d.hidden_size = 3; fdl_model_add_layer(m, &d);
    d = L(FDL_LAYER_LAST_STEP); fdl_model_add_layer(m, &d);
    d = L(FDL_LAYER_LAYERNORM); d.normalized_ndim = 1; d.normalized_shape[0] = 3;
    fdl_model_add_layer(m, &d);
    d = L(FDL_LAYER_LINEAR); d.in_features = 3; d.out_features = 2; fdl_model_add_layer(m, &d);
    int64_t in[1] = {6};
    if (fdl_model_set_input_shape(m, 1, in)) { fdl_model_free(m); return NULL; }
    return m;
}

static void test_errors(void)
{
    fdl_model *m = NULL;
    CHECK_ST(fdl_model_new(NULL), FDL_ERR_NULL);
    CHECK_ST(fdl_model_new(&m), FDL_OK);
    fdl_layer_desc d = L(FDL_LAYER_LINEAR);
    CHECK_ST(fdl_layer_init(NULL, FDL_LAYER_LINEAR), FDL_ERR_NULL);
    CHECK_ST(fdl_layer_init(&d, FDL_LAYER_COUNT), FDL_ERR_ARG);
    d = L(FDL_LAYER_LINEAR);
    CHECK_ST(fdl_model_add_layer(m, &d), FDL_ERR_ARG);          /* sizes 0 */
    CHECK(strstr(fdl_model_last_error(), "in_features") != NULL, "%s", fdl_model_last_error());
    d.in_features = 4; d.out_features = 3;
    CHECK_ST(fdl_model_add_layer(NULL, &d), FDL_ERR_NULL);
    CHECK_ST(fdl_model_add_layer(m, NULL), FDL_ERR_NULL);
    CHECK_ST(fdl_model_add_layer(m, &d), FDL_OK);
    float x[8] = {0}, out[8];
    CHECK_ST(fdl_model_forward(m, x, 2, out), FDL_ERR_ARG);     /* no input shape yet */
    CHECK_ST(fdl_model_backward(m, out, NULL), FDL_ERR_ARG);    /* no forward */
    int64_t bad[1] = {5}, good[1] = {4}, zero[1] = {0};
    CHECK_ST(fdl_model_set_input_shape(m, 1, bad), FDL_ERR_SHAPE);
    CHECK(strstr(fdl_model_last_error(), "layer 0 (Linear)") != NULL, "%s", fdl_model_last_error());
    CHECK_ST(fdl_model_set_input_shape(m, 1, zero), FDL_ERR_ARG);
    CHECK_ST(fdl_model_set_input_shape(m, 0, good), FDL_ERR_ARG);
    CHECK_ST(fdl_model_set_input_shape(m, 1, good), FDL_OK);
    /* a layer that does not fit the shapes is refused and the model stays usable */
    fdl_layer_desc c = L(FDL_LAYER_CONV2D);
    c.in_channels = 3; c.out_channels = 2; c.kernel_size[0] = c.kernel_size[1] = 3;
    CHECK_ST(fdl_model_add_layer(m, &c), FDL_ERR_SHAPE);
    CHECK(fdl_model_num_layers(m) == 1, "layers %d", fdl_model_num_layers(m));
    c.groups = 2;
    CHECK_ST(fdl_model_add_layer(m, &c), FDL_ERR_ARG);          /* 3 channels, 2 groups */
    fdl_layer_desc sm = L(FDL_LAYER_SOFTMAX);
    sm.dim = 5;
    CHECK_ST(fdl_model_add_layer(m, &sm), FDL_ERR_SHAPE);
    CHECK_ST(fdl_model_forward(m, x, -1, out), FDL_ERR_ARG);
    CHECK_ST(fdl_model_forward(m, NULL, 2, out), FDL_ERR_NULL);
    CHECK_ST(fdl_model_forward(m, x, 2, out), FDL_OK);
    CHECK_ST(fdl_model_forward(m, x, 0, out), FDL_OK);           /* empty batch */
    CHECK_ST(fdl_model_backward(m, NULL, NULL), FDL_OK);
    int64_t y[2] = {0, 3};
    fdl_optim o;
    fdl_optim_init(&o, FDL_OPTIM_SGD, 0.1);
    CHECK_ST(fdl_model_train_step(m, x, y, 2, FDL_LOSS_CROSS_ENTROPY, &o, NULL, NULL),
             FDL_ERR_ARG);                                         /* label 3 of 3 classes */
    o.lr = -1;
    y[1] = 1;
    CHECK_ST(fdl_model_train_step(m, x, y, 2, FDL_LOSS_CROSS_ENTROPY, &o, NULL, NULL),
             FDL_ERR_ARG);
    CHECK_ST(fdl_model_step(m, NULL), FDL_ERR_NULL);
    fdl_layer_desc emb = L(FDL_LAYER_EMBEDDING);
    emb.num_embeddings = 3; emb.embedding_dim = 2;
    CHECK_ST(fdl_model_add_layer(m, &emb), FDL_ERR_ARG);         /* only as the first layer */
    fdl_model_free(m);
    fdl_model_free(NULL);

    /* a model with no layers is the identity, and trains (nothing) without error */
    CHECK_ST(fdl_model_new(&m), FDL_OK);
    int64_t s3[1] = {3};
    CHECK_ST(fdl_model_set_input_shape(m, 1, s3), FDL_OK);
    float xe[6] = {1, 2, 3, -1, -2, -3}, te[6] = {0}, le = 0, dxe[6];
    fdl_optim_init(&o, FDL_OPTIM_SGD, 0.1);
    CHECK_ST(fdl_model_train_step(m, xe, te, 2, FDL_LOSS_MSE, &o, &le, NULL), FDL_OK);
    CHECK(fabsf(le - 28.0f / 6.0f) < 1e-5f, "mse of the identity %g", le);
    CHECK(fdl_model_num_params(m) == 0, "params of an empty model");
    CHECK_ST(fdl_model_backward(m, xe, dxe), FDL_OK);
    CHECK(dxe[2] == 3 && dxe[5] == -3, "identity backward");
    fdl_model_free(m);
    CHECK(strcmp(fdl_layer_name(FDL_LAYER_BATCHNORM2D), "BatchNorm2d") == 0, "name");
    CHECK(strcmp(fdl_layer_name(FDL_LAYER_COUNT), "") == 0, "name of an unknown kind");
}

/* Mean cross-entropy of the model on (x, y) in eval mode. */
static double eval_loss(fdl_model *m, const void *x, const int64_t *y, int64_t B)
{
    float l = NAN;
    fdl_model_train(m, 0);
    if (fdl_model_forward(m, x, B, NULL) == FDL_OK)
        fdl_model_loss(m, FDL_LOSS_CROSS_ENTROPY, y, &l, NULL, NULL);
    return l;
}

/* dL/dparams from fdl_model_backward against central differences (eval mode:
 * BatchNorm uses running statistics, Dropout is off, so the loss is a plain
 * function of the parameters). */
static void gradcheck(const char *what, fdl_model *m, const void *x, const int64_t *y, int64_t B)
{
    float dout[64];
    fdl_model_train(m, 0);
    fdl_model_zero_grad(m);
    CHECK_ST(fdl_model_forward(m, x, B, NULL), FDL_OK);
    CHECK_ST(fdl_model_loss(m, FDL_LOSS_CROSS_ENTROPY, y, NULL, NULL, dout), FDL_OK);
    CHECK_ST(fdl_model_backward(m, dout, NULL), FDL_OK);
    int nt = fdl_model_num_tensors(m), bad = 0, tried = 0;
    for (int i = 0; i < nt; i++) {
        const char *name;
        int nd;
        int64_t shape[8];
        float *p, *g;
        fdl_model_tensor(m, i, &name, &nd, shape, &p, &g);
        if (!g) continue;
        int64_t n = 1;
        for (int k = 0; k < nd; k++) n *= shape[k];
        for (int64_t j = 0; j < n; j += n / 3 + 1) {
            float keep = p[j];
            const float h = 1e-2f;
            p[j] = keep + h;
            double lp = eval_loss(m, x, y, B);
            p[j] = keep - h;
            double lm = eval_loss(m, x, y, B);
            p[j] = keep;
            double num = (lp - lm) / (2 * h);
            tried++;
            if (fabs(num - g[j]) > 2e-3 + 3e-2 * fabs(num)) {
                bad++;
                printf("  %s %s[%lld]: analytic %g numeric %g\n", what, name, (long long)j,
                       g[j], num);
            }
        }
    }
    CHECK(bad == 0 && tried > 10, "%s: %d of %d gradients differ", what, bad, tried);
}

static void test_gradients(void)
{
    fdl_model *m = small_cnn(0.5);
    CHECK(m != NULL, "build cnn");
    if (!m) return;
    float x[4 * 64];
    fill(x, 4 * 64, 3, -1, 1);
    int64_t y[4] = {0, 2, 1, 2};
    /* move the BatchNorm statistics off 0 / 1 first */
    fdl_model_train(m, 1);
    fdl_model_forward(m, x, 4, NULL);
    gradcheck("cnn", m, x, y, 4);
    fdl_model_free(m);

    m = small_seq();
    CHECK(m != NULL, "build seq");
    if (!m) return;
    int64_t xi[3 * 6] = {1, 2, 3, 4, 5, 6, 0, 0, 1, 1, 2, 2, 6, 5, 4, 3, 2, 1};
    int64_t yi[3] = {0, 1, 1};
    gradcheck("seq", m, xi, yi, 3);
    fdl_model_free(m);
}

static void test_training(void)
{
    /* The CNN learns 3 fixed random images, with SGD + momentum and with Adam. */
    for (int opt = 0; opt < 2; opt++) {
        fdl_model *m = small_cnn(0.1);
        if (!m) { CHECK(0, "build"); return; }
        fdl_model_manual_seed(m, 42, 0);
        float x[3 * 64];
        fill(x, 3 * 64, 5, 0, 1);
        int64_t y[3] = {0, 1, 2}, correct = 0;
        fdl_optim o;
        fdl_optim_init(&o, opt ? FDL_OPTIM_ADAM : FDL_OPTIM_SGD, opt ? 1e-2 : 0.05);
        o.momentum = opt ? 0 : 0.9;
        float first = 0, loss = 0;
        for (int it = 0; it < 60; it++) {
            CHECK_ST(fdl_model_train_step(m, x, y, 3, FDL_LOSS_CROSS_ENTROPY, &o, &loss, NULL),
                     FDL_OK);
            if (it == 0) first = loss;
        }
        fdl_model_train(m, 0);
        fdl_model_forward(m, x, 3, NULL);
        fdl_model_loss(m, FDL_LOSS_CROSS_ENTROPY, y, &loss, &correct, NULL);
        CHECK(loss < 0.3f * first && correct == 3, "cnn %s: loss %g (first %g), correct %lld",
              opt ? "adam" : "sgd", loss, first, (long long)correct);
        fdl_model_free(m);
    }
    /* The sequence model learns: class = whether the sequence starts with token 1. */
    fdl_model *m = small_seq();
    if (!m) { CHECK(0, "build"); return; }
    int64_t x[8 * 6], y[8], correct = 0;
    for (int b = 0; b < 8; b++) {
        for (int t = 0; t < 6; t++) x[b * 6 + t] = (b * 3 + t * 5) % 7;
        y[b] = b & 1;
        x[b * 6] = y[b] ? 1 : 2;
    }
    fdl_optim o;
    fdl_optim_init(&o, FDL_OPTIM_ADAMW, 2e-2);
    float loss = 0, first = 0;
    for (int it = 0; it < 150; it++) {
        CHECK_ST(fdl_model_train_step(m, x, y, 8, FDL_LOSS_CROSS_ENTROPY, &o, &loss, NULL), FDL_OK);
        if (it == 0) first = loss;
    }
    fdl_model_train(m, 0);
    fdl_model_forward(m, x, 8, NULL);
    fdl_model_loss(m, FDL_LOSS_CROSS_ENTROPY, y, &loss, &correct, NULL);
    CHECK(loss < 0.3f * first && correct == 8, "seq: loss %g (first %g), correct %lld", loss,
          first, (long long)correct);
    /* other losses run and give a gradient of the output's shape */
    float target[16], dout[16], l;
    fill(target, 16, 2, 0, 1);
    fdl_model_forward(m, x, 8, NULL);
    CHECK_ST(fdl_model_loss(m, FDL_LOSS_MSE, target, &l, NULL, dout), FDL_OK);
    CHECK_ST(fdl_model_loss(m, FDL_LOSS_L1, target, &l, NULL, dout), FDL_OK);
    CHECK_ST(fdl_model_loss(m, FDL_LOSS_BCE_WITH_LOGITS, target, &l, NULL, dout), FDL_OK);
    CHECK(l > 0 && isfinite(l), "bce %g", l);
    CHECK_ST(fdl_model_loss(m, (fdl_loss_kind)99, target, &l, NULL, dout), FDL_ERR_ARG);
    float dx[48];
    CHECK_ST(fdl_model_backward(m, dout, dx), FDL_ERR_ARG);       /* no dx for indices */
    fdl_model_free(m);
}

static void test_files(void)
{
    fdl_model *m = small_cnn(0.2), *b = NULL;
    if (!m) { CHECK(0, "build"); return; }
    float x[5 * 64], ya[5 * 3], yb[5 * 3];
    fill(x, 5 * 64, 9, -1, 1);
    int64_t y[5] = {0, 1, 2, 0, 1};
    fdl_optim o;
    fdl_optim_init(&o, FDL_OPTIM_ADAM, 1e-2);
    fdl_model_train_step(m, x, y, 5, FDL_LOSS_CROSS_ENTROPY, &o, NULL, NULL);
    char path[600], cut[600];
    path_in_tmp(path, sizeof path, "model.safetensors");
    path_in_tmp(cut, sizeof cut, "cut.safetensors");
    CHECK_ST(fdl_model_save(m, path), FDL_OK);
    CHECK_ST(fdl_model_load(path, &b), FDL_OK);
    if (!b) { fdl_model_free(m); return; }
    fdl_model_train(m, 0);
    fdl_model_train(b, 0);
    fdl_model_forward(m, x, 5, ya);
    fdl_model_forward(b, x, 5, yb);
    CHECK(memcmp(ya, yb, sizeof ya) == 0, "outputs differ after a save/load round trip");
    fdl_layer_desc d;
    fdl_model_layer(b, 1, &d);
    CHECK(d.kind == FDL_LAYER_BATCHNORM2D && d.num_batches_tracked == 1, "bn state %d %lld",
          (int)d.kind, (long long)d.num_batches_tracked);
    fdl_model_free(b);

    size_t len;
    unsigned char *file = read_file(path, &len);
    CHECK(file && len > 16, "read back");
    if (!file) { fdl_model_free(m); return; }
    /* every truncation is an error */
    int ok = 1;
    for (size_t k = 0; k < len; k += k < 600 ? 1 : 131) {
        write_file(cut, file, k);
        int st = fdl_model_load(cut, &b);
        if (st == FDL_OK || b != NULL) { ok = 0; fdl_model_free(b); b = NULL; break; }
    }
    CHECK(ok, "a truncated file loaded");
    /* random corruption of the header: any status, never a crash (ASan/UBSan watch) */
    uint64_t hl;
    memcpy(&hl, file, 8);
    unsigned char *mut = malloc(len);
    uint64_t s = 777;
    for (int trial = 0; trial < 300; trial++) {
        memcpy(mut, file, len);
        for (int j = 0; j < 2; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            mut[8 + (s >> 33) % hl] = (unsigned char)(s >> 21);
        }
        write_file(cut, mut, len);
        if (fdl_model_load(cut, &b) == FDL_OK) {
            fdl_model_forward(b, x, 5, yb);   /* a file that loads must also run */
            fdl_model_free(b);
        }
        b = NULL;
    }
    free(mut);
    free(file);
    fdl_model_free(m);
}

/* A model file with no tensors and the given architecture record (a JSON
 * string, escaped here). */
static void write_arch(const char *path, const char *arch)
{
    char hdr[4096];
    size_t n = (size_t)snprintf(hdr, sizeof hdr, "{\"__metadata__\":{\"fastdl_model\":\"");
    for (const char *p = arch; *p && n < sizeof hdr - 8; p++) {
        if (*p == '"' || *p == '\\') hdr[n++] = '\\';
        hdr[n++] = *p;
    }
    n += (size_t)snprintf(hdr + n, sizeof hdr - n, "\"}}");
    while (n % 8) hdr[n++] = ' ';
    unsigned char *buf = malloc(8 + n);
    uint64_t h = n;
    memcpy(buf, &h, 8);
    memcpy(buf + 8, hdr, n);
    write_file(path, buf, 8 + n);
    free(buf);
}

static void test_malformed(void)
{
    struct { const char *arch; int want; const char *words; } cases[] = {
        {"{\"format\": 1, \"input_shape\": [4], \"layers\": [{\"type\": \"ReLU\"}]}", FDL_OK, ""},
        {"{\"format\": 1, \"layers\": [{\"type\": \"ReLU\"}", FDL_ERR_FORMAT, "JSON"},
        {"{\"format\": 1, \"layers\": [{\"type\": \"Attention\"}]}", FDL_ERR_FORMAT, "unknown"},
        {"{\"format\": 1, \"layers\": [{\"kind\": \"ReLU\"}]}", FDL_ERR_FORMAT, "type"},
        {"{\"format\": 2, \"layers\": []}", FDL_ERR_FORMAT, "format"},
        {"{\"format\": 1}", FDL_ERR_FORMAT, "layers"},
        {"{\"format\": 1, \"input_shape\": [3, 5], \"layers\": [{\"type\": \"MaxPool2d\", "
         "\"kernel_size\": 2}]}", FDL_ERR_SHAPE, "MaxPool2d"},
        {"{\"format\": 1, \"input_shape\": [0], \"layers\": []}", FDL_ERR_FORMAT, "input_shape"},
        {"{\"format\": 1, \"input_shape\": \"x\", \"layers\": []}", FDL_ERR_FORMAT, "input_shape"},
        {"{\"format\": 1, \"layers\": [{\"type\": \"Dropout\", \"p\": 2}]}", FDL_ERR_FORMAT, "p"},
        {"{\"format\": 1, \"layers\": [{\"type\": \"Linear\", \"in_features\": 2.5, "
         "\"out_features\": 2}]}", FDL_ERR_FORMAT, "in_features"},
        {"{\"format\": 1, \"layers\": [{\"type\": \"Linear\", \"in_features\": 2, "
         "\"out_features\": 2}]}", FDL_ERR_FORMAT, "missing tensor"},
        {"{\"format\": 1, \"layers\": [{\"type\": \"GELU\", \"approximate\": \"fast\"}]}",
         FDL_ERR_FORMAT, "approximate"},
        {"{\"format\": 1, \"layers\": [{\"type\": \"Conv2d\", \"in_channels\": 1, "
         "\"out_channels\": 1, \"kernel_size\": [1, 2, 3]}]}", FDL_ERR_FORMAT, "kernel_size"},
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]"
         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", FDL_ERR_FORMAT, "JSON"},
        {"{\"format\": 1, \"layers\": [{\"type\": \"ReLU\"}]} trailing", FDL_ERR_FORMAT, "JSON"},
    };
    char path[600];
    path_in_tmp(path, sizeof path, "arch.safetensors");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_arch(path, cases[i].arch);
        fdl_model *m = (fdl_model *)path;   /* must be reset to NULL on failure */
        int st = fdl_model_load(path, &m);
        CHECK(st == cases[i].want, "case %zu: status %d want %d (%s)", i, st, cases[i].want,
              fdl_model_last_error());
        if (st) {
            CHECK(m == NULL, "case %zu: model not NULL on failure", i);
            CHECK(strstr(fdl_model_last_error(), cases[i].words) != NULL, "case %zu: %s", i,
                  fdl_model_last_error());
        }
        fdl_model_free(st ? NULL : m);
    }
    fdl_model *m;
    path_in_tmp(path, sizeof path, "absent.safetensors");
    CHECK_ST(fdl_model_load(path, &m), FDL_ERR_IO);
    CHECK_ST(fdl_model_load(NULL, &m), FDL_ERR_NULL);
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    test_errors();
    test_gradients();
    test_training();
    test_files();
    test_malformed();
    return check_end();
}
