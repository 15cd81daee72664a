"""Compare fastdl.nn.functional with torch.nn.functional (float64): forward
outputs and input gradients of every op. Skipped when torch is not installed."""
import numpy as np
import pytest

import fastdl
import fastdl.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

RNG = np.random.default_rng(7)


def randn(*shape, scale=1.0):
    return RNG.standard_normal(shape) * scale


def compare(f_fn, t_fn, arrays, grad=(0,), ints=(), rtol=1e-7, atol=1e-9):
    """Run both with the same float64 inputs; compare outputs and grads of the `grad` inputs.

    ints: positions holding integer arrays (passed as int64 tensors, no grad)."""
    fa, ta = [], []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        if i in ints:
            fa.append(fastdl.tensor(a.astype(np.int64)))
            ta.append(torch.from_numpy(a.astype(np.int64)))
        else:
            fa.append(fastdl.tensor(a.astype(np.float64), requires_grad=i in grad))
            ta.append(torch.tensor(a.astype(np.float64), requires_grad=i in grad))
    fo, to = f_fn(*fa), t_fn(*ta)
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=rtol, atol=atol)
    if not grad:
        return
    w = RNG.standard_normal(tuple(to.shape))
    (fo * fastdl.tensor(w)).sum().backward()
    (to * torch.from_numpy(w)).sum().backward()
    for i in grad:
        np.testing.assert_allclose(fa[i].grad.numpy(), ta[i].grad.numpy(), rtol=rtol,
                                   atol=atol, err_msg="gradient of input %d" % i)


ACTS = [
    ("relu", {}), ("leaky_relu", {"negative_slope": 0.1}), ("elu", {"alpha": 0.7}),
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("sigmoid", {}), ("tanh", {}),
    ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 3.0}), ("silu", {}),
]


@pytest.mark.parametrize("name,kw", ACTS)
def test_activations(name, kw):
    x = randn(6, 37, scale=4)
    x[0, :5] = [-100, 100, 0.0, -30, 30]
    compare(lambda a: getattr(F, name)(a, **kw), lambda a: getattr(TF, name)(a, **kw), [x])


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax(name, dim):
    x = randn(3, 9, 5, scale=5)
    compare(lambda a: getattr(F, name)(a, dim), lambda a: getattr(TF, name)(a, dim), [x])


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name,kw", [("mse_loss", {}), ("l1_loss", {}), ("huber_loss", {"delta": 0.5}),
                                     ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0})])
def test_regression_losses(name, kw, reduction):
    x, y = randn(5, 8), randn(5, 8)
    compare(lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kw),
            lambda a, b: getattr(TF, name)(a, b, reduction=reduction, **kw), [x, y], grad=(0, 1))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_bce(reduction):
    p = RNG.uniform(0, 1, (4, 7))
    p[0, :4] = [0.0, 1.0, 0.0, 1.0]
    y = RNG.uniform(0, 1, (4, 7))
    y[0, :4] = [0.0, 1.0, 1.0, 0.0]
    w = RNG.uniform(0.5, 2, (7,))
    compare(lambda a, b, c: F.binary_cross_entropy(a, b, weight=c, reduction=reduction),
            lambda a, b, c: TF.binary_cross_entropy(a, b, weight=c, reduction=reduction),
            [p, y, w], grad=(0,))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_bce_with_logits(reduction):
    x = randn(4, 7, scale=4)
    x[0, :4] = [-100, 100, -100, 100]
    y = RNG.uniform(0, 1, (4, 7))
    w, pw = RNG.uniform(0.5, 2, (4, 1)), RNG.uniform(0.5, 3, (7,))
    compare(lambda a, b, c, d: F.binary_cross_entropy_with_logits(a, b, c, reduction=reduction, pos_weight=d),
            lambda a, b, c, d: TF.binary_cross_entropy_with_logits(a, b, c, reduction=reduction, pos_weight=d),
            [x, y, w, pw], grad=(0,))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("eps", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy(reduction, eps, weighted):
    x = randn(9, 13, scale=3)
    x[0, :3] = [100, -100, 50]
    t = RNG.integers(0, 13, 9)
    t[4] = -100
    w = RNG.uniform(0.5, 2, 13) if weighted else None
    args = [x, t] + ([w] if weighted else [])
    compare(lambda a, b, *c: F.cross_entropy(a, b, *c, reduction=reduction, label_smoothing=eps),
            lambda a, b, *c: TF.cross_entropy(a, b, *c, reduction=reduction, label_smoothing=eps),
            args, ints=(1,))
    tp = np.exp(randn(9, 13))
    tp /= tp.sum(1, keepdims=True)
    compare(lambda a, b, *c: F.cross_entropy(a, b, *c, reduction=reduction, label_smoothing=eps),
            lambda a, b, *c: TF.cross_entropy(a, b, *c, reduction=reduction, label_smoothing=eps),
            [x, tp] + args[2:])


def test_cross_entropy_kdim():
    x = randn(2, 5, 3, 4)
    t = RNG.integers(0, 5, (2, 3, 4))
    t[0, 0, 0] = 2
    compare(lambda a, b: F.cross_entropy(a, b, ignore_index=2, label_smoothing=0.1),
            lambda a, b: TF.cross_entropy(a, b, ignore_index=2, label_smoothing=0.1), [x, t], ints=(1,))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_nll_loss(reduction):
    x = randn(6, 5)
    t = RNG.integers(0, 5, 6)
    t[1] = -100
    w = RNG.uniform(0.5, 2, 5)
    compare(lambda a, b, c: F.nll_loss(a, b, c, reduction=reduction),
            lambda a, b, c: TF.nll_loss(a, b, c, reduction=reduction), [x, t, w], ints=(1,))


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_multi_margin(p, reduction):
    x = randn(6, 5)
    t = RNG.integers(0, 5, 6)
    w = RNG.uniform(0.5, 2, 5)
    compare(lambda a, b, c: F.multi_margin_loss(a, b, p=p, margin=0.8, weight=c, reduction=reduction),
            lambda a, b, c: TF.multi_margin_loss(a, b, p=p, margin=0.8, weight=c, reduction=reduction),
            [x, t, w], ints=(1,))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_hinge_embedding_and_kl(reduction):
    x = randn(4, 6)
    y = RNG.choice([-1.0, 1.0], (4, 6))
    compare(lambda a, b: F.hinge_embedding_loss(a, b, margin=0.5, reduction=reduction),
            lambda a, b: TF.hinge_embedding_loss(a, b, margin=0.5, reduction=reduction), [x, y])
    lp = np.log(np.exp(x) / np.exp(x).sum(1, keepdims=True))
    q = np.exp(randn(4, 6))
    q /= q.sum(1, keepdims=True)
    q[0, 0] = 0.0
    for red in (reduction, "batchmean"):
        compare(lambda a, b: F.kl_div(a, b, reduction=red),
                lambda a, b: TF.kl_div(a, b, reduction=red), [lp, q])
        compare(lambda a, b: F.kl_div(a, b, reduction=red, log_target=True),
                lambda a, b: TF.kl_div(a, b, reduction=red, log_target=True), [lp, lp[::-1].copy()])


@pytest.mark.parametrize("p,swap", [(2, False), (1, True), (3, False)])
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_triplet(p, swap, reduction):
    a, po, ne = randn(7, 5), randn(7, 5), randn(7, 5)
    compare(lambda *t: F.triplet_margin_loss(*t, margin=1.5, p=p, swap=swap, reduction=reduction),
            lambda *t: TF.triplet_margin_loss(*t, margin=1.5, p=p, swap=swap, reduction=reduction),
            [a, po, ne], grad=(0, 1, 2))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_cosine_embedding(reduction):
    a, b = randn(7, 5), randn(7, 5)
    y = np.array([1, -1, 1, -1, -1, 1, -1])
    compare(lambda u, v, t: F.cosine_embedding_loss(u, v, t, margin=0.2, reduction=reduction),
            lambda u, v, t: TF.cosine_embedding_loss(u, v, t, margin=0.2, reduction=reduction),
            [a, b, y], grad=(0, 1), ints=(2,))


@pytest.mark.parametrize("k,s,p,d,ceil", [(2, None, 0, 1, False), (3, 2, 1, 1, True), ((3, 2), (2, 1), (1, 0), 2, False),
                                          (3, 3, 1, 1, True)])
def test_max_pool2d(k, s, p, d, ceil):
    x = randn(2, 3, 11, 10)
    compare(lambda a: F.max_pool2d(a, k, s, p, d, ceil), lambda a: TF.max_pool2d(a, k, s, p, d, ceil), [x])
    _, fi = F.max_pool2d(fastdl.tensor(x), k, s, p, d, ceil, return_indices=True)
    _, ti = TF.max_pool2d(torch.from_numpy(x), k, s, p, d, ceil, return_indices=True)
    np.testing.assert_array_equal(fi.numpy(), ti.numpy())


@pytest.mark.parametrize("k,s,p,ceil,cip", [(2, None, 0, False, True), (3, 2, 1, True, True), (3, 2, 1, True, False),
                                            ((3, 2), (2, 1), (1, 0), False, False)])
def test_avg_pool2d(k, s, p, ceil, cip):
    x = randn(2, 3, 11, 10)
    compare(lambda a: F.avg_pool2d(a, k, s, p, ceil, cip), lambda a: TF.avg_pool2d(a, k, s, p, ceil, cip), [x])


@pytest.mark.parametrize("osz", [1, (3, 4), (None, 2), (7, 7)])
def test_adaptive_avg_pool2d(osz):
    x = randn(2, 3, 11, 10)
    compare(lambda a: F.adaptive_avg_pool2d(a, osz), lambda a: TF.adaptive_avg_pool2d(a, osz), [x])


@pytest.mark.parametrize("shape", [(16, 4), (4, 3, 6, 5)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm(shape, training):
    x = randn(*shape) * 2 + 1
    C = shape[1]
    w, b = RNG.uniform(0.5, 2, C), randn(C)
    rm, rv = randn(C), RNG.uniform(0.5, 2, C)
    frm, frv, trm, trv = rm.copy(), rv.copy(), torch.tensor(rm), torch.tensor(rv)
    compare(lambda a, ww, bb: F.batch_norm(a, frm, frv, ww, bb, training, 0.2, 1e-4),
            lambda a, ww, bb: TF.batch_norm(a, trm, trv, ww, bb, training, 0.2, 1e-4),
            [x, w, b], grad=(0, 1, 2))
    # compare() ran each forward once
    np.testing.assert_allclose(frm, trm.numpy(), rtol=1e-10)
    np.testing.assert_allclose(frv, trv.numpy(), rtol=1e-10)


@pytest.mark.parametrize("shape,ns", [((4, 9), (9,)), ((2, 3, 4, 5), (4, 5))])
def test_layer_norm(shape, ns):
    x = randn(*shape) * 3
    w, b = RNG.uniform(0.5, 2, ns), randn(*ns)
    compare(lambda a, ww, bb: F.layer_norm(a, ns, ww, bb), lambda a, ww, bb: TF.layer_norm(a, ns, ww, bb),
            [x, w, b], grad=(0, 1, 2))


def test_embedding():
    W = randn(10, 4)
    idx = RNG.integers(0, 10, (3, 5))
    idx[0, 0] = 2
    compare(lambda i, w: F.embedding(i, w, padding_idx=2), lambda i, w: TF.embedding(i, w, padding_idx=2),
            [idx, W], grad=(1,), ints=(0,))


def test_dropout_statistics():
    # masks differ from torch's generator by design; compare the law, not the bits
    x = np.ones((400, 500))
    fastdl.manual_seed(0)
    y = F.dropout(fastdl.tensor(x), 0.25).numpy()
    t = TF.dropout(torch.from_numpy(x), 0.25).numpy()
    assert set(np.unique(y)) == set(np.unique(t))
    assert abs((y == 0).mean() - (t == 0).mean()) < 0.01


def test_hinge_loss_matches_formula_via_torch():
    x = randn(5, 4)
    y = RNG.choice([-1.0, 1.0], (5, 4))
    compare(lambda a, b: F.hinge_loss(a, b), lambda a, b: torch.clamp(1 - a * b, min=0).mean(), [x, y])


def test_max_pool2d_nan_inf_like_torch():
    x = randn(1, 2, 6, 6)
    x[0, 0, :2, :2] = -np.inf
    x[0, 1, 0, 1] = np.nan
    x[0, 1, 3, 3] = np.nan
    fo, fi = F.max_pool2d(fastdl.tensor(x), 3, 2, 1, return_indices=True)
    to, ti = TF.max_pool2d(torch.from_numpy(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(fo.numpy(), to.numpy())
    np.testing.assert_array_equal(fi.numpy(), ti.numpy())
