/*
 * CNN forward/backward: the MNIST benchmark network
 *   nn.Sequential(Conv2d(1, C1, 3, padding=1), ReLU(), MaxPool2d(2),
 *                 Conv2d(C1, C2, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(),
 *                 Linear(F, Hd), ReLU(), Linear(Hd, K)) + nn.CrossEntropyLoss()
 * built from fdl_conv2d_*, fdl_max_pool2d_*_f32, fdl_relu_forward_f32 and
 * the GEMM (fused bias + ReLU epilogue), as mlp.c is.
 *
 * Legend: B batch, C1/C2 conv channels, Hd hidden units, K = 10 classes,
 * F = C2 * 7 * 7. Module indices (0, 3, 7, 9) are the state-dict prefixes.
 *   x  [B, 1, 28, 28]
 *   r1 [B, C1, 28, 28]  relu(conv0(x))        saved: ReLU mask, pool input
 *   p1 [B, C1, 14, 14]  maxpool(r1), i1        saved: conv3 input, argmax
 *   r2 [B, C2, 14, 14]  relu(conv3(p1))
 *   p2 [B, C2, 7, 7]    maxpool(r2), i2        read as [B, F]: NCHW flattens
 *                                              in PyTorch's (c, h, w) order
 *   h  [B, Hd]          relu(p2 W7^T + b7)
 *   z  [B, K]           h W9^T + b9
 *
 * ReLU is applied in place and its mask is read back from the saved
 * post-ReLU output (r > 0 iff its input > 0), as in mlp.c, so no
 * pre-activation is stored. Backward walks the layers with two ping-pong
 * gradient buffers sized for the largest activation (r1); the pooling and
 * convolution backward kernels add (+=), so their destination is zeroed
 * first.
 *
 * Workspace (floats, each piece rounded to 16): r1, p1, i1 (int64, two
 * floats each), r2, p2, i2, h, z, two gradient buffers, a bias-sum row and
 * the convolutions' shared workspace.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fastdl.h"
#include "train_internal.h"

#define CNN_IN 28
#define CNN_S1 14       /* after the first pool */
#define CNN_S2 7        /* after the second pool */
#define CNN_CLASSES 10

int fdl_cnn_init(fdl_cnn *m, int64_t c1, int64_t c2, int64_t hidden)
{
    if (!m) return FDL_ERR_NULL;
    /* The bound keeps every product below (B x largest tensor) far from
     * int64 overflow. */
    const int64_t lim = (int64_t)1 << 20;
    if (c1 < 1 || c2 < 1 || hidden < 1 || c1 > lim || c2 > lim || hidden > lim)
        return fdl__fail(FDL_ERR_ARG, "fdl_cnn_init: sizes must be in [1, %lld], got c1 %lld "
                         "c2 %lld hidden %lld", (long long)lim, (long long)c1, (long long)c2,
                         (long long)hidden);
    memset(m, 0, sizeof *m);
    m->c1 = c1;
    m->c2 = c2;
    m->hidden = hidden;
    m->classes = CNN_CLASSES;
    m->in_h = m->in_w = CNN_IN;
    m->flat = c2 * CNN_S2 * CNN_S2;
    const int64_t wsz[4] = {c1 * 9, c2 * c1 * 9, hidden * m->flat, CNN_CLASSES * hidden};
    const int64_t bsz[4] = {c1, c2, hidden, CNN_CLASSES};
    /* Packed in state-dict order with no padding: the params array is the
     * concatenation of the safetensors tensors. */
    int64_t off = 0;
    for (int l = 0; l < 4; l++) {
        m->w_off[l] = off;
        off += wsz[l];
        m->b_off[l] = off;
        off += bsz[l];
    }
    m->nparams = off;
    return FDL_OK;
}

int64_t fdl_cnn_num_params(const fdl_cnn *m)
{
    return m ? m->nparams : -1;
}

static int valid(const fdl_cnn *m)
{
    return m && m->c1 >= 1 && m->c2 >= 1 && m->hidden >= 1 && m->classes == CNN_CLASSES &&
           m->in_h == CNN_IN && m->in_w == CNN_IN && m->nparams > 0;
}

/* Stride 1, padding 1, 3x3: spatial size is kept. */
static fdl_conv2d_params conv_params(int64_t B, int64_t C, int64_t K, int64_t S)
{
    fdl_conv2d_params p = {.N = B, .C = C, .H = S, .W = S, .K = K, .R = 3, .S = 3,
                           .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1,
                           .dil_h = 1, .dil_w = 1, .groups = 1};
    return p;
}

static int64_t conv_ws_floats(const fdl_cnn *m, int64_t B)
{
    fdl_conv2d_params a = conv_params(B, 1, m->c1, CNN_IN);
    fdl_conv2d_params b = conv_params(B, m->c1, m->c2, CNN_S1);
    int nt = fdl_get_num_threads();
    int64_t x = fdl_conv2d_workspace_size(&a, nt), y = fdl_conv2d_workspace_size(&b, nt);
    if (x < 0 || y < 0) return -1;
    int64_t bytes = x > y ? x : y;
    return (bytes + (int64_t)sizeof(float) - 1) / (int64_t)sizeof(float);
}

static int64_t grad_floats(const fdl_cnn *m, int64_t B)
{
    int64_t n = B * m->c1 * CNN_IN * CNN_IN;
    const int64_t others[4] = {B * m->c2 * CNN_S1 * CNN_S1, B * m->flat, B * m->hidden,
                               B * m->classes};
    for (int i = 0; i < 4; i++)
        if (others[i] > n) n = others[i];
    return n;
}

/* Pointers to the pieces of ws (see the legend). */
typedef struct {
    float *r1, *p1, *r2, *p2, *h, *z, *ga, *gb, *colsum;
    int64_t *i1, *i2;
    void *cws;
    int64_t cws_bytes;
} cnn_ws;

/* Lays ws out for batch B (or only measures it when ws == NULL). */
static int64_t layout(const fdl_cnn *m, int64_t B, float *ws, cnn_ws *w)
{
    const int64_t n1 = B * m->c1 * CNN_IN * CNN_IN, q1 = B * m->c1 * CNN_S1 * CNN_S1;
    const int64_t n2 = B * m->c2 * CNN_S1 * CNN_S1, q2 = B * m->flat;
    const int64_t g = grad_floats(m, B), cw = conv_ws_floats(m, B);
    if (cw < 0) return -1;
    int64_t off = 0;
#define TAKE(n) (off += fdl_arena_round(n), ws ? ws + off - fdl_arena_round(n) : NULL)
    float *r1 = TAKE(n1), *p1 = TAKE(q1), *i1 = TAKE(2 * q1);
    float *r2 = TAKE(n2), *p2 = TAKE(q2), *i2 = TAKE(2 * q2);
    float *h = TAKE(B * m->hidden), *z = TAKE(B * m->classes);
    float *ga = TAKE(g), *gb = TAKE(g);
    float *colsum = TAKE(m->hidden > m->classes ? m->hidden : m->classes);
    float *cws = TAKE(cw);
#undef TAKE
    if (w) {
        /* every piece starts on a 64-byte boundary of ws, so the int64
         * argmax arrays are aligned whenever ws is 8-byte aligned */
        *w = (cnn_ws){r1, p1, r2, p2, h, z, ga, gb, colsum, (int64_t *)(void *)i1,
                      (int64_t *)(void *)i2, cws, cw * (int64_t)sizeof(float)};
    }
    return off;
}

int64_t fdl_cnn_workspace_size(const fdl_cnn *m, int64_t batch)
{
    if (!valid(m) || batch < 0) return -1;
    return layout(m, batch, NULL, NULL);
}

int fdl_cnn_init_params(const fdl_cnn *m, float *params, uint64_t seed)
{
    if (!valid(m) || !params) return FDL_ERR_NULL;
    const int64_t fan_in[4] = {9, m->c1 * 9, m->flat, m->hidden};
    const int64_t fan_out[4] = {m->c1, m->c2, m->hidden, m->classes};
    for (int l = 0; l < 4; l++) {
        /* kaiming_uniform_(a=sqrt(5)) reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
         * the same bound PyTorch uses for the bias. */
        float bound = (float)(1.0 / sqrt((double)fan_in[l]));
        fdl_rng_uniform_f32(params + m->w_off[l], fan_out[l] * fan_in[l], seed, (uint64_t)(2 * l),
                        0, -bound, bound);
        fdl_rng_uniform_f32(params + m->b_off[l], fan_out[l], seed, (uint64_t)(2 * l + 1), 0,
                        -bound, bound);
    }
    return FDL_OK;
}

static int check_call(const fdl_cnn *m, const float *params, const float *x,
                      const int64_t *labels, int64_t B, float *ws, int64_t ws_floats,
                      cnn_ws *w)
{
    if (!m || !params) return FDL_ERR_NULL;
    if (!valid(m)) return fdl__fail(FDL_ERR_ARG, "cnn: model not initialised by fdl_cnn_init");
    if (B < 0) return fdl__fail(FDL_ERR_ARG, "cnn: negative batch %lld", (long long)B);
    if (B > 0 && !x) return FDL_ERR_NULL;
    if (labels) {
        int64_t bad = fdl_labels_first_invalid(labels, B, m->classes);
        if (bad >= 0)
            return fdl__fail(FDL_ERR_ARG, "cnn: label[%lld] = %lld is outside [0, %lld)",
                             (long long)bad, (long long)labels[bad], (long long)m->classes);
    }
    int64_t need = layout(m, B, NULL, NULL);
    if (need < 0) return FDL_ERR_ARG;
    /* the pooling argmax arrays inside ws are int64 */
    if (ws && ((uintptr_t)ws & 7))
        return fdl__fail(FDL_ERR_ARG, "cnn: workspace must be 8-byte aligned");
    if (!ws || ws_floats < need)
        return fdl__fail(FDL_ERR_WORKSPACE, "cnn: workspace of %lld floats, need %lld for "
                         "batch %lld", (long long)ws_floats, (long long)need, (long long)B);
    layout(m, B, ws, w);
    return FDL_OK;
}

int fdl_cnn_forward(const fdl_cnn *m, const float *params, const float *x,
                    const int64_t *labels, int64_t B, float *ws, int64_t ws_floats,
                    float *logits, float *loss, int64_t *correct)
{
    fdl__clear_error();
    cnn_ws w;
    int st = check_call(m, params, x, labels, B, ws, ws_floats, &w);
    if (st != FDL_OK) return st;
    if (B == 0) {
        if (labels && loss) *loss = 0.0f;
        if (labels && correct) *correct = 0;
        return FDL_OK;
    }
    const int64_t C1 = m->c1, C2 = m->c2, Hd = m->hidden, K = m->classes, F = m->flat;
    const int64_t n1 = B * C1 * CNN_IN * CNN_IN, n2 = B * C2 * CNN_S1 * CNN_S1;

    fdl_conv2d_params pa = conv_params(B, 1, C1, CNN_IN);
    st = fdl_conv2d_forward_f32(w.r1, x, params + m->w_off[0], params + m->b_off[0], &pa, w.cws,
                            w.cws_bytes);
    if (st != FDL_OK) return fdl__fail(st, "cnn: conv 0 forward: %s", fdl_strerror(st));
    fdl_relu_forward_f32(w.r1, w.r1, n1);
    fdl_max_pool2d_forward_f32(w.p1, w.i1, w.r1, B * C1, CNN_IN, CNN_IN, CNN_S1, CNN_S1,
                               2, 2, 2, 2, 0, 0, 1, 1);

    fdl_conv2d_params pb = conv_params(B, C1, C2, CNN_S1);
    st = fdl_conv2d_forward_f32(w.r2, w.p1, params + m->w_off[1], params + m->b_off[1], &pb, w.cws,
                            w.cws_bytes);
    if (st != FDL_OK) return fdl__fail(st, "cnn: conv 3 forward: %s", fdl_strerror(st));
    fdl_relu_forward_f32(w.r2, w.r2, n2);
    fdl_max_pool2d_forward_f32(w.p2, w.i2, w.r2, B * C2, CNN_S1, CNN_S1, CNN_S2, CNN_S2,
                               2, 2, 2, 2, 0, 0, 1, 1);

    st = fdl_sgemm_ex(0, 1, B, Hd, F, 1.0f, w.p2, F, params + m->w_off[2], F, 0.0f, w.h, Hd,
                      params + m->b_off[2], FDL_ACT_RELU);
    if (st != FDL_OK) return st;
    st = fdl_sgemm_ex(0, 1, B, K, Hd, 1.0f, w.h, Hd, params + m->w_off[3], Hd, 0.0f, w.z, K,
                      params + m->b_off[3], FDL_ACT_NONE);
    if (st != FDL_OK) return st;

    if (logits) memcpy(logits, w.z, sizeof(float) * (size_t)(B * K));
    if (labels) {
        double l = fdl__softmax_xent(w.z, labels, B, K, NULL, correct);
        if (loss) *loss = (float)l;
    }
    return FDL_OK;
}

/* db[n] += column sums of g[B, n], in a fixed order (double accumulation). */
static void bias_grad(float *db, float *colsum, const float *g, int64_t B, int64_t n)
{
    fdl_sum_f32(1, B, n, colsum, g);
    for (int64_t j = 0; j < n; j++) db[j] += colsum[j];
}

/* In place g *= (a > 0): the ReLU backward without a zeroed extra buffer. */
static void relu_mask(float *g, const float *a, int64_t n)
{
    for (int64_t i = 0; i < n; i++) g[i] = a[i] > 0.0f ? g[i] : 0.0f;
}

int fdl_cnn_backward(const fdl_cnn *m, const float *params, float *grads, const float *x,
                     const int64_t *labels, int64_t B, float *ws, int64_t ws_floats)
{
    fdl__clear_error();
    if (!grads || (B > 0 && !labels)) return FDL_ERR_NULL;
    cnn_ws w;
    int st = check_call(m, params, x, labels, B, ws, ws_floats, &w);
    if (st != FDL_OK) return st;
    if (B == 0) return FDL_OK;
    const int64_t C1 = m->c1, C2 = m->c2, Hd = m->hidden, K = m->classes, F = m->flat;
    const int64_t n1 = B * C1 * CNN_IN * CNN_IN, q1 = B * C1 * CNN_S1 * CNN_S1;
    const int64_t n2 = B * C2 * CNN_S1 * CNN_S1;
    float *g = w.ga, *gn = w.gb, *t;

    /* dz from the saved logits: cheaper than storing it in forward, which
     * may run without labels. */
    fdl__softmax_xent(w.z, labels, B, K, g, NULL);

    /* Linear 9: dW += dz^T h, db += sum dz, dh = (dz W) * (h > 0) */
    st = fdl_sgemm(1, 0, K, Hd, B, 1.0f, g, K, w.h, Hd, 1.0f, grads + m->w_off[3], Hd);
    if (st != FDL_OK) return st;
    bias_grad(grads + m->b_off[3], w.colsum, g, B, K);
    st = fdl_sgemm(0, 0, B, Hd, K, 1.0f, g, K, params + m->w_off[3], Hd, 0.0f, gn, Hd);
    if (st != FDL_OK) return st;
    relu_mask(gn, w.h, B * Hd);
    t = g; g = gn; gn = t;

    /* Linear 7: the same, down to dp2 [B, F] (no ReLU between pool and flatten) */
    st = fdl_sgemm(1, 0, Hd, F, B, 1.0f, g, Hd, w.p2, F, 1.0f, grads + m->w_off[2], F);
    if (st != FDL_OK) return st;
    bias_grad(grads + m->b_off[2], w.colsum, g, B, Hd);
    st = fdl_sgemm(0, 0, B, F, Hd, 1.0f, g, Hd, params + m->w_off[2], F, 0.0f, gn, F);
    if (st != FDL_OK) return st;
    t = g; g = gn; gn = t;

    /* Pool 5 and ReLU 4: dr2 = scatter(dp2 by i2) * (r2 > 0) */
    memset(gn, 0, sizeof(float) * (size_t)n2);
    fdl_max_pool2d_backward_f32(gn, w.i2, g, B * C2, CNN_S1, CNN_S1, CNN_S2, CNN_S2);
    relu_mask(gn, w.r2, n2);
    t = g; g = gn; gn = t;

    /* Conv 3: dw, db and dp1 */
    memset(gn, 0, sizeof(float) * (size_t)q1);
    fdl_conv2d_params pb = conv_params(B, C1, C2, CNN_S1);
    st = fdl_conv2d_backward_f32(gn, grads + m->w_off[1], grads + m->b_off[1], g, w.p1,
                             params + m->w_off[1], &pb, w.cws, w.cws_bytes);
    if (st != FDL_OK) return fdl__fail(st, "cnn: conv 3 backward: %s", fdl_strerror(st));
    t = g; g = gn; gn = t;

    /* Pool 2 and ReLU 1 */
    memset(gn, 0, sizeof(float) * (size_t)n1);
    fdl_max_pool2d_backward_f32(gn, w.i1, g, B * C1, CNN_IN, CNN_IN, CNN_S1, CNN_S1);
    relu_mask(gn, w.r1, n1);
    t = g; g = gn; gn = t;

    /* Conv 0: no gradient wrt the input */
    fdl_conv2d_params pa = conv_params(B, 1, C1, CNN_IN);
    st = fdl_conv2d_backward_f32(NULL, grads + m->w_off[0], grads + m->b_off[0], g, x,
                             params + m->w_off[0], &pa, w.cws, w.cws_bytes);
    if (st != FDL_OK) return fdl__fail(st, "cnn: conv 0 backward: %s", fdl_strerror(st));
    return FDL_OK;
}

/* ---- weights in safetensors ------------------------------------------- */

static const char *const cnn_names[FDL_CNN_NTENSORS] = {
    "0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight", "9.bias",
};

int fdl_cnn_tensors(const fdl_cnn *m, float *params, fdl_tensor_ref *t)
{
    if (!valid(m) || !t) return 0;
    const int64_t shapes[4][4] = {{m->c1, 1, 3, 3}, {m->c2, m->c1, 3, 3},
                                  {m->hidden, m->flat}, {m->classes, m->hidden}};
    const int ndims[4] = {4, 4, 2, 2};
    const int64_t bias[4] = {m->c1, m->c2, m->hidden, m->classes};
    for (int l = 0; l < 4; l++) {
        fdl_tensor_ref *wt = &t[2 * l], *bt = &t[2 * l + 1];
        memset(wt, 0, sizeof *wt);
        memset(bt, 0, sizeof *bt);
        wt->name = cnn_names[2 * l];
        wt->ndim = ndims[l];
        for (int d = 0; d < ndims[l]; d++) wt->shape[d] = shapes[l][d];
        wt->data = params ? params + m->w_off[l] : NULL;
        bt->name = cnn_names[2 * l + 1];
        bt->ndim = 1;
        bt->shape[0] = bias[l];
        bt->data = params ? params + m->b_off[l] : NULL;
    }
    return FDL_CNN_NTENSORS;
}

int fdl_cnn_save(const fdl_cnn *m, const float *params, const char *path)
{
    fdl_tensor_ref t[FDL_CNN_NTENSORS];
    if (!m || !params) return FDL_ERR_NULL;
    /* The writer only reads through data; the cast drops const for the
     * shared tensor-list type. */
    int n = fdl_cnn_tensors(m, (float *)params, t);
    if (n == 0) return FDL_ERR_ARG;
    return fdl_safetensors_save(path, t, n);
}

int fdl_cnn_load(const fdl_cnn *m, float *params, const char *path)
{
    fdl_tensor_ref t[FDL_CNN_NTENSORS];
    if (!m || !params) return FDL_ERR_NULL;
    int n = fdl_cnn_tensors(m, params, t);
    if (n == 0) return FDL_ERR_ARG;
    return fdl_safetensors_load(path, t, n);
}
