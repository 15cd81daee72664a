/*
 * train_mlp: train an MLP on MNIST from C alone with libfastdl.
 *
 *   train_mlp [--data DIR] [--epochs N] [--batch B] [--lr LR] [--hidden 256,128]
 *             [--limit N] [--test-limit N] [--no-shuffle] [--seed S]
 *             [--init FILE] [--save FILE] [--threads T]
 *
 * Model: 784 -> 256 -> ReLU -> 128 -> ReLU -> 10 (nn.Sequential names),
 * softmax cross-entropy, Adam (lr 1e-3). --init loads starting weights
 * saved by Python (fastdl.save(model.state_dict(), FILE)); --save writes
 * the trained weights in the same format, which fastdl.load reads back.
 * Per epoch it prints the mean training loss, training and test accuracy,
 * the epoch's training time and samples/s.
 *
 * Batches: with --no-shuffle they are rows [0, B), [B, 2B), ... (the last
 * one shorter), exactly what a Python loop over the same arrays does; the
 * epoch loss is the sample-weighted mean of the batch losses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fastdl.h>

#include "example_util.h"

static int die(const char *what, int st) { return ex_die("train_mlp", what, st); }

int main(int argc, char **argv)
{
    const char *data = ex_default_data(), *init = NULL, *save = NULL;
    int epochs = 3, shuffle = 1, threads = 0;
    int64_t batch = 128, limit = 0, test_limit = 0;
    int64_t hidden[FDL_MLP_MAX_LAYERS] = {256, 128};
    int nhidden = 2;
    double lr = 1e-3;
    uint64_t seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-shuffle")) { shuffle = 0; continue; }
        if (!v) { fprintf(stderr, "train_mlp: %s needs a value\n", a); return 2; }
        i++;
        if (!strcmp(a, "--data")) data = v;
        else if (!strcmp(a, "--epochs")) epochs = atoi(v);
        else if (!strcmp(a, "--batch")) batch = atoll(v);
        else if (!strcmp(a, "--lr")) lr = atof(v);
        else if (!strcmp(a, "--limit")) limit = atoll(v);
        else if (!strcmp(a, "--test-limit")) test_limit = atoll(v);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--init")) init = v;
        else if (!strcmp(a, "--save")) save = v;
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else if (!strcmp(a, "--hidden")) nhidden = ex_parse_sizes(v, hidden, FDL_MLP_MAX_LAYERS - 1);
        else { fprintf(stderr, "train_mlp: unknown option %s\n", a); return 2; }
    }
    if (batch < 1 || epochs < 0) { fprintf(stderr, "train_mlp: bad --batch/--epochs\n"); return 2; }
    if (threads > 0) fdl_set_num_threads(threads);

    mnist_set tr = {0}, te = {0};
    if (mnist_load(&tr, data, "train", limit) || mnist_load(&te, data, "t10k", test_limit))
        return 1;

    int64_t dims[FDL_MLP_MAX_LAYERS + 1];
    dims[0] = tr.dim;
    for (int i = 0; i < nhidden; i++) dims[i + 1] = hidden[i];
    dims[nhidden + 1] = 10;
    fdl_mlp m;
    int st = fdl_mlp_init(&m, nhidden + 1, dims);
    if (st) return die("model", st);

    /* Three arenas: parameters, gradients, Adam state. */
    fdl_adam_config opt;
    fdl_adam_defaults(&opt);
    opt.lr = lr;
    int64_t n = fdl_mlp_num_params(&m), ns = fdl_adam_state_size(&opt, n);
    fdl_arena P, G, S, W;
    int64_t wsn = fdl_mlp_workspace_size(&m, batch);
    if ((st = fdl_arena_create(&P, n)) || (st = fdl_arena_create(&G, n)) ||
        (st = fdl_arena_create(&S, ns)) || (st = fdl_arena_create(&W, wsn)))
        return die("arenas", st);
    float *params = fdl_arena_take(&P, n), *grads = fdl_arena_take(&G, n);
    float *state = fdl_arena_take(&S, ns), *ws = fdl_arena_take(&W, wsn);

    if (init) {
        if ((st = fdl_mlp_load(&m, params, init))) return die(init, st);
    } else {
        fdl_mlp_init_params(&m, params, seed);
    }

    float *xb = malloc(sizeof(float) * batch * tr.dim);
    int64_t *yb = malloc(sizeof(int64_t) * batch), *perm = malloc(sizeof(int64_t) * tr.n);
    printf("train_mlp: %lld train / %lld test samples, %lld parameters, batch %lld, "
           "Adam lr %g, isa %s, %d threads\n", (long long)tr.n, (long long)te.n,
           (long long)n, (long long)batch, lr, fdl_isa_name(fdl_active_isa()),
           fdl_get_num_threads());

    for (int ep = 1; ep <= epochs; ep++) {
        if (shuffle) fdl_rng_permutation(perm, tr.n, seed, (uint64_t)ep);
        double t0 = ex_now(), loss_sum = 0;
        int64_t hits = 0;
        for (int64_t s = 0; s < tr.n; s += batch) {
            int64_t b = tr.n - s < batch ? tr.n - s : batch;
            const float *x;
            const int64_t *y;
            ex_batch(&tr, shuffle ? perm : NULL, s, b, xb, yb, &x, &y);
            float loss;
            int64_t correct;
            fdl_arena_zero(&G);
            if ((st = fdl_mlp_forward_backward(&m, params, grads, x, y, b, ws, wsn, &loss,
                                               &correct)))
                return die("forward_backward", st);
            if ((st = fdl_adam_arena_step(&opt, params, grads, state, n)))
                return die("adam", st);
            loss_sum += (double)loss * b;
            hits += correct;
        }
        double dt = ex_now() - t0;

        int64_t test_hits = 0;
        for (int64_t s = 0; s < te.n; s += batch) {
            int64_t b = te.n - s < batch ? te.n - s : batch, c;
            if ((st = fdl_mlp_evaluate(&m, params, te.x + s * te.dim, te.y + s, b, ws, wsn,
                                       NULL, &c)))
                return die("evaluate", st);
            test_hits += c;
        }
        printf("epoch %d  loss %.6f  train_acc %.4f  test_acc %.4f  time %.3f s  "
               "%.0f samples/s\n", ep, loss_sum / tr.n, (double)hits / tr.n,
               te.n ? (double)test_hits / te.n : 0.0, dt, tr.n / dt);
        fflush(stdout);
    }
    if (save) {
        if ((st = fdl_mlp_save(&m, params, save))) return die(save, st);
        printf("saved %s\n", save);
    }
    free(xb); free(yb); free(perm);
    fdl_arena_destroy(&P); fdl_arena_destroy(&G); fdl_arena_destroy(&S); fdl_arena_destroy(&W);
    mnist_free(&tr);
    mnist_free(&te);
    return 0;
}
