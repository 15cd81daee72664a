/*
 * C unit tests for libfastdl's public API: argument errors return codes
 * (and never crash), kernels agree with reference values, and safetensors
 * files round-trip while truncated or corrupt files are rejected with
 * FDL_ERR_FORMAT / FDL_ERR_IO. The model runtime has its own runner,
 * tests/c/test_model.c.
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

#define LAST_ERROR fdl_train_last_error
#include "check.h"

static void fill(float *x, int64_t n, uint64_t seed, float lo, float hi)
{
    fdl_rng_uniform_f32(x, n, seed, 0, 0, lo, hi);
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

/* Temporary files (".tmp.") left in tmpdir by an atomic save. */
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

/* Three tensors in one array, as a model's parameter arena lays them out. */
static int st_tensors(float *base, fdl_tensor_ref *t)
{
    static const char *const names[3] = {"0.weight", "0.bias", "2.weight"};
    const int64_t shapes[3][2] = {{5, 7}, {5, 1}, {3, 5}};
    const int nd[3] = {2, 1, 2};
    int64_t off = 0;
    for (int i = 0; i < 3; i++) {
        memset(&t[i], 0, sizeof t[i]);
        t[i].name = names[i];
        t[i].ndim = nd[i];
        t[i].shape[0] = shapes[i][0];
        if (nd[i] == 2) t[i].shape[1] = shapes[i][1];
        t[i].data = base + off;
        off += shapes[i][0] * shapes[i][1];
    }
    return 3;
}

static void test_safetensors_roundtrip(void)
{
    const int64_t n = 5 * 7 + 5 + 3 * 5;
    float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
    fill(a, n, 77, -1, 1);
    fdl_tensor_ref ta[3], tb[3];
    st_tensors(a, ta);
    st_tensors(b, tb);
    char path[600];
    path_in_tmp(path, sizeof path, "st.safetensors");
    CHECK_ST(fdl_safetensors_save(path, ta, 3), FDL_OK);
    CHECK_ST(fdl_safetensors_save(path, ta, 3), FDL_OK);   /* overwrite in place */
    CHECK(tmp_leftovers() == 0, "temporary files left behind");
    memset(b, 0, sizeof(float) * n);
    CHECK_ST(fdl_safetensors_load(path, tb, 3), FDL_OK);
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

    /* Strictness: another shape, an extra tensor, a missing one. */
    float *c = calloc((size_t)n + 8, sizeof(float));
    fdl_tensor_ref t[3];
    st_tensors(c, t);
    t[0].shape[0] = 6;
    CHECK_ST(fdl_safetensors_load(path, t, 3), FDL_ERR_SHAPE);
    CHECK(strstr(fdl_train_last_error(), "0.weight") != NULL, "message: %s",
          fdl_train_last_error());
    st_tensors(c, t);
    CHECK_ST(fdl_safetensors_load(path, t, 2), FDL_ERR_FORMAT);   /* 2.weight is extra */
    t[2].name = "9.bias";
    CHECK_ST(fdl_safetensors_load(path, t, 3), FDL_ERR_FORMAT);  /* 9.bias missing */
    free(c);

    /* Every truncation is an error, never a crash and never success. */
    char cut[600];
    path_in_tmp(cut, sizeof cut, "cut.safetensors");
    int ok_all = 1;
    for (size_t k = 0; k < len; k += (k < 64 ? 1 : k < hl + 16 ? 7 : 97)) {
        write_file(cut, file, k);
        int st = fdl_safetensors_load(cut, tb, 3);
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
        int st = fdl_safetensors_load(cut, tb, 3);
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

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    test_runtime();
    test_argument_errors();
    test_gemm_reference();
    test_adam_reference();
    test_rng_reduce();
    test_arena();
    test_safetensors_roundtrip();
    return check_end();
}
