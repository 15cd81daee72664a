"""Creation functions, NumPy interop, default dtypes, RNG and Tensor attributes."""
import numpy as np
import pytest

import fastdl


# ---- tensor / as_tensor / from_numpy / numpy ---------------------------------------------

def test_from_numpy_shares_memory_both_ways():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = fastdl.from_numpy(a)
    a[0, 1] = 42.0
    assert t[0, 1].item() == 42.0
    t.numpy()[1, 2] = -7.0
    assert a[1, 2] == -7.0
    assert np.shares_memory(t.numpy(), a)
    assert t.dtype == np.float64 or t.dtype == np.float32
    assert t.dtype == a.dtype


def test_from_numpy_keeps_float64_and_ints():
    assert fastdl.from_numpy(np.zeros(3)).dtype == np.float64
    assert fastdl.from_numpy(np.zeros(3, np.int32)).dtype == np.int32


def test_from_numpy_rejects_non_arrays_and_bad_dtypes():
    with pytest.raises(TypeError):
        fastdl.from_numpy([1.0, 2.0])
    with pytest.raises(TypeError):
        fastdl.from_numpy(np.zeros(3, np.complex64))


def test_tensor_copies():
    a = np.ones(4, dtype=np.float32)
    t = fastdl.tensor(a)
    a[0] = 5
    assert t[0].item() == 1.0


def test_tensor_of_a_tensor_copies():
    t = fastdl.tensor([1.0, 2.0])
    u = fastdl.tensor(t)
    u.numpy()[0] = 9.0
    assert t.tolist() == [1.0, 2.0]
    v = fastdl.tensor(t, dtype=fastdl.float64)
    assert v.dtype == np.float64 and v.tolist() == [1.0, 2.0]


def test_as_tensor_shares_memory_for_arrays():
    a = np.ones(4, dtype=np.float32)
    t = fastdl.as_tensor(a)
    a[0] = 5
    assert t[0].item() == 5.0
    t2 = fastdl.tensor([1.0])
    assert fastdl.as_tensor(t2) is t2


def test_numpy_of_requires_grad_tensor_raises():
    t = fastdl.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        t.numpy()
    assert isinstance(t.detach().numpy(), np.ndarray)


@pytest.mark.parametrize("data, dtype", [
    (1.5, np.float32),
    ([1.0, 2.0], np.float32),
    ([[1, 2], [3, 4]], np.int64),
    (3, np.int64),
    (True, np.bool_),
    ([True, False], np.bool_),
    (np.zeros(3), np.float64),
    (np.zeros(3, np.float32), np.float32),
    (np.zeros(3, np.int32), np.int32),
    ([1, 2.5], np.float32),
])
def test_default_dtypes(data, dtype):
    assert fastdl.tensor(data).dtype == dtype


def test_explicit_dtype():
    t = fastdl.tensor([1, 2, 3], dtype=fastdl.float64)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0, 3.0])
    assert fastdl.tensor([1.7], dtype=fastdl.int64).dtype == np.int64


@pytest.mark.parametrize("bad", [np.zeros(2, np.complex128), np.array(["a", "b"]),
                                 [1 + 2j], ["x", "y"]])
def test_unsupported_data_raises(bad):
    with pytest.raises(TypeError):
        fastdl.tensor(bad)


def test_unsupported_dtype_argument_raises():
    with pytest.raises(TypeError):
        fastdl.zeros(3, dtype=np.complex64)
    with pytest.raises(TypeError):
        fastdl.tensor([1.0], dtype="not-a-dtype")


def test_requires_grad_on_integer_raises():
    with pytest.raises(RuntimeError, match="floating point"):
        fastdl.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError):
        fastdl.zeros(3, dtype=fastdl.int64, requires_grad=True)
    t = fastdl.tensor([1, 2])
    with pytest.raises(RuntimeError):
        t.requires_grad = True
    with pytest.raises(RuntimeError):
        fastdl.randint(0, 5, (3,), requires_grad=True)


# ---- filled and ranged creation -------------------------------------------------------------

@pytest.mark.parametrize("fn, value", [(fastdl.zeros, 0.0), (fastdl.ones, 1.0)])
@pytest.mark.parametrize("args", [(2, 3), ((2, 3),), ([2, 3],)])
def test_zeros_ones_shapes(fn, value, args):
    t = fn(*args)
    assert t.shape == (2, 3)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), value))


@pytest.mark.parametrize("fn", [fastdl.zeros, fastdl.ones, fastdl.empty, fastdl.rand,
                                fastdl.randn])
def test_creation_kwargs(fn):
    t = fn(4, 5, dtype=fastdl.float64, requires_grad=True)
    assert t.shape == (4, 5) and t.dtype == np.float64
    assert t.requires_grad and t.is_leaf and t.grad is None
    s = fn(())
    assert s.shape == ()
    z = fn(0, 3)
    assert z.shape == (0, 3) and z.numel() == 0


def test_negative_shape_raises():
    with pytest.raises(ValueError):
        fastdl.zeros(-1, 2)


def test_full():
    t = fastdl.full((2, 2), 3.5)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), np.full((2, 2), 3.5))
    assert fastdl.full((2,), 7).dtype == np.int64
    assert fastdl.full((2,), True).dtype == np.bool_
    assert fastdl.full((3,), 1, dtype=fastdl.float64).dtype == np.float64


def test_arange():
    np.testing.assert_array_equal(fastdl.arange(5).numpy(), np.arange(5))
    assert fastdl.arange(5).dtype == np.int64
    np.testing.assert_array_equal(fastdl.arange(2, 9, 3).numpy(), [2, 5, 8])
    np.testing.assert_array_equal(fastdl.arange(5, 0, -2).numpy(), [5, 3, 1])
    f = fastdl.arange(0, 1, 0.1)
    assert f.dtype == np.float32 and f.shape == (10,)
    np.testing.assert_allclose(f.numpy(), np.arange(10) * 0.1, rtol=1e-6, atol=1e-7)
    assert fastdl.arange(3, dtype=fastdl.float64).dtype == np.float64
    with pytest.raises(ValueError):
        fastdl.arange(0, 3, 0)


def test_linspace():
    t = fastdl.linspace(-1, 1, 5)
    assert t.dtype == np.float32
    np.testing.assert_allclose(t.numpy(), [-1, -0.5, 0, 0.5, 1])
    assert fastdl.linspace(0, 1, 0).shape == (0,)
    assert fastdl.linspace(0, 1, 1).tolist() == [0.0]
    t64 = fastdl.linspace(0, 1, 7, dtype=fastdl.float64)
    np.testing.assert_array_equal(t64.numpy(), np.linspace(0, 1, 7))


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "rand_like",
                                  "randn_like"])
def test_like(name):
    x = fastdl.zeros(3, 4, dtype=fastdl.float64)
    t = getattr(fastdl, name)(x)
    assert t.shape == (3, 4) and t.dtype == np.float64 and not t.requires_grad
    t = getattr(fastdl, name)(x, dtype=fastdl.float32, requires_grad=True)
    assert t.dtype == np.float32 and t.requires_grad


def test_full_like_and_randint_like():
    x = fastdl.zeros(2, 3)
    f = fastdl.full_like(x, 2.5)
    assert f.dtype == np.float32
    np.testing.assert_array_equal(f.numpy(), np.full((2, 3), 2.5))
    r = fastdl.randint_like(x, 0, 4)
    assert r.shape == (2, 3) and r.dtype == np.int64
    assert r.numpy().min() >= 0 and r.numpy().max() < 4


# ---- random ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [lambda: fastdl.rand(100), lambda: fastdl.randn(7, 9),
                                lambda: fastdl.randint(-3, 10, (50,)),
                                lambda: fastdl.randperm(33)])
def test_manual_seed_reproducible(fn):
    fastdl.manual_seed(1234)
    a = fn().numpy().copy()
    b = fn().numpy().copy()
    fastdl.manual_seed(1234)
    c = fn().numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)
    fastdl.manual_seed(4321)
    assert not np.array_equal(fn().numpy(), a)


def test_rng_state_roundtrip():
    fastdl.manual_seed(3)
    st = fastdl.get_rng_state()
    a = fastdl.randn(10).numpy().copy()
    fastdl.set_rng_state(st)
    np.testing.assert_array_equal(fastdl.randn(10).numpy(), a)


@pytest.mark.parametrize("fn", [lambda: fastdl.rand(1_000_003),
                                lambda: fastdl.randn(1001, 999, dtype=fastdl.float64),
                                lambda: fastdl.randint(0, 1000, (1_000_003,)),
                                lambda: fastdl.randperm(200_001)])
def test_random_identical_for_any_thread_count(fn):
    fastdl.set_num_threads(1)
    fastdl.manual_seed(99)
    a = fn().numpy().copy()
    fastdl.set_num_threads(2)
    fastdl.manual_seed(99)
    b = fn().numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [fastdl.float32, fastdl.float64])
def test_rand_range_and_moments(dtype):
    fastdl.manual_seed(0)
    x = fastdl.rand(200_000, dtype=dtype).numpy().astype(np.float64)
    assert x.min() >= 0.0 and x.max() < 1.0
    assert abs(x.mean() - 0.5) < 0.005
    assert abs(x.var() - 1 / 12) < 0.002


@pytest.mark.parametrize("dtype", [fastdl.float32, fastdl.float64])
def test_randn_moments(dtype):
    fastdl.manual_seed(0)
    x = fastdl.randn(200_000, dtype=dtype).numpy().astype(np.float64)
    assert abs(x.mean()) < 0.01
    assert abs(x.std() - 1.0) < 0.01
    assert abs(((x - x.mean()) ** 3).mean()) < 0.03        # skew
    assert abs((x ** 4).mean() - 3.0) < 0.1               # kurtosis
    assert np.isfinite(x).all()


def test_randint_bounds_and_forms():
    fastdl.manual_seed(0)
    r = fastdl.randint(-5, 5, (10_000,))
    assert r.dtype == np.int64
    v = r.numpy()
    assert v.min() == -5 and v.max() == 4
    r2 = fastdl.randint(3, (4, 2))
    assert r2.shape == (4, 2) and r2.numpy().min() >= 0 and r2.numpy().max() < 3
    with pytest.raises(ValueError):
        fastdl.randint(5, 5, (3,))


def test_randperm_is_permutation():
    fastdl.manual_seed(0)
    p = fastdl.randperm(1000).numpy()
    assert p.dtype == np.int64
    np.testing.assert_array_equal(np.sort(p), np.arange(1000))
    assert not np.array_equal(p, np.arange(1000))
    assert fastdl.randperm(0).shape == (0,)


def test_rand_rejects_integer_dtype():
    with pytest.raises(TypeError):
        fastdl.rand(3, dtype=fastdl.int64)


# ---- attributes -------------------------------------------------------------------------------

def test_attributes():
    t = fastdl.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4)
    assert t.ndim == 3 and t.dim() == 3
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.numel() == 24
    assert len(t) == 2
    assert t.is_leaf and t.grad is None and not t.requires_grad
    assert t.dtype == fastdl.float32


def test_item_and_tolist():
    assert fastdl.tensor(2.5).item() == 2.5
    assert isinstance(fastdl.tensor(3).item(), int)
    assert fastdl.tensor([[4.0]]).item() == 4.0
    with pytest.raises(ValueError):
        fastdl.tensor([1.0, 2.0]).item()
    assert fastdl.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert fastdl.tensor([0.5, 1.5]).tolist() == [0.5, 1.5]


def test_detach_shares_memory_and_is_leaf():
    x = fastdl.ones(3, requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.numpy(), y.detach().numpy())
    d.numpy()[0] = 100.0
    assert y[0].item() == 100.0
    assert not y.is_leaf


def test_no_grad_context_and_decorator():
    x = fastdl.ones(3, requires_grad=True)
    with fastdl.no_grad():
        assert not fastdl.is_grad_enabled()
        y = x * 2
    assert fastdl.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf

    @fastdl.no_grad()
    def f(t):
        return t * 3
    z = f(x)
    assert not z.requires_grad
    assert fastdl.is_grad_enabled()
    assert (x * 3).requires_grad


def test_no_grad_bare_decorator():
    x = fastdl.ones(3, requires_grad=True)

    @fastdl.no_grad
    def f(t):
        return t * 3
    assert f.__name__ == "f"
    assert not f(x).requires_grad
    assert fastdl.is_grad_enabled()

    @fastdl.enable_grad
    def g(t):
        return t * 3
    with fastdl.no_grad():
        assert g(x).requires_grad


def test_set_grad_enabled():
    x = fastdl.ones(2, requires_grad=True)
    with fastdl.set_grad_enabled(False):
        assert not (x + 1).requires_grad
        with fastdl.enable_grad():
            assert (x + 1).requires_grad
    assert (x + 1).requires_grad
    fastdl.set_grad_enabled(False)
    try:
        assert not (x + 1).requires_grad
    finally:
        fastdl.set_grad_enabled(True)
    assert (x + 1).requires_grad


def test_no_grad_restores_on_exception():
    with pytest.raises(ZeroDivisionError):
        with fastdl.no_grad():
            1 / 0
    assert fastdl.is_grad_enabled()


@pytest.mark.parametrize("t", [
    fastdl.zeros(2, 3), fastdl.tensor(1.0), fastdl.tensor([1, 2]), fastdl.tensor([True]),
    fastdl.zeros(0, 3), fastdl.ones(2, dtype=fastdl.float64, requires_grad=True),
    fastdl.ones(500, 500)])
def test_repr_does_not_crash(t):
    s = repr(t)
    assert s.startswith("tensor(")
    str(t)


def test_repr_shows_grad_fn():
    x = fastdl.ones(2, requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn" in repr(x * 2)
