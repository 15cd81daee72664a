/*
 * C unit tests for libfastdl's public API: argument errors return codes
 * (and never crash), kernels agree with reference values, the MLP and CNN
 * gradients agree with finite differences and both train, and safetensors
 * files round-trip while truncated or corrupt files are rejected with
 * FDL_ERR_FORMAT / FDL_ERR_IO.
 *
 *   test_capi TMPDIR      (files are written under TMPDIR)
 *
 * Prints one line per failed check and a summary; exit status 0 only when
 * every check passed. Built by tests/test_c_api.py, also under
 * -fsanitize=address,undefined.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastdl.h"

static int n_checks, n_failed;
static char tmpdir[512];

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        n_checks++;                                                             \
        if (!(cond)) {                                                          \
            n_failed++;                                                         \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);              \
            printf(__VA_ARGS__);                                                \
            printf("\n");                                                       \
        }                                                                       \
    } while (0)

#define CHECK_ST(expr, want)                                                    \
    do {                                                                        \
        int st_ = (expr);                                                       \
        CHECK(st_ == (want), "got %d (%s), want %d (%s); last error: %s", st_,  \
              fdl_strerror(st_), (want), fdl_strerror(want),                    \
              fdl_train_last_error());                                          \
    } while (0)

static void fill(float *x, int64_t n, uint64_t seed, float lo, float hi)
{
    fdl_rng_uniform_f32(x, n, seed, 0, 0, lo, hi);
}

static void path_in_tmp(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static int write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static unsigned char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)sz + 1);
    if (p && fread(p, 1, (size_t)sz, f) != (size_t)sz) { free(p); p = NULL; }
    fclose(f);
    *n = (size_t)sz;
    return p;
}

/* ---- runtime and status codes ------------------------------------------- */

static void test_runtime(void)
{
    const int codes[] = {FDL_OK, FDL_ERR_ARG, FDL_ERR_NULL, FDL_ERR_SHAPE, FDL_ERR_ISA,
                         FDL_ERR_WORKSPACE, FDL_ERR_IO, FDL_ERR_FORMAT, FDL_ERR_NOMEM};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        const char *s = fdl_strerror(codes[i]);
        CHECK(s && s[0], "code %d has no text", codes[i]);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(s, fdl_strerror(codes[j])) != 0, "codes %d and %d share text",
                  codes[i], codes[j]);
    }
    CHECK(fdl_strerror(-12345) != NULL, "unknown code");
    CHECK(strcmp(fdl_version(), FDL_VERSION_STRING) == 0, "version %s", fdl_version());
    CHECK(fdl_isa_from_name("nonsense") == -1, "bad ISA name accepted");
    CHECK(fdl_get_num_threads() >= 1, "threads %d", fdl_get_num_threads());
    CHECK_ST(fdl_set_isa(fdl_detected_isa()), FDL_OK);
}

/* ---- argument errors: status codes, never a crash ----------------------- */

static void test_argument_errors(void)
{
    float a[16] = {0}, b[16] = {0}, c[16] = {0};
    CHECK_ST(fdl_sgemm(0, 0, -1, 2, 2, 1.f, a, 2, b, 2, 0.f, c, 2), FDL_ERR_ARG);
    CHECK_ST(fdl_sgemm(0, 0, 2, 2, 2, 1.f, NULL, 2, b, 2, 0.f, c, 2), FDL_ERR_NULL);
    CHECK_ST(fdl_sgemm(0, 0, 2, 2, 2, 1.f, a, 2, b, 2, 0.f, NULL, 2), FDL_ERR_NULL);
    CHECK_ST(fdl_sgemm(0, 0, 2, 3, 2, 1.f, a, 1, b, 3, 0.f, c, 3), FDL_ERR_SHAPE);
    CHECK_ST(fdl_sgemm(0, 0, 2, 3, 2, 1.f, a, 2, b, 3, 0.f, c, 2), FDL_ERR_SHAPE);
    CHECK_ST(fdl_sgemm(0, 0, 0, 0, 0, 1.f, NULL, 1, NULL, 1, 0.f, NULL, 1), FDL_OK);
    CHECK_ST(fdl_adam_step_f32(a, b, c, NULL, a, -1, 1, 1e-3, .9, .999, 1e-8, 0, 0, 0, 0),
             FDL_ERR_ARG);
    CHECK_ST(fdl_adam_step_f32(a, NULL, c, NULL, a, 4, 1, 1e-3, .9, .999, 1e-8, 0, 0, 0, 0),
             FDL_ERR_NULL);
    CHECK_ST(fdl_adam_step_f32(a, b, c, NULL, a, 4, 0, 1e-3, .9, .999, 1e-8, 0, 0, 0, 0),
             FDL_ERR_ARG);
    CHECK_ST(fdl_sgd_step_f32(a, NULL, b, 4, 0.1, 0.9, 0, 0, 0, 0, 1), FDL_ERR_NULL);

    fdl_conv2d_params p = {1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1};
    float x[25] = {0}, w[9] = {0}, out[9];
    char ws[8];
    CHECK(fdl_conv2d_workspace_size(&p, 1) > 8, "conv workspace %lld",
          (long long)fdl_conv2d_workspace_size(&p, 1));
    CHECK_ST(fdl_conv2d_forward_f32(out, x, w, NULL, &p, ws, sizeof ws), FDL_ERR_WORKSPACE);
    fdl_conv2d_params bad = p;
    bad.stride_h = 0;
    CHECK_ST(fdl_conv2d_forward_f32(out, x, w, NULL, &bad, ws, sizeof ws), FDL_ERR_ARG);
    bad = p;
    bad.R = 7;
    int64_t P, Q;
    CHECK_ST(fdl_conv2d_output_size(&bad, &P, &Q), FDL_ERR_SHAPE);

    int64_t cm[4] = {0}, labels[2] = {0, 5};
    float scores[4] = {0};
    CHECK_ST(fdl_confusion_update_scores_f32(cm, NULL, 0, scores, labels, 2, 2), FDL_ERR_ARG);
    CHECK(cm[0] == 0 && cm[3] == 0, "state changed on error");

    /* training layer */
    fdl_mlp m;
    int64_t dims_bad[3] = {4, 0, 3}, dims[3] = {4, 5, 3};
    CHECK_ST(fdl_mlp_init(NULL, 2, dims), FDL_ERR_NULL);
    CHECK_ST(fdl_mlp_init(&m, 0, dims), FDL_ERR_ARG);
    CHECK_ST(fdl_mlp_init(&m, FDL_MLP_MAX_LAYERS + 1, dims), FDL_ERR_ARG);
    CHECK_ST(fdl_mlp_init(&m, 2, dims_bad), FDL_ERR_ARG);
    CHECK_ST(fdl_mlp_init(&m, 2, dims), FDL_OK);
    CHECK(fdl_mlp_num_params(&m) == 4 * 5 + 5 + 5 * 3 + 3, "nparams %lld",
          (long long)fdl_mlp_num_params(&m));
    float params[64], grads[64], xin[8] = {0}, wsbuf[512];
    int64_t y[2] = {0, 3};
    CHECK_ST(fdl_mlp_init_params(&m, params, 1), FDL_OK);
    memset(grads, 0, sizeof grads);
    float loss = -1;
    CHECK_ST(fdl_mlp_forward_backward(&m, params, grads, xin, y, 2, wsbuf, 512, &loss, NULL),
             FDL_ERR_ARG);
    CHECK(strstr(fdl_train_last_error(), "label") != NULL, "message: %s",
          fdl_train_last_error());
    int untouched = 1;
    for (int i = 0; i < 64; i++) untouched &= grads[i] == 0.0f;
    CHECK(untouched, "grads written on a label error");
    y[1] = 2;
    CHECK_ST(fdl_mlp_forward_backward(&m, params, grads, xin, y, 2, wsbuf, 3, &loss, NULL),
             FDL_ERR_WORKSPACE);
    CHECK_ST(fdl_mlp_forward_backward(&m, params, grads, xin, y, 2, NULL, 512, &loss, NULL),
             FDL_ERR_WORKSPACE);
    CHECK_ST(fdl_mlp_forward_backward(&m, params, NULL, xin, y, 2, wsbuf, 512, &loss, NULL),
             FDL_ERR_NULL);
    CHECK_ST(fdl_mlp_forward_backward(&m, params, grads, xin, NULL, 2, wsbuf, 512, &loss,
                                      NULL), FDL_ERR_NULL);
    CHECK_ST(fdl_mlp_forward_backward(&m, params, grads, xin, y, -1, wsbuf, 512, &loss, NULL),
             FDL_ERR_ARG);
    CHECK_ST(fdl_mlp_forward(&m, params, xin, 2, wsbuf, 512, NULL), FDL_ERR_NULL);
    CHECK(fdl_mlp_workspace_size(NULL, 2) == -1, "workspace of NULL");
    CHECK(fdl_mlp_workspace_size(&m, -1) == -1, "workspace of a negative batch");

    fdl_arena ar;
    CHECK_ST(fdl_arena_wrap(NULL, a, 16), FDL_ERR_NULL);
    CHECK_ST(fdl_arena_wrap(&ar, NULL, 16), FDL_ERR_NULL);
    CHECK_ST(fdl_arena_wrap(&ar, a, -1), FDL_ERR_ARG);
    CHECK_ST(fdl_arena_create(&ar, -5), FDL_ERR_ARG);
    CHECK(ar.data == NULL, "failed create left memory");
    fdl_arena_destroy(&ar);
    fdl_arena_destroy(NULL);

    fdl_adam_config cfg;
    fdl_adam_defaults(&cfg);
    CHECK_ST(fdl_adam_arena_step(&cfg, a, b, NULL, 4), FDL_ERR_NULL);
    CHECK_ST(fdl_adam_arena_step(NULL, a, b, c, 4), FDL_ERR_NULL);
    CHECK(cfg.step == 0, "step bumped on error");

    fdl_tensor_ref t = {"0.weight", 1, {4}, a};
    char path[600];
    path_in_tmp(path, sizeof path, "does/not/exist.safetensors");
    CHECK_ST(fdl_safetensors_load(path, &t, 1), FDL_ERR_IO);
    CHECK_ST(fdl_safetensors_save(path, &t, 1), FDL_ERR_IO);
    CHECK_ST(fdl_safetensors_load(NULL, &t, 1), FDL_ERR_NULL);
    CHECK_ST(fdl_safetensors_save(NULL, &t, 1), FDL_ERR_NULL);
    fdl_tensor_ref bad_name = {"a\"b", 1, {4}, a};
    path_in_tmp(path, sizeof path, "x.safetensors");
    CHECK_ST(fdl_safetensors_save(path, &bad_name, 1), FDL_ERR_ARG);
    fdl_tensor_ref dup[2] = {t, t};
    CHECK_ST(fdl_safetensors_save(path, dup, 2), FDL_ERR_ARG);
    fdl_tensor_ref neg = {"n", 1, {-3}, a};
    CHECK_ST(fdl_safetensors_save(path, &neg, 1), FDL_ERR_ARG);
    fdl_tensor_ref nd = {"n", 9, {1}, a};
    CHECK_ST(fdl_safetensors_save(path, &nd, 1), FDL_ERR_ARG);
}

/* ---- kernels against references ----------------------------------------- */

static void test_gemm_reference(void)
{
    /* Hand-computed: [[1,2],[3,4]] @ [[5,6],[7,8]] = [[19,22],[43,50]]. */
    float A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8}, C[4];
    CHECK_ST(fdl_sgemm(0, 0, 2, 2, 2, 1.f, A, 2, B, 2, 0.f, C, 2), FDL_OK);
    CHECK(C[0] == 19 && C[1] == 22 && C[2] == 43 && C[3] == 50, "%g %g %g %g", C[0], C[1],
          C[2], C[3]);
    float bias[2] = {-20, 1};
    CHECK_ST(fdl_sgemm_ex(0, 0, 2, 2, 2, 1.f, A, 2, B, 2, 0.f, C, 2, bias, FDL_ACT_RELU),
             FDL_OK);
    CHECK(C[0] == 0 && C[1] == 23 && C[2] == 23 && C[3] == 51, "%g %g %g %g", C[0], C[1],
          C[2], C[3]);

    /* Odd sizes (no multiple of any tile or vector width), every transpose,
     * against the float64 reference. */
    const int64_t M = 37, N = 53, K = 29;
    float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * K * N);
    float *c1 = malloc(sizeof(float) * M * N), *c2 = malloc(sizeof(float) * M * N);
    float bb[53];
    fill(a, M * K, 1, -1, 1);
    fill(b, K * N, 2, -1, 1);
    fill(bb, N, 3, -1, 1);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            int64_t lda = ta ? M : K, ldb = tb ? K : N;
            fill(c1, M * N, 4, -1, 1);
            memcpy(c2, c1, sizeof(float) * M * N);
            CHECK_ST(fdl_sgemm_ex(ta, tb, M, N, K, 0.5f, a, lda, b, ldb, 0.25f, c1, N, bb,
                                  FDL_ACT_RELU), FDL_OK);
            CHECK_ST(fdl_sgemm_ref(ta, tb, M, N, K, 0.5f, a, lda, b, ldb, 0.25f, c2, N, bb,
                                   FDL_ACT_RELU), FDL_OK);
            double err = 0;
            for (int64_t i = 0; i < M * N; i++) err = fmax(err, fabs(c1[i] - c2[i]));
            CHECK(err < 1e-5, "transa=%d transb=%d max error %g", ta, tb, err);
        }
    free(a); free(b); free(c1); free(c2);

    /* The packing buffers come from the scratch pool: cached after a
     * product, freed by fdl_empty_cache, allocated again by the next one. */
    CHECK(fdl_cached_bytes() > 0, "no scratch cached after a product");
    fdl_empty_cache();
    CHECK(fdl_cached_bytes() == 0, "%lld bytes still cached", (long long)fdl_cached_bytes());
    CHECK_ST(fdl_sgemm(0, 0, 2, 2, 2, 1.f, A, 2, B, 2, 0.f, C, 2), FDL_OK);
    CHECK(C[0] == 19 && C[3] == 50, "after empty_cache: %g %g", C[0], C[3]);
}

static void test_adam_reference(void)
{
    /* Two steps of Adam on 3 elements against the update written out in
     * double (PyTorch's formula). */
    float p[3] = {1.0f, -2.0f, 0.5f}, m[3] = {0}, v[3] = {0};
    const float g1[3] = {0.1f, -0.3f, 2.0f}, g2[3] = {-0.2f, 0.0f, 1.0f};
    double P[3] = {1.0, -2.0, 0.5}, Mm[3] = {0}, V[3] = {0};
    const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    for (int step = 1; step <= 2; step++) {
        const float *g = step == 1 ? g1 : g2;
        CHECK_ST(fdl_adam_step_f32(p, m, v, NULL, g, 3, step, lr, b1, b2, eps, 0, 0, 0, 0),
                 FDL_OK);
        for (int i = 0; i < 3; i++) {
            Mm[i] = b1 * Mm[i] + (1 - b1) * g[i];
            V[i] = b2 * V[i] + (1 - b2) * (double)g[i] * g[i];
            double den = sqrt(V[i]) / sqrt(1 - pow(b2, step)) + eps;
            P[i] -= lr / (1 - pow(b1, step)) * Mm[i] / den;
        }
    }
    for (int i = 0; i < 3; i++)
        CHECK(fabs(p[i] - P[i]) < 1e-6, "p[%d] = %.8f, reference %.8f", i, p[i], P[i]);

    /* The arena step equals the kernel over the same floats. */
    float q[3] = {1.0f, -2.0f, 0.5f}, st[6] = {0};
    fdl_adam_config c;
    fdl_adam_defaults(&c);
    c.lr = lr;
    CHECK(fdl_adam_state_size(&c, 3) == 6, "state size");
    CHECK_ST(fdl_adam_arena_step(&c, q, g1, st, 3), FDL_OK);
    CHECK_ST(fdl_adam_arena_step(&c, q, g2, st, 3), FDL_OK);
    CHECK(c.step == 2, "step %lld", (long long)c.step);
    CHECK(memcmp(p, q, sizeof p) == 0, "arena step differs from fdl_adam_step_f32");
}

static void test_rng_reduce(void)
{
    float a[1000], b[1000];
    fdl_rng_uniform_f32(a, 1000, 42, 7, 0, -2.0f, 3.0f);
    fdl_rng_uniform_f32(b, 1000, 42, 7, 0, -2.0f, 3.0f);
    CHECK(memcmp(a, b, sizeof a) == 0, "same key, different numbers");
    int inside = 1;
    double mean = 0;
    for (int i = 0; i < 1000; i++) {
        inside &= a[i] >= -2.0f && a[i] < 3.0f;
        mean += a[i] / 1000.0;
    }
    CHECK(inside, "uniform outside [low, high)");
    CHECK(fabs(mean - 0.5) < 0.2, "mean %g", mean);
    /* an offset continues the same stream */
    fdl_rng_uniform_f32(b, 500, 42, 7, 500, -2.0f, 3.0f);
    CHECK(memcmp(a + 500, b, 500 * sizeof(float)) == 0, "offset does not continue");

    float x[6] = {1, 2, 3, 4, 5, 6}, out[3];
    CHECK_ST(fdl_sum_f32(1, 2, 3, out, x), FDL_OK);
    CHECK(out[0] == 5 && out[1] == 7 && out[2] == 9, "%g %g %g", out[0], out[1], out[2]);
}

/* ---- arena ---------------------------------------------------------------- */

static void test_arena(void)
{
    fdl_arena a;
    CHECK_ST(fdl_arena_create(&a, 100), FDL_OK);
    CHECK(((uintptr_t)a.data & 63) == 0, "not 64-byte aligned");
    float *p = fdl_arena_take(&a, 10), *q = fdl_arena_take(&a, 70);
    CHECK(p == a.data && q == a.data + 16, "bump offsets %p %p", (void *)p, (void *)q);
    CHECK(fdl_arena_take(&a, 20) == NULL, "over capacity accepted");
    float *r = fdl_arena_take(&a, 4);   /* ends exactly at the capacity */
    CHECK(r == a.data + 96, "exact fit %p", (void *)r);
    CHECK(fdl_arena_take(&a, 1) == NULL, "full arena handed out memory");
    for (int i = 0; i < 100; i++) a.data[i] = 1.0f;
    fdl_arena_zero(&a);
    int zero = 1;
    for (int i = 0; i < 100; i++) zero &= a.data[i] == 0.0f;
    CHECK(zero, "zero");
    fdl_arena_destroy(&a);
    CHECK(a.data == NULL && a.capacity == 0, "destroy did not reset");

    float mem[32];
    CHECK_ST(fdl_arena_wrap(&a, mem, 32), FDL_OK);
    CHECK(fdl_arena_take(&a, 32) == mem, "wrapped take");
    fdl_arena_destroy(&a);   /* must not free caller memory (ASan would tell) */
    CHECK(fdl_arena_round(17) == 32 && fdl_arena_round(0) == 0, "round");
}

/* ---- MLP: gradient against finite differences, training converges ------- */

static void test_mlp_gradient(void)
{
    fdl_mlp m;
    int64_t dims[4] = {6, 9, 7, 4};
    CHECK_ST(fdl_mlp_init(&m, 3, dims), FDL_OK);
    const int64_t B = 5, n = fdl_mlp_num_params(&m);
    int64_t wsn = fdl_mlp_workspace_size(&m, B);
    float *params = malloc(sizeof(float) * n), *grads = calloc((size_t)n, sizeof(float));
    float *ws = malloc(sizeof(float) * wsn), x[30];
    int64_t y[5] = {0, 3, 1, 2, 3};
    fdl_mlp_init_params(&m, params, 9);
    fill(x, 30, 10, -2, 2);
    float loss, loss2;
    int64_t correct = -1;
    CHECK_ST(fdl_mlp_forward_backward(&m, params, grads, x, y, B, ws, wsn, &loss, &correct),
             FDL_OK);
    CHECK(correct >= 0 && correct <= B, "correct %lld", (long long)correct);
    CHECK_ST(fdl_mlp_evaluate(&m, params, x, y, B, ws, wsn, &loss2, NULL), FDL_OK);
    CHECK(loss == loss2, "evaluate %g vs forward_backward %g", loss2, loss);
    CHECK(fabsf(loss - logf(4.0f)) < 0.5f, "initial loss %g far from log(4)", loss);

    /* Central differences of the float32 loss: a step of 1e-3 keeps float
     * rounding noise near 1e-4 relative and flips almost no ReLU. */
    int bad = 0;
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        float keep = params[i], lp, lm;
        float up = keep + 1e-3f, down = keep - 1e-3f;   /* the steps float can hold */
        params[i] = up;
        fdl_mlp_evaluate(&m, params, x, y, B, ws, wsn, &lp, NULL);
        params[i] = down;
        fdl_mlp_evaluate(&m, params, x, y, B, ws, wsn, &lm, NULL);
        params[i] = keep;
        double fd = ((double)lp - lm) / ((double)up - down);
        double err = fabs(fd - grads[i]) / (1e-2 + fabs(fd));
        if (err > 5e-2) bad++;
        if (err > worst) worst = err;
    }
    CHECK(bad <= n / 100, "%d of %lld gradients disagree with finite differences (worst %g)",
          bad, (long long)n, worst);

    /* Backward accumulates: a second call doubles the gradient. */
    float *g1 = malloc(sizeof(float) * n);
    memcpy(g1, grads, sizeof(float) * n);
    fdl_mlp_forward_backward(&m, params, grads, x, y, B, ws, wsn, NULL, NULL);
    int doubled = 1;
    for (int64_t i = 0; i < n; i++) doubled &= fabsf(grads[i] - 2 * g1[i]) <= 1e-6f * (1 + fabsf(g1[i]));
    CHECK(doubled, "backward does not accumulate");

    /* forward logits equal what evaluate scores: argmax consistent */
    float logits[20];
    CHECK_ST(fdl_mlp_forward(&m, params, x, B, ws, wsn, logits), FDL_OK);
    double l = 0;
    for (int i = 0; i < B; i++) {
        double mx = -INFINITY, s = 0;
        for (int j = 0; j < 4; j++) mx = fmax(mx, logits[i * 4 + j]);
        for (int j = 0; j < 4; j++) s += exp(logits[i * 4 + j] - mx);
        l += mx + log(s) - logits[i * 4 + y[i]];
    }
    CHECK(fabs(l / B - loss) < 1e-5, "loss from logits %g vs %g", l / B, loss);
    free(params); free(grads); free(ws); free(g1);
}

static void test_mlp_trains(void)
{
    /* Two Gaussian blobs per class in 8-D; Adam must fit them. */
    fdl_mlp m;
    int64_t dims[3] = {8, 16, 3};
    fdl_mlp_init(&m, 2, dims);
    const int64_t B = 60;
    float x[60 * 8];
    int64_t y[60];
    fill(x, 60 * 8, 21, -0.5f, 0.5f);
    for (int i = 0; i < B; i++) {
        y[i] = i % 3;
        x[i * 8 + y[i]] += 2.0f;
    }
    fdl_arena P, G, S;
    int64_t n = fdl_mlp_num_params(&m);
    fdl_adam_config c;
    fdl_adam_defaults(&c);
    c.lr = 0.05;
    CHECK_ST(fdl_arena_create(&P, n), FDL_OK);
    CHECK_ST(fdl_arena_create(&G, n), FDL_OK);
    CHECK_ST(fdl_arena_create(&S, fdl_adam_state_size(&c, n)), FDL_OK);
    float *params = fdl_arena_take(&P, n), *grads = fdl_arena_take(&G, n);
    float *state = fdl_arena_take(&S, fdl_adam_state_size(&c, n));
    int64_t wsn = fdl_mlp_workspace_size(&m, B);
    float *ws = malloc(sizeof(float) * wsn);
    fdl_mlp_init_params(&m, params, 5);
    float first = 0, loss = 0;
    int64_t correct = 0;
    for (int it = 0; it < 100; it++) {
        fdl_arena_zero(&G);
        fdl_mlp_forward_backward(&m, params, grads, x, y, B, ws, wsn, &loss, &correct);
        if (it == 0) first = loss;
        fdl_adam_arena_step(&c, params, grads, state, n);
    }
    CHECK(loss < 0.1f * first, "loss %g after 100 steps, first %g", loss, first);
    CHECK(correct == B, "correct %lld of %lld", (long long)correct, (long long)B);
    free(ws);
    fdl_arena_destroy(&P); fdl_arena_destroy(&G); fdl_arena_destroy(&S);
}

/* ---- safetensors ---------------------------------------------------------- */

static int tmp_leftovers(void)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) n++;
    if (d) closedir(d);
    return n;
}

static void test_safetensors_roundtrip(void)
{
    fdl_mlp m;
    int64_t dims[4] = {7, 5, 4, 3};
    fdl_mlp_init(&m, 3, dims);
    int64_t n = fdl_mlp_num_params(&m);
    float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
    fdl_mlp_init_params(&m, a, 77);
    char path[600];
    path_in_tmp(path, sizeof path, "mlp.safetensors");
    CHECK_ST(fdl_mlp_save(&m, a, path), FDL_OK);
    CHECK_ST(fdl_mlp_save(&m, a, path), FDL_OK);   /* overwrite in place */
    CHECK(tmp_leftovers() == 0, "temporary files left behind");
    memset(b, 0, sizeof(float) * n);
    CHECK_ST(fdl_mlp_load(&m, b, path), FDL_OK);
    CHECK(memcmp(a, b, sizeof(float) * n) == 0, "round trip changed the weights");

    size_t len;
    unsigned char *file = read_file(path, &len);
    CHECK(file != NULL && len > 8, "cannot read back");
    if (!file) return;
    uint64_t hl = 0;
    memcpy(&hl, file, 8);
    CHECK((8 + hl) % 8 == 0, "header not padded to 8 bytes");
    CHECK(len == 8 + hl + sizeof(float) * n, "file size %zu", len);
    CHECK(file[8] == '{' && strstr((char *)file + 8, "\"__metadata__\"") != NULL,
          "header lacks metadata");

    /* Strictness: another architecture's tensors do not load. */
    fdl_mlp other;
    int64_t dims2[4] = {7, 6, 4, 3}, dims3[3] = {7, 5, 3};
    fdl_mlp_init(&other, 3, dims2);
    float *c = malloc(sizeof(float) * fdl_mlp_num_params(&other));
    CHECK_ST(fdl_mlp_load(&other, c, path), FDL_ERR_SHAPE);
    CHECK(strstr(fdl_train_last_error(), "0.weight") != NULL, "message: %s",
          fdl_train_last_error());
    fdl_mlp_init(&other, 2, dims3);
    CHECK_ST(fdl_mlp_load(&other, c, path), FDL_ERR_FORMAT);   /* 4.* are extra */
    fdl_tensor_ref t[6];
    fdl_mlp_tensors(&m, c, t);
    t[5].name = "9.bias";
    CHECK_ST(fdl_safetensors_load(path, t, 6), FDL_ERR_FORMAT);  /* 9.bias missing */
    free(c);

    /* Every truncation is an error, never a crash and never success. */
    char cut[600];
    path_in_tmp(cut, sizeof cut, "cut.safetensors");
    int ok_all = 1;
    for (size_t k = 0; k < len; k += (k < 64 ? 1 : k < hl + 16 ? 7 : 97)) {
        write_file(cut, file, k);
        int st = fdl_mlp_load(&m, b, cut);
        if (st != FDL_ERR_FORMAT && st != FDL_ERR_IO) {
            ok_all = 0;
            printf("  truncated to %zu bytes: status %d\n", k, st);
            break;
        }
    }
    CHECK(ok_all, "a truncated file was not rejected");

    /* Random byte corruption: any status, but no crash (ASan checks reads). */
    unsigned char *mut = malloc(len);
    uint64_t s = 12345;
    int accepted_bad_len = 0;
    for (int trial = 0; trial < 400; trial++) {
        memcpy(mut, file, len);
        for (int j = 0; j < 3; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t pos = (size_t)((s >> 33) % (8 + hl));
            mut[pos] = (unsigned char)(s >> 20);
        }
        write_file(cut, mut, len);
        int st = fdl_mlp_load(&m, b, cut);
        if (st == FDL_OK) {
            uint64_t hl2;
            memcpy(&hl2, mut, 8);
            accepted_bad_len += hl2 != hl;
        }
    }
    CHECK(accepted_bad_len == 0, "accepted %d files with a corrupt header length",
          accepted_bad_len);
    free(mut);

    /* Hand-written headers: wrong dtype, out-of-range offsets, overlaps into
     * the header, huge length, not JSON. */
    struct { const char *hdr; size_t data; int want; } cases[] = {
        {"{\"w\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}", 16, FDL_ERR_FORMAT},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, FDL_ERR_FORMAT},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, FDL_ERR_FORMAT},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", 12, FDL_ERR_FORMAT},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,99999999999999999999]}}", 8,
         FDL_ERR_FORMAT},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", 12, FDL_ERR_SHAPE},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8,
         FDL_ERR_FORMAT},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, FDL_ERR_FORMAT},
        {"[1,2]", 8, FDL_ERR_FORMAT},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} x", 8, FDL_ERR_FORMAT},
        {"{\"__metadata__\":{\"a\":\"b\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2],"
         "\"data_offsets\":[0,8]}}", 8, FDL_OK},
        {"{\"w\" : { \"shape\" : [ 2 ] , \"data_offsets\":[0,8], \"dtype\":\"F\\u0033\\u0032\"}}  ",
         8, FDL_OK},
    };
    float w[2];
    fdl_tensor_ref tw = {"w", 1, {2}, w};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t h = strlen(cases[i].hdr);
        size_t total = 8 + h + cases[i].data;
        unsigned char *buf = calloc(1, total);
        uint64_t h64 = h;
        memcpy(buf, &h64, 8);
        memcpy(buf + 8, cases[i].hdr, h);
        float vals[4] = {1.5f, -2.5f, 0, 0};
        memcpy(buf + 8 + h, vals, cases[i].data < 16 ? cases[i].data : 16);
        write_file(cut, buf, total);
        w[0] = w[1] = 0;
        int st = fdl_safetensors_load(cut, &tw, 1);
        CHECK(st == cases[i].want, "case %zu: status %d want %d (%s)", i, st, cases[i].want,
              fdl_train_last_error());
        if (cases[i].want == FDL_OK) CHECK(w[0] == 1.5f && w[1] == -2.5f, "case %zu data", i);
        free(buf);
    }
    unsigned char huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'};
    write_file(cut, huge, sizeof huge);
    CHECK_ST(fdl_safetensors_load(cut, &tw, 1), FDL_ERR_FORMAT);
    free(file); free(a); free(b);
}

/* ---- CNN ------------------------------------------------------------------ */

static void test_cnn_errors(void)
{
    fdl_cnn m;
    CHECK_ST(fdl_cnn_init(NULL, 2, 3, 4), FDL_ERR_NULL);
    CHECK_ST(fdl_cnn_init(&m, 0, 3, 4), FDL_ERR_ARG);
    CHECK_ST(fdl_cnn_init(&m, 2, 3, -1), FDL_ERR_ARG);
    CHECK_ST(fdl_cnn_init(&m, FDL_CNN_DEFAULT_C1, FDL_CNN_DEFAULT_C2, FDL_CNN_DEFAULT_HIDDEN),
             FDL_OK);
    /* the benchmark network's parameter count (as PyTorch counts it) */
    CHECK(fdl_cnn_num_params(&m) == 32 * 9 + 32 + 64 * 32 * 9 + 64 + 128 * 3136 + 128 +
                                        10 * 128 + 10,
          "nparams %lld", (long long)fdl_cnn_num_params(&m));
    CHECK_ST(fdl_cnn_init(&m, 2, 3, 4), FDL_OK);
    CHECK(fdl_cnn_workspace_size(NULL, 2) == -1, "workspace of NULL");
    CHECK(fdl_cnn_workspace_size(&m, -1) == -1, "workspace of a negative batch");
    int64_t n = fdl_cnn_num_params(&m), wsn = fdl_cnn_workspace_size(&m, 2);
    CHECK(wsn > 2 * 2 * 784, "workspace %lld", (long long)wsn);
    float *params = malloc(sizeof(float) * n), *grads = calloc((size_t)n, sizeof(float));
    float *ws = malloc(sizeof(float) * wsn), x[2 * 784], loss = -1;
    fill(x, 2 * 784, 3, 0, 1);
    CHECK_ST(fdl_cnn_init_params(&m, params, 1), FDL_OK);
    int64_t y[2] = {1, 10};
    CHECK_ST(fdl_cnn_forward(&m, params, x, y, 2, ws, wsn, NULL, &loss, NULL), FDL_ERR_ARG);
    CHECK(strstr(fdl_train_last_error(), "label") != NULL, "message: %s",
          fdl_train_last_error());
    CHECK_ST(fdl_cnn_backward(&m, params, grads, x, y, 2, ws, wsn), FDL_ERR_ARG);
    int untouched = 1;
    for (int64_t i = 0; i < n; i++) untouched &= grads[i] == 0;
    CHECK(untouched, "grads written on a label error");
    y[1] = 9;
    CHECK_ST(fdl_cnn_forward(&m, params, x, y, 2, ws, wsn - 1, NULL, &loss, NULL),
             FDL_ERR_WORKSPACE);
    CHECK_ST(fdl_cnn_forward(&m, params, x, y, 2, NULL, wsn, NULL, &loss, NULL),
             FDL_ERR_WORKSPACE);
    CHECK_ST(fdl_cnn_forward(&m, params, NULL, y, 2, ws, wsn, NULL, &loss, NULL), FDL_ERR_NULL);
    CHECK_ST(fdl_cnn_forward(&m, params, x, y, 2, ws + 1, wsn - 1, NULL, &loss, NULL),
             FDL_ERR_ARG);
    CHECK_ST(fdl_cnn_forward(&m, params, x, y, -1, ws, wsn, NULL, &loss, NULL), FDL_ERR_ARG);
    CHECK_ST(fdl_cnn_backward(&m, params, NULL, x, y, 2, ws, wsn), FDL_ERR_NULL);
    CHECK_ST(fdl_cnn_backward(&m, params, grads, x, NULL, 2, ws, wsn), FDL_ERR_NULL);
    /* an empty batch is fine and has loss 0 */
    CHECK_ST(fdl_cnn_forward(&m, params, NULL, NULL, 0, ws, wsn, NULL, NULL, NULL), FDL_OK);
    /* a smaller batch fits a workspace sized for a larger one */
    CHECK_ST(fdl_cnn_forward(&m, params, x, y, 1, ws, wsn, NULL, &loss, NULL), FDL_OK);
    free(params); free(grads); free(ws);
}

/* Mean cross-entropy of the CNN at params, summed in double from the
 * logits so that the loss itself adds no float32 rounding to a finite
 * difference. */
static double cnn_loss(const fdl_cnn *m, const float *params, const float *x, const int64_t *y,
                       int64_t B, float *ws, int64_t wsn)
{
    float z[4 * 10];
    if (B > 4 || fdl_cnn_forward(m, params, x, NULL, B, ws, wsn, z, NULL, NULL) != FDL_OK)
        return NAN;
    double l = 0;
    for (int64_t i = 0; i < B; i++) {
        double mx = -INFINITY, s = 0;
        for (int j = 0; j < 10; j++) mx = fmax(mx, z[i * 10 + j]);
        for (int j = 0; j < 10; j++) s += exp((double)z[i * 10 + j] - mx);
        l += mx + log(s) - z[i * 10 + y[i]];
    }
    return l / (double)B;
}

static void test_cnn_gradient(void)
{
    fdl_cnn m;
    CHECK_ST(fdl_cnn_init(&m, 2, 3, 8), FDL_OK);
    const int64_t B = 2, n = fdl_cnn_num_params(&m), wsn = fdl_cnn_workspace_size(&m, B);
    float *params = malloc(sizeof(float) * n), *grads = calloc((size_t)n, sizeof(float));
    float *ws = malloc(sizeof(float) * wsn), *x = malloc(sizeof(float) * B * 784);
    int64_t y[2] = {3, 7}, correct = -1;
    CHECK_ST(fdl_cnn_init_params(&m, params, 11), FDL_OK);
    fill(x, B * 784, 12, -1, 1);
    float loss = -1, logits[20];
    CHECK_ST(fdl_cnn_forward(&m, params, x, y, B, ws, wsn, logits, &loss, &correct), FDL_OK);
    CHECK(correct >= 0 && correct <= B, "correct %lld", (long long)correct);
    CHECK(fabsf(loss - logf(10.0f)) < 0.5f, "initial loss %g far from log(10)", loss);
    double l = 0;
    for (int i = 0; i < B; i++) {
        double mx = -INFINITY, s = 0;
        for (int j = 0; j < 10; j++) mx = fmax(mx, logits[i * 10 + j]);
        for (int j = 0; j < 10; j++) s += exp(logits[i * 10 + j] - mx);
        l += mx + log(s) - logits[i * 10 + y[i]];
    }
    CHECK(fabs(l / B - loss) < 1e-5, "loss from logits %g vs %g", l / B, loss);
    CHECK_ST(fdl_cnn_backward(&m, params, grads, x, y, B, ws, wsn), FDL_OK);

    /* Central differences on every parameter, of a loss summed in double
     * from the float32 logits. The step is small because a conv weight
     * touches every pixel: at 1e-3 several ReLUs or pooling argmaxes flip
     * inside the step and FD misses by ~10% (measured; the FD value
     * converges to the analytic one as the step shrinks to 1e-4). At
     * 2.5e-4 the logits' rounding stays near 1e-5 absolute. */
    int bad = 0, bad_tensor[8] = {0};
    double worst = 0;
    int64_t offs[9] = {m.w_off[0], m.b_off[0], m.w_off[1], m.b_off[1], m.w_off[2], m.b_off[2],
                       m.w_off[3], m.b_off[3], n};
    for (int k = 0; k < 8; k++) {
        for (int64_t i = offs[k]; i < offs[k + 1]; i++) {
            float keep = params[i];
            float up = keep + 2.5e-4f, down = keep - 2.5e-4f;
            params[i] = up;
            double lp = cnn_loss(&m, params, x, y, B, ws, wsn);
            params[i] = down;
            double lm = cnn_loss(&m, params, x, y, B, ws, wsn);
            params[i] = keep;
            double fd = (lp - lm) / ((double)up - down);
            double err = fabs(fd - grads[i]) / (1e-2 + fabs(fd));
            if (err > 5e-2) { bad++; bad_tensor[k]++; }
            if (err > worst) worst = err;
        }
        /* every tensor is checked on its own, so a wrong bias cannot hide
         * behind the many correct weights of the first Linear */
        CHECK(bad_tensor[k] <= (offs[k + 1] - offs[k]) / 100,
              "tensor %d: %d of %lld gradients disagree with finite differences", k,
              bad_tensor[k], (long long)(offs[k + 1] - offs[k]));
    }
    CHECK(bad <= n / 100, "%d of %lld gradients disagree (worst %g)", bad, (long long)n, worst);

    /* Backward accumulates: a second forward + backward doubles the gradient. */
    float *g1 = malloc(sizeof(float) * n);
    memcpy(g1, grads, sizeof(float) * n);
    fdl_cnn_forward(&m, params, x, y, B, ws, wsn, NULL, NULL, NULL);
    fdl_cnn_backward(&m, params, grads, x, y, B, ws, wsn);
    int doubled = 1;
    for (int64_t i = 0; i < n; i++)
        doubled &= fabsf(grads[i] - 2 * g1[i]) <= 1e-6f * (1 + fabsf(g1[i]));
    CHECK(doubled, "backward does not accumulate");
    free(params); free(grads); free(ws); free(x); free(g1);
}

/* A few optimizer steps on 8 synthetic images (a bright square whose
 * position is the class) must drive the loss down, with SGD and Adam. */
static void test_cnn_trains(void)
{
    fdl_cnn m;
    fdl_cnn_init(&m, 4, 4, 16);
    const int64_t B = 8, n = fdl_cnn_num_params(&m);
    float *x = calloc((size_t)(B * 784), sizeof(float));
    int64_t y[8];
    for (int i = 0; i < B; i++) {
        y[i] = i % 4;
        int r0 = 4 + 12 * (y[i] / 2), c0 = 4 + 12 * (y[i] % 2);
        for (int r = r0; r < r0 + 8; r++)
            for (int c = c0; c < c0 + 8; c++) x[i * 784 + r * 28 + c] = 1.0f;
    }
    fdl_arena P, G, S, W;
    fdl_adam_config c;
    fdl_adam_defaults(&c);
    c.lr = 0.01;
    int64_t wsn = fdl_cnn_workspace_size(&m, B);
    CHECK_ST(fdl_arena_create(&P, n), FDL_OK);
    CHECK_ST(fdl_arena_create(&G, n), FDL_OK);
    CHECK_ST(fdl_arena_create(&S, fdl_adam_state_size(&c, n)), FDL_OK);
    CHECK_ST(fdl_arena_create(&W, wsn), FDL_OK);
    float *params = fdl_arena_take(&P, n), *grads = fdl_arena_take(&G, n);
    float *state = fdl_arena_take(&S, fdl_adam_state_size(&c, n));
    float *ws = fdl_arena_take(&W, wsn);
    for (int opt = 0; opt < 2; opt++) {
        fdl_cnn_init_params(&m, params, 4);
        memset(state, 0, sizeof(float) * (size_t)fdl_adam_state_size(&c, n));
        c.step = 0;
        float first = 0, loss = 0;
        int64_t correct = 0;
        for (int it = 0; it < 30; it++) {
            fdl_arena_zero(&G);
            CHECK_ST(fdl_cnn_forward(&m, params, x, y, B, ws, wsn, NULL, &loss, &correct),
                     FDL_OK);
            CHECK_ST(fdl_cnn_backward(&m, params, grads, x, y, B, ws, wsn), FDL_OK);
            if (it == 0) first = loss;
            if (opt == 0)
                fdl_sgd_arena_step(params, grads, state, n, 0.1, 0.9, 0.0, 0, it == 0);
            else
                fdl_adam_arena_step(&c, params, grads, state, n);
        }
        fdl_cnn_forward(&m, params, x, y, B, ws, wsn, NULL, &loss, &correct);
        CHECK(loss < 0.2f * first, "%s: loss %g after 30 steps, first %g",
              opt ? "adam" : "sgd", loss, first);
        CHECK(correct == B, "%s: correct %lld of %lld", opt ? "adam" : "sgd",
              (long long)correct, (long long)B);
    }
    fdl_arena_destroy(&P); fdl_arena_destroy(&G); fdl_arena_destroy(&S);
    fdl_arena_destroy(&W);
    free(x);
}

static void test_cnn_safetensors(void)
{
    fdl_cnn m, other;
    fdl_cnn_init(&m, 3, 5, 7);
    int64_t n = fdl_cnn_num_params(&m);
    float *a = malloc(sizeof(float) * n), *b = calloc((size_t)n, sizeof(float));
    fdl_cnn_init_params(&m, a, 8);
    fdl_tensor_ref t[FDL_CNN_NTENSORS];
    CHECK(fdl_cnn_tensors(&m, a, t) == FDL_CNN_NTENSORS, "tensor count");
    const char *names[8] = {"0.weight", "0.bias", "3.weight", "3.bias",
                            "7.weight", "7.bias", "9.weight", "9.bias"};
    int64_t total = 0;
    for (int i = 0; i < 8; i++) {
        CHECK(strcmp(t[i].name, names[i]) == 0, "name %d: %s", i, t[i].name);
        int64_t sz = 1;
        for (int d = 0; d < t[i].ndim; d++) sz *= t[i].shape[d];
        CHECK(t[i].data == a + total, "tensor %d is not packed in order", i);
        total += sz;
    }
    CHECK(total == n, "tensors cover %lld of %lld floats", (long long)total, (long long)n);
    CHECK(t[2].ndim == 4 && t[2].shape[0] == 5 && t[2].shape[1] == 3 && t[2].shape[2] == 3,
          "3.weight shape");
    CHECK(t[4].ndim == 2 && t[4].shape[0] == 7 && t[4].shape[1] == 5 * 49, "7.weight shape");
    char path[600];
    path_in_tmp(path, sizeof path, "cnn.safetensors");
    CHECK_ST(fdl_cnn_save(&m, a, path), FDL_OK);
    CHECK_ST(fdl_cnn_load(&m, b, path), FDL_OK);
    CHECK(memcmp(a, b, sizeof(float) * n) == 0, "round trip changed the weights");
    fdl_cnn_init(&other, 3, 6, 7);
    float *c = malloc(sizeof(float) * fdl_cnn_num_params(&other));
    CHECK_ST(fdl_cnn_load(&other, c, path), FDL_ERR_SHAPE);
    CHECK(strstr(fdl_train_last_error(), "3.weight") != NULL, "message: %s",
          fdl_train_last_error());
    /* an MLP file is not a CNN file */
    fdl_mlp mm;
    int64_t dims[3] = {4, 3, 2};
    fdl_mlp_init(&mm, 2, dims);
    float mp[4 * 3 + 3 + 3 * 2 + 2];
    fdl_mlp_init_params(&mm, mp, 1);
    CHECK_ST(fdl_mlp_save(&mm, mp, path), FDL_OK);
    CHECK_ST(fdl_cnn_load(&m, b, path), FDL_ERR_FORMAT);
    free(a); free(b); free(c);
}

int main(int argc, char **argv)
{
    snprintf(tmpdir, sizeof tmpdir, "%s", argc > 1 ? argv[1] : ".");
    test_runtime();
    test_argument_errors();
    test_gemm_reference();
    test_adam_reference();
    test_rng_reduce();
    test_arena();
    test_mlp_gradient();
    test_mlp_trains();
    test_safetensors_roundtrip();
    test_cnn_errors();
    test_cnn_gradient();
    test_cnn_trains();
    test_cnn_safetensors();
    printf("%s: %d checks, %d failed (isa %s, %d threads)\n", n_failed ? "FAILED" : "OK",
           n_checks, n_failed, fdl_isa_name(fdl_active_isa()), fdl_get_num_threads());
    return n_failed ? 1 : 0;
}
