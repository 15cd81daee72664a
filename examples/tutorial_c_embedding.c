/*
 * Tutorial: embedding fastdl in a C program (see tutorial_c_embedding.md).
 *
 * Two commands, both on an MLP nn.Sequential(Linear, ReLU, Linear, ...)
 * whose layer sizes are given as a list such as 2,32,3:
 *
 *   tutorial_c_embedding predict WEIGHTS INPUTS SIZES
 *       Loads weights saved in Python by fastdl.save(model.state_dict(), WEIGHTS),
 *       reads INPUTS (raw little-endian float32 rows of SIZES[0] values, as
 *       numpy's x.astype(np.float32).tofile(INPUTS) writes), and prints one
 *       line per row: the predicted class, then the logits.
 *
 *   tutorial_c_embedding train OUT SIZES [EPOCHS]
 *       Trains the MLP from C alone (fastdl's Linear initialisation, Adam,
 *       softmax cross-entropy) on points in [-1, 1]^2 labelled by which of
 *       SIZES[last] equal angular sectors they fall in, prints the loss and
 *       accuracy per epoch, and saves the weights to OUT, which Python reads
 *       back with model.load_state_dict(fastdl.load(OUT)).
 *
 * Everything used here is declared in fastdl.h (fastdl/train.h, fastdl/rng.h):
 * the library allocates nothing the caller did not ask for, every function
 * that can fail returns a status (FDL_OK == 0) and fdl_strerror() and
 * fdl_train_last_error() say why.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fastdl.h>

static int fail(const char *what, int status)
{
    const char *detail = fdl_train_last_error();
    fprintf(stderr, "tutorial_c_embedding: %s: %s%s%s\n", what, fdl_strerror(status),
            detail[0] ? ": " : "", detail);
    return 1;
}

/* "2,32,3" -> dims; returns the number of Linear layers or -1. */
static int parse_sizes(const char *s, int64_t *dims)
{
    int n = 0;
    while (*s && n <= FDL_MLP_MAX_LAYERS) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1)
            return -1;
        dims[n++] = v;
        s = *end == ',' ? end + 1 : end;
    }
    return n >= 2 ? n - 1 : -1;
}

static int predict(const char *weights, const char *inputs, fdl_mlp *m)
{
    /* The weights: one float array in the MLP's layout, filled from the file.
     * fdl_mlp_load checks every name ("0.weight", "0.bias", "2.weight", ...)
     * and shape, like load_state_dict(strict=True). */
    float *params = malloc(sizeof(float) * fdl_mlp_num_params(m));
    if (!params)
        return 1;
    int st = fdl_mlp_load(m, params, weights);
    if (st != FDL_OK)
        return fail(weights, st);

    /* The inputs: rows of dims[0] float32 values. */
    FILE *f = fopen(inputs, "rb");
    if (!f) {
        perror(inputs);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    int64_t in = m->dims[0], classes = m->dims[m->nlayers];
    int64_t rows = bytes / (long)(sizeof(float) * in);
    float *x = malloc(sizeof(float) * (size_t)(rows * in + 1));
    if (!x || fread(x, sizeof(float) * in, rows, f) != (size_t)rows) {
        fprintf(stderr, "tutorial_c_embedding: could not read %s\n", inputs);
        return 1;
    }
    fclose(f);

    /* Forward in one call; the workspace is the caller's memory. */
    int64_t ws_floats = fdl_mlp_workspace_size(m, rows);
    float *ws = malloc(sizeof(float) * (size_t)ws_floats);
    float *logits = malloc(sizeof(float) * (size_t)(rows * classes));
    st = fdl_mlp_forward(m, params, x, rows, ws, ws_floats, logits);
    if (st != FDL_OK)
        return fail("forward", st);
    for (int64_t i = 0; i < rows; i++) {
        const float *row = logits + i * classes;
        int64_t best = 0;
        for (int64_t c = 1; c < classes; c++)
            if (row[c] > row[best])
                best = c;
        printf("%lld", (long long)best);
        for (int64_t c = 0; c < classes; c++)
            printf(" %.6f", row[c]);
        printf("\n");
    }
    free(logits);
    free(ws);
    free(x);
    free(params);
    return 0;
}

static int train(const char *out, fdl_mlp *m, int epochs)
{
    const int64_t n = 2048, batch = 64, in = m->dims[0], classes = m->dims[m->nlayers];
    const double pi = 3.14159265358979323846;
    if (in != 2) {
        fprintf(stderr, "tutorial_c_embedding: train makes 2-D points; the first size must be 2\n");
        return 1;
    }
    /* Data from fastdl's counter-based generator: the same points for a seed. */
    float *x = malloc(sizeof(float) * n * 2);
    int64_t *y = malloc(sizeof(int64_t) * n);
    int st = fdl_rng_uniform_f32(x, n * 2, /*seed=*/42, /*stream=*/0, /*offset=*/0, -1.0f, 1.0f);
    if (st != FDL_OK)
        return fail("rng", st);
    for (int64_t i = 0; i < n; i++) {
        double a = atan2(x[2 * i + 1], x[2 * i]) + pi;      /* [0, 2 pi] */
        int64_t c = (int64_t)(a / (2 * pi) * classes);
        y[i] = c < classes ? c : classes - 1;
    }

    /* Parameters, gradients and Adam's state: three flat arrays. */
    int64_t np_ = fdl_mlp_num_params(m);
    fdl_adam_config adam;
    fdl_adam_defaults(&adam);
    adam.lr = 1e-2;
    float *params = malloc(sizeof(float) * np_);
    float *grads = malloc(sizeof(float) * np_);
    float *state = calloc((size_t)fdl_adam_state_size(&adam, np_), sizeof(float));
    int64_t ws_floats = fdl_mlp_workspace_size(m, batch);
    float *ws = malloc(sizeof(float) * (size_t)ws_floats);
    st = fdl_mlp_init_params(m, params, /*seed=*/0);
    if (st != FDL_OK)
        return fail("init", st);

    for (int epoch = 1; epoch <= epochs; epoch++) {
        double sum_loss = 0.0;
        int64_t correct = 0;
        for (int64_t b0 = 0; b0 < n; b0 += batch) {
            int64_t B = n - b0 < batch ? n - b0 : batch, ok = 0;
            float loss = 0.0f;
            memset(grads, 0, sizeof(float) * np_);         /* backward adds (+=) */
            st = fdl_mlp_forward_backward(m, params, grads, x + b0 * 2, y + b0, B, ws, ws_floats,
                                          &loss, &ok);
            if (st != FDL_OK)
                return fail("forward_backward", st);
            st = fdl_adam_arena_step(&adam, params, grads, state, np_);
            if (st != FDL_OK)
                return fail("adam", st);
            sum_loss += (double)loss * B;
            correct += ok;
        }
        printf("epoch %d  loss %.4f  accuracy %.4f\n", epoch, sum_loss / n, (double)correct / n);
    }
    st = fdl_mlp_save(m, params, out);       /* atomic: temp file, fsync, rename */
    if (st != FDL_OK)
        return fail(out, st);
    printf("saved %s\n", out);
    free(ws);
    free(state);
    free(grads);
    free(params);
    free(y);
    free(x);
    return 0;
}

int main(int argc, char **argv)
{
    int64_t dims[FDL_MLP_MAX_LAYERS + 1];
    fdl_mlp m;
    const char *cmd = argc > 1 ? argv[1] : "";
    int want = !strcmp(cmd, "predict") ? 5 : !strcmp(cmd, "train") ? 4 : 0;
    if (!want || argc < want) {
        fprintf(stderr, "usage: tutorial_c_embedding predict WEIGHTS INPUTS SIZES\n"
                        "       tutorial_c_embedding train OUT SIZES [EPOCHS]\n");
        return 2;
    }
    const char *sizes = argv[want - 1];
    int nlayers = parse_sizes(sizes, dims);
    if (nlayers < 1) {
        fprintf(stderr, "tutorial_c_embedding: bad layer sizes '%s' (e.g. 2,32,3)\n", sizes);
        return 2;
    }
    int st = fdl_mlp_init(&m, nlayers, dims);
    if (st != FDL_OK)
        return fail("layer sizes", st);
    printf("# fastdl %s, %s kernels, %d threads\n", fdl_version(), fdl_isa_name(fdl_active_isa()),
           fdl_get_num_threads());
    if (want == 5)
        return predict(argv[2], argv[3], &m);
    return train(argv[2], &m, argc > 4 ? atoi(argv[4]) : 10);
}
