"""Tensor creation with PyTorch's signatures: a shape as varargs or a tuple,
dtype=, requires_grad=. Floating data defaults to float32; integer data (class
labels) stays integer; bool stays bool.
"""
import builtins
import numbers

import numpy as np

from fastdl import random as _random
from fastdl._C import _core
from fastdl.tensor import Tensor

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange",
           "linspace", "rand", "randn", "randint", "randperm", "zeros_like", "ones_like",
           "full_like", "empty_like", "rand_like", "randn_like", "randint_like", "eye",
           "float32", "float64", "int32", "int64", "uint8", "bool_", "float", "double",
           "long", "int", "get_default_dtype"]

float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

_SUPPORTED = {float32, float64, int32, int64, uint8, bool_, np.dtype(np.int8), np.dtype(np.int16)}


def get_default_dtype():
    return float32


def _dtype(dtype):
    if dtype is None:
        return None
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError("dtype: %r is not a dtype" % (dtype,)) from None
    if dt not in _SUPPORTED:
        raise TypeError("dtype: unsupported dtype %s; expected one of float32, float64, "
                        "int32, int64, uint8, bool" % dt)
    return dt


def _as_array(data, dtype=None, copy=True):
    """An ndarray from data, applying fastdl's default dtypes."""
    dt = _dtype(dtype)
    if isinstance(data, Tensor):
        arr = np.array(data._data, copy=True) if copy else data._data
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in data):
            data = [x._data if isinstance(x, Tensor) else x for x in data]
        arr = np.array(data, copy=copy) if copy else np.asarray(data)
    if dt is None:
        if arr.dtype.kind == "f" and arr.dtype not in (float32, float64):
            dt = float32
        elif arr.dtype.kind == "f" and not isinstance(data, np.ndarray) and not isinstance(data, Tensor):
            dt = float32          # Python floats become float32, as in PyTorch
        elif arr.dtype.kind in "iu" and arr.dtype not in _SUPPORTED:
            dt = int64
        elif arr.dtype.kind not in "fiub":
            raise TypeError("tensor: unsupported data of dtype %s" % arr.dtype)
    if dt is not None and arr.dtype != dt:
        arr = arr.astype(dt)
    return arr


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = tuple(builtin_int(s) for s in size)
    if any(s < 0 for s in shape):
        raise ValueError("expected a non-negative shape, got %s" % (shape,))
    return shape


builtin_int = builtins.int


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of data (lists, scalars, arrays, tensors).

    Example:
        >>> fastdl.tensor([[1, 2], [3, 4]]).dtype
        dtype('int64')
    """
    return Tensor(_as_array(data, dtype), requires_grad=requires_grad)


def as_tensor(data, dtype=None):
    """Like tensor() but shares memory when data is already a suitable array."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    return Tensor(_as_array(data, dtype, copy=False))


def from_numpy(arr):
    """A tensor sharing memory with arr (no copy, dtype kept)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError("from_numpy: expected a numpy.ndarray, got %s" % type(arr).__name__)
    _dtype(arr.dtype)
    return Tensor._wrap(arr)


def _make(arr, requires_grad):
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def zeros(*size, dtype=None, requires_grad=False):
    return _make(np.zeros(_shape(size), dtype=_dtype(dtype) or float32), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _make(np.ones(_shape(size), dtype=_dtype(dtype) or float32), requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    return _make(np.empty(_shape(size), dtype=_dtype(dtype) or float32), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    if dtype is None:
        dtype = (bool_ if isinstance(fill_value, bool) else
                 int64 if isinstance(fill_value, numbers.Integral) else float32)
    return _make(np.full(_shape((size,)), fill_value, dtype=_dtype(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _make(np.eye(n, m, dtype=_dtype(dtype) or float32), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Values in [start, end) spaced by step; int64 for integer arguments."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        ints = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = int64 if ints else float32
    dt = _dtype(dtype)
    if dt.kind == "f":
        # compute in float64 then round once, so the length matches PyTorch's
        arr = np.arange(start, end, step, dtype=np.float64).astype(dt)
    else:
        arr = np.arange(start, end, step, dtype=dt)
    return _make(arr, requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    if steps < 0:
        raise ValueError("linspace: number of steps must be non-negative, got %d" % steps)
    return _make(np.linspace(start, end, steps, dtype=np.float64).astype(_dtype(dtype) or float32),
                 requires_grad)


def _float_dtype(dtype, op):
    dt = _dtype(dtype) or float32
    if dt not in (float32, float64):
        raise TypeError("%s: expected a floating point dtype, got %s" % (op, dt))
    return dt


def rand(*size, dtype=None, requires_grad=False):
    """Uniform on [0, 1), from the seeded counter-based generator."""
    seed, stream = _random.next_key()
    arr = _core.rng_fill("uniform", _shape(size), seed, stream, 0, 0.0, 1.0,
                         _float_dtype(dtype, "rand"))
    return _make(arr, requires_grad)


def randn(*size, dtype=None, requires_grad=False):
    """Standard normal, from the seeded counter-based generator."""
    seed, stream = _random.next_key()
    arr = _core.rng_fill("normal", _shape(size), seed, stream, 0, 0.0, 1.0,
                         _float_dtype(dtype, "randn"))
    return _make(arr, requires_grad)


def randint(low, high=None, size=None, dtype=None, requires_grad=False):
    """Integers uniform on [low, high); randint(high, size) also works."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: size must be given as a tuple, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if requires_grad:
        raise RuntimeError("randint: only floating point tensors can require gradients")
    seed, stream = _random.next_key()
    arr = _core.rng_fill("randint", _shape((size,)), seed, stream, 0, low, high)
    dt = _dtype(dtype) or int64
    return Tensor._wrap(arr if dt == int64 else arr.astype(dt))


def randperm(n, dtype=None):
    seed, stream = _random.next_key()
    arr = _core.rng_permutation(n, seed, stream)
    dt = _dtype(dtype) or int64
    return Tensor._wrap(arr if dt == int64 else arr.astype(dt))


def _like(x, dtype):
    return x.shape, (_dtype(dtype) or x.dtype)


def zeros_like(x, dtype=None, requires_grad=False):
    s, d = _like(x, dtype)
    return zeros(s, dtype=d, requires_grad=requires_grad)


def ones_like(x, dtype=None, requires_grad=False):
    s, d = _like(x, dtype)
    return ones(s, dtype=d, requires_grad=requires_grad)


def empty_like(x, dtype=None, requires_grad=False):
    s, d = _like(x, dtype)
    return empty(s, dtype=d, requires_grad=requires_grad)


def full_like(x, fill_value, dtype=None, requires_grad=False):
    s, d = _like(x, dtype)
    return full(s, fill_value, dtype=d, requires_grad=requires_grad)


def rand_like(x, dtype=None, requires_grad=False):
    s, d = _like(x, dtype)
    return rand(s, dtype=d, requires_grad=requires_grad)


def randn_like(x, dtype=None, requires_grad=False):
    s, d = _like(x, dtype)
    return randn(s, dtype=d, requires_grad=requires_grad)


def randint_like(x, low, high=None, dtype=None):
    s, d = _like(x, dtype)
    return randint(low, high, s, dtype=d if d.kind in "iu" else int64)
