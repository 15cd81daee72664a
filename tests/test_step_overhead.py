"""The per-step fast paths of issue 13: the multi-tensor Adam step and backward rules
that write over a gradient nothing else holds. Each is checked against the path it
short-cuts (per-parameter Adam in float64, new-array backward kernels, finite
differences) and against the semantics it must keep (caller's gradients untouched,
shared gradients, accumulation, version counters, hooks)."""
import gc

import numpy as np
import pytest

import fastdl
import fastdl.nn.functional as F
from fastdl import optim
from fastdl._C import nn as _nn
from fastdl._C import optim as _copt
from fastdl.autograd import engine
from fastdl.autograd._functions import nn as _fnn


def _np(t):
    return t.detach().numpy()


# ---- multi-tensor Adam ---------------------------------------------------------------

def _adam_ref(p, g, m, v, step, lr, b1, b2, eps, wd, decoupled, amsgrad, vmax, maximize):
    """PyTorch's Adam in float64, one parameter."""
    g = -g if maximize else g
    if wd:
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    if amsgrad:
        vmax = np.maximum(vmax, v)
    den = np.sqrt(vmax if amsgrad else v) / np.sqrt(1 - b2 ** step) + eps
    return p - lr / (1 - b1 ** step) * m / den, m, v, vmax


@pytest.mark.parametrize("kw", [{}, {"weight_decay": 0.1}, {"amsgrad": True},
                                {"maximize": True, "weight_decay": 0.05},
                                {"weight_decay": 0.1, "decoupled_weight_decay": True}])
def test_adam_multi_tensor_matches_float64_reference(kw, rng):
    shapes = [(7, 5), (5,), (1,), (3, 4, 2)]
    ps = [fastdl.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
          for s in shapes]
    opt = optim.Adam(ps, lr=0.01, **kw)
    ref = [[_np(p).astype(np.float64), 0.0, 0.0, 0.0] for p in ps]
    calls = []
    real = _copt.adam_step_many
    try:
        _copt.adam_step_many = lambda *a, **k: calls.append(1) or real(*a, **k)
        for step in range(1, 5):
            grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
            for p, g in zip(ps, grads):
                p.grad = fastdl.tensor(g)
            opt.step()
            for r, g in zip(ref, grads):
                r[0], r[1], r[2], r[3] = _adam_ref(
                    r[0], g.astype(np.float64), r[1], r[2], step, 0.01, 0.9, 0.999, 1e-8,
                    kw.get("weight_decay", 0.0), kw.get("decoupled_weight_decay", False),
                    kw.get("amsgrad", False), r[3], kw.get("maximize", False))
            for p, r in zip(ps, ref):
                np.testing.assert_allclose(_np(p), r[0], rtol=1e-5, atol=1e-6)
    finally:
        _copt.adam_step_many = real
    assert len(calls) == 3          # the first step creates the state per parameter
    for p in ps:
        assert float(opt.state[p]["step"]) == 4


def test_adam_multi_tensor_equals_per_parameter_path(step_both_paths):
    """Bitwise: the fused call runs the same kernel as the per-parameter loop."""
    (oa, a), (ob, b) = step_both_paths(optim.Adam, ((33, 17), (17,)), lr=0.1)
    for pa, pb in zip(a, b):
        np.testing.assert_array_equal(_np(pa), _np(pb))
        np.testing.assert_array_equal(oa.state[pa]["exp_avg_sq"], ob.state[pb]["exp_avg_sq"])


def test_adam_multi_tensor_falls_back_on_odd_layouts(rng):
    """A strided gradient, a float64 parameter, a parameter without grad: the same
    results as the per-parameter path, and nothing updated twice."""
    w = fastdl.tensor(rng.standard_normal((4, 6)).astype(np.float32), requires_grad=True)
    d = fastdl.tensor(rng.standard_normal(3), requires_grad=True)           # float64
    n = fastdl.tensor(np.ones(2, np.float32), requires_grad=True)           # no grad
    w2 = fastdl.tensor(_np(w).copy(), requires_grad=True)
    opt, opt2 = optim.Adam([w, d, n], lr=0.1), optim.Adam([w2], lr=0.1)
    for step in range(3):
        gw = rng.standard_normal((6, 4)).astype(np.float32)
        w.grad = fastdl.tensor(gw).T if step == 1 else fastdl.tensor(gw.T.copy())
        w2.grad = fastdl.tensor(gw.T.copy())
        d.grad = fastdl.tensor(np.ones(3))
        opt.step()
        opt2.step()
        np.testing.assert_array_equal(_np(w), _np(w2))
    assert float(opt.state[w]["step"]) == 3 and float(opt.state[d]["step"]) == 3
    assert n not in opt.state
    np.testing.assert_array_equal(_np(n), np.ones(2, np.float32))


def test_adam_step_many_refuses_without_touching(rng):
    p = rng.standard_normal(8).astype(np.float32)
    g = rng.standard_normal(8).astype(np.float32)
    m, v, st = np.zeros(8, np.float32), np.zeros(8, np.float32), np.zeros((), np.float32)
    p0 = p.copy()
    bad = np.zeros(9, np.float32)          # wrong shape
    assert not _copt.adam_step_many([p, p], [g, g], [m, m.copy()], [v, bad], [], [st, st.copy()],
                                    0.1, 0.9, 0.999, 1e-8)
    np.testing.assert_array_equal(p, p0)
    assert float(st) == 0
    assert not _copt.adam_step_many([p], [p], [m], [v], [], [st], 0.1, 0.9, 0.999, 1e-8)
    with pytest.raises(ValueError, match="one entry per parameter"):
        _copt.adam_step_many([p], [], [m], [v], [], [st], 0.1, 0.9, 0.999, 1e-8)
    assert _copt.adam_step_many([p], [g], [m], [v], [], [st], 0.1, 0.9, 0.999, 1e-8)
    assert float(st) == 1 and not np.array_equal(p, p0)


# ---- backward written over a free gradient ---------------------------------------------

ACTS = [("relu", lambda x: F.relu(x)), ("leaky_relu", lambda x: F.leaky_relu(x, 0.1)),
        ("gelu", lambda x: F.gelu(x)), ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh")),
        ("sigmoid", lambda x: F.sigmoid(x)), ("tanh", lambda x: F.tanh(x)),
        ("elu", lambda x: F.elu(x)), ("softplus", lambda x: F.softplus(x)),
        ("silu", lambda x: F.silu(x)), ("softmax", lambda x: F.softmax(x, dim=1)),
        ("softmax0", lambda x: F.softmax(x, dim=0)),
        ("log_softmax", lambda x: F.log_softmax(x, dim=1))]


@pytest.mark.parametrize("name,fn", ACTS, ids=[a[0] for a in ACTS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inplace_kernels_equal_fresh_output(isa, name, fn, dtype, rng):
    """The backward kernels give the same dx written over dout as into a new array, on
    every ISA's rows."""
    x = rng.standard_normal((37, 130)).astype(dtype)
    w = rng.standard_normal((37, 130)).astype(dtype)

    def grad(inplace):
        xt = fastdl.tensor(x, requires_grad=True)
        y = fn(xt)
        g = fastdl.tensor(w.copy())
        node = y.grad_fn
        res = node._fn(node, g.numpy()) if not inplace else None
        if inplace:
            node._grad_free = True
            res = node._fn(node, g.numpy())
            assert np.shares_memory(res, g.numpy())     # written over dout
        return np.asarray(res)
    np.testing.assert_array_equal(grad(True), grad(False))


@pytest.mark.parametrize("name,fn", ACTS, ids=[a[0] for a in ACTS])
def test_temporary_root_gradient_matches_finite_differences(name, fn, rng):
    x = rng.standard_normal((3, 5))
    w = rng.standard_normal((3, 5))
    xt = fastdl.tensor(x, requires_grad=True)
    y = fn(xt)
    y.backward(fastdl.tensor(w))                  # a temporary: may be written over
    eps, num = 1e-6, np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        num[i] = ((fn(fastdl.tensor(x + d)).numpy() - fn(fastdl.tensor(x - d)).numpy())
                  * w).sum() / (2 * eps)
    np.testing.assert_allclose(xt.grad.numpy(), num, rtol=1e-5, atol=1e-7)


def _spy(monkeypatch):
    calls = []
    f, b, n, u, p = _fnn._ACT["relu"]

    def bwd(saved, g, *a, inplace=False):
        calls.append(inplace)
        return b(saved, g, *a, inplace=inplace)
    monkeypatch.setitem(_fnn._ACT, "relu", (f, bwd, n, u, p))
    return calls


def test_which_gradients_are_written_over(monkeypatch, rng):
    calls = _spy(monkeypatch)
    x = rng.standard_normal((64, 50)).astype(np.float32)
    ref = (x > 0).astype(np.float32)
    xt = fastdl.tensor(x, requires_grad=True)
    y = F.relu(xt)
    y.backward(fastdl.ones_like(y))                         # a temporary
    if engine.REFCOUNTS_EXACT:
        assert calls[-1] is True
    np.testing.assert_array_equal(xt.grad.numpy(), ref)
    # the caller keeps its gradient: never written over
    for keep in (fastdl.ones_like(y), np.ones_like(x)):
        xt.grad = None
        y = F.relu(xt)
        y.backward(keep if isinstance(keep, fastdl.Tensor) else fastdl.from_numpy(keep))
        assert calls[-1] is False
        np.testing.assert_array_equal(np.asarray(keep), np.ones_like(x))
        np.testing.assert_array_equal(xt.grad.numpy(), ref)
    # the same array held as the gradient of another tensor (b + c hands g to both)
    xt.grad = None
    b = fastdl.tensor(x, requires_grad=True)
    (F.relu(xt) + b).sum().backward()
    assert calls[-1] is False
    np.testing.assert_array_equal(xt.grad.numpy(), ref)
    np.testing.assert_array_equal(b.grad.numpy(), np.ones_like(x))
    # a gradient made by the consumer's backward is free
    xt.grad = None
    (F.relu(xt) * 3.0).sum().backward()
    if engine.REFCOUNTS_EXACT:
        assert calls[-1] is True
    np.testing.assert_array_equal(xt.grad.numpy(), 3 * ref)


def test_retained_and_captured_gradients_survive(rng):
    x = rng.standard_normal((8, 9)).astype(np.float32)
    xt = fastdl.tensor(x, requires_grad=True)
    h = xt * 2.0
    h.retain_grad()
    y = F.relu(h)
    y.retain_grad()
    y.backward(fastdl.ones_like(y))
    np.testing.assert_array_equal(y.grad.numpy(), np.ones_like(x))
    np.testing.assert_array_equal(h.grad.numpy(), (x > 0).astype(np.float32))
    xt2 = fastdl.tensor(x, requires_grad=True)
    h2 = xt2 + 0.0
    y2 = F.relu(h2)
    gy, gh = fastdl.autograd.grad([y2], [y2, h2], [fastdl.ones_like(y2)])
    np.testing.assert_array_equal(gy.numpy(), np.ones_like(x))
    np.testing.assert_array_equal(gh.numpy(), (x > 0).astype(np.float32))


def test_accumulation_retain_graph_and_two_backwards(rng):
    x = rng.standard_normal((16, 20)).astype(np.float32)
    ref = (x > 0).astype(np.float32)
    xt = fastdl.tensor(x, requires_grad=True)
    y = F.relu(xt)
    y.backward(fastdl.ones_like(y), retain_graph=True)
    y.backward(fastdl.ones_like(y))
    np.testing.assert_array_equal(xt.grad.numpy(), 2 * ref)
    z = F.relu(xt * 1.0)
    z.sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy(), 3 * ref)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward(fastdl.ones_like(y))


def test_version_counter_error_and_hooks_kept(rng):
    x = rng.standard_normal((6, 7)).astype(np.float32)
    xt = fastdl.tensor(x, requires_grad=True)
    h = xt * 1.0
    y = F.relu(h)
    h.add_(1.0)                                          # relu's saved input changed
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward(fastdl.ones_like(y))
    seen = []
    w = fastdl.tensor(x, requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    y = F.relu(w)
    y.backward(fastdl.ones_like(y))
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], (x > 0).astype(np.float32))


def test_readonly_or_strided_gradient_is_not_written(rng):
    x = rng.standard_normal((10, 12)).astype(np.float32)
    ref = (x > 0).astype(np.float32)
    ro = np.ones_like(x)
    ro.flags.writeable = False
    d = _nn.relu_backward(x, ro, inplace=True)
    assert not np.shares_memory(d, ro)
    np.testing.assert_array_equal(d, ref)
    big = np.ones((10, 24), np.float32)
    d = _nn.relu_backward(x, big[:, ::2], inplace=True)
    np.testing.assert_array_equal(d, ref)
    np.testing.assert_array_equal(big, np.ones_like(big))
    same = x.copy()
    d = _nn.relu_backward(same, same, inplace=True)     # dout is the saved input: no
    assert not np.shares_memory(d, same)
    np.testing.assert_array_equal(d, np.where(x > 0, x, 0))
    gc.collect()


# ---- fills: a broadcast scalar through the unary kernels, ones/full ---------------------

@pytest.mark.parametrize("op,ref", [("copy", lambda v: v), ("neg", np.negative),
                                    ("exp", np.exp), ("sqrt", np.sqrt), ("abs", np.abs),
                                    ("square", np.square)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary_of_a_broadcast_scalar_fills(isa, op, ref, dtype):
    from fastdl._C import _core
    for shape in [(5,), (3, 70), (2, 3, 129), (70000,)]:
        for v in (2.25, -0.0, np.inf):
            if op == "sqrt" and v < 0:
                continue
            src = np.broadcast_to(np.array(v, dtype), shape)
            out = getattr(_core, op)(src)
            want = np.broadcast_to(ref(np.array(v, dtype)), shape)
            assert out.shape == shape and out.dtype == dtype
            np.testing.assert_allclose(out, want, rtol=2e-7 if dtype == np.float32 else 1e-15)
            assert (out == out.flat[0]).all() or np.isnan(out).all()   # one value
    # a row broadcast (stride 0 along the last dim of a 2-D strided source)
    col = np.arange(6, dtype=dtype).reshape(6, 1)
    out = getattr(_core, op)(np.broadcast_to(col, (6, 300)))
    np.testing.assert_allclose(out, ref(np.broadcast_to(col, (6, 300))),
                               rtol=2e-7 if dtype == np.float32 else 1e-15)
    assert (out == out[:, :1]).all()


@pytest.mark.parametrize("shape", [(3,), (1024, 300), (70000,), (0, 5000)])
@pytest.mark.parametrize("dtype", [None, fastdl.float64, fastdl.int64])
def test_ones_and_full_large_and_small(shape, dtype):
    for t, v in ((fastdl.ones(*shape, dtype=dtype), 1),
                 (fastdl.full(shape, 3.0 if dtype is None else 3, dtype=dtype), 3),
                 (fastdl.ones_like(fastdl.zeros(shape, dtype=dtype)), 1)):
        want = np.full(shape, v, dtype=np.dtype(dtype or np.float32))
        assert t.dtype == want.dtype and t.shape == shape
        np.testing.assert_array_equal(t.numpy(), want)
        t.numpy()[...] = 7              # writable, and no two tensors share a block
    a, b = fastdl.ones(1024, 300), fastdl.ones(1024, 300)
    assert not np.shares_memory(a.numpy(), b.numpy())
    assert np.isnan(fastdl.full((600, 200), float("nan")).numpy()).all()
