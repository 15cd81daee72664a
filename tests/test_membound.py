"""Memory-bound steps (issue 13): softmax and activation backward write their gradient
(no zeroing pass), the vectorized softmax row max, leaves adopting cache-backed
gradients, and the benchmark scripts that report them."""
import importlib.util
import io
import os
import sys
from contextlib import redirect_stdout

import numpy as np
import pytest

import fastdl
import fastdl.nn.functional as F
from fastdl._C import _alloc, nn as _nn


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def to_np(t):
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def np_softmax(x, axis):
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


# row lengths around the 16-lane and vector widths, a long row, and size 1
LENGTHS = [1, 2, 15, 16, 17, 33, 4097]


@pytest.mark.parametrize("n", LENGTHS)
def test_softmax_rows_match_float64(isa, rng, n):
    x = rng.standard_normal((5, n)).astype(np.float32) * 4
    # the max somewhere in the tail, where the simd loop does not reach with full vectors
    x[1, -1] = 30.0
    y = F.softmax(fastdl.tensor(x), dim=1)
    np.testing.assert_allclose(to_np(y), np_softmax(x, 1), rtol=2e-6, atol=1e-7)
    ly = F.log_softmax(fastdl.tensor(x), dim=1)
    np.testing.assert_allclose(to_np(ly), np.log(np_softmax(x, 1)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("log", [False, True])
def test_softmax_backward_matches_finite_differences(isa, rng, n, log):
    x = rng.standard_normal((3, n))
    g = rng.standard_normal((3, n))
    f = F.log_softmax if log else F.softmax
    xt = fastdl.tensor(x, requires_grad=True)        # float64: finite differences are exact enough
    f(xt, dim=1).backward(fastdl.tensor(g))
    fd = np.zeros_like(x)
    h = 1e-6
    for i in range(x.shape[0]):
        for j in range(min(n, 6)):                  # a few columns per row, ends included
            jj = j if j < 3 else n - 1 - (j - 3)
            xp, xm = x.copy(), x.copy()
            xp[i, jj] += h
            xm[i, jj] -= h
            yp = to_np(f(fastdl.tensor(xp), dim=1))
            ym = to_np(f(fastdl.tensor(xm), dim=1))
            fd[i, jj] = ((yp - ym) * g).sum() / (2 * h)
            assert abs(xt.grad.numpy()[i, jj] - fd[i, jj]) < 1e-6 * (1 + abs(fd[i, jj]))


def test_backward_writes_over_stale_memory(rng):
    """The kernels write every element of dx: a buffer full of old values gives the same
    gradient (the wrappers hand them uninitialized cache blocks)."""
    x = rng.standard_normal((256, 1031)).astype(np.float32)     # above the cache threshold
    out = _nn.softmax_forward(x, 256, 1031, 1, False)
    g = rng.standard_normal(x.shape).astype(np.float32)
    want = out.astype(np.float64) * (g - (g * out).sum(1, keepdims=True))
    for _ in range(3):      # the second and third get blocks the first ones freed
        junk = _alloc.empty_like(x)
        junk[...] = np.nan
        del junk
        dx = _nn.softmax_backward(out, g, 256, 1031, 1, False)
        np.testing.assert_allclose(dx, want, rtol=1e-4, atol=1e-6)
        junk = _alloc.empty_like(x)
        junk[...] = 1e30
        del junk
        dr = _nn.relu_backward(x, g)
        np.testing.assert_array_equal(dr, np.where(x > 0, g, 0))


def test_softmax_columns_backward_writes(rng):
    """softmax over a middle axis (the column path) writes dx too."""
    x = rng.standard_normal((2, 7, 130)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    xt = fastdl.tensor(x, requires_grad=True)
    F.softmax(xt, dim=1).backward(fastdl.tensor(g))
    y = np_softmax(x, 1)
    want = y * (g - (g * y).sum(1, keepdims=True))
    np.testing.assert_allclose(xt.grad.numpy(), want, rtol=1e-4, atol=1e-6)


def test_softmax_special_rows():
    x = np.array([[-np.inf, -np.inf, -np.inf], [np.nan, 0, 1], [0, np.nan, 1],
                  [np.inf, 0, 1], [3, 3, 3]], np.float32)
    y = F.softmax(fastdl.tensor(x), dim=1).numpy()
    assert np.isnan(y[:3]).all()                     # as PyTorch: all -inf or a NaN -> NaN row
    np.testing.assert_allclose(y[4], [1 / 3] * 3, rtol=1e-6)
    ly = F.log_softmax(fastdl.tensor(x), dim=1).numpy()
    assert np.isnan(ly[1]).all()


def test_softmax_empty_and_noncontiguous(rng):
    e = F.softmax(fastdl.zeros(0, 5), dim=1)
    assert e.shape == (0, 5)
    x = rng.standard_normal((9, 40)).astype(np.float32)
    xt = fastdl.tensor(x)[:, ::3]                    # non-contiguous
    np.testing.assert_allclose(to_np(F.softmax(xt, dim=1)), np_softmax(x[:, ::3], 1),
                               rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "relu", "gelu"])
def test_bitwise_identical_for_1_and_2_threads(rng, op):
    x = rng.standard_normal((300, 4099)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    res = []
    for n in (1, 2):
        fastdl.set_num_threads(n)
        xt = fastdl.tensor(x, requires_grad=True)
        f = getattr(F, op)
        y = f(xt, dim=1) if "softmax" in op else f(xt)
        y.backward(fastdl.tensor(g))
        res.append((y.detach().numpy().copy(), xt.grad.numpy().copy()))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    np.testing.assert_array_equal(res[0][1], res[1][1])


def test_sole_owner():
    big = _alloc.empty((512, 1024), np.float32)
    assert _alloc.sole_owner(big)
    v = big.reshape(1024, 512)
    assert not _alloc.sole_owner(v)             # big is alive
    del big
    assert _alloc.sole_owner(v)                 # a reshape of a dead array: v alone uses it
    assert not _alloc.sole_owner(v[:10])        # part of a block
    small = np.zeros(10, np.float32)
    assert _alloc.sole_owner(small)
    assert not _alloc.sole_owner(small[2:])
    assert not _alloc.sole_owner(np.broadcast_to(small, (4, 10)))


def test_leaf_adopts_gradient_without_aliasing(rng):
    """A large gradient from a backward rule becomes .grad without a copy, but never one
    the caller handed in or one shared by two leaves."""
    x = rng.standard_normal((512, 1024)).astype(np.float32)
    g = np.ones_like(x)
    xt = fastdl.tensor(x, requires_grad=True)
    F.relu(xt).backward(fastdl.from_numpy(g))
    assert not np.shares_memory(xt.grad.numpy(), g)
    np.testing.assert_array_equal(xt.grad.numpy(), (x > 0).astype(np.float32))
    # adopted, not copied: .grad still holds the kernel's cache block
    assert type(xt.grad.numpy().base).__name__ == "_Block"
    s = fastdl.tensor(x, requires_grad=True)
    F.softmax(s, dim=1).backward(fastdl.from_numpy(g))      # (or through a reshape view)
    base = s.grad.numpy().base
    assert type(base).__name__ == "_Block" or type(base.base).__name__ == "_Block"
    # identity-like rules hand the caller's gradient through: it must be copied
    a = fastdl.tensor(x, requires_grad=True)
    (a * 1.0 + 0.0).backward(fastdl.from_numpy(g))
    b = fastdl.tensor(x, requires_grad=True)
    c = fastdl.tensor(x, requires_grad=True)
    (b + c).backward(fastdl.from_numpy(g))
    assert not np.shares_memory(b.grad.numpy(), c.grad.numpy())
    assert not np.shares_memory(b.grad.numpy(), g)
    b.grad.numpy()[0, 0] = 5
    assert c.grad.numpy()[0, 0] == 1 and g[0, 0] == 1
    # accumulation into an adopted gradient adds
    xt2 = fastdl.tensor(x, requires_grad=True)
    F.relu(xt2).backward(fastdl.from_numpy(g))
    F.relu(xt2).backward(fastdl.from_numpy(g))
    np.testing.assert_array_equal(xt2.grad.numpy(), 2 * (x > 0).astype(np.float32))


# ---- the benchmark scripts run (tiny shapes; speed is never asserted) ----

def _load_training():
    spec = importlib.util.spec_from_file_location(
        "fastdl_bench_training", os.path.join(ROOT, "benchmarks", "training.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(os.path.join(ROOT, "benchmarks"))
    return mod


def test_bench_nn_smoke_prints_its_tables():
    from fastdl.bench import nn as bnn
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert bnn.main(["--smoke", "--no-torch"]) == 0
    out = buf.getvalue()
    for word in ("CPU:", "peak", "copy bandwidth", "kernels:", "isa_active", "conv2d 8->8 1x1",
                 "softmax 3x37", "batch_norm train", "GB/s"):
        assert word in out, word


def test_training_resnet8_matches_torch():
    torch = pytest.importorskip("torch")
    tr = _load_training()
    w0 = tr.initial_weights("resnet8")
    x, y = tr.cifar_like(8)
    fm = tr.build("resnet8", fastdl.nn)
    fm.load_state_dict(w0)
    tm = tr.build("resnet8", torch.nn)
    tm.load_state_dict({k: torch.from_numpy(v) for k, v in w0.items()})
    lf = fastdl.nn.functional.cross_entropy(fm(fastdl.tensor(x)), fastdl.tensor(y))
    lt = torch.nn.functional.cross_entropy(tm(torch.from_numpy(x)), torch.from_numpy(y))
    lf.backward()
    lt.backward()
    assert abs(lf.item() - lt.item()) < 1e-4 * (1 + abs(lt.item()))
    np.testing.assert_allclose(fm[0].weight.grad.numpy(), tm[0].weight.grad.numpy(),
                               rtol=1e-3, atol=1e-5)


def test_training_script_runs_offline_without_torch(monkeypatch):
    tr = _load_training()
    monkeypatch.delenv("FASTDL_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/nonexistent-fastdl-cache")
    x, y, xte, yte, what = tr.load_data(None, offline=True)
    assert x.shape == (60000, 28, 28) and xte.shape[1:] == (28, 28) and "digits" in what
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert tr.main(["--only", "resnet8", "--resnet-batches", "1", "--no-torch",
                        "--no-numpy"]) == 0
    out = buf.getvalue()
    assert "ResNet-8" in out and "| fastdl |" in out


def np_batch_norm_grads(x, w, g, eps=1e-5):
    """float64 (dx, dw, db) of training-mode batch_norm over (N, C, S)."""
    x, w, g = (np.asarray(a, np.float64) for a in (x, w, g))
    ax = (0, 2)
    mu = x.mean(ax, keepdims=True)
    rstd = 1 / np.sqrt(x.var(ax, keepdims=True) + eps)
    xh = (x - mu) * rstd
    gw = g * w.reshape(1, -1, 1)
    dx = rstd * (gw - gw.mean(ax, keepdims=True) - xh * (gw * xh).mean(ax, keepdims=True))
    return dx, (g * xh).sum(ax), g.sum(ax)


@pytest.mark.parametrize("shape", [(1, 1, 1, 2), (3, 5, 7, 1), (4, 17, 3, 5), (64, 8, 33, 1),
                                   (16, 32, 17, 9)])     # the last above the cache threshold
def test_batch_norm_backward_writes_dx(isa, rng, shape):
    x = rng.standard_normal(shape).astype(np.float32) * 3 + 1
    w = rng.standard_normal(shape[1]).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    junk = _alloc.empty_like(x)
    junk[...] = np.nan           # a stale block the wrapper may get back uninitialized
    del junk
    xt = fastdl.tensor(x, requires_grad=True)
    wt = fastdl.tensor(w, requires_grad=True)
    bt = fastdl.zeros(shape[1], requires_grad=True)
    F.batch_norm(xt, None, None, wt, bt, training=True).backward(fastdl.tensor(g))
    N, C = shape[:2]
    dx, dw, db = np_batch_norm_grads(x.reshape(N, C, -1), w, g.reshape(N, C, -1))
    np.testing.assert_allclose(xt.grad.numpy().reshape(N, C, -1), dx, rtol=2e-3, atol=2e-4)
    np.testing.assert_allclose(wt.grad.numpy(), dw, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bt.grad.numpy(), db, rtol=1e-4, atol=1e-4)


def test_batch_norm_backward_finite_differences(rng):
    x = rng.standard_normal((3, 4, 5))
    g = rng.standard_normal((3, 4, 5))
    w = rng.standard_normal(4)
    xt = fastdl.tensor(x, requires_grad=True)
    F.batch_norm(xt, None, None, fastdl.tensor(w), None, training=True).backward(
        fastdl.tensor(g))
    h = 1e-6
    for idx in [(0, 0, 0), (2, 3, 4), (1, 2, 0)]:
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        yp = F.batch_norm(fastdl.tensor(xp), None, None, fastdl.tensor(w), None,
                          training=True).numpy()
        ym = F.batch_norm(fastdl.tensor(xm), None, None, fastdl.tensor(w), None,
                          training=True).numpy()
        fd = ((yp - ym) * g).sum() / (2 * h)
        assert abs(xt.grad.numpy()[idx] - fd) < 1e-6 * (1 + abs(fd))


def test_batch_norm_bitwise_identical_for_1_and_2_threads(rng):
    x = rng.standard_normal((16, 32, 17, 9)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    res = []
    for n in (1, 2):
        fastdl.set_num_threads(n)
        xt = fastdl.tensor(x, requires_grad=True)
        wt = fastdl.ones(32, requires_grad=True)
        F.batch_norm(xt, None, None, wt, None, training=True).backward(fastdl.tensor(g))
        res.append((xt.grad.numpy().copy(), wt.grad.numpy().copy()))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    np.testing.assert_array_equal(res[0][1], res[1][1])
