"""Property-based tests (hypothesis) over fastdl's public ops.

Random shapes (0, 1, odd, large strides, non-contiguous views, broadcast views,
0-d), float32 and float64, NaN and +-Inf values, compared with a float64 NumPy
reference (and with PyTorch when it is installed); gradients against finite
differences.

Example counts come from a settings profile chosen by FASTDL_HYPOTHESIS_PROFILE:
"dev" (default, 20 per property), "ci" (50; .ci/run selects it), both derandomized so
a run is repeatable, and "thorough" (1000, random, for a fuzzing session). A failure
prints the shrunk example.

The kernel families that have crashed the process before (pooling, convolution,
gather/index, RNN) run in a child pytest process, one per family, so a
segfault fails that family's test instead of killing the suite: the wrapper
test_isolated_family[<family>] runs this file again with
FASTDL_HYPOTHESIS_FAMILY=<family>, which turns that family's properties into
collected tests.
"""
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import fastdl  # noqa: E402
import fastdl.nn.functional as F  # noqa: E402
from fastdl.testing import gradcheck  # noqa: E402

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                     HealthCheck.data_too_large,
                                                     HealthCheck.filter_too_much])
settings.register_profile("dev", max_examples=20, derandomize=True, **_COMMON)
settings.register_profile("ci", max_examples=50, derandomize=True, print_blob=True, **_COMMON)
settings.register_profile("thorough", max_examples=1000, **_COMMON)
PROFILE = os.environ.get("FASTDL_HYPOTHESIS_PROFILE", "dev")
settings.load_profile(PROFILE)

FAMILY = os.environ.get("FASTDL_HYPOTHESIS_FAMILY", "")
ISOLATED = {}          # family -> {test name: property}; collected only in that family's child


def isolated(family):
    def deco(fn):
        ISOLATED.setdefault(family, {})[fn.__name__] = fn
        return fn
    return deco


# ---- strategies ----------------------------------------------------------------------------

DTYPES = st.sampled_from([np.float32, np.float64])
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0]


def values(allow_special=True, lo=-30.0, hi=30.0):
    finite = st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=32)
    if not allow_special:
        return finite
    return st.one_of(finite, finite, finite, finite, st.sampled_from(SPECIAL))


@st.composite
def arrays(draw, shape, dtype, elements=None, layouts=("c", "c", "t", "step", "bcast")):
    """An array of `shape` in a random memory layout: C order, a transposed copy's view,
    a view with a large step, or a broadcast (zero-stride, read-only) view."""
    elements = elements if elements is not None else values()
    shape = tuple(shape)
    layout = draw(st.sampled_from(layouts))
    if layout == "t" and len(shape) >= 2:
        base = draw(hnp.arrays(dtype, shape[::-1], elements=elements))
        return base.T
    if layout == "step" and len(shape) >= 1:
        step = draw(st.sampled_from([2, 3, 7]))
        big = shape[:-1] + (shape[-1] * step,)
        base = draw(hnp.arrays(dtype, big, elements=elements))
        return base[..., ::step]
    if layout == "bcast" and len(shape) >= 1 and shape[0] != 0:
        row = draw(hnp.arrays(dtype, (1,) + shape[1:], elements=elements))
        return np.broadcast_to(row, shape)
    return draw(hnp.arrays(dtype, shape, elements=elements))


# 0-d inputs have their own properties (test_zero_d_*), so that a 0-d failure does not
# mask what the general properties would find
SHAPES = hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6)


def ref64(a):
    return np.asarray(a, dtype=np.float64)


def tol(dtype):
    return (2e-5, 1e-6) if dtype == np.float32 else (1e-10, 1e-12)


def check_close(got, want, dtype, what, scale=1.0):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, "%s: shape %s, reference %s" % (what, got.shape, want.shape)
    rtol, atol = tol(dtype)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(got.astype(np.float64), want, rtol=rtol, atol=atol * scale,
                                   equal_nan=True, err_msg=what)


def T(a, requires_grad=False):
    return fastdl.Tensor(a, requires_grad=requires_grad)


# ---- elementwise -----------------------------------------------------------------------------

UNARY = {
    "neg": (fastdl.neg, np.negative),
    "exp": (fastdl.exp, np.exp),
    "log": (fastdl.log, np.log),
    "sqrt": (fastdl.sqrt, np.sqrt),
    "abs": (fastdl.abs, np.abs),
    "square": (fastdl.square, np.square),
}


@given(name=st.sampled_from(sorted(UNARY)), dtype=DTYPES, data=st.data())
def test_unary_matches_numpy(name, dtype, data):
    shape = data.draw(SHAPES)
    a = data.draw(arrays(shape, dtype))
    fn, ref = UNARY[name]
    out = fn(T(a))
    assert out.dtype == dtype
    with np.errstate(all="ignore"):
        want = ref(ref64(a)).astype(dtype)
    check_close(out.numpy(), want, dtype, name)


BINARY = {
    "add": (fastdl.add, np.add),
    "sub": (fastdl.sub, np.subtract),
    "mul": (fastdl.mul, np.multiply),
    "div": (fastdl.div, np.divide),
    "maximum": (fastdl.maximum, np.maximum),
    "minimum": (fastdl.minimum, np.minimum),
    "pow": (fastdl.pow, np.power),
}


@given(name=st.sampled_from(sorted(BINARY)), dtype=DTYPES, data=st.data())
def test_binary_broadcast_matches_numpy(name, dtype, data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=4,
                                                         max_side=5))
    a = data.draw(arrays(shapes.input_shapes[0], dtype))
    b = data.draw(arrays(shapes.input_shapes[1], dtype))
    fn, ref = BINARY[name]
    out = fn(T(a), T(b))
    with np.errstate(all="ignore"):
        want = ref(ref64(a), ref64(b)).astype(dtype)
    scale = 1.0 if name != "pow" else 1e3
    check_close(out.numpy(), want, dtype, name, scale)


@given(name=st.sampled_from(["add", "sub", "mul", "div", "maximum", "minimum"]), data=st.data())
def test_binary_broadcast_gradients(name, data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3,
                                                         max_side=3))
    el = st.floats(0.5, 3.0) if name == "div" else st.floats(-3, 3)
    a = data.draw(hnp.arrays(np.float64, shapes.input_shapes[0], elements=el, unique=True))
    b = data.draw(hnp.arrays(np.float64, shapes.input_shapes[1], elements=el))
    if name in ("maximum", "minimum"):     # no ties: the derivative is defined
        assume(np.all(np.abs(np.subtract(*np.broadcast_arrays(a, b))) > 1e-3))
    fn = BINARY[name][0]
    ta, tb = T(a, True), T(b, True)
    assert gradcheck(lambda x, y: fn(x, y), [ta, tb])
    assert ta.grad.shape == a.shape and tb.grad.shape == b.shape


# ---- reductions ------------------------------------------------------------------------------

REDUCE = {
    "sum": (fastdl.sum, lambda a, ax, k: np.sum(a, axis=ax, keepdims=k)),
    "mean": (fastdl.mean, lambda a, ax, k: np.mean(a, axis=ax, keepdims=k)),
    "amax": (fastdl.amax, lambda a, ax, k: np.amax(a, axis=ax, keepdims=k)),
    "amin": (fastdl.amin, lambda a, ax, k: np.amin(a, axis=ax, keepdims=k)),
    "var": (fastdl.var, lambda a, ax, k: np.var(a, axis=ax, keepdims=k, ddof=1)),
    "std": (fastdl.std, lambda a, ax, k: np.std(a, axis=ax, keepdims=k, ddof=1)),
}


@given(name=st.sampled_from(sorted(REDUCE)), dtype=DTYPES, keep=st.booleans(), data=st.data())
def test_reductions_match_numpy(name, dtype, keep, data):
    shape = data.draw(SHAPES)
    a = data.draw(arrays(shape, dtype))
    axis = data.draw(st.none() | (st.integers(-len(shape), len(shape) - 1) if shape
                                  else st.none()))
    fn, ref = REDUCE[name]
    with np.errstate(all="ignore"):
        try:
            want = ref(ref64(a), axis, keep)
        except ValueError:          # NumPy: max of an empty sequence; fastdl must refuse too
            with pytest.raises((ValueError, RuntimeError, IndexError), match=name[-3:]):
                fn(T(a), axis, keep)
            return
    out = fn(T(a), axis, keep)
    n = a.size if axis is None else (a.shape[axis] if a.ndim else 1)
    scale = max(1.0, n * float(np.nanmax(np.abs(a), initial=0.0, where=np.isfinite(a))))
    check_close(out.numpy(), np.asarray(want).astype(dtype), dtype, name, scale)


@given(name=st.sampled_from(["sum", "mean", "var", "std", "amax"]), keep=st.booleans(),
       data=st.data())
def test_reduction_gradients(name, keep, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    a = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3), unique=True))
    if name == "amax":  # a unique maximum, by more than the finite-difference step
        top = np.sort(a.ravel())
        assume(top.size < 2 or top[-1] - top[-2] > 1e-3)
        if a.ndim:
            assume(np.all(np.diff(np.sort(a, axis=-1), axis=-1) > 1e-3))
    if name == "std":   # away from std == 0, where the derivative is not defined
        assume(a.size > 1 and np.std(a) > 1e-2)
    axis = data.draw(st.none() | (st.integers(-len(shape), len(shape) - 1) if shape
                                  else st.none()))
    if name in ("var", "std"):
        assume((a.size if axis is None else a.shape[axis]) > 1)
        if axis is not None and name == "std":
            assume(np.all(np.std(a, axis=axis) > 1e-2))
    fn = REDUCE[name][0]
    x = T(a, True)
    assert gradcheck(lambda t: fn(t, axis, keep), [x])
    assert x.grad.shape == a.shape


# ---- matmul ----------------------------------------------------------------------------------

@given(dtype=DTYPES, n=st.integers(0, 9), k=st.integers(0, 9), m=st.integers(0, 9),
       batch=st.sampled_from([(), (1,), (3,)]), data=st.data())
def test_matmul_matches_numpy(dtype, n, k, m, batch, data):
    el = st.one_of(st.floats(-4, 4, width=32), st.floats(-4, 4, width=32),
                   st.sampled_from([np.nan, np.inf]))
    a = data.draw(arrays(batch + (n, k), dtype, el))
    b = data.draw(arrays((k, m), dtype, el))
    out = fastdl.matmul(T(a), T(b))
    with np.errstate(all="ignore"):
        want = (ref64(a) @ ref64(b)).astype(dtype)
    check_close(out.numpy(), want, dtype, "matmul", scale=16 * max(k, 1))


@given(n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(1, 4), data=st.data())
def test_matmul_gradients(n, k, m, data):
    a = data.draw(hnp.arrays(np.float64, (n, k), elements=st.floats(-2, 2)))
    b = data.draw(hnp.arrays(np.float64, (k, m), elements=st.floats(-2, 2)))
    assert gradcheck(fastdl.matmul, [T(a, True), T(b, True)])


# ---- activations -----------------------------------------------------------------------------

_erf = np.frompyfunc(math.erf, 1, 1)


def _softplus(x, beta=1.0, threshold=20.0):
    with np.errstate(all="ignore"):
        return np.where(x * beta > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def _sigmoid(x):
    with np.errstate(all="ignore"):
        return 1 / (1 + np.exp(-x))


def _softmax(x, dim):
    if x.size == 0:
        return x.copy()
    with np.errstate(all="ignore"):
        e = np.exp(x - np.max(x, axis=dim, keepdims=True))
        return e / e.sum(axis=dim, keepdims=True)


ACT = {
    "relu": (lambda x: F.relu(x), lambda x: np.maximum(x, 0) * (x == x) + np.where(x != x, x, 0)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    "elu": (lambda x: F.elu(x, 1.5), lambda x: np.where(x > 0, x, 1.5 * np.expm1(x))),
    "gelu": (lambda x: F.gelu(x),
             lambda x: 0.5 * x * (1 + np.asarray(_erf(x / math.sqrt(2)), dtype=float))),
    "sigmoid": (lambda x: F.sigmoid(x), _sigmoid),
    "tanh": (lambda x: F.tanh(x), np.tanh),
    "softplus": (lambda x: F.softplus(x, 2.0, 10.0), lambda x: _softplus(x, 2.0, 10.0)),
    "silu": (lambda x: F.silu(x), lambda x: x * _sigmoid(x)),
}


@given(name=st.sampled_from(sorted(ACT)), dtype=DTYPES, data=st.data())
def test_activations_match_numpy(name, dtype, data):
    shape = data.draw(SHAPES)
    a = data.draw(arrays(shape, dtype))
    fn, ref = ACT[name]
    out = fn(T(a))
    with np.errstate(all="ignore"):
        want = np.asarray(ref(ref64(a)), dtype=np.float64)
    assert out.dtype == dtype
    check_close(out.numpy(), want.astype(dtype), dtype, name)


@given(name=st.sampled_from(sorted(ACT)), data=st.data())
def test_activation_gradients(name, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    a = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-4, 4)))
    assume(np.all(np.abs(a) > 1e-3))          # away from the kinks of relu, leaky_relu, elu
    x = T(a, True)
    assert gradcheck(ACT[name][0], [x])
    assert x.grad.shape == a.shape


@given(name=st.sampled_from(["softmax", "log_softmax"]), dtype=DTYPES, data=st.data())
def test_softmax_matches_numpy(name, dtype, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6))
    a = data.draw(arrays(shape, dtype, values(lo=-50, hi=50)))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    out = getattr(F, name)(T(a), dim=dim)
    with np.errstate(all="ignore"):
        want = _softmax(ref64(a), dim)
        if name == "log_softmax":
            x = ref64(a)
            if x.size:
                m = np.max(x, axis=dim, keepdims=True)
                want = x - m - np.log(np.exp(x - m).sum(axis=dim, keepdims=True))
    check_close(out.numpy(), want.astype(dtype), dtype, name, scale=100)


@given(data=st.data(), dtype=DTYPES)
def test_layer_norm_matches_numpy(data, dtype):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6))
    a = data.draw(arrays(shape, dtype, values(allow_special=False, lo=-5, hi=5)))
    out = F.layer_norm(T(a), shape[-1:])
    x = ref64(a)
    mu = x.mean(-1, keepdims=True)
    want = (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-5)
    check_close(out.numpy(), want.astype(dtype), dtype, "layer_norm", scale=100)


# ---- losses ----------------------------------------------------------------------------------

def _reduce(v, reduction):
    return {"none": v, "mean": np.mean(v) if v.size else np.nan, "sum": np.sum(v)}[reduction]


def _bce(p, y):
    with np.errstate(all="ignore"):
        return -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log1p(-p), -100))


def _bce_logits(x, y):
    with np.errstate(all="ignore"):
        return np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))


POINTWISE_LOSS = {
    "mse_loss": (lambda x, y: (x - y) ** 2, values()),
    "l1_loss": (lambda x, y: np.abs(x - y), values()),
    "smooth_l1_loss": (lambda x, y: np.where(np.abs(x - y) < 1, 0.5 * (x - y) ** 2,
                                             np.abs(x - y) - 0.5), values()),
    "huber_loss": (lambda x, y: np.where(np.abs(x - y) < 1, 0.5 * (x - y) ** 2,
                                         np.abs(x - y) - 0.5), values()),
    "binary_cross_entropy": (_bce, st.floats(0, 1, width=32)),
    # x = +-inf: the exact loss is inf or 0, the textbook formula gives inf * 0; finite here
    "binary_cross_entropy_with_logits": (_bce_logits, values(allow_special=False)),
}


@given(name=st.sampled_from(sorted(POINTWISE_LOSS)), dtype=DTYPES,
       reduction=st.sampled_from(["none", "mean", "sum"]), data=st.data())
def test_pointwise_losses_match_numpy(name, dtype, reduction, data):
    shape = data.draw(SHAPES)
    ref, el = POINTWISE_LOSS[name]
    x = data.draw(arrays(shape, dtype, el))
    y = data.draw(arrays(shape, dtype, st.floats(0, 1, width=32) if "entropy" in name
                         else values()))
    out = getattr(F, name)(T(x), T(y), reduction=reduction)
    with np.errstate(all="ignore"):
        want = np.asarray(_reduce(ref(ref64(x), ref64(y)), reduction))
    check_close(out.numpy(), want.astype(dtype), dtype, "%s(%s)" % (name, reduction),
                scale=max(1, x.size) * 100)


@given(dtype=DTYPES, n=st.integers(1, 5), c=st.integers(1, 6),
       reduction=st.sampled_from(["none", "mean", "sum"]), data=st.data())
def test_cross_entropy_and_nll_match_numpy(dtype, n, c, reduction, data):
    x = data.draw(arrays((n, c), dtype, values(allow_special=False, lo=-20, hi=20)))
    t = data.draw(hnp.arrays(np.int64, (n,), elements=st.sampled_from(list(range(c)) + [-100])))
    lsm = ref64(x) - ref64(x).max(1, keepdims=True)
    lsm = lsm - np.log(np.exp(lsm).sum(1, keepdims=True))
    valid = t != -100
    per = np.where(valid, -lsm[np.arange(n), np.where(valid, t, 0)], 0.0)
    want = per if reduction == "none" else (per.sum() if reduction == "sum"
                                            else per.sum() / valid.sum() if valid.any()
                                            else np.nan)
    for fn, inp in ((F.cross_entropy, x), (F.nll_loss, lsm.astype(dtype))):
        out = fn(T(inp), t, reduction=reduction)
        check_close(out.numpy(), np.asarray(want).astype(dtype), dtype,
                    "%s(%s)" % (fn.__name__, reduction), scale=100)


def _loss_call(name, x, y, n, rng_bits):
    """Call loss `name` on input x (n rows) with a valid second argument derived from y."""
    if name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
                "binary_cross_entropy_with_logits"):
        return getattr(F, name)(T(x), T(y))
    if name == "binary_cross_entropy":
        return F.binary_cross_entropy(T(np.clip(np.nan_to_num(x, nan=0.5), 0, 1)), T(y))
    if name == "kl_div":
        return F.kl_div(T(x), T(np.abs(y)), reduction="sum")
    if name == "hinge_embedding_loss":
        return F.hinge_embedding_loss(T(x), T(np.where(rng_bits, 1.0, -1.0).astype(x.dtype)))
    if name == "cosine_embedding_loss":
        return F.cosine_embedding_loss(T(x), T(y), T(np.where(rng_bits[:, 0], 1.0, -1.0)
                                                      .astype(x.dtype)))
    if name == "triplet_margin_loss":
        return F.triplet_margin_loss(T(x), T(y), T(y[::-1].copy()))
    if name in ("cross_entropy", "multi_margin_loss", "nll_loss"):
        return getattr(F, name)(T(x), np.arange(n) % x.shape[1])
    if name == "hinge_loss":
        return F.hinge_loss(T(x), T(np.where(rng_bits, 1.0, -1.0).astype(x.dtype)))
    raise AssertionError(name)


# not multi_margin_loss: PyTorch 2.13 itself turns NaN inputs into finite losses there
# (it adds only margins > 0); nll_loss reads only the target entries (NaN placed there)
NAN_LOSSES = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
              "binary_cross_entropy_with_logits", "kl_div", "hinge_embedding_loss",
              "cosine_embedding_loss", "triplet_margin_loss", "cross_entropy", "nll_loss",
              "hinge_loss"]


@given(name=st.sampled_from(NAN_LOSSES), dtype=DTYPES, n=st.integers(1, 4), d=st.integers(1, 5),
       data=st.data())
def test_nan_input_gives_nan_loss(name, dtype, n, d, data):
    """A NaN in the input makes the (mean) loss NaN, as in PyTorch: training must see it."""
    x = data.draw(hnp.arrays(dtype, (n, d), elements=st.floats(-3, 3, width=32)))
    y = data.draw(hnp.arrays(dtype, (n, d), elements=st.floats(0.125, 1, width=32)))
    bits = data.draw(hnp.arrays(np.bool_, (n, d)))
    i, j = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, d - 1))
    if name == "nll_loss":
        j = i % d       # the target entry of row i (see _loss_call)
    x[i, j] = np.nan
    out = _loss_call(name, x, y, n, bits)
    assert np.isnan(float(out.detach().numpy())), "%s swallowed a NaN input: %r" % (name, out)


@given(name=st.sampled_from(["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
                             "binary_cross_entropy_with_logits", "kl_div",
                             "hinge_embedding_loss", "binary_cross_entropy"]),
       reduction=st.sampled_from(["none", "mean", "sum"]))
def test_zero_d_pointwise_losses(name, reduction):
    x, y = np.float64(0.3), np.float64(0.6)
    extra = {}
    if name == "hinge_embedding_loss":
        y = np.float64(-1.0)
    out = getattr(F, name)(T(np.array(x)), T(np.array(y)), reduction=reduction, **extra)
    assert out.shape == (), "%s(reduction=%r) of 0-d inputs has shape %s" % (name, reduction,
                                                                            out.shape)


@given(name=st.sampled_from(sorted(ACT) + ["neg", "exp", "abs", "square"]))
def test_zero_d_elementwise_keeps_shape_and_backward(name):
    fn = ACT[name][0] if name in ACT else UNARY[name][0]
    x = T(np.array(0.7), True)
    out = fn(x)
    assert out.shape == (), "%s of a 0-d tensor has shape %s" % (name, out.shape)
    out.backward()
    assert x.grad.shape == ()


@given(name=st.sampled_from(sorted(BINARY)), other=st.sampled_from([(), (1,), (3,), (2, 1)]),
       swap=st.booleans())
def test_zero_d_binary_broadcast_and_backward(name, other, swap):
    a, b = np.array(1.25), np.full(other, 0.5)
    if swap:
        a, b = b, a
    ta, tb = T(a, True), T(b, True)
    out = BINARY[name][0](ta, tb)
    assert out.shape == np.broadcast_shapes(a.shape, b.shape)
    out.sum().backward()
    assert ta.grad.shape == a.shape and tb.grad.shape == b.shape


@given(name=st.sampled_from(["sum", "mean", "var", "std", "amax", "amin"]))
def test_zero_d_reduction_backward(name):
    x = T(np.array(1.5), True)
    out = REDUCE[name][0](x, None, False) if name not in ("var", "std") else \
        REDUCE[name][0](x, correction=0)
    out.backward()
    assert x.grad.shape == () and np.isfinite(x.grad.numpy()).all()


torch_losses = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
                "binary_cross_entropy_with_logits", "kl_div", "hinge_embedding_loss",
                "cosine_embedding_loss", "triplet_margin_loss", "cross_entropy", "nll_loss",
                "multi_margin_loss"]


@given(name=st.sampled_from(torch_losses), dtype=DTYPES, n=st.integers(1, 4),
       d=st.integers(1, 5), nan=st.booleans(), data=st.data())
def test_losses_match_torch(name, dtype, n, d, nan, data):
    torch = pytest.importorskip("torch")
    x = data.draw(hnp.arrays(dtype, (n, d), elements=st.floats(-3, 3, width=32)))
    y = data.draw(hnp.arrays(dtype, (n, d), elements=st.floats(0.0625, 0.9375, width=32)))
    bits = data.draw(hnp.arrays(np.bool_, (n, d)))
    if name == "binary_cross_entropy":
        x = 1 / (1 + np.exp(-x))
    if nan and name != "binary_cross_entropy":    # torch refuses NaN probabilities
        x[data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, d - 1))] = np.nan
    out = float(_loss_call(name, x, y, n, bits).detach().numpy())
    tf = torch.nn.functional
    tx, ty = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    pm = torch.tensor(np.where(bits, 1.0, -1.0))
    want = {
        "mse_loss": lambda: tf.mse_loss(tx, ty),
        "l1_loss": lambda: tf.l1_loss(tx, ty),
        "smooth_l1_loss": lambda: tf.smooth_l1_loss(tx, ty),
        "huber_loss": lambda: tf.huber_loss(tx, ty),
        "binary_cross_entropy": lambda: tf.binary_cross_entropy(tx, ty),
        "binary_cross_entropy_with_logits": lambda: tf.binary_cross_entropy_with_logits(tx, ty),
        "kl_div": lambda: tf.kl_div(tx, ty.abs(), reduction="sum"),
        "hinge_embedding_loss": lambda: tf.hinge_embedding_loss(tx, pm),
        "cosine_embedding_loss": lambda: tf.cosine_embedding_loss(tx, ty, pm[:, 0]),
        "triplet_margin_loss": lambda: tf.triplet_margin_loss(tx, ty, ty.flip(0)),
        "cross_entropy": lambda: tf.cross_entropy(tx, torch.arange(n) % d),
        "nll_loss": lambda: tf.nll_loss(tx, torch.arange(n) % d),
        "multi_margin_loss": lambda: tf.multi_margin_loss(tx, torch.arange(n) % d),
    }[name]().item()
    rtol = 1e-4 if dtype == np.float32 else 1e-9
    assert (math.isnan(out) and math.isnan(want)) or math.isclose(out, want, rel_tol=rtol,
                                                                  abs_tol=rtol), \
        "%s: fastdl %r, torch %r" % (name, out, want)


# ---- pooling (isolated) ----------------------------------------------------------------------

def _max_pool_ref(x, k, s, p, d, out_hw):
    """float64 max pool of x[P, H, W] with PyTorch's CPU rules (first max on ties, a NaN
    always takes over, so the last NaN wins);
    a window entirely in the padding gives -inf and index -1."""
    P, H, W = x.shape
    OH, OW = out_hw
    out = np.full((P, OH, OW), -np.inf)
    idx = np.full((P, OH, OW), -1, np.int64)
    for oh in range(OH):
        for ow in range(OW):
            for i in range(k[0]):
                h = oh * s[0] - p[0] + i * d[0]
                if not 0 <= h < H:
                    continue
                for j in range(k[1]):
                    w = ow * s[1] - p[1] + j * d[1]
                    if not 0 <= w < W:
                        continue
                    v = x[:, h, w]
                    cur = out[:, oh, ow]
                    take = (idx[:, oh, ow] < 0) | (v > cur) | np.isnan(v)
                    out[:, oh, ow] = np.where(take, v, cur)
                    idx[:, oh, ow] = np.where(take, h * W + w, idx[:, oh, ow])
    return out, idx


def _pool_out(L, k, s, p, d, ceil):
    num = L + 2 * p - d * (k - 1) - 1
    o = (-(-num // s) if ceil else num // s) + 1
    if ceil and (o - 1) * s >= L + p:
        o -= 1
    return o


@st.composite
def pool_args(draw, dilation=True):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else (1, 1)
    p = tuple(draw(st.integers(0, (d[i] * (k[i] - 1) + 1) // 2)) for i in range(2))
    # the smallest input a window fits is where windows can lie entirely in the padding
    h0, w0 = max(0, d[0] * (k[0] - 1) + 1 - 2 * p[0]), max(0, d[1] * (k[1] - 1) + 1 - 2 * p[1])
    H = draw(st.one_of(st.integers(h0, h0 + 1), st.integers(h0, 12)))
    W = draw(st.one_of(st.integers(w0, w0 + 1), st.integers(w0, 12)))
    lead = draw(st.sampled_from([(0,), (1,), (2,), (1, 3), (2, 1), (0, 2)]))
    return k, s, p, d, draw(st.booleans()), lead + (H, W)


@isolated("pool")
@given(dtype=DTYPES, args=pool_args(), data=st.data())
def test_max_pool2d_matches_reference(dtype, args, data):
    k, s, p, d, ceil, shape = args
    assume(len(shape) >= 3)
    if 0 in shape[-2:]:
        with pytest.raises(ValueError, match="max_pool2d: expected an input with non-zero H"):
            F.max_pool2d(T(np.zeros(shape, dtype)), k, s, p, d, ceil_mode=ceil)
        return
    el = st.one_of(st.floats(-5, 5, width=32), st.sampled_from([np.nan, -np.inf, 1.0]))
    a = data.draw(arrays(shape, dtype, el))
    x = T(a, True)
    out, idx = F.max_pool2d(x, k, s, p, d, ceil_mode=ceil, return_indices=True)
    OH = _pool_out(shape[-2], k[0], s[0], p[0], d[0], ceil)
    OW = _pool_out(shape[-1], k[1], s[1], p[1], d[1], ceil)
    flat = ref64(a).reshape(int(np.prod(shape[:-2])), shape[-2], shape[-1])
    want, widx = _max_pool_ref(flat, k, s, p, d, (OH, OW))
    lead = shape[:-2]
    check_close(out.detach().numpy(), want.reshape(lead + (OH, OW)).astype(dtype), dtype,
                "max_pool2d")
    np.testing.assert_array_equal(idx.numpy(), widx.reshape(lead + (OH, OW)))
    g = data.draw(hnp.arrays(dtype, lead + (OH, OW), elements=st.floats(-2, 2, width=32)))
    out.backward(T(g))
    gx = np.zeros(flat.shape)
    gf = ref64(g).reshape(flat.shape[0], OH * OW)
    for q in range(flat.shape[0]):
        for t, ix in enumerate(widx[q].ravel()):
            if ix >= 0:
                gx[q].flat[ix] += gf[q, t]
    check_close(x.grad.numpy(), gx.reshape(shape).astype(dtype), dtype, "max_pool2d backward",
                scale=10)


@isolated("pool")
@given(dtype=DTYPES, args=pool_args(dilation=False), cip=st.booleans(), data=st.data())
def test_avg_pool2d_matches_reference(dtype, args, cip, data):
    k, s, p, _, ceil, shape = args
    assume(len(shape) >= 3 and 2 * p[0] <= k[0] and 2 * p[1] <= k[1])
    H, W = shape[-2:]
    if 0 in (H, W):
        with pytest.raises(ValueError, match="avg_pool2d: expected an input with non-zero H"):
            F.avg_pool2d(T(np.zeros(shape, dtype)), k, s, p, ceil_mode=ceil)
        return
    a = data.draw(arrays(shape, dtype, values(lo=-5, hi=5)))
    x = T(a, True)
    out = F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=cip)
    OH, OW = _pool_out(H, k[0], s[0], p[0], 1, ceil), _pool_out(W, k[1], s[1], p[1], 1, ceil)
    flat = ref64(a).reshape(int(np.prod(shape[:-2])), H, W)
    want = np.zeros((flat.shape[0], OH, OW))
    dmat = np.zeros((OH, OW, H, W))       # d out / d x
    for oh in range(OH):
        for ow in range(OW):
            hs, ws = oh * s[0] - p[0], ow * s[1] - p[1]
            he, we = min(hs + k[0], H + p[0]), min(ws + k[1], W + p[1])
            pool = (he - hs) * (we - ws)
            hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, H), min(we, W)
            div = pool if cip else (he - hs) * (we - ws)
            if div > 0 and he > hs and we > ws:
                with np.errstate(all="ignore"):
                    want[:, oh, ow] = flat[:, hs:he, ws:we].sum(axis=(1, 2)) / div
                dmat[oh, ow, hs:he, ws:we] = 1.0 / div
    check_close(out.detach().numpy(), want.reshape(shape[:-2] + (OH, OW)).astype(dtype), dtype,
                "avg_pool2d", scale=10)
    g = data.draw(hnp.arrays(dtype, shape[:-2] + (OH, OW), elements=st.floats(-2, 2, width=32)))
    out.backward(T(g))
    gx = np.einsum("pab,abhw->phw", ref64(g).reshape(flat.shape[0], OH, OW), dmat)
    check_close(x.grad.numpy(), gx.reshape(shape).astype(dtype), dtype, "avg_pool2d backward",
                scale=10)


@isolated("pool")
@given(dtype=DTYPES, data=st.data())
def test_adaptive_avg_pool2d_matches_reference(dtype, data):
    shape = data.draw(st.tuples(st.integers(0, 2), st.integers(1, 3), st.integers(1, 9),
                                st.integers(1, 9)))
    oh, ow = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6))
    a = data.draw(arrays(shape, dtype, values(lo=-5, hi=5)))
    out = F.adaptive_avg_pool2d(T(a), (oh, ow))
    H, W = shape[-2:]
    want = np.zeros(shape[:2] + (oh, ow))
    with np.errstate(all="ignore"):
        for i in range(oh):
            for j in range(ow):
                hs, he = i * H // oh, -(-(i + 1) * H // oh)
                ws, we = j * W // ow, -(-(j + 1) * W // ow)
                want[..., i, j] = ref64(a)[..., hs:he, ws:we].mean(axis=(-2, -1))
    check_close(out.numpy(), want.astype(dtype), dtype, "adaptive_avg_pool2d", scale=10)


# ---- convolution (isolated) ------------------------------------------------------------------

def _conv_ref(x, w, b, stride, pad, dil, groups):
    N, C, H, W = x.shape
    K, Cg, R, S = w.shape
    P = (H + 2 * pad[0] - dil[0] * (R - 1) - 1) // stride[0] + 1
    Q = (W + 2 * pad[1] - dil[1] * (S - 1) - 1) // stride[1] + 1
    xp = np.zeros((N, C, H + 2 * pad[0], W + 2 * pad[1]))
    xp[:, :, pad[0]:pad[0] + H, pad[1]:pad[1] + W] = x
    out = np.zeros((N, K, P, Q))
    Kg = K // groups
    for g in range(groups):
        for r in range(R):
            for s in range(S):
                patch = xp[:, g * Cg:(g + 1) * Cg,
                           r * dil[0]: r * dil[0] + stride[0] * (P - 1) + 1: stride[0],
                           s * dil[1]: s * dil[1] + stride[1] * (Q - 1) + 1: stride[1]]
                out[:, g * Kg:(g + 1) * Kg] += np.einsum("ncpq,kc->nkpq", patch,
                                                         w[g * Kg:(g + 1) * Kg, :, r, s])
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


@st.composite
def conv_args(draw, small=False):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    Cg, Kg = draw(st.integers(0 if not small else 1, 3)), draw(st.integers(1, 3))
    R, S = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pad = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    lo = 1 if small else 0      # gradcheck needs elements to perturb
    h0 = max(lo, dil[0] * (R - 1) + 1 - 2 * pad[0])
    w0 = max(lo, dil[1] * (S - 1) + 1 - 2 * pad[1])
    H = draw(st.integers(h0, max(h0, 4 if small else 9)))
    W = draw(st.integers(w0, max(w0, 4 if small else 9)))
    N = draw(st.integers(1 if small else 0, 2 if small else 3))
    return (N, Cg * groups, H, W), (Kg * groups, Cg, R, S), stride, pad, dil, groups


@isolated("conv")
@given(dtype=DTYPES, args=conv_args(), bias=st.booleans(), data=st.data())
def test_conv2d_matches_reference(dtype, args, bias, data):
    xs, ws, stride, pad, dil, groups = args
    el = values(allow_special=False, lo=-2, hi=2)
    x = data.draw(arrays(xs, dtype, el))
    w = data.draw(arrays(ws, dtype, el))
    b = data.draw(arrays((ws[0],), dtype, el)) if bias else None
    out = F.conv2d(T(x), T(w), None if b is None else T(b), stride, pad, dil, groups)
    want = _conv_ref(ref64(x), ref64(w), None if b is None else ref64(b), stride, pad, dil,
                     groups)
    check_close(out.numpy(), want.astype(dtype), dtype, "conv2d",
                scale=10 * max(1, ws[1] * ws[2] * ws[3]))


@isolated("conv")
@given(args=conv_args(small=True), bias=st.booleans(), data=st.data())
def test_conv2d_gradients(args, bias, data):
    xs, ws, stride, pad, dil, groups = args
    el = st.floats(-2, 2)
    x = T(data.draw(hnp.arrays(np.float64, xs, elements=el)), True)
    w = T(data.draw(hnp.arrays(np.float64, ws, elements=el)), True)
    ins = [x, w] + ([T(data.draw(hnp.arrays(np.float64, (ws[0],), elements=el)), True)]
                    if bias else [])
    assert gradcheck(lambda *t: F.conv2d(t[0], t[1], t[2] if len(t) > 2 else None, stride, pad,
                                         dil, groups), ins)


@isolated("conv")
@given(dtype=DTYPES, n=st.integers(0, 2), c=st.integers(1, 3), k=st.integers(1, 3),
       L=st.integers(1, 9), ks=st.integers(1, 3), stride=st.integers(1, 3),
       pad=st.integers(0, 2), data=st.data())
def test_conv1d_matches_reference(dtype, n, c, k, L, ks, stride, pad, data):
    assume(L + 2 * pad >= ks)
    x = data.draw(arrays((n, c, L), dtype, values(allow_special=False, lo=-2, hi=2)))
    w = data.draw(arrays((k, c, ks), dtype, values(allow_special=False, lo=-2, hi=2)))
    out = F.conv1d(T(x), T(w), None, stride, pad)
    want = _conv_ref(ref64(x)[:, :, None], ref64(w)[:, :, None], None, (1, stride), (0, pad),
                     (1, 1), 1)[:, :, 0]
    check_close(out.numpy(), want.astype(dtype), dtype, "conv1d", scale=10 * c * ks)


# ---- gather / index (isolated) ---------------------------------------------------------------

@isolated("gather")
@given(dtype=st.sampled_from([np.float32, np.float64, np.int64, np.uint8]), data=st.data())
def test_gather_rows_matches_take(dtype, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6))
    src = data.draw(hnp.arrays(dtype, shape))
    n = shape[0]
    it = data.draw(st.sampled_from([np.int64, np.int32, np.uint64, np.int8]))
    idx = data.draw(hnp.arrays(it, st.integers(0, 8),
                               elements=st.integers(0 if it == np.uint64 else -10, 10)))
    ok = np.all((idx >= -n) & (idx < n)) if idx.dtype.kind == "i" else np.all(idx < n)
    if not ok:
        with pytest.raises(IndexError, match="gather_rows"):
            fastdl.data.gather_rows(src, idx)
        return
    got = fastdl.data.gather_rows(src, idx)
    np.testing.assert_array_equal(got, np.take(src, idx.astype(np.int64), axis=0))


@isolated("gather")
@given(dtype=DTYPES, data=st.data())
def test_integer_array_getitem_and_gradient(dtype, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    a = data.draw(arrays(shape, dtype))
    n = shape[0]
    idx = data.draw(hnp.arrays(np.int64, st.integers(0, 7), elements=st.integers(-n, n - 1)))
    x = T(a, True)
    out = x[idx]
    np.testing.assert_array_equal(out.detach().numpy(), a[idx])
    out.sum().backward()
    want = np.zeros(shape)
    np.add.at(want, idx, 1.0)
    np.testing.assert_array_equal(x.grad.numpy(), want.astype(dtype))


@isolated("gather")
@given(dtype=DTYPES, V=st.integers(1, 8), D=st.integers(1, 5), data=st.data())
def test_embedding_matches_numpy(dtype, V, D, data):
    w = data.draw(arrays((V, D), dtype))
    idx = data.draw(hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=2, min_side=0,
                                                          max_side=5),
                               elements=st.integers(0, V - 1)))
    wt = T(w, True)
    out = F.embedding(idx, wt)
    np.testing.assert_array_equal(out.detach().numpy(), w[idx])
    out.sum().backward()
    want = np.zeros((V, D))
    np.add.at(want, idx.reshape(-1), 1.0)
    np.testing.assert_array_equal(wt.grad.numpy(), want.astype(dtype))


# ---- RNN (isolated) --------------------------------------------------------------------------

@isolated("rnn")
@given(mode=st.sampled_from(["RNN", "LSTM", "GRU"]), T_=st.integers(1, 5), N=st.integers(1, 3),
       I=st.integers(1, 5), H=st.integers(1, 5), layers=st.integers(1, 2),
       bidir=st.booleans(), batch_first=st.booleans(), data=st.data())
def test_rnn_matches_torch(mode, T_, N, I, H, layers, bidir, batch_first, data):
    torch = pytest.importorskip("torch")
    m = getattr(fastdl.nn, mode)(I, H, num_layers=layers, bidirectional=bidir,
                                 batch_first=batch_first)
    tm = getattr(torch.nn, mode)(I, H, num_layers=layers, bidirectional=bidir,
                                 batch_first=batch_first)
    tm.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in m.state_dict().items()})
    shape = (N, T_, I) if batch_first else (T_, N, I)
    x = data.draw(hnp.arrays(np.float32, shape, elements=st.floats(-2, 2, width=32)))
    out = m(T(x))[0].detach().numpy()
    want = tm(torch.tensor(x))[0].detach().numpy()
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-5)


@isolated("rnn")
@given(mode=st.sampled_from(["RNN", "LSTM", "GRU"]), T_=st.integers(1, 3), N=st.integers(1, 2),
       I=st.integers(1, 3), H=st.integers(1, 3), data=st.data())
def test_rnn_gradients(mode, T_, N, I, H, data):
    m = getattr(fastdl.nn, mode)(I, H, dtype=np.float64)
    x = T(data.draw(hnp.arrays(np.float64, (T_, N, I), elements=st.floats(-2, 2))), True)
    assert gradcheck(lambda t: m(t)[0], [x])


# ---- the isolation wrapper -------------------------------------------------------------------

if FAMILY:
    for _name, _fn in ISOLATED.get(FAMILY, {}).items():
        globals()[_name] = _fn
# in the parent process the isolated properties are not collected (their names lose the
# test_ prefix below); test_isolated_family runs them in a child instead
for _fam in ISOLATED.values():
    for _name in _fam:
        if not FAMILY or _name not in ISOLATED.get(FAMILY, {}):
            globals()["_isolated_" + _name] = globals().pop(_name)


@pytest.mark.skipif(bool(FAMILY), reason="this is the child process of test_isolated_family")
@pytest.mark.parametrize("family", sorted(ISOLATED))
def test_isolated_family(family, tmp_path):
    """Run one crash-prone family's properties in a child pytest: a segfault or a hang
    fails here with the child's output instead of killing the suite."""
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, FASTDL_HYPOTHESIS_FAMILY=family, FASTDL_HYPOTHESIS_PROFILE=PROFILE)
    cmd = [sys.executable, "-m", "pytest", str(Path(__file__).resolve()), "-q", "-rfE",
           "-p", "no:cacheprovider", "--rootdir", str(root), "-c", str(root / "pyproject.toml"),
           "-k", " or ".join(sorted(ISOLATED[family]))]
    try:
        # cwd outside the checkout: the child imports the installed fastdl
        r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=600)
    except subprocess.TimeoutExpired as e:
        pytest.fail("family %s hung (600 s)\n%s" % (family, e.stdout))
    if r.returncode != 0:
        pytest.fail("family %s failed in its child process (exit code %d)\n%s\n%s"
                    % (family, r.returncode, r.stdout[-12000:], r.stderr[-4000:]))
    assert " passed" in r.stdout, r.stdout
