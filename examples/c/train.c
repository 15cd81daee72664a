/*
 * train: train any model file on MNIST from C alone with libfastdl.
 *
 *   train MODEL [--data DIR] [--epochs N] [--batch B] [--opt sgd|adam|adamw]
 *         [--lr LR] [--momentum M] [--limit N] [--test-limit N] [--no-shuffle]
 *         [--seed S] [--save FILE] [--threads T]
 *
 * MODEL is a file written by fastdl.export(model, path, example_input) or by
 * fdl_model_save: the architecture (any nn.Sequential of the layers in
 * fastdl/model.h) and its weights. Its input must hold 784 values per sample
 * ([784] or [1, 28, 28]) and its output 10 class scores; the loss is
 * softmax cross-entropy. Default optimizer: Adam lr 1e-3 (SGD: lr 0.05,
 * momentum 0.9). Per epoch it prints the mean training loss, training and
 * test accuracy, the epoch's training time and samples/s; --save writes the
 * trained model (fastdl.load_model reads it back).
 *
 * --data defaults to $FASTDL_DATA, else fastdl's MNIST cache. Batches: with
 * --no-shuffle they are rows [0, B), [B, 2B), ... (the last one shorter).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fastdl.h>

#include "example_util.h"

static int die(const char *what, int st) { return ex_die("train", what, st); }

int main(int argc, char **argv)
{
    const char *model_path = NULL, *data = ex_default_data(), *save = NULL, *optname = "adam";
    int epochs = 3, shuffle = 1, threads = 0;
    int64_t batch = 128, limit = 0, test_limit = 0;
    double lr = -1, momentum = 0.9;
    uint64_t seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-') { model_path = a; continue; }
        if (!strcmp(a, "--no-shuffle")) { shuffle = 0; continue; }
        if (!v) { fprintf(stderr, "train: %s needs a value\n", a); return 2; }
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
        else if (!strcmp(a, "--save")) save = v;
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else { fprintf(stderr, "train: unknown option %s\n", a); return 2; }
    }
    if (!model_path) { fprintf(stderr, "usage: train MODEL [--data DIR] [options]\n"); return 2; }
    if (batch < 1 || epochs < 0) { fprintf(stderr, "train: bad --batch/--epochs\n"); return 2; }
    if (threads > 0) fdl_set_num_threads(threads);

    fdl_optim opt;
    if (!strcmp(optname, "sgd")) {
        fdl_optim_init(&opt, FDL_OPTIM_SGD, lr > 0 ? lr : 0.05);
        opt.momentum = momentum;
    } else if (!strcmp(optname, "adam") || !strcmp(optname, "adamw")) {
        fdl_optim_init(&opt, optname[4] ? FDL_OPTIM_ADAMW : FDL_OPTIM_ADAM, lr > 0 ? lr : 1e-3);
    } else {
        fprintf(stderr, "train: --opt must be sgd, adam or adamw\n");
        return 2;
    }

    fdl_model *m;
    int st = fdl_model_load(model_path, &m);
    if (st) return die(model_path, st);
    fdl_model_manual_seed(m, seed, 0);
    mnist_set tr = {0}, te = {0};
    if (mnist_load(&tr, data, "train", limit) || mnist_load(&te, data, "t10k", test_limit))
        return 1;
    if (fdl_model_input_numel(m) != tr.dim || fdl_model_output_numel(m) != 10) {
        fprintf(stderr, "train: %s takes %lld inputs and gives %lld outputs; MNIST needs 784 "
                "and 10\n", model_path, (long long)fdl_model_input_numel(m),
                (long long)fdl_model_output_numel(m));
        return 1;
    }

    float *xb = malloc(sizeof(float) * batch * tr.dim);
    int64_t *yb = malloc(sizeof(int64_t) * batch), *perm = malloc(sizeof(int64_t) * tr.n);
    printf("train: %s, %d layers, %lld parameters; %lld train / %lld test samples, batch %lld, "
           "%s lr %g, isa %s, %d threads\n", model_path, fdl_model_num_layers(m),
           (long long)fdl_model_num_params(m), (long long)tr.n, (long long)te.n,
           (long long)batch, optname, opt.lr, fdl_isa_name(fdl_active_isa()),
           fdl_get_num_threads());

    for (int ep = 1; ep <= epochs; ep++) {
        if (shuffle) fdl_rng_permutation(perm, tr.n, seed, (uint64_t)ep);
        double t0 = ex_now(), loss_sum = 0;
        int64_t hits = 0;
        for (int64_t s = 0; s < tr.n; s += batch) {
            int64_t b = tr.n - s < batch ? tr.n - s : batch, correct;
            const float *x;
            const int64_t *y;
            ex_batch(&tr, shuffle ? perm : NULL, s, b, xb, yb, &x, &y);
            float loss;
            if ((st = fdl_model_train_step(m, x, y, b, FDL_LOSS_CROSS_ENTROPY, &opt, &loss,
                                           &correct)))
                return die("train_step", st);
            loss_sum += (double)loss * b;
            hits += correct;
        }
        double dt = ex_now() - t0;

        fdl_model_train(m, 0);
        int64_t test_hits = 0;
        for (int64_t s = 0; s < te.n; s += batch) {
            int64_t b = te.n - s < batch ? te.n - s : batch, c;
            if ((st = fdl_model_forward(m, te.x + s * te.dim, b, NULL)) ||
                (st = fdl_model_loss(m, FDL_LOSS_CROSS_ENTROPY, te.y + s, NULL, &c, NULL)))
                return die("evaluate", st);
            test_hits += c;
        }
        fdl_model_train(m, 1);
        printf("epoch %d  loss %.6f  train_acc %.4f  test_acc %.4f  time %.3f s  "
               "%.0f samples/s\n", ep, loss_sum / tr.n, (double)hits / tr.n,
               te.n ? (double)test_hits / te.n : 0.0, dt, tr.n / dt);
        fflush(stdout);
    }
    if (save) {
        if ((st = fdl_model_save(m, save))) return die(save, st);
        printf("saved %s\n", save);
    }
    free(xb); free(yb); free(perm);
    fdl_model_free(m);
    mnist_free(&tr);
    mnist_free(&te);
    return 0;
}
