"""batch_norm per ISA, fused batch_norm + ReLU (fdl_batch_norm_*_ex), nn.Sequential's
BatchNorm + ReLU node, and the autograd engine's ReLU backward fold.

Oracles: float64 NumPy formulas and finite differences; the fold is also compared
with the same graph run with the fold turned off."""

import numpy as np
import pytest

import fastdl
import fastdl.nn as nn
import fastdl.nn.functional as F
from fastdl._C import nn as _nn
from fastdl.autograd import engine
from fastdl.autograd._functions import nn as _fn

# (N, C, S): odd C and S, C not a multiple of 16, S = 1, N = 1, few channels with many
# values (several blocks per channel), many channels
SHAPES = [(4, 3, 5), (2, 17, 7), (6, 19, 1), (1, 5, 33), (3, 2, 40000), (2, 40, 9)]


def _oracle_forward(x, w, b, rm, rv, training, momentum, eps, relu):
    """float64 batch_norm over x[N, C, S]; returns out and the new running stats."""
    x = x.astype(np.float64)
    M = x.shape[0] * x.shape[2]
    if training:
        mu = x.mean(axis=(0, 2))
        var = x.var(axis=(0, 2))
        rm = (1 - momentum) * rm + momentum * mu
        rv = (1 - momentum) * rv + momentum * var * M / max(M - 1, 1)
    else:
        mu, var = rm.astype(np.float64), rv.astype(np.float64)
    out = (x - mu[:, None]) / np.sqrt(var[:, None] + eps) * w[:, None] + b[:, None]
    if relu:
        out = np.maximum(out, 0)
    return out, rm, rv


def _oracle_backward(x, w, b, g, training, eps, relu, rm=None, rv=None):
    """float64 gradients (dx, dw, db) of sum(g * out) with out the (relu of) batch_norm."""
    x, g = x.astype(np.float64), g.astype(np.float64)
    M = x.shape[0] * x.shape[2]
    if training:
        mu, var = x.mean(axis=(0, 2)), x.var(axis=(0, 2))
    else:
        mu, var = rm.astype(np.float64), rv.astype(np.float64)
    rs = 1 / np.sqrt(var + eps)
    xhat = (x - mu[:, None]) * rs[:, None]
    if relu:
        g = g * (xhat * w[:, None] + b[:, None] > 0)
    db = g.sum(axis=(0, 2))
    dw = (g * xhat).sum(axis=(0, 2))
    if training:
        dx = w[:, None] * rs[:, None] * (g - db[:, None] / M - xhat * dw[:, None] / M)
    else:
        dx = w[:, None] * rs[:, None] * g
    return dx, dw, db


def _data(rng, shape, dtype, offset=0.0):
    N, C, S = shape
    x = (rng.standard_normal(shape) * 2 + offset).astype(dtype)
    w = rng.uniform(0.5, 1.5, C).astype(dtype)
    b = rng.uniform(-0.5, 0.5, C).astype(dtype)
    return x, w, b


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("training", [True, False])
def test_forward_backward_match_float64_oracle(isa, rng, shape, dtype, relu, training):
    x, w, b = _data(rng, shape, dtype, offset=3.0)
    C = shape[1]
    rm = rng.standard_normal(C).astype(dtype) + 3
    rv = rng.uniform(2, 6, C).astype(dtype)
    rm0, rv0 = rm.copy(), rv.copy()
    out, mean, rstd = _nn.batch_norm_forward(x, rm, rv, w, b, training, 0.1, 1e-5, relu)
    want, wrm, wrv = _oracle_forward(x, w, b, rm0.astype(np.float64), rv0.astype(np.float64),
                                     training, 0.1, 1e-5, relu)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, want, rtol=tol, atol=tol)
    np.testing.assert_allclose(rm, wrm, rtol=tol, atol=tol)
    np.testing.assert_allclose(rv, wrv, rtol=tol, atol=tol)
    g = rng.standard_normal(shape).astype(dtype)
    dx, dw, db = _nn.batch_norm_backward(mean, rstd, x, w, g, training, True, True, True,
                                         relu, b)
    wdx, wdw, wdb = _oracle_backward(x, w, b, g, training, 1e-5, relu, rm0, rv0)
    # masked elements where the output is within rounding of 0 may differ: none here
    # with float64 data; for float32 the tolerance covers sums over up to 80000 values
    tol = 2e-4 if dtype == np.float32 else 1e-10
    scale = np.abs(wdx).max() + 1
    np.testing.assert_allclose(dx, wdx, rtol=tol, atol=tol * scale)
    np.testing.assert_allclose(dw, wdw, rtol=tol, atol=tol * (np.abs(wdw).max() + 1))
    np.testing.assert_allclose(db, wdb, rtol=tol, atol=tol * (np.abs(wdb).max() + 1))


def test_statistics_accurate_with_a_large_offset(isa, rng):
    """The one-pass statistics (shifted by the channel's first value) keep float32
    variance accurate when the mean is far from 0 and the first value is an outlier."""
    x = (rng.standard_normal((64, 2, 100)) * 1e-2 + 1e4).astype(np.float32)
    x[0, 0, 0] = 1e4 + 5.0
    out, mean, rstd = _nn.batch_norm_forward(x, None, None, None, None, True, 0.1, 0.0)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(mean, x64.mean(axis=(0, 2)), rtol=1e-7)
    np.testing.assert_allclose(rstd, 1 / np.sqrt(x64.var(axis=(0, 2))), rtol=1e-5)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("training", [True, False])
def test_backward_finite_differences(isa, rng, relu, training):
    shape = (3, 4, 5)
    x, w, b = _data(rng, shape, np.float64)
    rm, rv = rng.standard_normal(4) * 0.1, rng.uniform(0.5, 2, 4)
    g = rng.standard_normal(shape)

    def loss(x, w, b):
        out, _, _ = _nn.batch_norm_forward(x, rm.copy(), rv.copy(), w, b, training, 0.1, 1e-5,
                                           relu)
        return float((out * g).sum())

    out, mean, rstd = _nn.batch_norm_forward(x, rm.copy(), rv.copy(), w, b, training, 0.1,
                                             1e-5, relu)
    dx, dw, db = _nn.batch_norm_backward(mean, rstd, x, w, g, training, True, True, True,
                                         relu, b)
    h = 1e-6
    for arr, grad in ((x, dx), (w, dw), (b, db)):
        num = np.empty_like(arr)
        for i in np.ndindex(arr.shape):
            old = arr[i]
            arr[i] = old + h
            lp = loss(x, w, b)
            arr[i] = old - h
            lm = loss(x, w, b)
            arr[i] = old
            num[i] = (lp - lm) / (2 * h)
        np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("relu", [False, True])
def test_empty_input(isa, relu):
    for shape in ((0, 3, 4), (2, 0, 4), (2, 3, 0)):
        x = np.zeros(shape, np.float32)
        C = shape[1]
        rm, rv = np.zeros(C, np.float32), np.ones(C, np.float32)
        out, mean, rstd = _nn.batch_norm_forward(x, rm, rv, None, None, False, 0.1, 1e-5, relu)
        assert out.shape == shape
        dx, dw, db = _nn.batch_norm_backward(mean, rstd, x, None, x, False, True, False, False,
                                             relu, None)
        assert dx.shape == shape


@pytest.mark.parametrize("shape", [(3, 2, 40000), (8, 40, 300), (64, 3, 1)])
@pytest.mark.parametrize("relu", [False, True])
def test_bitwise_identical_for_1_and_2_threads(isa, rng, shape, relu):
    x, w, b = _data(rng, shape, np.float32, offset=1.0)
    g = rng.standard_normal(shape).astype(np.float32)
    res = []
    for n in (1, 2):
        fastdl.set_num_threads(n)
        rm, rv = np.zeros(shape[1], np.float32), np.ones(shape[1], np.float32)
        out, mean, rstd = _nn.batch_norm_forward(x, rm, rv, w, b, True, 0.1, 1e-5, relu)
        grads = _nn.batch_norm_backward(mean, rstd, x, w, g, True, True, True, True, relu, b)
        res.append((out, mean, rstd, rm, rv) + tuple(grads))
    for a, b_ in zip(*res):
        assert a.tobytes() == b_.tobytes()


def test_relu_keeps_nan(isa):
    x = np.array([[[1.0, np.nan, -1.0, 2.0]]], np.float32)
    out, _, _ = _nn.batch_norm_forward(x, np.zeros(1, np.float32), np.ones(1, np.float32),
                                       None, None, False, 0.1, 0.0, True)
    assert np.isnan(out[0, 0, 1]) and out[0, 0, 2] == 0 and out[0, 0, 3] == 2


def test_backward_bias_size_checked():
    x = np.ones((2, 3, 4), np.float32)
    m, r = np.zeros(3, np.float32), np.ones(3, np.float32)
    with pytest.raises(ValueError, match="batch_norm.*bias"):
        _nn.batch_norm_backward(m, r, x, None, x, True, True, False, False, True,
                                np.ones(5, np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_mask_is_the_forward_sign_bit_for_bit(isa, rng, dtype):
    """The backward recomputes the ReLU mask from x: on outputs within rounding of 0
    (bias = -x0 * a, so (x - mu) * a + b is the rounding error of x0 * a, or exactly 0)
    it must agree with the forward's output > 0, so the folded gradient equals the
    batch_norm gradient of dout * (out > 0) exactly."""
    N, C, S = 8, 5, 301
    x0 = rng.uniform(-3, 3, C).astype(dtype)
    ulp = np.spacing(np.abs(x0)).astype(dtype)
    x = (x0[None, :, None] + rng.integers(-3, 4, (N, C, S)) * ulp[None, :, None]).astype(dtype)
    rm, rv = np.zeros(C, dtype), rng.uniform(0.5, 2, C).astype(dtype)
    w = rng.uniform(0.5, 1.5, C).astype(dtype)
    rs = (1 / np.sqrt(rv.astype(np.float64) + 1e-5)).astype(dtype)
    b = (-(x0 * (rs * w))).astype(dtype)
    g = rng.standard_normal((N, C, S)).astype(dtype)
    for training in (False, True):
        out, mean, rstd = _nn.batch_norm_forward(x, rm.copy(), rv.copy(), w, b, training, 0.1,
                                                 1e-5, True)
        folded = _nn.batch_norm_backward(mean, rstd, x, w, g, training, True, True, True,
                                         True, b)
        masked = _nn.batch_norm_backward(mean, rstd, x, w, g * (out > 0), training, True, True,
                                         True)
        if not training:
            assert 0 < (out > 0).mean() < 1
        for a, m in zip(folded, masked):
            np.testing.assert_array_equal(a, m)     # exact values (0 and -0 compare equal)


# ---- nn.Sequential(BatchNorm, ReLU) --------------------------------------------------

def _pair_grads(seq, x):
    xt = fastdl.tensor(x, requires_grad=True)
    y = seq(xt)
    g = np.random.default_rng(3).standard_normal(y.shape).astype(x.dtype)
    y.backward(fastdl.tensor(g))
    return y, xt.grad.numpy(), [p.grad.numpy() for p in seq.parameters()]


@pytest.mark.parametrize("bn, shape", [(nn.BatchNorm2d, (4, 5, 3, 3)),
                                       (nn.BatchNorm1d, (6, 7)), (nn.BatchNorm1d, (3, 4, 9))])
@pytest.mark.parametrize("train", [True, False])
def test_sequential_bn_relu_is_one_node_with_the_same_results(rng, bn, shape, train):
    x = rng.standard_normal(shape).astype(np.float32)
    fused = nn.Sequential(bn(shape[1]), nn.ReLU())
    fused[0].weight.data.copy_(fastdl.tensor(rng.uniform(0.5, 1.5, shape[1]).astype(np.float32)))
    fused[0].bias.data.copy_(fastdl.tensor(rng.uniform(-0.5, 0.5, shape[1]).astype(np.float32)))
    plain = nn.Sequential(bn(shape[1]), nn.ReLU())
    plain.load_state_dict(fused.state_dict())
    plain[0].register_forward_hook(lambda m, i, o: None)     # a hook: no fusion
    fused.train(train)
    plain.train(train)
    old = engine.set_relu_fold(False)
    try:
        yf, dxf, pf = _pair_grads(fused, x)
        yp, dxp, pp = _pair_grads(plain, x)
    finally:
        engine.set_relu_fold(old)
    assert yf.grad_fn.name == "BatchNormReluBackward"
    assert yp.grad_fn.name != "BatchNormReluBackward"
    np.testing.assert_allclose(yf.detach().numpy(), yp.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(dxf, dxp, rtol=1e-5, atol=1e-6)
    for a, b in zip(pf, pp):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(fused[0].running_mean.numpy(), plain[0].running_mean.numpy())
    np.testing.assert_array_equal(fused[0].running_var.numpy(), plain[0].running_var.numpy())


# ---- the autograd ReLU fold -----------------------------------------------------------

@pytest.fixture
def count_folds(monkeypatch):
    """Counts BatchNorm.backward_relu calls (the folded backward) during the test."""
    calls = []
    orig = _fn.BatchNorm.backward_relu

    def counted(ctx, relu, *grads):
        calls.append(1)
        return orig(ctx, relu, *grads)

    monkeypatch.setattr(_fn.BatchNorm, "backward_relu", staticmethod(counted))
    return calls


def _block(x, w, b, dtype):
    """relu(bn(x)) written as user forward() code writes it (no Sequential)."""
    return F.relu(F.batch_norm(x, None, None, w, b, training=True))


def _grads(build, dtype, rng, fold, seed=0):
    r = np.random.default_rng(seed)
    x = fastdl.tensor(r.standard_normal((4, 3, 5)).astype(dtype), requires_grad=True)
    w = fastdl.tensor(r.uniform(0.5, 1.5, 3).astype(dtype), requires_grad=True)
    b = fastdl.tensor(r.uniform(-0.5, 0.5, 3).astype(dtype), requires_grad=True)
    old = engine.set_relu_fold(fold)
    try:
        out = build(x, w, b)
        g = r.standard_normal(out.shape).astype(dtype)
        (out * fastdl.tensor(g)).sum().backward()
    finally:
        engine.set_relu_fold(old)
    return [t.grad.numpy() for t in (x, w, b)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fold_gives_the_unfolded_gradients(rng, dtype, count_folds):
    build = lambda x, w, b: _block(x, w, b, dtype)
    unfolded = _grads(build, dtype, rng, False)
    assert count_folds == []
    folded = _grads(build, dtype, rng, True)
    assert len(count_folds) == 1
    tol = 1e-6 if dtype == np.float32 else 1e-14
    for a, b in zip(folded, unfolded):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_fold_matches_finite_differences(rng, count_folds):
    r = np.random.default_rng(0)
    x0 = r.standard_normal((4, 3, 5))
    w0, b0 = r.uniform(0.5, 1.5, 3), r.uniform(-0.5, 0.5, 3)
    g = r.standard_normal((4, 3, 5))

    def loss(x):
        return float((np.asarray(_block(fastdl.tensor(x), fastdl.tensor(w0), fastdl.tensor(b0),
                                        np.float64).numpy()) * g).sum())

    x = fastdl.tensor(x0, requires_grad=True)
    (_block(x, fastdl.tensor(w0), fastdl.tensor(b0), np.float64) * fastdl.tensor(g)).sum() \
        .backward()
    assert len(count_folds) == 1
    h, num = 1e-6, np.empty_like(x0)
    for i in np.ndindex(x0.shape):
        xp, xm = x0.copy(), x0.copy()
        xp[i] += h
        xm[i] -= h
        num[i] = (loss(xp) - loss(xm)) / (2 * h)
    np.testing.assert_allclose(x.grad.numpy(), num, rtol=1e-5, atol=1e-6)


def _twice(x, w, b):
    y = F.batch_norm(x, None, None, w, b, training=True)
    return F.relu(y) + y * 0.5            # y has a second consumer


def _relu_of_relu_input_twice(x, w, b):
    y = F.batch_norm(x, None, None, w, b, training=True)
    return F.relu(y) * 2 + F.relu(y)      # two ReLUs of one output


def _residual(x, w, b):
    y = F.batch_norm(x, None, None, w, b, training=True)
    return F.relu(F.relu(y) + x)          # a ReLU whose input is an add: no fold there


@pytest.mark.parametrize("build, folds", [(_twice, 0), (_relu_of_relu_input_twice, 0),
                                          (_residual, 1)])
def test_fold_only_where_the_output_has_one_consumer(rng, build, folds, count_folds):
    unfolded = _grads(build, np.float64, rng, False)
    folded = _grads(build, np.float64, rng, True)
    assert len(count_folds) == folds
    for a, b in zip(folded, unfolded):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_no_fold_when_the_intermediate_retains_its_grad(count_folds):
    r = np.random.default_rng(1)
    x = fastdl.tensor(r.standard_normal((4, 3, 5)), requires_grad=True)
    y = F.batch_norm(x, None, None, None, None, training=True)
    y.retain_grad()
    out = F.relu(y)
    out.sum().backward()
    assert count_folds == []
    np.testing.assert_array_equal(y.grad.numpy(), (y.detach().numpy() > 0).astype(np.float64))


def test_no_fold_when_the_intermediate_is_an_autograd_grad_input(count_folds):
    r = np.random.default_rng(2)
    x = fastdl.tensor(r.standard_normal((4, 3, 5)), requires_grad=True)
    y = F.batch_norm(x, None, None, None, None, training=True)
    gy, gx = fastdl.autograd.grad(F.relu(y).sum(), [y, x])
    assert count_folds == []
    np.testing.assert_array_equal(gy.numpy(), (y.detach().numpy() > 0).astype(np.float64))
    x2 = fastdl.tensor(x.detach().numpy(), requires_grad=True)
    gx2, = fastdl.autograd.grad(F.relu(F.batch_norm(x2, None, None, None, None,
                                                    training=True)).sum(), [x2])
    np.testing.assert_allclose(gx.numpy(), gx2.numpy(), rtol=1e-12, atol=1e-14)


def test_fold_keeps_the_version_check():
    """Changing the ReLU's input in place after the ReLU still fails the backward, folded
    or not."""
    for fold in (False, True):
        old = engine.set_relu_fold(fold)
        try:
            x = fastdl.randn(4, 3, 5, requires_grad=True)
            y = F.batch_norm(x, None, None, None, None, training=True)
            out = F.relu(y)
            y.add_(1.0)
            with pytest.raises(RuntimeError):
                out.sum().backward()
        finally:
            engine.set_relu_fold(old)


def test_fold_with_retain_graph_runs_twice(count_folds):
    x = fastdl.randn(4, 3, 5, requires_grad=True)
    out = F.relu(F.batch_norm(x, None, None, None, None, training=True)).sum()
    out.backward(retain_graph=True)
    g1 = x.grad.numpy().copy()
    out.backward()
    assert len(count_folds) == 2
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1, rtol=1e-6, atol=1e-6)


def test_fold_in_a_resnet_block_trains_like_the_unfolded_one(rng):
    """A BasicBlock-shaped module (user forward(), ReLU module reused) gives the same
    parameter gradients with and without the fold."""
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(4)
            self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(4)
            self.relu = nn.ReLU()

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + x)

    fastdl.manual_seed(0)
    m = Block()
    x = rng.standard_normal((3, 4, 6, 6)).astype(np.float32)
    res = []
    for fold in (False, True):
        m.zero_grad()
        old = engine.set_relu_fold(fold)
        try:
            m(fastdl.tensor(x)).square().sum().backward()
        finally:
            engine.set_relu_fold(old)
        res.append([p.grad.numpy().copy() for p in m.parameters()])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
