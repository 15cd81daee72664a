/*
 * infer: load MLP weights saved by Python and report MNIST test accuracy.
 *
 *   infer WEIGHTS [--data DIR] [--hidden 256,128] [--limit N]
 *
 * WEIGHTS is what fastdl.save(model.state_dict(), path) writes for
 * nn.Sequential(Linear(784, 256), ReLU(), Linear(256, 128), ReLU(),
 * Linear(128, 10)) (or other --hidden sizes). The load is strict: a tensor
 * missing, extra or of another shape is an error that names it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fastdl.h>

#include "example_util.h"

int main(int argc, char **argv)
{
    const char *weights = NULL, *data = ex_default_data();
    int64_t hidden[FDL_MLP_MAX_LAYERS] = {256, 128}, limit = 0, batch = 1000;
    int nhidden = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-') { weights = a; continue; }
        if (!v) { fprintf(stderr, "infer: %s needs a value\n", a); return 2; }
        i++;
        if (!strcmp(a, "--data")) data = v;
        else if (!strcmp(a, "--limit")) limit = atoll(v);
        else if (!strcmp(a, "--hidden")) nhidden = ex_parse_sizes(v, hidden, FDL_MLP_MAX_LAYERS - 1);
        else { fprintf(stderr, "infer: unknown option %s\n", a); return 2; }
    }
    if (!weights) { fprintf(stderr, "usage: infer WEIGHTS [--data DIR] [--limit N]\n"); return 2; }

    mnist_set te = {0};
    if (mnist_load(&te, data, "t10k", limit)) return 1;
    int64_t dims[FDL_MLP_MAX_LAYERS + 1];
    dims[0] = te.dim;
    for (int i = 0; i < nhidden; i++) dims[i + 1] = hidden[i];
    dims[nhidden + 1] = 10;
    fdl_mlp m;
    int st = fdl_mlp_init(&m, nhidden + 1, dims);
    float *params = st ? NULL : malloc(sizeof(float) * fdl_mlp_num_params(&m));
    if (!st) st = fdl_mlp_load(&m, params, weights);
    if (st) {
        fprintf(stderr, "infer: %s: %s: %s\n", weights, fdl_strerror(st), fdl_train_last_error());
        return 1;
    }
    int64_t wsn = fdl_mlp_workspace_size(&m, batch);
    float *ws = malloc(sizeof(float) * wsn);
    double loss_sum = 0;
    int64_t hits = 0;
    for (int64_t s = 0; s < te.n; s += batch) {
        int64_t b = te.n - s < batch ? te.n - s : batch, c;
        float loss;
        if ((st = fdl_mlp_evaluate(&m, params, te.x + s * te.dim, te.y + s, b, ws, wsn, &loss, &c))) {
            fprintf(stderr, "infer: %s\n", fdl_strerror(st));
            return 1;
        }
        loss_sum += (double)loss * b;
        hits += c;
    }
    printf("test samples %lld  correct %lld  accuracy %.4f  loss %.6f\n", (long long)te.n,
           (long long)hits, (double)hits / te.n, loss_sum / te.n);
    free(ws);
    free(params);
    mnist_free(&te);
    return 0;
}
