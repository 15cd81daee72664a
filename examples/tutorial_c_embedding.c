/*
 * Tutorial: embedding fastdl in a C program (see tutorial_c_embedding.md).
 *
 *   tutorial_c_embedding predict MODEL INPUTS
 *       Loads a model written in Python by fastdl.export(model, MODEL, x),
 *       reads INPUTS (raw little-endian float32 rows of the model's input
 *       size, as numpy's x.astype(np.float32).tofile(INPUTS) writes), and
 *       prints one line per row: the predicted class, then the scores.
 *
 *   tutorial_c_embedding train OUT SIZES [EPOCHS]
 *       Builds the MLP nn.Sequential(Linear, ReLU, ..., Linear) with layer
 *       sizes such as 2,32,4 from layer descriptors, trains it from C alone
 *       (Adam, softmax cross-entropy) on points in [-1, 1]^2 labelled by which
 *       of SIZES[last] equal angular sectors they fall in, prints the loss and
 *       accuracy per epoch, and saves the model to OUT, which Python opens
 *       with fastdl.load_model(OUT).
 *
 * Everything used here is declared in fastdl.h (fastdl/model.h,
 * fastdl/rng.h): every function that can fail returns a status
 * (FDL_OK == 0), and fdl_strerror() and fdl_model_last_error() say why.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fastdl.h>

static int fail(const char *what, int status)
{
    const char *detail = fdl_model_last_error();
    fprintf(stderr, "tutorial_c_embedding: %s: %s%s%s\n", what, fdl_strerror(status),
            detail[0] ? ": " : "", detail);
    return 1;
}

static int predict(const char *path, const char *inputs)
{
    /* The model: architecture and weights from one file. fdl_model_load checks
     * every layer, name ("0.weight", "0.bias", ...) and shape. */
    fdl_model *m;
    int st = fdl_model_load(path, &m);
    if (st != FDL_OK)
        return fail(path, st);
    fdl_model_train(m, 0);                       /* eval mode, as model.eval() */

    FILE *f = fopen(inputs, "rb");
    if (!f) {
        perror(inputs);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    int64_t in = fdl_model_input_numel(m), classes = fdl_model_output_numel(m);
    int64_t rows = bytes / (long)(sizeof(float) * in);
    float *x = malloc(sizeof(float) * (size_t)(rows * in + 1));
    if (!x || fread(x, sizeof(float) * in, rows, f) != (size_t)rows) {
        fprintf(stderr, "tutorial_c_embedding: could not read %s\n", inputs);
        return 1;
    }
    fclose(f);

    float *scores = malloc(sizeof(float) * (size_t)(rows * classes));
    st = fdl_model_forward(m, x, rows, scores);
    if (st != FDL_OK)
        return fail("forward", st);
    for (int64_t i = 0; i < rows; i++) {
        const float *row = scores + i * classes;
        int64_t best = 0;
        for (int64_t c = 1; c < classes; c++)
            if (row[c] > row[best])
                best = c;
        printf("%lld", (long long)best);
        for (int64_t c = 0; c < classes; c++)
            printf(" %.6f", row[c]);
        printf("\n");
    }
    free(scores);
    free(x);
    fdl_model_free(m);
    return 0;
}

/* nn.Sequential(Linear(d0, d1), ReLU(), ..., Linear(d[n-2], d[n-1])) from "2,32,4". */
static int build_mlp(const char *sizes, fdl_model **out)
{
    int64_t dims[16];
    int n = 0;
    for (const char *s = sizes; *s && n < 16;) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1)
            return FDL_ERR_ARG;
        dims[n++] = v;
        s = *end == ',' ? end + 1 : end;
    }
    if (n < 2)
        return FDL_ERR_ARG;
    fdl_model *m;
    int st = fdl_model_new(&m);
    for (int l = 0; st == FDL_OK && l + 1 < n; l++) {
        fdl_layer_desc d;
        fdl_layer_init(&d, FDL_LAYER_LINEAR);     /* PyTorch's defaults: bias=True */
        d.in_features = dims[l];
        d.out_features = dims[l + 1];
        st = fdl_model_add_layer(m, &d);          /* initialised as nn.Linear is */
        if (st == FDL_OK && l + 2 < n) {
            fdl_layer_init(&d, FDL_LAYER_RELU);
            st = fdl_model_add_layer(m, &d);
        }
    }
    if (st == FDL_OK)
        st = fdl_model_set_input_shape(m, 1, dims);   /* one sample: [d0] */
    if (st != FDL_OK) {
        fdl_model_free(m);
        return st;
    }
    *out = m;
    return FDL_OK;
}

static int train(const char *out, const char *sizes, int epochs)
{
    const int64_t n = 2048, batch = 64;
    const double pi = 3.14159265358979323846;
    fdl_model *m;
    int st = build_mlp(sizes, &m);
    if (st != FDL_OK)
        return fail(sizes, st);
    int64_t classes = fdl_model_output_numel(m);
    if (fdl_model_input_numel(m) != 2) {
        fprintf(stderr, "tutorial_c_embedding: train makes 2-D points; the first size must be 2\n");
        return 1;
    }
    /* Data from fastdl's counter-based generator: the same points for a seed. */
    float *x = malloc(sizeof(float) * n * 2);
    int64_t *y = malloc(sizeof(int64_t) * n);
    st = fdl_rng_uniform_f32(x, n * 2, /*seed=*/42, /*stream=*/0, /*offset=*/0, -1.0f, 1.0f);
    if (st != FDL_OK)
        return fail("rng", st);
    for (int64_t i = 0; i < n; i++) {
        double a = atan2(x[2 * i + 1], x[2 * i]) + pi;      /* [0, 2 pi] */
        int64_t c = (int64_t)(a / (2 * pi) * classes);
        y[i] = c < classes ? c : classes - 1;
    }

    fdl_optim adam;
    fdl_optim_init(&adam, FDL_OPTIM_ADAM, 1e-2);   /* torch.optim.Adam(lr=1e-2) */
    for (int epoch = 1; epoch <= epochs; epoch++) {
        double sum_loss = 0.0;
        int64_t correct = 0;
        for (int64_t b0 = 0; b0 < n; b0 += batch) {
            int64_t B = n - b0 < batch ? n - b0 : batch, ok = 0;
            float loss = 0.0f;
            /* zero_grad, forward, cross-entropy, backward, Adam step */
            st = fdl_model_train_step(m, x + b0 * 2, y + b0, B, FDL_LOSS_CROSS_ENTROPY, &adam,
                                      &loss, &ok);
            if (st != FDL_OK)
                return fail("train_step", st);
            sum_loss += (double)loss * B;
            correct += ok;
        }
        printf("epoch %d  loss %.4f  accuracy %.4f\n", epoch, sum_loss / n, (double)correct / n);
    }
    st = fdl_model_save(m, out);       /* atomic: temp file, fsync, rename */
    if (st != FDL_OK)
        return fail(out, st);
    printf("saved %s\n", out);
    fdl_model_free(m);
    free(y);
    free(x);
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    int predict_cmd = !strcmp(cmd, "predict") && argc == 4;
    int train_cmd = !strcmp(cmd, "train") && (argc == 4 || argc == 5);
    if (!predict_cmd && !train_cmd) {
        fprintf(stderr, "usage: tutorial_c_embedding predict MODEL INPUTS\n"
                        "       tutorial_c_embedding train OUT SIZES [EPOCHS]\n");
        return 2;
    }
    printf("# fastdl %s, %s kernels, %d threads\n", fdl_version(), fdl_isa_name(fdl_active_isa()),
           fdl_get_num_threads());
    if (predict_cmd)
        return predict(argv[2], argv[3]);
    return train(argv[2], argv[3], argc > 4 ? atoi(argv[4]) : 10);
}
