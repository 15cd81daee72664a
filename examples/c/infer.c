/*
 * infer: run any exported model on MNIST's test set and report its accuracy.
 *
 *   infer MODEL [--data DIR] [--limit N] [--batch B]
 *
 * MODEL is a file from fastdl.export(model, path, example_input) or
 * fdl_model_save, with 784 inputs per sample and 10 class scores out. The
 * model runs in eval mode (BatchNorm uses its running statistics, Dropout
 * is off). A malformed file is an error that says what is wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fastdl.h>

#include "example_util.h"

int main(int argc, char **argv)
{
    const char *path = NULL, *data = ex_default_data();
    int64_t limit = 0, batch = 1000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-') { path = a; continue; }
        if (!v) { fprintf(stderr, "infer: %s needs a value\n", a); return 2; }
        i++;
        if (!strcmp(a, "--data")) data = v;
        else if (!strcmp(a, "--limit")) limit = atoll(v);
        else if (!strcmp(a, "--batch")) batch = atoll(v);
        else { fprintf(stderr, "infer: unknown option %s\n", a); return 2; }
    }
    if (!path || batch < 1) { fprintf(stderr, "usage: infer MODEL [--data DIR] [--limit N]\n"); return 2; }

    fdl_model *m;
    int st = fdl_model_load(path, &m);
    if (st) return ex_die("infer", path, st);
    fdl_model_train(m, 0);
    mnist_set te = {0};
    if (mnist_load(&te, data, "t10k", limit)) return 1;
    if (fdl_model_input_numel(m) != te.dim || fdl_model_output_numel(m) != 10) {
        fprintf(stderr, "infer: %s takes %lld inputs and gives %lld outputs; MNIST needs 784 "
                "and 10\n", path, (long long)fdl_model_input_numel(m),
                (long long)fdl_model_output_numel(m));
        return 1;
    }
    double loss_sum = 0;
    int64_t hits = 0;
    for (int64_t s = 0; s < te.n; s += batch) {
        int64_t b = te.n - s < batch ? te.n - s : batch, c;
        float loss;
        if ((st = fdl_model_forward(m, te.x + s * te.dim, b, NULL)) ||
            (st = fdl_model_loss(m, FDL_LOSS_CROSS_ENTROPY, te.y + s, &loss, &c, NULL)))
            return ex_die("infer", "forward", st);
        loss_sum += (double)loss * b;
        hits += c;
    }
    printf("test samples %lld  correct %lld  accuracy %.4f  loss %.6f\n", (long long)te.n,
           (long long)hits, (double)hits / te.n, loss_sum / te.n);
    fdl_model_free(m);
    mnist_free(&te);
    return 0;
}
