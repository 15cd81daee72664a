"""The autograd engine's sum of two gradients of one tensor (engine._sum): fastdl's add
kernel for large float arrays, written over the first gradient only when nothing else
holds it (a residual block's input gets one gradient from its convolution and one from
its shortcut).

Oracles: gradients written out by hand in float64 NumPy; arrays that other tensors,
retained grads or the caller still hold must come out unchanged."""

import numpy as np
import pytest

import fastdl
import fastdl.nn.functional as F
from fastdl.autograd import engine

BIG = (3, 5, 17, 31)        # 7905 elements: the kernel path (>= 4096), odd sizes
SMALL = (3, 7)              # NumPy's add


@pytest.fixture
def sums(monkeypatch):
    """The free flag of every engine._sum call."""
    seen = []
    orig = engine._sum

    def spy(a, b, free=False):
        seen.append(free)
        return orig(a, b, free)
    monkeypatch.setattr(engine, "_sum", spy)
    return seen


@pytest.mark.parametrize("shape", [BIG, SMALL, (4096,), (1,)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_fresh_gradients_are_summed(rng, sums, shape, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    xt = fastdl.tensor(x, requires_grad=True)
    h = xt * 1.5                                    # h gets 2*h*g and 3*g (two fresh arrays)
    out = h * h + h * 3.0
    out.backward(fastdl.tensor(g))
    h64 = x.astype(np.float64) * 1.5
    ref = 1.5 * (2 * h64 * g + 3 * g)
    tol = 1e-5 if dtype == np.float32 else 1e-12     # float32 rounding of h, h*h and the sums
    np.testing.assert_allclose(xt.grad.numpy(), ref, rtol=tol, atol=tol)
    assert xt.grad.dtype == dtype
    assert len(sums) >= 1
    if engine.REFCOUNTS_EXACT:
        assert sums[0] is True


def test_the_sum_is_bitwise_the_numpy_sum(rng):
    a = rng.standard_normal(BIG).astype(np.float32)
    b = rng.standard_normal(BIG).astype(np.float32)
    want = a + b
    np.testing.assert_array_equal(engine._sum(a.copy(), b), want)
    c = a.copy()
    r = engine._sum(c, b, True)
    assert r is c
    np.testing.assert_array_equal(r, want)
    # not free, or not writable, or strided: a new array, a untouched
    for a2 in (a.copy(), np.asfortranarray(a)):
        keep = a2.copy()
        r = engine._sum(a2, b, False)
        assert not np.shares_memory(r, a2)
        np.testing.assert_array_equal(a2, keep)
        np.testing.assert_array_equal(r, want)
    ro = a.copy()
    ro.flags.writeable = False
    np.testing.assert_array_equal(engine._sum(ro, b, True), want)
    np.testing.assert_array_equal(ro, a)
    t = np.asfortranarray(a)
    r = engine._sum(t, b, True)
    assert not np.shares_memory(r, t)
    np.testing.assert_array_equal(r, want)
    # 0-d and mixed dtypes: NumPy, an ndarray either way
    r = engine._sum(np.array(1.5, np.float32), np.array(2.0, np.float32))
    assert type(r) is np.ndarray and r == 3.5
    np.testing.assert_array_equal(engine._sum(a, b.astype(np.float64)), a + b.astype(np.float64))


@pytest.mark.parametrize("order", [0, 1])
def test_a_gradient_shared_with_another_tensor_is_not_written_over(rng, sums, order):
    # h + kt hands the same array g to h and to the leaf kt; h also gets 3 * g from h * 3
    # (either gradient may arrive first)
    x = rng.standard_normal(BIG).astype(np.float32)
    g = rng.standard_normal(BIG).astype(np.float32)
    xt = fastdl.tensor(x, requires_grad=True)
    kt = fastdl.tensor(x, requires_grad=True)
    h = xt * 2.0
    out = (h + kt) + h * 3.0 if order == 0 else h * 3.0 + (h + kt)
    out.backward(fastdl.tensor(g))
    np.testing.assert_allclose(xt.grad.numpy(), 2 * (g.astype(np.float64) + 3 * g), rtol=1e-6)
    np.testing.assert_array_equal(kt.grad.numpy(), g)


def test_the_callers_gradient_is_not_written_over(rng):
    x = rng.standard_normal(BIG).astype(np.float32)
    for given in ("tensor", "kept"):
        xt = fastdl.tensor(x, requires_grad=True)
        keep = np.ones(BIG, np.float32)
        out = xt + xt * 2.0          # xt gets the caller's array itself and 2 * it
        if given == "tensor":
            gt = fastdl.from_numpy(keep)
            out.backward(gt)
        else:
            fastdl.autograd.backward([out], [fastdl.from_numpy(keep)])
        np.testing.assert_array_equal(keep, np.ones(BIG, np.float32))
        np.testing.assert_array_equal(xt.grad.numpy(), np.full(BIG, 3, np.float32))


def test_leaf_gradients_from_two_users_accumulate(rng, sums):
    x = rng.standard_normal(BIG).astype(np.float32)
    xt = fastdl.tensor(x, requires_grad=True)
    ((xt * 2.0) * (xt * 3.0)).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), 12 * x.astype(np.float64), rtol=1e-6)
    if engine.REFCOUNTS_EXACT:
        assert True in sums
    # into an existing .grad: the earlier .grad is added, not replaced
    ((xt * 2.0) * (xt * 3.0)).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), 24 * x.astype(np.float64), rtol=1e-6)


def test_retained_captured_and_hooked_gradients_hold_the_sum(rng):
    x = rng.standard_normal(BIG).astype(np.float32)
    g = rng.standard_normal(BIG).astype(np.float32)
    want = 3 * g.astype(np.float64) + 2 * g
    xt = fastdl.tensor(x, requires_grad=True)
    seen = []
    xt.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    h = xt * 1.0
    h.retain_grad()
    (h * 3.0 + h * 2.0 + xt * 4.0).backward(fastdl.tensor(g))
    np.testing.assert_allclose(h.grad.numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(seen[0], want + 4 * g, rtol=1e-6)
    np.testing.assert_allclose(xt.grad.numpy(), want + 4 * g, rtol=1e-6)
    xt2 = fastdl.tensor(x, requires_grad=True)
    h2 = xt2 * 1.0
    out = h2 * 3.0 + h2 * 2.0
    gh, gx = fastdl.autograd.grad([out], [h2, xt2], [fastdl.tensor(g)])
    np.testing.assert_allclose(gh.numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(gx.numpy(), want, rtol=1e-6)


def test_relu_fold_into_a_batch_norm_whose_output_has_two_users(rng, sums):
    # the stem of a ResNet: relu(bn(x)) feeds a conv and an identity shortcut
    x = rng.standard_normal((4, 3, 16, 16)).astype(np.float32)
    res = {}
    for fold in (True, False):
        old = engine.set_relu_fold(fold)
        try:
            fastdl.manual_seed(0)
            bn = fastdl.nn.BatchNorm2d(3)
            conv = fastdl.nn.Conv2d(3, 3, 3, padding=1, bias=False)
            xt = fastdl.tensor(x, requires_grad=True)
            r = F.relu(bn(xt))
            F.relu(conv(r) + r).sum().backward()
            res[fold] = (xt.grad.numpy().copy(), bn.weight.grad.numpy().copy(),
                         conv.weight.grad.numpy().copy())
        finally:
            engine.set_relu_fold(old)
    for a, b in zip(res[True], res[False]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_finite_differences_through_a_residual_sum(rng):
    x = rng.standard_normal((2, 3, 5, 7))
    w = rng.standard_normal((3, 3, 3, 3)) * 0.3
    wt = fastdl.tensor(w)

    def f(xa):
        xt = fastdl.tensor(xa)
        return float(F.relu(F.conv2d(xt, wt, padding=1) + xt * 2.0).sum().item())
    xt = fastdl.tensor(x, requires_grad=True)
    F.relu(F.conv2d(xt, wt, padding=1) + xt * 2.0).sum().backward()
    eps = 1e-6
    num = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        num[i] = (f(xp) - f(xm)) / (2 * eps)
    np.testing.assert_allclose(xt.grad.numpy(), num, rtol=1e-5, atol=1e-6)


def test_sum_is_bitwise_identical_for_1_and_2_threads(rng):
    a = rng.standard_normal((5, 40001)).astype(np.float32)
    b = rng.standard_normal((5, 40001)).astype(np.float32)
    old = fastdl.get_num_threads()
    try:
        fastdl.set_num_threads(1)
        r1 = engine._sum(a.copy(), b, True)
        fastdl.set_num_threads(2)
        r2 = engine._sum(a.copy(), b, True)
    finally:
        fastdl.set_num_threads(old)
    np.testing.assert_array_equal(r1, r2)
    np.testing.assert_array_equal(r1, a + b)


# ---- zeros from the block cache: large ones filled on fastdl's threads -----------------

@pytest.mark.parametrize("shape,dtype", [((128, 16, 32, 32), np.float32), ((1000, 1001), np.float64),
                                         (((1 << 20) + 3,), np.uint8), ((300001,), np.int32),
                                         ((3, 5), np.float32), ((0, 7), np.float32)])
@pytest.mark.parametrize("threads", [1, 2])
def test_cache_zeros_are_zero_over_stale_blocks(shape, dtype, threads):
    from fastdl._C import _alloc
    old = fastdl.get_num_threads()
    fastdl.set_num_threads(threads)
    try:
        for _ in range(3):
            junk = _alloc.empty(shape, dtype)       # a reused block full of set bits
            junk.view(np.uint8)[...] = 0xFF
            del junk
            z = _alloc.zeros(shape, dtype)
            assert z.shape == shape and z.dtype == dtype
            assert not z.view(np.uint8).any()
            del z
    finally:
        fastdl.set_num_threads(old)
