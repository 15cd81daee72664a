"""fastdl.nn.functional: forward against float64 NumPy references, backward by
finite differences (fastdl.testing.gradcheck), extreme values, reductions,
thread-count determinism and argument errors. Tests taking the `isa` fixture
(tests/conftest.py) run once per kernel ISA the CPU supports."""
import math

import numpy as np
import pytest

import fastdl
import fastdl.nn.functional as F
from fastdl.testing import gradcheck

RNG = np.random.default_rng(1234)


def T(a, grad=False, dtype=np.float64):
    return fastdl.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


def randn(*shape, scale=1.0):
    return RNG.standard_normal(shape) * scale


def close(out, ref, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(np.asarray(out.detach().numpy() if isinstance(out, fastdl.Tensor)
                                          else out, dtype=np.float64), ref, rtol=rtol, atol=atol)


@pytest.fixture
def threads():
    old = fastdl.get_num_threads()
    yield
    fastdl.set_num_threads(old)


# ---- NumPy references ---------------------------------------------------------------------

def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_erf(x):
    return np.vectorize(math.erf)(x)


ACTS = {
    "relu": (lambda x: F.relu(x), lambda x: np.maximum(x, 0)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    "elu": (lambda x: F.elu(x, 1.5), lambda x: np.where(x > 0, x, 1.5 * np.expm1(x))),
    "gelu": (lambda x: F.gelu(x), lambda x: 0.5 * x * (1 + np_erf(x / math.sqrt(2)))),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))),
    "sigmoid": (lambda x: F.sigmoid(x), np_sigmoid),
    "tanh": (lambda x: F.tanh(x), np.tanh),
    "softplus": (lambda x: F.softplus(x, beta=2.0, threshold=5.0),
                 lambda x: np.where(2 * x > 5, x, np.log1p(np.exp(2 * x)) / 2)),
    "silu": (lambda x: F.silu(x), lambda x: x * np_sigmoid(x)),
}


@pytest.mark.parametrize("name", sorted(ACTS))
@pytest.mark.parametrize("shape", [(1,), (7, 13), (3, 5, 17)])
def test_activation_forward_backward(name, shape, isa):
    fn, ref = ACTS[name]
    x = randn(*shape, scale=2.0)
    x[np.abs(x) < 1e-3] = 0.5        # keep finite differences away from kinks
    close(fn(T(x)), ref(x))
    close(fn(T(x, dtype=np.float32)), ref(x.astype(np.float32).astype(np.float64)),
          rtol=2e-6, atol=2e-6)
    assert gradcheck(fn, [T(x, True)])


@pytest.mark.parametrize("name", sorted(ACTS))
def test_activation_extremes_finite(name, isa):
    fn, ref = ACTS[name]
    x = np.array([-1e4, -100.0, -30.0, -1e-8, 0.0, 1e-8, 30.0, 100.0, 1e4])
    for dt in (np.float32, np.float64):
        xt = T(x, True, dt)
        y = fn(xt)
        y.sum().backward()
        assert np.isfinite(y.detach().numpy()).all()
        assert np.isfinite(xt.grad.numpy()).all()
        close(y, ref(x.astype(dt).astype(np.float64)), rtol=1e-5, atol=1e-6)


def np_softmax(x, axis):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


@pytest.mark.parametrize("shape,dim", [((5,), 0), ((4, 33), 1), ((4, 33), 0), ((2, 3, 5, 7), 1),
                                       ((2, 3, 300), -2), ((1, 1), -1)])
def test_softmax_log_softmax(shape, dim, isa):
    x = randn(*shape, scale=3.0)
    close(F.softmax(T(x), dim), np_softmax(x, dim))
    close(F.log_softmax(T(x), dim), np.log(np_softmax(x, dim)))
    close(F.softmax(T(x, dtype=np.float32), dim), np_softmax(x.astype(np.float32), dim),
          rtol=1e-5, atol=1e-7)
    assert gradcheck(lambda t: F.softmax(t, dim), [T(x, True)])
    assert gradcheck(lambda t: F.log_softmax(t, dim), [T(x, True)])


def test_softmax_large_logits():
    x = np.array([[1000.0, 0.0, -1000.0], [100.0, 100.0, 100.0]])
    for dt in (np.float32, np.float64):
        y = F.softmax(T(x, dtype=dt), 1).numpy()
        ly = F.log_softmax(T(x, dtype=dt), 1).numpy()
        assert np.isfinite(y).all() and np.isfinite(ly).all()
        close(y, np_softmax(x, 1), atol=1e-6)
        close(ly[1], np.log(np.full(3, 1 / 3)), rtol=1e-6)


# ---- pointwise losses ---------------------------------------------------------------------

def reduce_ref(l, reduction, count=None):
    if reduction == "none":
        return l
    if reduction == "sum":
        return l.sum()
    return l.sum() / (l.size if count is None else count)


def huber_ref(x, y, d):
    a = np.abs(x - y)
    return np.where(a < d, 0.5 * (x - y) ** 2, d * (a - 0.5 * d))


def bce_ref(p, y, w=1.0):
    lp = np.maximum(np.log(np.where(p > 0, p, 1e-300)), -100)
    lp = np.where(p > 0, lp, -100)
    l1p = np.where(p < 1, np.maximum(np.log(np.where(p < 1, 1 - p, 1)), -100), -100)
    return -w * (y * lp + (1 - y) * l1p)


def bcel_ref(x, y, w=1.0, pw=1.0):
    sp = np.logaddexp(0, -x)
    return w * ((1 - y) * x + (1 + (pw - 1) * y) * sp)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_regression_losses(reduction):
    x, y = randn(5, 7), randn(5, 7)
    cases = [
        (F.mse_loss, {}, (x - y) ** 2),
        (F.l1_loss, {}, np.abs(x - y)),
        (F.huber_loss, {"delta": 0.7}, huber_ref(x, y, 0.7)),
        (F.smooth_l1_loss, {"beta": 0.7}, huber_ref(x, y, 0.7) / 0.7),
        (F.smooth_l1_loss, {"beta": 0.0}, np.abs(x - y)),
    ]
    for fn, kw, ref in cases:
        close(fn(T(x), T(y), reduction=reduction, **kw), reduce_ref(ref, reduction))
        assert gradcheck(lambda a, b: fn(a, b, reduction=reduction, **kw), [T(x, True), T(y, True)])


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_bce(reduction):
    p = RNG.uniform(0.05, 0.95, (4, 6))
    y = RNG.uniform(0, 1, (4, 6))
    w = RNG.uniform(0.5, 2, (6,))
    close(F.binary_cross_entropy(T(p), T(y), reduction=reduction), reduce_ref(bce_ref(p, y), reduction))
    close(F.binary_cross_entropy(T(p), T(y), weight=T(w), reduction=reduction),
          reduce_ref(bce_ref(p, y, w), reduction))
    assert gradcheck(lambda a: F.binary_cross_entropy(a, T(y), weight=T(w), reduction=reduction),
                     [T(p, True)])


def test_bce_extremes():
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    for dt in (np.float32, np.float64):
        pt = T(p, True, dt)
        l = F.binary_cross_entropy(pt, T(y, dtype=dt), reduction="none")
        l.sum().backward()
        close(l, [0, 0, 100, 100, math.log(2)], rtol=1e-6)
        assert np.isfinite(pt.grad.numpy()).all()


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_bce_with_logits(reduction):
    x = randn(4, 6, scale=3)
    y = RNG.uniform(0, 1, (4, 6))
    w, pw = RNG.uniform(0.5, 2, (4, 1)), RNG.uniform(0.5, 3, (6,))
    close(F.binary_cross_entropy_with_logits(T(x), T(y), reduction=reduction),
          reduce_ref(bcel_ref(x, y), reduction))
    close(F.binary_cross_entropy_with_logits(T(x), T(y), weight=T(w), pos_weight=T(pw),
                                             reduction=reduction),
          reduce_ref(bcel_ref(x, y, w, pw), reduction))
    assert gradcheck(lambda a: F.binary_cross_entropy_with_logits(
        a, T(y), weight=T(w), pos_weight=T(pw), reduction=reduction), [T(x, True)])


def test_bce_with_logits_extremes():
    x = np.array([-100.0, 100.0, -100.0, 100.0, 0.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    for dt in (np.float32, np.float64):
        xt = T(x, True, dt)
        l = F.binary_cross_entropy_with_logits(xt, T(y, dtype=dt), reduction="none")
        l.sum().backward()
        close(l, [0, 0, 100, 100, math.log(2)], rtol=1e-6, atol=1e-30)
        close(xt.grad, [0, 0, -1, 1, -0.5], rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_hinge_losses(reduction):
    x = randn(3, 5)
    y = RNG.choice([-1.0, 1.0], (3, 5))
    x[np.abs(1 - x * y) < 1e-2] += 0.1
    close(F.hinge_loss(T(x), T(y), reduction=reduction),
          reduce_ref(np.maximum(0, 1 - y * x), reduction))
    assert gradcheck(lambda a: F.hinge_loss(a, T(y), reduction=reduction), [T(x, True)])
    m = 0.8
    x[np.abs(m - x) < 1e-2] += 0.1
    ref = np.where(y == 1, x, np.maximum(0, m - x))
    close(F.hinge_embedding_loss(T(x), T(y), margin=m, reduction=reduction), reduce_ref(ref, reduction))
    assert gradcheck(lambda a: F.hinge_embedding_loss(a, T(y), margin=m, reduction=reduction),
                     [T(x, True)])


@pytest.mark.parametrize("reduction", ["none", "mean", "sum", "batchmean"])
def test_kl_div(reduction):
    x = np.log(np_softmax(randn(4, 5), 1))
    t = np_softmax(randn(4, 5), 1)
    t[0, 0] = 0.0
    ref = np.where(t > 0, t * (np.log(np.where(t > 0, t, 1)) - x), 0)
    exp = ref.sum() / 4 if reduction == "batchmean" else reduce_ref(ref, reduction)
    close(F.kl_div(T(x), T(t), reduction=reduction), exp)
    close(F.kl_div(T(x), T(np.log(t + 1e-300)), reduction=reduction, log_target=True), exp,
          rtol=1e-9)
    assert gradcheck(lambda a: F.kl_div(a, T(t), reduction=reduction), [T(x, True)])


# ---- class losses -------------------------------------------------------------------------

def ce_ref(x, t, w=None, ignore=-100, eps=0.0, reduction="mean"):
    N, C = x.shape
    lp = x - x.max(1, keepdims=True)
    lp = lp - np.log(np.exp(lp).sum(1, keepdims=True))
    w = np.ones(C) if w is None else w
    if t.dtype.kind == "f":
        tt = t * (1 - eps) + eps / C
        l = -(w * tt * lp).sum(1)
        return reduce_ref(l, reduction, N)
    valid = t != ignore
    tc = np.where(valid, t, 0)
    nll = -w[tc] * lp[np.arange(N), tc]
    smooth = -(w * lp).sum(1)
    l = np.where(valid, (1 - eps) * nll + eps / C * smooth, 0)
    return reduce_ref(l, reduction, w[tc][valid].sum())


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("eps", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy(reduction, eps, weighted, isa):
    N, C = 6, 11
    x = randn(N, C, scale=2)
    t = RNG.integers(0, C, N)
    t[2] = -100
    w = RNG.uniform(0.5, 2, C) if weighted else None
    kw = dict(weight=None if w is None else T(w), reduction=reduction, label_smoothing=eps)
    close(F.cross_entropy(T(x), fastdl.tensor(t), **kw), ce_ref(x, t, w, eps=eps, reduction=reduction))
    assert gradcheck(lambda a: F.cross_entropy(a, fastdl.tensor(t), **kw), [T(x, True)])
    # probability targets
    tp = np_softmax(randn(N, C), 1)
    close(F.cross_entropy(T(x), T(tp), **kw), ce_ref(x, tp, w, eps=eps, reduction=reduction))
    assert gradcheck(lambda a: F.cross_entropy(a, T(tp), **kw), [T(x, True)])


def test_cross_entropy_ignore_index_and_kdim():
    x = randn(2, 4, 3, 5)
    t = RNG.integers(0, 4, (2, 3, 5))
    t[0, 1, 2] = 3
    t[1, 0, 0] = 7
    rows = np.moveaxis(x, 1, -1).reshape(-1, 4)
    ref = ce_ref(rows, t.reshape(-1), ignore=7)
    close(F.cross_entropy(T(x), fastdl.tensor(t), ignore_index=7), ref)
    out = F.cross_entropy(T(x), fastdl.tensor(t), ignore_index=7, reduction="none")
    assert out.shape == (2, 3, 5) and out.numpy()[1, 0, 0] == 0
    assert gradcheck(lambda a: F.cross_entropy(a, fastdl.tensor(t), ignore_index=7), [T(x, True)])
    # 1-d input, scalar target
    close(F.cross_entropy(T(x[0, :, 0, 0]), fastdl.tensor(np.int64(2))),
          ce_ref(x[0, :, 0, 0][None], np.array([2])))


def test_cross_entropy_extreme_logits():
    x = np.array([[100.0, -100.0, 0.0], [-100.0, 100.0, -100.0], [100.0, 100.0, -100.0]])
    t = np.array([1, 1, 2])
    for dt in (np.float32, np.float64):
        xt = T(x, True, dt)
        l = F.cross_entropy(xt, fastdl.tensor(t), reduction="none", label_smoothing=0.1)
        l.sum().backward()
        assert np.isfinite(l.detach().numpy()).all() and np.isfinite(xt.grad.numpy()).all()
        close(l, ce_ref(x, t, eps=0.1, reduction="none"), rtol=1e-5)


def test_nll_loss():
    x = np.log(np_softmax(randn(5, 7), 1))
    t = RNG.integers(0, 7, 5)
    t[1] = -100
    w = RNG.uniform(0.5, 2, 7)
    valid = t != -100
    tc = np.where(valid, t, 0)
    l = np.where(valid, -w[tc] * x[np.arange(5), tc], 0)
    for red in ("none", "mean", "sum"):
        close(F.nll_loss(T(x), fastdl.tensor(t), weight=T(w), reduction=red),
              reduce_ref(l, red, w[tc][valid].sum()))
        assert gradcheck(lambda a: F.nll_loss(a, fastdl.tensor(t), weight=T(w), reduction=red),
                         [T(x, True)])


@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss(p):
    N, C = 5, 6
    x = randn(N, C)
    t = RNG.integers(0, C, N)
    w = RNG.uniform(0.5, 2, C)
    h = np.maximum(0, 0.7 - x[np.arange(N), t][:, None] + x) ** p
    h[np.arange(N), t] = 0
    ref = w[t] * h.sum(1) / C
    for red in ("none", "mean", "sum"):
        close(F.multi_margin_loss(T(x), fastdl.tensor(t), p=p, margin=0.7, weight=T(w), reduction=red),
              reduce_ref(ref, red))
        assert gradcheck(lambda a: F.multi_margin_loss(a, fastdl.tensor(t), p=p, margin=0.7,
                                                       weight=T(w), reduction=red), [T(x, True)])


@pytest.mark.parametrize("p,swap", [(2, False), (1, False), (3, False), (2, True)])
def test_triplet_margin_loss(p, swap):
    a, po, ne = randn(5, 7), randn(5, 7), randn(5, 7)

    def d(u, v):
        return (np.abs(u - v + 1e-6) ** p).sum(1) ** (1 / p)
    dn = np.minimum(d(a, ne), d(po, ne)) if swap else d(a, ne)
    ref = np.maximum(0, d(a, po) - dn + 1.0)
    for red in ("none", "mean", "sum"):
        close(F.triplet_margin_loss(T(a), T(po), T(ne), p=p, swap=swap, reduction=red),
              reduce_ref(ref, red))
    assert gradcheck(lambda u, v, w: F.triplet_margin_loss(u, v, w, p=p, swap=swap),
                     [T(a, True), T(po, True), T(ne, True)])


def test_cosine_embedding_loss():
    a, b = randn(6, 5), randn(6, 5)
    y = np.array([1, -1, 1, -1, -1, 1])
    cos = (a * b).sum(1) / np.sqrt(((a * a).sum(1) + 1e-12) * ((b * b).sum(1) + 1e-12))
    ref = np.where(y == 1, 1 - cos, np.maximum(0, cos - 0.1))
    for red in ("none", "mean", "sum"):
        close(F.cosine_embedding_loss(T(a), T(b), fastdl.tensor(y), margin=0.1, reduction=red),
              reduce_ref(ref, red))
    assert gradcheck(lambda u, v: F.cosine_embedding_loss(u, v, fastdl.tensor(y), margin=0.1),
                     [T(a, True), T(b, True)])


# ---- pooling ------------------------------------------------------------------------------

def pool_ref(x, k, s, p, d, ceil, mode, cip=True):
    N, C, H, W = x.shape

    def osz(L, k, s, p, d):
        num = L + 2 * p - d * (k - 1) - 1
        o = (-(-num // s) if ceil else num // s) + 1
        if ceil and (o - 1) * s >= L + p:
            o -= 1
        return o
    OH, OW = osz(H, k[0], s[0], p[0], d[0]), osz(W, k[1], s[1], p[1], d[1])
    out = np.zeros((N, C, OH, OW))
    for i in range(OH):
        for j in range(OW):
            hs, ws = i * s[0] - p[0], j * s[1] - p[1]
            if mode == "max":
                hh = [hs + a * d[0] for a in range(k[0]) if 0 <= hs + a * d[0] < H]
                ww = [ws + b * d[1] for b in range(k[1]) if 0 <= ws + b * d[1] < W]
                out[:, :, i, j] = x[:, :, hh][:, :, :, ww].max((2, 3))
            else:
                he, we = min(hs + k[0], H + p[0]), min(ws + k[1], W + p[1])
                pool = (he - hs) * (we - ws)
                h0, w0, h1, w1 = max(hs, 0), max(ws, 0), min(he, H), min(we, W)
                div = pool if cip else (h1 - h0) * (w1 - w0)
                out[:, :, i, j] = x[:, :, h0:h1, w0:w1].sum((2, 3)) / div
    return out


POOL_CASES = [((2, 3, 7, 9), 2, None, 0, 1, False), ((1, 2, 9, 11), 3, 2, 1, 1, False),
              ((1, 2, 9, 11), 3, 2, 1, 1, True), ((2, 1, 10, 8), (3, 2), (2, 1), (1, 0), 2, False),
              ((1, 1, 5, 5), 5, 1, 2, 1, True), ((1, 1, 1, 1), 1, 1, 0, 1, False)]


@pytest.mark.parametrize("shape,k,s,p,d,ceil", POOL_CASES)
def test_max_pool2d(shape, k, s, p, d, ceil):
    x = randn(*shape)
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    ref = pool_ref(x, pair(k), pair(k if s is None else s), pair(p), pair(d), ceil, "max")
    out = F.max_pool2d(T(x), k, s, p, d, ceil)
    close(out, ref)
    assert gradcheck(lambda t: F.max_pool2d(t, k, s, p, d, ceil), [T(x, True)])
    o3 = F.max_pool2d(T(x[0]), k, s, p, d, ceil)
    close(o3, ref[0])


def test_max_pool2d_indices():
    x = randn(1, 1, 4, 4)
    out, idx = F.max_pool2d(T(x), 2, return_indices=True)
    flat = x.reshape(16)
    close(out, flat[idx.numpy()])


@pytest.mark.parametrize("shape,k,s,p,d,ceil", [c for c in POOL_CASES if c[4] == 1])
@pytest.mark.parametrize("cip", [True, False])
def test_avg_pool2d(shape, k, s, p, d, ceil, cip):
    x = randn(*shape)
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    ref = pool_ref(x, pair(k), pair(k if s is None else s), pair(p), (1, 1), ceil, "avg", cip)
    close(F.avg_pool2d(T(x), k, s, p, ceil, cip), ref)
    assert gradcheck(lambda t: F.avg_pool2d(t, k, s, p, ceil, cip), [T(x, True)])


@pytest.mark.parametrize("shape,osz", [((2, 3, 7, 9), (3, 4)), ((1, 2, 5, 5), 1), ((1, 1, 4, 6), (None, 4)),
                                       ((1, 2, 3, 3), (5, 5))])
def test_adaptive_avg_pool2d(shape, osz):
    x = randn(*shape)
    H, W = shape[-2:]
    oh, ow = (osz, osz) if isinstance(osz, int) else (H if osz[0] is None else osz[0], osz[1])
    ref = np.zeros(shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, h1 = i * H // oh, -(-(i + 1) * H // oh)
            w0, w1 = j * W // ow, -(-(j + 1) * W // ow)
            ref[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean((2, 3))
    close(F.adaptive_avg_pool2d(T(x), osz), ref)
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, osz), [T(x, True)])


# ---- normalization -------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5, 7), (2, 5, 6)])
def test_batch_norm_training(shape):
    x = randn(*shape, scale=2) + 1.5
    C = shape[1]
    w, b = RNG.uniform(0.5, 2, C), randn(C)
    rm, rv = np.zeros(C), np.ones(C)
    axes = (0,) + tuple(range(2, len(shape)))
    bshape = (1, C) + (1,) * (len(shape) - 2)
    mu, var = x.mean(axes), x.var(axes)
    ref = (x - mu.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-5) * w.reshape(bshape) + b.reshape(bshape)
    out = F.batch_norm(T(x), rm, rv, T(w), T(b), training=True, momentum=0.3)
    close(out, ref, rtol=1e-9, atol=1e-10)
    M = x.size // C
    close(rm, 0.3 * mu)
    close(rv, 0.7 + 0.3 * var * M / (M - 1))
    assert gradcheck(lambda a, ww, bb: F.batch_norm(a, None, None, ww, bb, training=True),
                     [T(x, True), T(w, True), T(b, True)])


def test_batch_norm_eval_and_float32():
    x = randn(4, 3, 5, 5)
    rm, rv = randn(3), RNG.uniform(0.5, 2, 3)
    ref = (x - rm.reshape(1, 3, 1, 1)) / np.sqrt(rv.reshape(1, 3, 1, 1) + 1e-5)
    close(F.batch_norm(T(x), T(rm), T(rv)), ref)
    assert gradcheck(lambda a, w: F.batch_norm(a, T(rm), T(rv), w, None),
                     [T(x, True), T(np.ones(3) * 1.5, True)])
    rm32, rv32 = rm.astype(np.float32), rv.astype(np.float32)
    close(F.batch_norm(T(x, dtype=np.float32), rm32, rv32), ref, rtol=1e-5, atol=1e-5)
    # running stats untouched in eval
    close(rm32, rm.astype(np.float32))


@pytest.mark.parametrize("shape,ns", [((4, 7), 7), ((2, 3, 5), (3, 5)), ((3, 1), 1), ((2, 130), 130)])
def test_layer_norm(shape, ns):
    x = randn(*shape) * 3 + 1
    nsh = (ns,) if isinstance(ns, int) else ns
    w, b = RNG.uniform(0.5, 2, nsh), randn(*nsh)
    axes = tuple(range(len(shape) - len(nsh), len(shape)))
    ref = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5) * w + b
    close(F.layer_norm(T(x), ns, T(w), T(b)), ref, rtol=1e-9, atol=1e-10)
    assert gradcheck(lambda a, ww, bb: F.layer_norm(a, ns, ww, bb), [T(x, True), T(w, True), T(b, True)])
    assert gradcheck(lambda a: F.layer_norm(a, ns), [T(x, True)])


# ---- dropout, embedding --------------------------------------------------------------------

def test_dropout_scaling_and_eval():
    x = np.ones((1000, 100), np.float32)
    fastdl.manual_seed(3)
    y = F.dropout(T(x, dtype=np.float32), p=0.3).numpy()
    vals = np.unique(y)
    np.testing.assert_allclose(vals, [0, 1 / 0.7], rtol=1e-6)
    assert abs((y == 0).mean() - 0.3) < 0.01
    xt = T(x)
    assert F.dropout(xt, 0.3, training=False) is xt
    assert (F.dropout(T(x), 1.0).numpy() == 0).all()
    a = T(randn(7, 9), True)
    fastdl.manual_seed(5)
    out = F.dropout(a, 0.4)
    w = randn(7, 9)
    (out * T(w)).sum().backward()
    mask = out.detach().numpy() != 0
    close(a.grad, np.where(mask, w / 0.6, 0))


def test_dropout_thread_determinism(threads):
    x = T(randn(300, 1000), dtype=np.float32)
    outs = []
    for n in (1, 2):
        fastdl.set_num_threads(n)
        fastdl.manual_seed(11)
        outs.append(F.dropout(x, 0.5).numpy().copy())
    assert np.array_equal(outs[0], outs[1])
    fastdl.manual_seed(11)
    a = F.dropout(x, 0.5).numpy().copy()
    b = F.dropout(x, 0.5).numpy()
    assert not np.array_equal(a, b)      # a new stream per call


def test_embedding():
    W = randn(10, 6)
    idx = np.array([[1, 3, 3], [9, 0, 1]])
    close(F.embedding(fastdl.tensor(idx), T(W)), W[idx])
    assert gradcheck(lambda w: F.embedding(fastdl.tensor(idx), w), [T(W, True)])
    wt = T(W, True)
    out = F.embedding(fastdl.tensor(idx), wt, padding_idx=3)
    g = randn(2, 3, 6)
    (out * T(g)).sum().backward()
    ref = np.zeros_like(W)
    np.add.at(ref, idx.reshape(-1), g.reshape(-1, 6))
    ref[3] = 0
    close(wt.grad, ref)


# ---- thread-count invariance ----------------------------------------------------------------

def _run_all(x, t, img):
    r = []
    xt = fastdl.tensor(x, requires_grad=True)
    for fn in (lambda a: F.relu(a), lambda a: F.gelu(a), lambda a: F.softmax(a, 1),
               lambda a: F.log_softmax(a, 0), lambda a: F.cross_entropy(a, fastdl.tensor(t)),
               lambda a: F.layer_norm(a, x.shape[1])):
        xt.grad = None
        y = fn(xt)
        y.backward(fastdl.ones_like(y) if y.ndim else None)
        r += [y.detach().numpy().copy(), xt.grad.numpy().copy()]
    it = fastdl.tensor(img, requires_grad=True)
    for fn in (lambda a: F.max_pool2d(a, 3, 2, 1),
               lambda a: F.batch_norm(a, None, None, training=True),
               lambda a: F.avg_pool2d(a, 2)):
        it.grad = None
        y = fn(it)
        y.backward(fastdl.ones_like(y))
        r += [y.detach().numpy().copy(), it.grad.numpy().copy()]
    return r


def test_bitwise_identical_across_thread_counts(threads, isa):
    x = RNG.standard_normal((512, 1000)).astype(np.float32)
    t = RNG.integers(0, 1000, 512)
    img = RNG.standard_normal((16, 8, 28, 28)).astype(np.float32)
    fastdl.set_num_threads(1)
    a = _run_all(x, t, img)
    fastdl.set_num_threads(2)
    b = _run_all(x, t, img)
    for u, v in zip(a, b):
        assert np.array_equal(u, v)


# ---- argument errors ----------------------------------------------------------------------

def test_errors():
    x = T(randn(4, 5))
    with pytest.raises(ValueError, match="cross_entropy.*out of range"):
        F.cross_entropy(x, fastdl.tensor([0, 1, 5, 2]))
    with pytest.raises(ValueError, match="cross_entropy.*target of shape"):
        F.cross_entropy(x, fastdl.tensor([0, 1]))
    with pytest.raises(TypeError, match="nll_loss.*integer"):
        F.nll_loss(x, T([0.0, 1, 2, 3]))
    with pytest.raises(TypeError, match="cross_entropy.*dtype"):
        F.cross_entropy(x, fastdl.tensor(np.array([True, False, True, True])))
    with pytest.raises(ValueError, match="binary_cross_entropy.*input.*between 0 and 1"):
        F.binary_cross_entropy(T([-0.1, 0.5]), T([0.0, 1.0]))
    with pytest.raises(ValueError, match="binary_cross_entropy.*target.*between 0 and 1"):
        F.binary_cross_entropy(T([0.1, 0.5]), T([0.0, 2.0]))
    with pytest.raises(ValueError, match="mse_loss.*shape"):
        F.mse_loss(x, T(randn(5, 4)))
    with pytest.raises(ValueError, match="reduction"):
        F.l1_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match="max_pool2d.*larger than the padded input"):
        F.max_pool2d(T(randn(1, 1, 3, 3)), 6, padding=1)
    with pytest.raises(ValueError, match="max_pool2d.*3-d.*4-d"):
        F.max_pool2d(T(randn(3, 3)), 2)
    with pytest.raises(ValueError, match="avg_pool2d.*half"):
        F.avg_pool2d(T(randn(1, 1, 8, 8)), 2, padding=2)
    with pytest.raises(ValueError, match="batch_norm.*running_mean.*3 elements"):
        F.batch_norm(T(randn(2, 3, 4)), np.zeros(4), np.ones(4))
    with pytest.raises(ValueError, match="batch_norm.*weight.*3 elements"):
        F.batch_norm(T(randn(2, 3, 4)), None, None, T(np.ones(5)), training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(T(randn(1, 3)), None, None, training=True)
    with pytest.raises(ValueError, match="layer_norm.*normalized_shape"):
        F.layer_norm(x, 4)
    with pytest.raises(ValueError, match="dropout.*between 0 and 1"):
        F.dropout(x, 1.5)
    with pytest.raises(ValueError, match="embedding.*out of range"):
        F.embedding(fastdl.tensor([0, 10]), T(randn(10, 3)))
    with pytest.raises(TypeError, match="embedding.*integer"):
        F.embedding(T([0.0, 1.0]), T(randn(10, 3)))
    with pytest.raises(TypeError, match="relu.*float32 or float64"):
        F.relu(fastdl.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="hinge_loss.*-1 or 1"):
        F.hinge_loss(T([0.5, 1.0]), T([0.0, 1.0]))
    with pytest.raises(ValueError, match="gelu.*approximate"):
        F.gelu(x, approximate="fast")
    with pytest.raises(ValueError, match="softmax.*dim"):
        F.softmax(x, 2)


def test_float32_tanh_sigmoid_gelu_accuracy(isa):
    # the float32 paths use exp-based formulas (vectorizable); hold them to a few ulp
    x = np.concatenate([np.linspace(-15, 15, 200001), np.geomspace(1e-30, 2, 4000),
                        -np.geomspace(1e-30, 2, 4000)]).astype(np.float32)
    xd = x.astype(np.float64)
    with np.errstate(over="ignore"):
        refs = ((F.tanh, np.tanh(xd)), (F.sigmoid, np_sigmoid(xd)))
    for fn, ref in refs:
        y = fn(fastdl.tensor(x)).numpy().astype(np.float64)
        err = np.abs(y - ref) / np.spacing(np.abs(ref).astype(np.float32))
        assert err.max() <= 5, (fn.__name__, err.max(), x[err.argmax()])
    # exact gelu's float32 condition number grows like x^2 in the left tail
    ref = 0.5 * xd * np.vectorize(math.erfc)(-xd / math.sqrt(2))
    y = F.gelu(fastdl.tensor(x)).numpy()
    np.testing.assert_allclose(y, ref, rtol=2e-5, atol=1e-40)
    y = F.gelu(fastdl.tensor(x), approximate="tanh").numpy()
    k = math.sqrt(2 / math.pi)
    with np.errstate(over="ignore"):
        # x sigmoid(2u) == 0.5 x (1 + tanh(u)) without the cancellation for x << 0
        ref = xd * np_sigmoid(2 * k * (xd + 0.044715 * xd ** 3))
    np.testing.assert_allclose(y, ref, rtol=5e-5, atol=1e-40)   # condition ~ x u'(x)
    assert np.signbit(F.tanh(fastdl.tensor(np.float32([-0.0]))).numpy()[0])


def test_non_contiguous_inputs_and_grads():
    base = randn(6, 8)
    x = T(base, True)
    xt = x.T                                  # a non-contiguous view
    y = F.log_softmax(xt, 1)
    close(y, np.log(np_softmax(base.T, 1)))
    g = randn(8, 6)
    y.backward(T(g.T.copy().T))               # non-contiguous upstream gradient
    p = np_softmax(base.T, 1)
    close(x.grad, (g - p * g.sum(1, keepdims=True)).T)
    a = T(randn(2, 3, 8, 8), True)
    out = F.max_pool2d(a.permute(0, 1, 3, 2), 2)
    close(out, pool_ref(a.detach().numpy().transpose(0, 1, 3, 2), (2, 2), (2, 2), (0, 0), (1, 1), False, "max"))
    assert gradcheck(lambda t: F.max_pool2d(t.permute(0, 1, 3, 2), 2), [a])


def test_max_pool2d_nan_and_inf():
    x = np.full((1, 1, 4, 4), -np.inf)
    x[0, 0, 0, 1] = np.nan
    x[0, 0, 2, 2] = 3.0
    out, idx = F.max_pool2d(T(x), 2, return_indices=True)
    o = out.numpy()[0, 0]
    assert np.isnan(o[0, 0]) and o[0, 1] == -np.inf and o[1, 1] == 3.0
    assert idx.numpy()[0, 0, 0, 0] == 1 and idx.numpy()[0, 0, 1, 1] == 10


def test_parameter_gradients_identical_across_thread_counts(threads):
    # column-split reductions: layer_norm weight/bias, embedding scatter-add, batch_norm affine
    x = RNG.standard_normal((256, 512)).astype(np.float32)
    idx = RNG.integers(0, 50, 4096)
    img = RNG.standard_normal((8, 16, 20, 20)).astype(np.float32)
    results = []
    for n in (1, 2):
        fastdl.set_num_threads(n)
        w = fastdl.ones(512, requires_grad=True)
        b = fastdl.zeros(512, requires_grad=True)
        F.layer_norm(fastdl.tensor(x), 512, w, b).sum().backward()
        E = fastdl.tensor(RNG.standard_normal((50, 300)).astype(np.float32) * 0 + 1, requires_grad=True)
        (F.embedding(fastdl.tensor(idx), E, padding_idx=7) * fastdl.tensor(
            np.linspace(-1, 1, 4096 * 300, dtype=np.float32).reshape(4096, 300))).sum().backward()
        bw = fastdl.ones(16, requires_grad=True)
        bb = fastdl.zeros(16, requires_grad=True)
        (F.batch_norm(fastdl.tensor(img), None, None, bw, bb, training=True) ** 2).sum().backward()
        results.append([t.grad.numpy().copy() for t in (w, b, E, bw, bb)])
    for u, v in zip(*results):
        assert np.array_equal(u, v)
    assert (results[0][2][7] == 0).all()
