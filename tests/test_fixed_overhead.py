"""Fast paths that cut the fixed per-step cost of a small training step (issue 13):
the column sum of a C-contiguous matrix in _core's reductions (Linear's bias gradient),
the engine's post-accumulate-hook lookup skipped until a hook exists, cross_entropy's
one-reduction target range check, and the plain shape kept for summary(). Each is
checked against the general path it short-cuts and the behaviour it must keep."""
import numpy as np
import pytest

import fastdl
import fastdl.nn.functional as F
from fastdl import nn
from fastdl._C import _core

SHAPES = [(1, 1), (7, 3), (130, 17), (1, 40), (0, 5), (3, 0)]


# ---- _core reductions over dim 0 of a matrix -------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("op", ["sum", "mean", "amax", "amin"])
def test_rows_reduction_equals_general_path(isa, op, shape, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    f = getattr(_core, op)
    if shape[0] == 0 and op in ("amax", "amin"):
        for axis in (0, (0,), (-2,)):
            with pytest.raises(ValueError, match="max|min"):
                f(x, axis, False)
        return
    general = f(x, (-2,), False)          # normalized to (0,): the general path
    assert general.shape == (shape[1],) and general.dtype == dtype
    for axis in (0, (0,)):
        fast = f(x, axis, False)
        assert fast.shape == general.shape and fast.dtype == general.dtype
        assert np.array_equal(fast, general, equal_nan=True), axis
    # a strided view takes the general path; same values as its contiguous copy
    wide = np.repeat(x, 2, axis=1)[:, ::2]
    assert np.array_equal(f(wide, 0, False), general, equal_nan=True)
    # against float64 NumPy
    ref = {"sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min}[op]
    if shape[0] == 0:       # sum of nothing 0, mean of nothing NaN
        want = np.full(shape[1], 0.0 if op == "sum" else np.nan)
    else:
        want = ref(x.astype(np.float64), axis=0)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(f(x, 0, False), want, rtol=tol, atol=tol)


def test_rows_sum_keepdims_and_other_axes_unchanged(rng):
    x = rng.standard_normal((5, 4)).astype(np.float32)
    assert _core.sum(x, 0, True).shape == (1, 4)
    assert np.array_equal(_core.sum(x, 0, True).reshape(4), _core.sum(x, 0, False))
    np.testing.assert_allclose(_core.sum(x, 1, False), x.astype(np.float64).sum(1), rtol=1e-6)
    np.testing.assert_allclose(_core.sum(x, np.int64(0), False),
                               x.astype(np.float64).sum(0), rtol=1e-6)
    with pytest.raises(ValueError, match="sum: dim 2 is out of range"):
        _core.sum(x, (2,), False)
    with pytest.raises(TypeError):
        _core.sum(x.astype(np.int32), 0, False)


def test_rows_sum_same_for_one_and_two_threads(rng):
    x = rng.standard_normal((4096, 33)).astype(np.float32)
    old = fastdl.get_num_threads()
    try:
        fastdl.set_num_threads(1)
        a = _core.sum(x, (0,), False)
        fastdl.set_num_threads(2)
        b = _core.sum(x, (0,), False)
    finally:
        fastdl.set_num_threads(old)
    assert np.array_equal(a, b)


def test_linear_bias_gradient_matches_float64(rng):
    x = fastdl.tensor(rng.standard_normal((9, 5)).astype(np.float32))
    lin = nn.Linear(5, 3)
    g = rng.standard_normal((9, 3)).astype(np.float32)
    lin(x).backward(fastdl.tensor(g))
    np.testing.assert_allclose(lin.bias.grad.numpy(), g.astype(np.float64).sum(0), rtol=1e-5)


# ---- post-accumulate-grad hooks registered after hook-free backwards -------------------

def test_post_accumulate_hook_registered_late_still_runs(rng):
    w = fastdl.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    x = fastdl.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    (x @ w).sum().backward()
    first = w.grad.numpy().copy()
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    (x @ w).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], 2 * first, rtol=1e-6)
    # a tensor without hooks, after hooks exist somewhere, accumulates as before
    v = fastdl.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    (x @ v).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), first, rtol=1e-6)
    assert len(seen) == 1


# ---- cross_entropy's target range check ---------------------------------------------------

@pytest.mark.parametrize("bad", [-1, -2, 5, 6, 2 ** 62, -2 ** 63])
def test_cross_entropy_out_of_range_targets_raise(bad, rng):
    x = fastdl.tensor(rng.standard_normal((3, 5)).astype(np.float32))
    t = fastdl.tensor(np.array([0, bad, 4], dtype=np.int64))
    with pytest.raises(ValueError, match="cross_entropy: target class index %d is out of range"
                       % bad):
        F.cross_entropy(x, t)


@pytest.mark.parametrize("tdtype", [np.int64, np.int32, np.uint8])
def test_cross_entropy_in_range_matches_float64(tdtype, rng):
    xs = rng.standard_normal((6, 5))
    t = np.array([0, 4, 1, 1, 3, 2], dtype=tdtype)
    x = fastdl.tensor(xs.astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(x, fastdl.tensor(t))
    lse = np.log(np.exp(xs).sum(1))
    want = np.mean(lse - xs[np.arange(6), t.astype(np.int64)])
    np.testing.assert_allclose(float(loss), want, rtol=1e-5)
    loss.backward()
    p = np.exp(xs - lse[:, None])
    p[np.arange(6), t.astype(np.int64)] -= 1
    np.testing.assert_allclose(x.grad.numpy(), p / 6, rtol=1e-4, atol=1e-6)


def test_cross_entropy_ignore_index_in_class_range(rng):
    xs = rng.standard_normal((4, 3))
    x = fastdl.tensor(xs.astype(np.float32))
    loss = F.cross_entropy(x, fastdl.tensor([0, 1, 2, 1]), ignore_index=1)
    lse = np.log(np.exp(xs).sum(1))
    np.testing.assert_allclose(float(loss), np.mean([lse[0] - xs[0, 0], lse[2] - xs[2, 2]]),
                               rtol=1e-5)
    # a negative ignore_index target is skipped, other negatives raise
    loss = F.cross_entropy(x, fastdl.tensor([-7, 1, 2, 1]), ignore_index=-7)
    np.testing.assert_allclose(float(loss), np.mean([lse[i] - xs[i, c] for i, c in
                                                     ((1, 1), (2, 2), (3, 1))]), rtol=1e-5)
    with pytest.raises(ValueError, match="out of range"):
        F.cross_entropy(x, fastdl.tensor([-6, 1, 2, 1]), ignore_index=-7)


# ---- summary() shapes -----------------------------------------------------------------

def test_last_output_shapes_after_a_fused_forward():
    model = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 2))
    model(fastdl.zeros(3, 6))
    assert [m._last_output_shape for m in model] == [(3, 4), (3, 4), (3, 2)]
    assert model._last_output_shape == (3, 2)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, 4)" in text and "(None, 2)" in text


# ---- nn kernels take ready operands as they are ------------------------------------------

@pytest.mark.parametrize("layout", ["ready", "swapped", "strided", "int32", "matrix"])
def test_cross_entropy_kernel_target_layouts_agree(layout, rng):
    from fastdl._C import nn as _nn
    x = rng.standard_normal((6, 4)).astype(np.float32)
    t = np.array([0, 3, 1, 2, 2, 1], dtype=np.int64)
    tt = {"ready": t, "swapped": t.astype(">i8"), "strided": np.repeat(t, 2)[::2],
          "int32": t.astype(np.int32), "matrix": t.reshape(6, 1)}[layout]
    loss, lse = _nn.cross_entropy_forward(x, tt, None, -100, 0.0)
    ref, ref_lse = _nn.cross_entropy_forward(x, t.copy(), None, -100, 0.0)
    assert np.array_equal(loss, ref) and np.array_equal(lse, ref_lse)
    x64 = x.astype(np.float64)
    want = np.log(np.exp(x64).sum(1)) - x64[np.arange(6), t]
    np.testing.assert_allclose(loss, want, rtol=1e-5)
    g = np.ones(6, np.float32)
    dx = _nn.cross_entropy_backward(x, lse, tt, None, g, 1.0, -100, 0.0)
    assert np.array_equal(dx, _nn.cross_entropy_backward(x, lse, t.copy(), None, g, 1.0,
                                                         -100, 0.0))


def test_cross_entropy_kernel_operand_errors_kept(rng):
    from fastdl._C import nn as _nn
    x = rng.standard_normal((3, 4)).astype(np.float32)
    with pytest.raises(ValueError, match="cross_entropy: target must have 3 elements"):
        _nn.cross_entropy_forward(x, np.zeros(2, np.int64), None, -100, 0.0)
    with pytest.raises(TypeError, match="cross_entropy: weight must have dtype float32"):
        _nn.cross_entropy_forward(x, np.zeros(3, np.int64), np.ones(4), -100, 0.0)
    with pytest.raises(ValueError, match="cross_entropy: target must have 3 elements"):
        _nn.cross_entropy_forward(x, np.array(0, np.int64), None, -100, 0.0)
    with pytest.raises(IndexError, match="cross_entropy: target 4 is out of bounds"):
        _nn.cross_entropy_forward(x, np.array([0, 4, 1], np.int64), None, -100, 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 100, 5000, 100003])
def test_flat_sum_axis_none_equals_axis_zero(isa, n, dtype):
    # reduce_loss sums the per-row losses with axis=None: the same kernel call as axis 0
    x = np.random.default_rng(n).standard_normal(n).astype(dtype)
    a, b = _core.sum(x, 0, False), _core.sum(x, None, False)
    assert a.shape == b.shape == () and a.dtype == b.dtype == dtype
    assert np.array_equal(a, b)
    np.testing.assert_allclose(b, x.astype(np.float64).sum(), rtol=1e-5 if dtype == np.float32
                               else 1e-12)


@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 4)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_layouts_and_reductions(shape, reduction, rng):
    xs = rng.standard_normal(shape)
    C = shape[1] if len(shape) > 1 else shape[0]
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = rng.integers(0, C, tshape)
    x = fastdl.tensor(xs.astype(np.float32), requires_grad=True)
    out = F.cross_entropy(x, fastdl.tensor(np.asarray(t)), reduction=reduction)
    moved = np.moveaxis(xs, 1, -1).reshape(-1, C) if len(shape) > 1 else xs.reshape(1, C)
    tt = np.asarray(t).reshape(-1)
    per = np.log(np.exp(moved).sum(1)) - moved[np.arange(len(tt)), tt]
    want = {"mean": per.mean(), "sum": per.sum(), "none": per.reshape(tshape)}[reduction]
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-5, atol=1e-6)
    assert out.shape == np.shape(want)
    out.sum().backward()
    assert x.grad.shape == shape
