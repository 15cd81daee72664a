/*
 * MLP forward/backward: L Linear layers with ReLU between them and a softmax
 * cross-entropy loss on the last one, i.e. nn.Sequential(Linear, ReLU, ...,
 * Linear) + nn.CrossEntropyLoss().
 *
 * Legend: B batch rows, L layers, D_l = dims[l] (D_0 inputs, D_L classes).
 *   x [B, D_0]   W_l [D_{l+1}, D_l]   b_l [D_{l+1}]   a_l [B, D_{l+1}]
 *   a_l = relu(a_{l-1} W_l^T + b_l) (a_{-1} = x; no ReLU on the last layer)
 *
 * Each forward layer is one GEMM with the bias and ReLU fused into its
 * epilogue, so no activation is read twice. Backward per layer:
 *   dW_l += g^T a_{l-1}           one GEMM (transposed A, beta = 1)
 *   db_l += column sums of g      fdl_sum_f32 (double, fixed order)
 *   g    <- (g W_l) * (a_{l-1} > 0)
 * The ReLU mask is read from the saved post-ReLU output (a > 0 iff its
 * input > 0), so the pre-activations are never stored.
 *
 * Workspace (floats): every a_l, two gradient buffers of B * max D_l, and
 * a bias-sum row of max D_l; each piece rounded to 16 floats.
 */
#include <math.h>
#include <string.h>

#include "fastdl.h"
#include "train_internal.h"

int fdl_mlp_init(fdl_mlp *m, int nlayers, const int64_t *dims)
{
    if (!m || !dims) return FDL_ERR_NULL;
    if (nlayers < 1 || nlayers > FDL_MLP_MAX_LAYERS)
        return fdl__fail(FDL_ERR_ARG, "fdl_mlp_init: nlayers must be in [1, %d], got %d",
                         FDL_MLP_MAX_LAYERS, nlayers);
    memset(m, 0, sizeof *m);
    int64_t off = 0;
    for (int l = 0; l <= nlayers; l++) {
        if (dims[l] < 1 || dims[l] > ((int64_t)1 << 31))
            return fdl__fail(FDL_ERR_ARG, "fdl_mlp_init: dims[%d] = %lld is out of range",
                             l, (long long)dims[l]);
        m->dims[l] = dims[l];
    }
    /* Packed with no padding, in state-dict order, so the params array is
     * byte for byte the concatenation of the safetensors tensors. */
    for (int l = 0; l < nlayers; l++) {
        m->w_off[l] = off;
        off += dims[l + 1] * dims[l];
        m->b_off[l] = off;
        off += dims[l + 1];
    }
    m->nlayers = nlayers;
    m->nparams = off;
    return FDL_OK;
}

int64_t fdl_mlp_num_params(const fdl_mlp *m)
{
    return m ? m->nparams : -1;
}

static int64_t max_dim(const fdl_mlp *m)
{
    int64_t d = 0;
    for (int l = 0; l <= m->nlayers; l++)
        if (m->dims[l] > d) d = m->dims[l];
    return d;
}

int64_t fdl_mlp_workspace_size(const fdl_mlp *m, int64_t batch)
{
    if (!m || m->nlayers < 1 || batch < 0) return -1;
    int64_t n = 0;
    for (int l = 0; l < m->nlayers; l++) n += fdl_arena_round(batch * m->dims[l + 1]);
    n += 2 * fdl_arena_round(batch * max_dim(m)) + fdl_arena_round(max_dim(m));
    return n;
}

int fdl_mlp_init_params(const fdl_mlp *m, float *params, uint64_t seed)
{
    if (!m || !params) return FDL_ERR_NULL;
    for (int l = 0; l < m->nlayers; l++) {
        /* kaiming_uniform_(a=sqrt(5)) reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
         * the same bound PyTorch uses for the bias. */
        float bound = (float)(1.0 / sqrt((double)m->dims[l]));
        fdl_rng_uniform_f32(params + m->w_off[l], m->dims[l + 1] * m->dims[l], seed,
                        (uint64_t)(2 * l), 0, -bound, bound);
        fdl_rng_uniform_f32(params + m->b_off[l], m->dims[l + 1], seed, (uint64_t)(2 * l + 1), 0,
                        -bound, bound);
    }
    return FDL_OK;
}

/* Pointers to the pieces of ws (see the legend). */
typedef struct {
    float *act[FDL_MLP_MAX_LAYERS];
    float *g0, *g1, *colsum;
} mlp_ws;

static int split_ws(const fdl_mlp *m, int64_t B, float *ws, int64_t ws_floats, mlp_ws *w)
{
    int64_t need = fdl_mlp_workspace_size(m, B);
    if (need < 0) return FDL_ERR_ARG;
    if (!ws || ws_floats < need)
        return fdl__fail(FDL_ERR_WORKSPACE, "mlp: workspace of %lld floats, need %lld for "
                         "batch %lld", (long long)ws_floats, (long long)need, (long long)B);
    float *p = ws;
    for (int l = 0; l < m->nlayers; l++) {
        w->act[l] = p;
        p += fdl_arena_round(B * m->dims[l + 1]);
    }
    int64_t big = fdl_arena_round(B * max_dim(m));
    w->g0 = p;
    w->g1 = p + big;
    w->colsum = p + 2 * big;
    return FDL_OK;
}

static int check_common(const fdl_mlp *m, const float *params, const float *x, int64_t B)
{
    if (!m || !params) return FDL_ERR_NULL;
    if (m->nlayers < 1 || m->nlayers > FDL_MLP_MAX_LAYERS) return FDL_ERR_ARG;
    if (B < 0) return fdl__fail(FDL_ERR_ARG, "mlp: negative batch %lld", (long long)B);
    if (B > 0 && !x) return FDL_ERR_NULL;
    return FDL_OK;
}

/* Runs every layer; the last writes into `out` (ws->act[L-1] or the caller's). */
static int forward_layers(const fdl_mlp *m, const float *params, const float *x, int64_t B,
                          mlp_ws *w, float *out)
{
    const float *in = x;
    for (int l = 0; l < m->nlayers; l++) {
        int last = l == m->nlayers - 1;
        int64_t din = m->dims[l], dout = m->dims[l + 1];
        float *y = last && out ? out : w->act[l];
        int st = fdl_sgemm_ex(0, 1, B, dout, din, 1.0f, in, din, params + m->w_off[l], din,
                              0.0f, y, dout, params + m->b_off[l],
                              last ? FDL_ACT_NONE : FDL_ACT_RELU);
        if (st != FDL_OK) return st;
        in = y;
    }
    return FDL_OK;
}

int fdl_mlp_forward(const fdl_mlp *m, const float *params, const float *x, int64_t B,
                    float *ws, int64_t ws_floats, float *logits)
{
    fdl__clear_error();
    int st = check_common(m, params, x, B);
    if (st != FDL_OK) return st;
    if (!logits && B > 0) return FDL_ERR_NULL;
    mlp_ws w;
    if ((st = split_ws(m, B, ws, ws_floats, &w)) != FDL_OK) return st;
    return forward_layers(m, params, x, B, &w, logits);
}

/* Softmax cross-entropy of logits z[B, C] (nn.CrossEntropyLoss, mean over
 * rows). Written before the nn kernels landed; kept because it fuses loss,
 * argmax (accuracy) and gradient in one pass over the logits:
 * dz = (softmax(z) - onehot(y)) / B when dz != NULL. It matches the Python
 * path to ~1e-7 (tests/test_c_api.py cross-check); fdl_cross_entropy_*_f32
 * from nn.h could replace it.
 * Each row's log-sum-exp is taken in double after subtracting the row max,
 * so large logits neither overflow nor lose the small terms; the loss is
 * summed in row order, independent of threads. Shared with cnn.c. */
double fdl__softmax_xent(const float *z, const int64_t *y, int64_t B, int64_t C, float *dz,
                           int64_t *correct)
{
    double total = 0.0;
    int64_t hits = 0;
    for (int64_t i = 0; i < B; i++) {
        const float *zi = z + i * C;
        float mx = zi[0];
        int64_t arg = 0;
        for (int64_t j = 1; j < C; j++)
            if (zi[j] > mx || (isnan(zi[j]) && !isnan(mx))) { mx = zi[j]; arg = j; }
        double s = 0.0;
        for (int64_t j = 0; j < C; j++) s += exp((double)zi[j] - (double)mx);
        double lse = (double)mx + log(s);
        total += lse - (double)zi[y[i]];
        hits += arg == y[i];
        if (dz) {
            float *di = dz + i * C;
            double inv_b = 1.0 / (double)B;
            for (int64_t j = 0; j < C; j++)
                di[j] = (float)((exp((double)zi[j] - lse) - (j == y[i])) * inv_b);
        }
    }
    if (correct) *correct = hits;
    return B > 0 ? total / (double)B : 0.0;
}

static int check_labels(const int64_t *labels, int64_t B, int64_t C)
{
    if (B > 0 && !labels) return FDL_ERR_NULL;
    int64_t bad = fdl_labels_first_invalid(labels, B, C);
    if (bad >= 0)
        return fdl__fail(FDL_ERR_ARG, "mlp: label[%lld] = %lld is outside [0, %lld)",
                         (long long)bad, (long long)labels[bad], (long long)C);
    return FDL_OK;
}

int fdl_mlp_evaluate(const fdl_mlp *m, const float *params, const float *x,
                     const int64_t *labels, int64_t B, float *ws, int64_t ws_floats,
                     float *loss, int64_t *correct)
{
    fdl__clear_error();
    int st = check_common(m, params, x, B);
    if (st != FDL_OK) return st;
    int L = m->nlayers;
    if ((st = check_labels(labels, B, m->dims[L])) != FDL_OK) return st;
    mlp_ws w;
    if ((st = split_ws(m, B, ws, ws_floats, &w)) != FDL_OK) return st;
    if ((st = forward_layers(m, params, x, B, &w, NULL)) != FDL_OK) return st;
    double l = fdl__softmax_xent(w.act[L - 1], labels, B, m->dims[L], NULL, correct);
    if (loss) *loss = (float)l;
    return FDL_OK;
}

int fdl_mlp_forward_backward(const fdl_mlp *m, const float *params, float *grads,
                             const float *x, const int64_t *labels, int64_t B,
                             float *ws, int64_t ws_floats, float *loss, int64_t *correct)
{
    fdl__clear_error();
    int st = check_common(m, params, x, B);
    if (st != FDL_OK) return st;
    if (!grads) return FDL_ERR_NULL;
    int L = m->nlayers;
    if ((st = check_labels(labels, B, m->dims[L])) != FDL_OK) return st;
    mlp_ws w;
    if ((st = split_ws(m, B, ws, ws_floats, &w)) != FDL_OK) return st;
    if ((st = forward_layers(m, params, x, B, &w, NULL)) != FDL_OK) return st;

    float *g = w.g0, *gnext = w.g1;
    double l = fdl__softmax_xent(w.act[L - 1], labels, B, m->dims[L], g, correct);
    if (loss) *loss = (float)l;
    if (B == 0) return FDL_OK;

    for (int k = L - 1; k >= 0; k--) {
        int64_t din = m->dims[k], dout = m->dims[k + 1];
        const float *in = k == 0 ? x : w.act[k - 1];
        st = fdl_sgemm(1, 0, dout, din, B, 1.0f, g, dout, in, din, 1.0f,
                       grads + m->w_off[k], din);
        if (st != FDL_OK) return st;
        st = fdl_sum_f32(1, B, dout, w.colsum, g);
        if (st != FDL_OK) return st;
        float *db = grads + m->b_off[k];
        for (int64_t j = 0; j < dout; j++) db[j] += w.colsum[j];
        if (k == 0) break;   /* no gradient wrt the input */
        st = fdl_sgemm(0, 0, B, din, dout, 1.0f, g, dout, params + m->w_off[k], din, 0.0f,
                       gnext, din);
        if (st != FDL_OK) return st;
        const float *a = w.act[k - 1];
        int64_t n = B * din;
        for (int64_t i = 0; i < n; i++) gnext[i] = a[i] > 0.0f ? gnext[i] : 0.0f;
        float *t = g; g = gnext; gnext = t;
    }
    return FDL_OK;
}
