"""The Tensor API of every forward op against a float64 NumPy reference, for
float32 and float64 tensors: each op reaches its kernel with the right
shapes, dims and dtypes (a few awkward shapes: empty, 0-d, size-1, views,
broadcasting corners).

The kernels themselves, on every ISA and on every row length, layout and
special value, are checked once at their own layer (tests/test_core_kernels.py,
tests/test_gemm.py); here only the wiring, at the active ISA, with one call
spelling per sweep and one test that every spelling agrees."""
import operator

import numpy as np
import pytest

import fastdl

DTYPES = [np.float32, np.float64]
SIZES = [1, 3, 17, 33, 1000]


def tol(dtype):
    return dict(rtol=2e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


def check(t, ref, dtype, **kw):
    """t (a Tensor) matches the float64 reference ref in shape, dtype and value."""
    assert isinstance(t, fastdl.Tensor)
    assert t.dtype == dtype, (t.dtype, dtype)
    ref = np.asarray(ref)
    assert t.shape == ref.shape, (t.shape, ref.shape)
    np.testing.assert_allclose(t.numpy().astype(np.float64), ref, **{**tol(dtype), **kw})


def make(rng, shape, dtype, low=-2.0, high=2.0):
    """(tensor, float64 reference of exactly its values)."""
    a = rng.uniform(low, high, size=shape).astype(dtype)
    return fastdl.from_numpy(a), a.astype(np.float64)


# ---- binary elementwise ---------------------------------------------------------------------

BINARY = [(operator.add, np.add), (operator.sub, np.subtract), (operator.mul, np.multiply),
          (operator.truediv, np.true_divide)]
BINARY_FNS = [(fastdl.add, np.add), (fastdl.sub, np.subtract), (fastdl.mul, np.multiply),
              (fastdl.div, np.true_divide), (fastdl.maximum, np.maximum),
              (fastdl.minimum, np.minimum)]

# broadcasting itself is checked at the kernel (test_core_kernels.py::test_binary_broadcast)
SHAPE_PAIRS = [((17,), (17,)), ((0,), (0,)), ((3, 0), (1,)), ((), ()), ((), (5,)),
               ((17, 1), (1, 33)), ((7, 1, 5, 1), (1, 6, 1, 9)), ((1000,), (1, 1000))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa, sb", SHAPE_PAIRS)
@pytest.mark.parametrize("op, ref", BINARY_FNS)
def test_binary_ops(rng, dtype, sa, sb, op, ref):
    a, an = make(rng, sa, dtype)
    b, bn = make(rng, sb, dtype, 0.5, 2.0)
    check(op(a, b), ref(an, bn), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op, ref", BINARY)
def test_binary_operators_with_scalars_and_arrays(rng, dtype, op, ref):
    a, an = make(rng, (3, 17), dtype, 0.5, 2.0)
    check(op(a, 1.5), ref(an, np.float64(dtype(1.5))), dtype)
    check(op(2.5, a), ref(np.float64(dtype(2.5)), an), dtype)
    check(op(a, 2), ref(an, 2.0), dtype)
    check(op(3, a), ref(3.0, an), dtype)
    arr = rng.uniform(0.5, 2.0, size=(17,)).astype(dtype)
    check(op(a, arr), ref(an, arr.astype(np.float64)), dtype)
    check(op(arr, a), ref(arr.astype(np.float64), an), dtype)


def test_ndarray_on_left_gives_tensor(rng):
    a, an = make(rng, (4,), np.float32)
    arr = np.ones(4, np.float32)
    r = arr + a
    assert isinstance(r, fastdl.Tensor)
    np.testing.assert_allclose(r.numpy(), an + 1, rtol=1e-6)


def test_mixed_float_dtypes_promote(rng):
    a, an = make(rng, (5,), np.float32)
    b, bn = make(rng, (5,), np.float64)
    r = a + b
    assert r.dtype == np.float64
    np.testing.assert_allclose(r.numpy(), an + bn, rtol=1e-12)


def test_integer_arithmetic():
    a = fastdl.tensor([1, 2, 3])
    b = fastdl.tensor([4, 5, 6])
    assert (a + b).dtype == np.int64
    assert (a + b).tolist() == [5, 7, 9]
    assert (a * 2).tolist() == [2, 4, 6]
    assert (-a).tolist() == [-1, -2, -3]
    r = a + 0.5
    assert r.dtype == np.float32            # PyTorch: int tensor + float -> default float
    np.testing.assert_allclose(r.numpy(), [1.5, 2.5, 3.5])
    assert (0.5 * a).dtype == np.float32
    assert (a / 2).dtype == np.float32
    assert (fastdl.tensor([1, 2], dtype=fastdl.int32) + 1).dtype == np.int32


def test_bool_tensor_with_scalars():
    m = fastdl.tensor([True, False])
    r = m + 2
    assert r.dtype == np.int64 and r.tolist() == [3, 2]
    f = m * 1.5
    assert f.dtype == np.float32 and f.tolist() == [1.5, 0.0]


def test_float_tensor_keeps_dtype_with_python_scalars():
    for dt in (fastdl.float32, fastdl.float64):
        x = fastdl.ones(3, dtype=dt)
        for r in (x + 1, x * 2.5, 3 - x, x / True, x ** 2, 2.0 ** x):
            assert r.dtype == dt


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_neg(rng, dtype, n):
    a, an = make(rng, (n,), dtype)
    check(-a, -an, dtype)
    check(fastdl.neg(a), -an, dtype)


# ---- pow ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [2, 3, 0.5, -1, -2.5, 0, 1])
def test_pow_tensor_scalar(rng, dtype, p):
    a, an = make(rng, (3, 33), dtype, 0.2, 3.0)
    check(a ** p, an ** p, dtype, rtol=1e-5 if dtype == np.float32 else 1e-12)
    check(fastdl.pow(a, p), an ** p, dtype, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pow_negative_base_integer_exponent(rng, dtype):
    a, an = make(rng, (17,), dtype, -3.0, -0.5)
    check(a ** 2, an ** 2, dtype, rtol=1e-5)
    check(a ** 3, an ** 3, dtype, rtol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pow_scalar_tensor_and_tensor_tensor(rng, dtype):
    r = 1e-5 if dtype == np.float32 else 1e-12
    a, an = make(rng, (4, 17), dtype, 0.2, 2.0)
    b, bn = make(rng, (17,), dtype, -2.0, 2.0)
    check(2.0 ** b, 2.0 ** bn, dtype, rtol=r)
    check(a ** b, an ** bn, dtype, rtol=r)
    check(fastdl.pow(a, b), an ** bn, dtype, rtol=r)
    arr = rng.uniform(0.5, 2.0, size=(4, 17))
    check(fastdl.pow(arr.astype(dtype), b), arr.astype(dtype).astype(np.float64) ** bn,
          dtype, rtol=r)


# ---- unary ---------------------------------------------------------------------------------------

UNARY = [
    ("exp", fastdl.exp, np.exp, (-5.0, 5.0)),
    ("log", fastdl.log, np.log, (0.01, 10.0)),
    ("sqrt", fastdl.sqrt, np.sqrt, (0.0, 10.0)),
    ("abs", fastdl.abs, np.abs, (-3.0, 3.0)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1000,), (0,), (), (3, 0, 2), (5, 1, 7)])
@pytest.mark.parametrize("name, fn, ref, rng_", UNARY)
def test_unary(rng, dtype, shape, name, fn, ref, rng_):
    a, an = make(rng, shape, dtype, *rng_)
    check(fn(a), ref(an), dtype)


@pytest.mark.parametrize("name, fn, ref, rng_", UNARY)
def test_unary_spellings_agree(rng, name, fn, ref, rng_):
    """fastdl.<op>(t) and t.<op>() reach the same kernel."""
    a, an = make(rng, (3, 17), np.float32, *rng_)
    np.testing.assert_array_equal(getattr(a, name)().numpy(), fn(a).numpy())
    check(getattr(a, name)(), ref(an), np.float32)


def test_abs_operator(rng):
    a, an = make(rng, (9,), np.float32)
    check(abs(a), np.abs(an), np.float32)


def test_unary_special_values():
    x = fastdl.tensor([0.0, -0.0, np.inf, -np.inf, np.nan, -1.0], dtype=fastdl.float32)
    with np.errstate(all="ignore"):
        xn = x.numpy().astype(np.float64)
        for fn, ref in [(fastdl.exp, np.exp), (fastdl.log, np.log), (fastdl.sqrt, np.sqrt),
                        (fastdl.abs, np.abs)]:
            np.testing.assert_allclose(fn(x).numpy().astype(np.float64), ref(xn), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_clip(rng, dtype, n):
    a, an = make(rng, (n,), dtype)
    check(fastdl.clip(a, -0.5, 0.7), np.clip(an, -0.5, 0.7), dtype)
    check(a.clamp(min=0), np.maximum(an, 0), dtype)
    check(a.clip(max=0.1), np.minimum(an, 0.1), dtype)
    check(fastdl.clamp(a, min=-1.0, max=1.0), np.clip(an, -1, 1), dtype)
    with pytest.raises(ValueError):
        fastdl.clip(a)


def test_clip_nan_stays_nan():
    x = fastdl.tensor([np.nan, 5.0])
    r = fastdl.clip(x, 0, 1).numpy()
    assert np.isnan(r[0]) and r[1] == 1.0


def test_maximum_minimum_nan_propagates():
    a = fastdl.tensor([np.nan, 1.0, 2.0])
    b = fastdl.tensor([0.0, np.nan, 1.0])
    np.testing.assert_array_equal(fastdl.maximum(a, b).numpy(), np.maximum(a.numpy(), b.numpy()))
    np.testing.assert_array_equal(fastdl.minimum(a, b).numpy(), np.minimum(a.numpy(), b.numpy()))


def test_maximum_with_scalar(rng):
    a, an = make(rng, (33,), np.float32)
    check(fastdl.maximum(a, 0), np.maximum(an, 0), np.float32)
    check(fastdl.minimum(a, 0.25), np.minimum(an, np.float32(0.25)), np.float32)


# ---- reductions ---------------------------------------------------------------------------------

RED_SHAPES = [(1000,), (17, 33), (3, 1, 17, 5), (1,), (), (4, 0, 3)]
RED_DIMS = [None, 0, -1, (0, -1), 1, (1, 2), (0, 1, 2, 3), (-3, 3)]


def _dims_for(shape):
    out = []
    for d in RED_DIMS:
        dd = d if isinstance(d, tuple) or d is None else (d,)
        if dd is None or (all(-len(shape) <= x < len(shape) for x in dd)
                          and len({x % len(shape) for x in dd}) == len(dd)):
            out.append(d)
    return out


RED_CASES = [(s, d) for s in RED_SHAPES for d in _dims_for(s)]


def _reduced_size(shape, dim):
    """How many elements each output element reduces over."""
    dims = range(len(shape)) if dim is None else (dim if isinstance(dim, tuple) else (dim,))
    return int(np.prod([shape[d] for d in dims]))


def _empty_mean(shape, dim):
    """mean over a zero-size dim with a non-empty output: NaN (test_mean_over_empty_dim)."""
    out = [n for i, n in enumerate(shape) if dim is not None and
           i not in {d % len(shape) for d in (dim if isinstance(dim, tuple) else (dim,))}]
    return _reduced_size(shape, dim) == 0 and int(np.prod(out)) > 0


SUM_MEAN_CASES = [("sum", np.sum, s, d) for s, d in RED_CASES] + \
    [("mean", np.mean, s, d) for s, d in RED_CASES if not _empty_mean(s, d)]


@pytest.mark.filterwarnings("ignore:Mean of empty slice")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name, ref, shape, dim", SUM_MEAN_CASES)
def test_sum_mean(rng, dtype, shape, dim, keepdim, name, ref):
    a, an = make(rng, shape, dtype)
    r = 1e-5 if dtype == np.float32 else 1e-12
    with np.errstate(all="ignore"):
        expect = ref(an, axis=dim, keepdims=keepdim)
    assert not np.isnan(expect).any()
    check(getattr(fastdl, name)(a, dim, keepdim), expect, dtype, rtol=r, atol=1e-5)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
@pytest.mark.parametrize("dim", [None, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_reduction_spellings_agree(rng, name, dim, keepdim):
    """fastdl.<op>(t, dim, keepdim), t.<op>(dim=, keepdim=) and the NumPy-style
    t.<op>(axis=, keepdims=) give the same result."""
    a, an = make(rng, (3, 5, 4), np.float32)
    want = getattr(fastdl, name)(a, dim, keepdim).numpy()
    check(getattr(fastdl, name)(a, dim, keepdim),
          getattr(np, name)(an, axis=dim, keepdims=keepdim), np.float32, rtol=1e-5, atol=1e-5)
    for got in (getattr(a, name)(dim=dim, keepdim=keepdim),
                getattr(a, name)(axis=dim, keepdims=keepdim),
                getattr(fastdl, name)(a, dim=dim, keepdim=keepdim),
                getattr(fastdl, name)(a, axis=dim, keepdims=keepdim)):
        np.testing.assert_array_equal(got.numpy(), want)


def test_large_float32_sum_is_accurate_and_thread_independent(rng):
    x = rng.uniform(0, 1, 3_000_003).astype(np.float32)
    ref = x.astype(np.float64).sum()
    t = fastdl.from_numpy(x)
    fastdl.set_num_threads(1)
    s1, m1 = t.sum().item(), t.reshape(3, -1).sum(1).numpy().copy()
    fastdl.set_num_threads(2)
    s2, m2 = t.sum().item(), t.reshape(3, -1).sum(1).numpy().copy()
    assert abs(s1 - ref) / ref < 1e-6
    assert s1 == s2
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_allclose(m1, x.astype(np.float64).reshape(3, -1).sum(1), rtol=1e-6)


def test_mean_over_empty_dim():
    r = fastdl.mean(fastdl.zeros(0, 3), 0)
    assert r.shape == (3,) and np.isnan(r.numpy()).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, dim", [c for c in RED_CASES if 0 not in c[0]])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name, ref", [("amax", np.amax), ("amin", np.amin)])
def test_amax_amin(rng, dtype, shape, dim, keepdim, name, ref):
    a, an = make(rng, shape, dtype)
    expect = ref(an, axis=dim, keepdims=keepdim)
    check(getattr(fastdl, name)(a, dim, keepdim), expect, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape, dim, correction",
                         [(s, d, c) for s, d in RED_CASES if 0 not in s for c in (0, 1)
                          if _reduced_size(s, d) > c])
def test_var_std(rng, dtype, shape, dim, keepdim, correction):
    a, an = make(rng, shape, dtype)
    r = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)
    check(fastdl.var(a, dim, keepdim, correction=correction),
          np.var(an, axis=dim, keepdims=keepdim, ddof=correction), dtype, **r)
    check(a.std(dim, keepdim, correction=correction),
          np.std(an, axis=dim, keepdims=keepdim, ddof=correction), dtype, **r)


def test_var_defaults_follow_pytorch(rng):
    a, an = make(rng, (5, 7), np.float64)
    check(a.var(), np.var(an, ddof=1), np.float64)
    check(a.var(1, unbiased=False), np.var(an, axis=1), np.float64)
    check(a.std(0, ddof=0), np.std(an, axis=0), np.float64)
    check(a.std(axis=0, keepdims=True), np.std(an, axis=0, ddof=1, keepdims=True), np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, dim", [((17, 33), 0), ((17, 33), 1), ((17, 33), -1),
                                        ((3, 1, 5), 1), ((1000,), 0), ((4, 5, 6), -2)])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim(rng, dtype, shape, dim, keepdim, name):
    a, an = make(rng, shape, dtype)
    res = getattr(fastdl, name)(a, dim, keepdim)
    values, indices = res
    assert res.values is values and res.indices is indices
    ref = np.amax if name == "max" else np.amin
    aref = np.argmax if name == "max" else np.argmin
    check(values, ref(an, axis=dim, keepdims=keepdim), dtype)
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices.numpy(), aref(an, axis=dim, keepdims=keepdim))


def test_max_min_without_dim_and_with_tensor(rng):
    a, an = make(rng, (4, 5), np.float64)
    b, bn = make(rng, (4, 5), np.float64)
    check(a.max(), np.amax(an), np.float64)
    check(fastdl.min(a), np.amin(an), np.float64)
    check(fastdl.max(a, b), np.maximum(an, bn), np.float64)
    check(a.min(b), np.minimum(an, bn), np.float64)


def test_max_ties_return_first_index():
    a = fastdl.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    v, i = a.max(1)
    assert i.tolist() == [1, 0]
    assert fastdl.argmin(fastdl.tensor([5.0, 1.0, 1.0])).item() == 1


@pytest.mark.parametrize("dtype", DTYPES + [np.int64])
@pytest.mark.parametrize("shape, dim", [((1000,), None), ((17, 33), None), ((17, 33), 0),
                                        ((17, 33), 1), ((17, 33), -1), ((2, 3, 4), 1),
                                        ((1,), 0)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_argmax_argmin(rng, dtype, shape, dim, keepdim):
    an = rng.permutation(int(np.prod(shape))).reshape(shape).astype(dtype)
    a = fastdl.from_numpy(an)
    for fn, ref in [(fastdl.argmax, np.argmax), (fastdl.argmin, np.argmin)]:
        r = fn(a, dim, keepdim)
        assert r.dtype == np.int64
        np.testing.assert_array_equal(r.numpy(), ref(an, axis=dim, keepdims=keepdim))
    np.testing.assert_array_equal(a.argmax(dim=dim).numpy(), np.argmax(an, axis=dim))


def test_reductions_on_transposed_view(rng):
    a, an = make(rng, (17, 33), np.float64)
    t = a.T
    check(t.sum(0), an.T.sum(0), np.float64)
    check(t.amax(1), an.T.max(1), np.float64)
    check(t[::2, ::-3].mean(), an.T[::2, ::-3].mean(), np.float64)


def test_sum_dtype_argument(rng):
    a, an = make(rng, (1000,), np.float32)
    r = a.sum(dtype=fastdl.float64)
    assert r.dtype == np.float64
    np.testing.assert_allclose(r.item(), an.sum(), rtol=1e-12)
    i = fastdl.tensor([1, 2, 3]).sum(dtype=fastdl.float32)
    assert i.dtype == np.float32 and i.item() == 6.0
    x = fastdl.ones(3, requires_grad=True)
    x.sum(dtype=fastdl.float64).backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [1.0, 1.0, 1.0]


def test_integer_sum():
    a = fastdl.tensor([[1, 2], [3, 4]])
    assert a.sum().item() == 10
    assert a.sum(0).tolist() == [4, 6]
    assert a.amax().item() == 4


# ---- comparisons -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES + [np.int64])
@pytest.mark.parametrize("op", [operator.eq, operator.ne, operator.lt, operator.le,
                                operator.gt, operator.ge])
def test_comparisons(rng, dtype, op):
    an = rng.integers(0, 4, size=(5, 17)).astype(dtype)
    bn = rng.integers(0, 4, size=(17,)).astype(dtype)
    a, b = fastdl.from_numpy(an), fastdl.from_numpy(bn)
    for r, e in [(op(a, b), op(an, bn)), (op(a, 2), op(an, 2)), (op(a, bn), op(an, bn))]:
        assert isinstance(r, fastdl.Tensor) and r.dtype == np.bool_
        np.testing.assert_array_equal(r.numpy(), e)
    assert not op(fastdl.ones(3, requires_grad=True), 0.5).requires_grad


# ---- shape ops ------------------------------------------------------------------------------

def test_reshape_view(rng):
    a, an = make(rng, (2, 3, 4), np.float32)
    check(a.reshape(6, 4), an.reshape(6, 4), np.float32)
    check(a.reshape((4, -1)), an.reshape(4, -1), np.float32)
    check(a.view(-1), an.reshape(-1), np.float32)
    check(fastdl.reshape(a, (24,)), an.reshape(24), np.float32)
    check(a.view_as(fastdl.zeros(12, 2)), an.reshape(12, 2), np.float32)
    assert np.shares_memory(a.view(24).numpy(), a.numpy())
    check(fastdl.zeros(0, 3).reshape(3, 0), np.zeros((3, 0)), np.float32)


def test_transpose_permute_T(rng):
    a, an = make(rng, (2, 3, 4), np.float64)
    check(a.transpose(0, 2), an.transpose(2, 1, 0), np.float64)
    check(fastdl.transpose(a, -1, 1), np.swapaxes(an, -1, 1), np.float64)
    check(a.permute(1, 2, 0), an.transpose(1, 2, 0), np.float64)
    check(a.permute((2, 0, 1)), an.transpose(2, 0, 1), np.float64)
    check(a.permute(-1, 0, 1), an.transpose(2, 0, 1), np.float64)
    check(a.T, an.T, np.float64)
    m, mn = make(rng, (5, 7), np.float64)
    check(m.T, mn.T, np.float64)
    check(m.mT, mn.T, np.float64)
    with pytest.raises(ValueError):
        a.permute(0, 0, 1)


def test_flatten_squeeze_unsqueeze(rng):
    a, an = make(rng, (2, 1, 3, 1, 4), np.float32)
    check(a.flatten(), an.reshape(-1), np.float32)
    check(a.flatten(1), an.reshape(2, -1), np.float32)
    check(fastdl.flatten(a, 1, 3), an.reshape(2, 3, 4), np.float32)
    check(a.squeeze(), an.squeeze(), np.float32)
    check(a.squeeze(1), an.squeeze(1), np.float32)
    check(a.squeeze(-2), an.squeeze(-2), np.float32)
    check(a.squeeze(0), an, np.float32)        # size 2: no-op, like PyTorch
    check(a.unsqueeze(0), an[None], np.float32)
    check(a.unsqueeze(-1), an[..., None], np.float32)
    check(fastdl.unsqueeze(a, 2), np.expand_dims(an, 2), np.float32)
    check(fastdl.tensor(3.0).flatten(), np.array([3.0]), np.float32)


def test_expand(rng):
    a, an = make(rng, (3, 1), np.float32)
    check(a.expand(2, 3, 5), np.broadcast_to(an, (2, 3, 5)), np.float32)
    check(a.expand(-1, 4), np.broadcast_to(an, (3, 4)), np.float32)
    check(a.expand((3, 1)), an, np.float32)
    check(a.expand_as(fastdl.zeros(3, 7)), np.broadcast_to(an, (3, 7)), np.float32)
    with pytest.raises(ValueError):
        a.expand(4, 4)


def test_ops_on_transposed_and_strided_views(rng):
    a, an = make(rng, (33, 17), np.float32)
    b, bn = make(rng, (17, 33), np.float32, 0.5, 2)
    check(a.T + b, an.T + bn, np.float32)
    check(a.T * b[:, ::-1], an.T * bn[:, ::-1], np.float32)
    check(fastdl.exp(a.T[::2]), np.exp(an.T[::2]), np.float32)
    check(a[::3, 1::2] / b.T[::3, 1::2], an[::3, 1::2] / bn.T[::3, 1::2], np.float32)
    e = a[:, :1].expand(33, 17)
    check(e + a, np.broadcast_to(an[:, :1], (33, 17)) + an, np.float32)


# ---- getitem ---------------------------------------------------------------------------------

def _idx_cases(rng):
    return [
        0, -1, slice(1, 5), slice(None, None, -1), slice(10, 2, -3), (slice(None), 2),
        (Ellipsis, 1), (None, slice(2, 4)), (1, None, Ellipsis, None),
        np.array([0, 2, 2, 5]), [3, 1], (np.array([0, 1]), np.array([2, 3])),
        (slice(None), np.array([4, 0, 4])), np.array([True, False] * 3 + [True]),
        (slice(1, 3), slice(None, None, -2)), (-2, -3),
    ]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", range(16))
def test_getitem(rng, dtype, k):
    a, an = make(rng, (7, 6), dtype)
    idx = _idx_cases(rng)[k]
    check(a[idx], an[idx], dtype)


def test_getitem_with_tensor_indices(rng):
    a, an = make(rng, (5, 4), np.float32)
    i = fastdl.tensor([4, 0, 0])
    check(a[i], an[[4, 0, 0]], np.float32)
    m = a > 0
    check(a[m], an[an > 0], np.float32)
    check(a[fastdl.tensor(2)], an[2], np.float32)


def test_getitem_3d_and_mask_full(rng):
    a, an = make(rng, (3, 4, 5), np.float64)
    mask = an > 0.3
    check(a[mask], an[mask], np.float64)
    check(a[..., ::-1], an[..., ::-1], np.float64)
    check(a[1:, None, ::2, -1], an[1:, None, ::2, -1], np.float64)
    with pytest.raises(IndexError):
        a[3]


# ---- cat / stack / split / where ----------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(rng, dim):
    a, an = make(rng, (3, 4), np.float32)
    b, bn = make(rng, (3, 4), np.float32)
    check(fastdl.cat([a, b], dim), np.concatenate([an, bn], dim), np.float32)
    check(fastdl.cat((a, b, a), axis=dim), np.concatenate([an, bn, an], dim), np.float32)


def test_cat_uneven_and_empty(rng):
    a, an = make(rng, (2, 5), np.float64)
    b, bn = make(rng, (3, 5), np.float64)
    e = fastdl.zeros(0, 5, dtype=fastdl.float64)
    check(fastdl.cat([a, e, b]), np.concatenate([an, np.zeros((0, 5)), bn]), np.float64)
    check(fastdl.cat([a]), an, np.float64)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(rng, dim):
    a, an = make(rng, (3, 4), np.float32)
    b, bn = make(rng, (3, 4), np.float32)
    check(fastdl.stack([a, b, a], dim), np.stack([an, bn, an], dim), np.float32)


@pytest.mark.parametrize("sizes, dim", [(2, 0), (3, 0), (7, 0), (10, 0), ([1, 4, 2], 0),
                                        (2, 1), ([3, 0, 2], -1)])
def test_split(rng, sizes, dim):
    a, an = make(rng, (7, 5), np.float32)
    parts = fastdl.split(a, sizes, dim)
    n = an.shape[dim]
    if isinstance(sizes, int):
        bounds = list(range(sizes, n, sizes))
    else:
        bounds = list(np.cumsum(sizes)[:-1])
    ref = np.split(an, bounds, axis=dim)
    assert len(parts) == len(ref)
    for p, r in zip(parts, ref):
        check(p, r, np.float32)
    assert len(a.split(2)) == 4


def test_where(rng):
    a, an = make(rng, (4, 17), np.float64)
    b, bn = make(rng, (17,), np.float64)
    c = an > 0
    check(fastdl.where(fastdl.from_numpy(c), a, b), np.where(c, an, bn), np.float64)
    check(fastdl.where(a > 0, a, 0.0), np.where(c, an, 0.0), np.float64)
    check(fastdl.where(c[:1], 1.0, b), np.where(c[:1], 1.0, bn), np.float64)
    r = fastdl.where(fastdl.from_numpy(c), 1.0, 0.0)
    assert r.dtype == np.float32
    np.testing.assert_array_equal(r.numpy(), c.astype(np.float64))
    r = fastdl.where(fastdl.from_numpy(c), 1, 0)
    assert r.dtype == np.int64 and r.tolist() == c.astype(int).tolist()


# ---- in-place -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_inplace_ops(rng, dtype):
    a, an = make(rng, (3, 17), dtype)
    b, bn = make(rng, (17,), dtype, 0.5, 2)
    buf = a.numpy()
    ref = an.copy()
    a += b; ref += bn
    a -= 0.5; ref -= np.float64(dtype(0.5))
    a *= b; ref *= bn
    a /= 2; ref /= 2
    check(a, ref, dtype, rtol=1e-5 if dtype == np.float32 else 1e-12)
    a.add_(b, alpha=2); ref += 2 * bn
    a.sub_(b); ref -= bn
    a.mul_(3.0); ref *= 3
    a.div_(b); ref /= bn
    check(a, ref, dtype, rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert a.numpy() is buf or np.shares_memory(a.numpy(), buf)
    a.zero_()
    assert not a.numpy().any()
    a.fill_(2.0)
    assert (a.numpy() == 2).all()


def test_inplace_on_views_and_ints(rng):
    a, an = make(rng, (4, 6), np.float32)
    ref = an.copy()
    t = a.T
    t += 1.0
    ref += 1.0
    check(a, ref, np.float32)
    v = a[:, ::2]
    v.mul_(2.0)
    ref[:, ::2] *= 2.0
    check(a, ref, np.float32)
    i = fastdl.tensor([1, 2, 3])
    i += 1
    assert i.tolist() == [2, 3, 4]
    i *= fastdl.tensor([2, 2, 2])
    assert i.tolist() == [4, 6, 8]


def test_setitem(rng):
    a, an = make(rng, (4, 5), np.float32)
    ref = an.copy()
    a[1] = 0.0; ref[1] = 0
    a[:, 2] = fastdl.ones(4); ref[:, 2] = 1
    a[a > 1.0] = -1.0; ref[ref > 1.0] = -1
    check(a, ref, np.float32)


@pytest.mark.parametrize("op", [lambda t: t.__iadd__(1.0), lambda t: t.add_(1.0),
                                lambda t: t.sub_(1.0), lambda t: t.mul_(2.0),
                                lambda t: t.div_(2.0), lambda t: t.zero_(),
                                lambda t: t.fill_(1.0), lambda t: t.__setitem__(0, 1.0),
                                lambda t: t.__imul__(2.0)])
def test_inplace_refuses_on_leaf_requiring_grad(op):
    x = fastdl.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        op(x)
    np.testing.assert_array_equal(x.detach().numpy(), np.ones(3))
    with fastdl.no_grad():
        op(x)          # allowed under no_grad (the SGD update)


def test_integer_tensors_keep_dtype():
    i = fastdl.tensor([1, 5, -3])
    c = i.clone()
    assert c.dtype == np.int64 and c.tolist() == [1, 5, -3]
    c.numpy()[0] = 7
    assert i.tolist() == [1, 5, -3]
    r = i.clip(0, 3)
    assert r.dtype == np.int64 and r.tolist() == [1, 3, 0]
    assert i.clamp(min=0).tolist() == [1, 5, 0]
    assert i[::-1].contiguous().dtype == np.int64


@pytest.mark.parametrize("op", [lambda t: t.__iadd__(1.5), lambda t: t.__itruediv__(2),
                                lambda t: t.mul_(0.5)])
def test_inplace_float_result_into_int_tensor_raises(op):
    i = fastdl.tensor([1, 2])
    with pytest.raises(RuntimeError, match="cast"):
        op(i)
    assert i.tolist() == [1, 2]


def test_clone_is_a_copy(rng):
    a, an = make(rng, (3, 4), np.float32)
    c = a.clone()
    c.numpy()[0, 0] = 100.0
    check(a, an, np.float32)
    check(a.T.contiguous(), an.T, np.float32)
    assert a.T.contiguous().is_contiguous()


def test_argmax_int64_exact_beyond_float64_precision():
    b = fastdl.from_numpy(np.array([2 ** 53, 2 ** 53 + 1, 2 ** 53], dtype=np.int64))
    assert fastdl.argmax(b).item() == 1
    assert fastdl.argmin(-b).item() == 1
    assert fastdl.tensor([[3, 1], [0, 5]]).argmax(1, keepdim=True).tolist() == [[0], [1]]


def test_flatten_start_after_end_raises():
    with pytest.raises(ValueError, match="flatten"):
        fastdl.ones(2, 3).flatten(1, 0)
