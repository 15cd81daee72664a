/*
 * train_cnn: train the MNIST benchmark CNN from C alone with libfastdl.
 *
 *   train_cnn [--data DIR] [--epochs N] [--batch B] [--opt sgd|adam] [--lr LR]
 *             [--momentum M] [--channels 32,64] [--hidden 128] [--limit N]
 *             [--test-limit N] [--no-shuffle] [--seed S] [--init FILE]
 *             [--save FILE] [--threads T]
 *
 * Model: conv(1->32, 3x3, pad 1)-ReLU-maxpool2 - conv(32->64)-ReLU-maxpool2 -
 * flatten - 3136 -> 128 - ReLU - 10, with nn.Sequential's names ("0.weight",
 * "3.weight", "7.weight", "9.weight" and biases); softmax cross-entropy.
 * Optimizer as benchmarks/training.py: SGD lr 0.05 momentum 0.9 by default,
 * or Adam (lr 1e-3 unless --lr). --init loads starting weights saved by
 * Python (fastdl.save(model.state_dict(), FILE)); --save writes the trained
 * weights in the same format. Per epoch it prints the mean training loss,
 * training and test accuracy, the epoch's training time and samples/s.
 *
 * Batches: with --no-shuffle they are rows [0, B), [B, 2B), ... (the last
 * one shorter), what a Python loop over the same arrays does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fastdl.h>

#include "example_util.h"

static int die(const char *what, int st) { return ex_die("train_cnn", what, st); }

int main(int argc, char **argv)
{
    const char *data = ex_default_data(), *init = NULL, *save = NULL, *optname = "sgd";
    int epochs = 1, shuffle = 1, threads = 0;
    int64_t batch = 128, limit = 0, test_limit = 0;
    int64_t c1 = FDL_CNN_DEFAULT_C1, c2 = FDL_CNN_DEFAULT_C2, hidden = FDL_CNN_DEFAULT_HIDDEN;
    double lr = -1, momentum = 0.9;
    uint64_t seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-shuffle")) { shuffle = 0; continue; }
        if (!v) { fprintf(stderr, "train_cnn: %s needs a value\n", a); return 2; }
        i++;
        if (!strcmp(a, "--data")) data = v;
        else if (!strcmp(a, "--epochs")) epochs = atoi(v);
        else if (!strcmp(a, "--batch")) batch = atoll(v);
        else if (!strcmp(a, "--opt")) optname = v;
        else if (!strcmp(a, "--lr")) lr = atof(v);
        else if (!strcmp(a, "--momentum")) momentum = atof(v);
        else if (!strcmp(a, "--limit")) limit = atoll(v);
        else if (!strcmp(a, "--test-limit")) test_limit = atoll(v);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--init")) init = v;
        else if (!strcmp(a, "--save")) save = v;
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else if (!strcmp(a, "--hidden")) hidden = atoll(v);
        else if (!strcmp(a, "--channels")) {
            char *p;
            c1 = strtoll(v, &p, 10);
            c2 = *p == ',' ? strtoll(p + 1, NULL, 10) : c1;
        } else { fprintf(stderr, "train_cnn: unknown option %s\n", a); return 2; }
    }
    int adam = !strcmp(optname, "adam");
    if (!adam && strcmp(optname, "sgd")) {
        fprintf(stderr, "train_cnn: --opt must be sgd or adam\n");
        return 2;
    }
    if (lr < 0) lr = adam ? 1e-3 : 0.05;
    if (batch < 1 || epochs < 0) { fprintf(stderr, "train_cnn: bad --batch/--epochs\n"); return 2; }
    if (threads > 0) fdl_set_num_threads(threads);

    mnist_set tr = {0}, te = {0};
    if (mnist_load(&tr, data, "train", limit) || mnist_load(&te, data, "t10k", test_limit))
        return 1;
    if (tr.dim != 784 || te.dim != 784) {
        fprintf(stderr, "train_cnn: expected 28x28 images\n");
        return 1;
    }

    fdl_cnn m;
    int st = fdl_cnn_init(&m, c1, c2, hidden);
    if (st) return die("model", st);

    /* Four arenas: parameters, gradients, optimizer state, workspace (the
     * saved activations of one batch). */
    fdl_adam_config cfg;
    fdl_adam_defaults(&cfg);
    cfg.lr = lr;
    int64_t n = fdl_cnn_num_params(&m), ns = adam ? fdl_adam_state_size(&cfg, n) : n;
    int64_t wsn = fdl_cnn_workspace_size(&m, batch);
    fdl_arena P, G, S, W;
    if ((st = fdl_arena_create(&P, n)) || (st = fdl_arena_create(&G, n)) ||
        (st = fdl_arena_create(&S, ns)) || (st = fdl_arena_create(&W, wsn)))
        return die("arenas", st);
    float *params = fdl_arena_take(&P, n), *grads = fdl_arena_take(&G, n);
    float *state = fdl_arena_take(&S, ns), *ws = fdl_arena_take(&W, wsn);

    if (init) {
        if ((st = fdl_cnn_load(&m, params, init))) return die(init, st);
    } else {
        fdl_cnn_init_params(&m, params, seed);
    }

    float *xb = malloc(sizeof(float) * batch * tr.dim);
    int64_t *yb = malloc(sizeof(int64_t) * batch), *perm = malloc(sizeof(int64_t) * tr.n);
    printf("train_cnn: %lld train / %lld test samples, %lld parameters, batch %lld, "
           "%s lr %g, isa %s, %d threads\n", (long long)tr.n, (long long)te.n,
           (long long)n, (long long)batch, adam ? "Adam" : "SGD", lr,
           fdl_isa_name(fdl_active_isa()), fdl_get_num_threads());

    int first_step = 1;
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
            if ((st = fdl_cnn_forward(&m, params, x, y, b, ws, wsn, NULL, &loss, &correct)))
                return die("forward", st);
            if ((st = fdl_cnn_backward(&m, params, grads, x, y, b, ws, wsn)))
                return die("backward", st);
            st = adam ? fdl_adam_arena_step(&cfg, params, grads, state, n)
                      : fdl_sgd_arena_step(params, grads, state, n, lr, momentum, 0.0, 0,
                                           first_step);
            if (st) return die("optimizer", st);
            first_step = 0;
            loss_sum += (double)loss * b;
            hits += correct;
        }
        double dt = ex_now() - t0;

        int64_t test_hits = 0;
        for (int64_t s = 0; s < te.n; s += batch) {
            int64_t b = te.n - s < batch ? te.n - s : batch, c;
            if ((st = fdl_cnn_forward(&m, params, te.x + s * te.dim, te.y + s, b, ws, wsn,
                                      NULL, NULL, &c)))
                return die("evaluate", st);
            test_hits += c;
        }
        printf("epoch %d  loss %.6f  train_acc %.4f  test_acc %.4f  time %.3f s  "
               "%.0f samples/s\n", ep, loss_sum / tr.n, (double)hits / tr.n,
               te.n ? (double)test_hits / te.n : 0.0, dt, tr.n / dt);
        fflush(stdout);
    }
    if (save) {
        if ((st = fdl_cnn_save(&m, params, save))) return die(save, st);
        printf("saved %s\n", save);
    }
    free(xb); free(yb); free(perm);
    fdl_arena_destroy(&P); fdl_arena_destroy(&G); fdl_arena_destroy(&S); fdl_arena_destroy(&W);
    mnist_free(&tr);
    mnist_free(&te);
    return 0;
}
