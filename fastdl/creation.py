"""Tensor creation with PyTorch's signatures: a shape as varargs or a tuple,
dtype=, requires_grad=. Floating data defaults to float32; integer data (class
labels) stays integer; bool stays bool.

Dtypes (NumPy dtype objects, also exported as ``fastdl.<name>``):
``float32`` (alias ``float``), ``float64`` (alias ``double``), ``int32``
(alias ``int``), ``int64`` (alias ``long``), ``uint8`` and ``bool_``.

Example:
    >>> fastdl.zeros(2, dtype=fastdl.float64).dtype == fastdl.double
    True
    >>> fastdl.long
    dtype('int64')
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
    """The dtype of new floating tensors: float32.

    Example:
        >>> fastdl.get_default_dtype()
        dtype('float32')
    """
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

# From this size (bytes) a float tensor of one value is filled by libfastdl's threaded
# copy of a broadcast scalar into a cache block; below it NumPy's fill is as fast.
_FILL_MIN = 256 * 1024


def _filled(shape, value, dtype):
    """np.full(shape, value, dtype) for a checked shape; large float arrays threaded."""
    dt = np.dtype(dtype)
    if dt.char in "fd" and len(shape) <= 8:
        n = dt.itemsize
        for s in shape:
            n *= s
        if n >= _FILL_MIN:
            return _core.copy(np.broadcast_to(np.full((), value, dt), shape))
    return np.full(shape, value, dt)


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of data (lists, scalars, arrays, tensors), torch.tensor.

    Args:
        data: a scalar, a (nested) list, a NumPy array or a Tensor.
        dtype: the element type; default: float32 for floating data, int64 for Python ints, bool for bools; NumPy float64 arrays stay float64.
        requires_grad: record operations for autograd (default False).

    Example:
        >>> fastdl.tensor([[1, 2], [3, 4]])
        tensor([[1, 2],
                [3, 4]])
        >>> fastdl.tensor([1.5, 2.0]).dtype, fastdl.tensor([1, 2]).dtype
        (dtype('float32'), dtype('int64'))
    """
    return Tensor(_as_array(data, dtype), requires_grad=requires_grad)


def as_tensor(data, dtype=None):
    """Like tensor() but shares memory when data is already a suitable array (torch.as_tensor).

    Args:
        data: a scalar, list, NumPy array or Tensor.
        dtype: the element type (a copy is made when it differs).

    Example:
        >>> a = np.zeros(3, dtype=np.float32)
        >>> t = fastdl.as_tensor(a)
        >>> a[0] = 5.0              # the tensor sees the change
        >>> t
        tensor([5., 0., 0.])
    """
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    return Tensor(_as_array(data, dtype, copy=False))


def from_numpy(arr):
    """A tensor sharing memory with a NumPy array: no copy, dtype kept (torch.from_numpy).

    Args:
        arr: a numpy.ndarray of a supported dtype (float32/64, int32/64, uint8, bool, ...).

    Example:
        >>> a = np.arange(3)
        >>> t = fastdl.from_numpy(a)
        >>> a[0] = 7
        >>> t
        tensor([7, 1, 2])
    """
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
    """A tensor filled with zeros (torch.zeros).

    Args:
        *size: the shape, as ints or one tuple/list.
        dtype: the element type (default float32).
        requires_grad: record operations for autograd (default False).

    Example:
        >>> fastdl.zeros(2, 3).shape, fastdl.zeros((2, 3)).dtype
        ((2, 3), dtype('float32'))
    """
    return _make(np.zeros(_shape(size), dtype=_dtype(dtype) or float32), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    """A tensor filled with ones (torch.ones).

    Args:
        *size: the shape, as ints or one tuple/list.
        dtype: the element type (default float32).
        requires_grad: record operations for autograd (default False).

    Example:
        >>> fastdl.ones(2, dtype=fastdl.int64)
        tensor([1, 1])
    """
    return _make(_filled(_shape(size), 1, _dtype(dtype) or float32), requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    """An uninitialized tensor: its values are arbitrary (torch.empty).

    Args:
        *size: the shape, as ints or one tuple/list.
        dtype: the element type (default float32).
        requires_grad: record operations for autograd (default False).

    Example:
        >>> fastdl.empty(2, 3).shape
        (2, 3)
    """
    return _make(np.empty(_shape(size), dtype=_dtype(dtype) or float32), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    """A tensor filled with fill_value (torch.full).

    Args:
        size: the shape, a tuple.
        fill_value: the value.
        dtype: default bool, int64 or float32 after the type of fill_value.
        requires_grad: record operations for autograd (default False).

    Example:
        >>> fastdl.full((2, 2), 7)
        tensor([[7, 7],
                [7, 7]])
        >>> fastdl.full((2,), 0.5)
        tensor([0.5, 0.5])
    """
    if dtype is None:
        dtype = (bool_ if isinstance(fill_value, bool) else
                 int64 if isinstance(fill_value, numbers.Integral) else float32)
    return _make(_filled(_shape((size,)), fill_value, _dtype(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    """A 2-D tensor with ones on the diagonal (torch.eye).

    Args:
        n: rows.
        m: columns (default n).
        dtype: the element type (default float32).
        requires_grad: record operations for autograd (default False).

    Example:
        >>> fastdl.eye(2, 3)
        tensor([[1., 0., 0.],
                [0., 1., 0.]])
    """
    return _make(np.eye(n, m, dtype=_dtype(dtype) or float32), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Values in [start, end) spaced by step (torch.arange).

    Args:
        start: first value (or, alone, the end with start 0).
        end: the exclusive end.
        step: the spacing, nonzero (default 1).
        dtype: default int64 when every argument is an int, else float32.
        requires_grad: record operations for autograd (default False).

    Example:
        >>> fastdl.arange(5)
        tensor([0, 1, 2, 3, 4])
        >>> fastdl.arange(1, 2, 0.25)
        tensor([1.  , 1.25, 1.5 , 1.75])
    """
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
    """steps values evenly spaced from start to end, both included (torch.linspace).

    Args:
        start: the first value.
        end: the last value.
        steps: how many values (>= 0).
        dtype: the element type (default float32).
        requires_grad: record operations for autograd (default False).

    Example:
        >>> fastdl.linspace(0, 1, 5)
        tensor([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
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
    """Uniform samples on [0, 1) from the seeded counter-based generator (torch.rand).

    The same seed gives the same values for any thread count and kernel path.

    Args:
        *size: the shape, as ints or one tuple/list.
        dtype: float32 (default) or float64.
        requires_grad: record operations for autograd (default False).

    Example:
        >>> fastdl.manual_seed(0)
        >>> fastdl.rand(3)
        tensor([0.399 , 0.8805, 0.7357])
    """
    seed, stream = _random.next_key()
    arr = _core.rng_uniform(_shape(size), seed, stream, 0, 0.0, 1.0,
                            _float_dtype(dtype, "rand"))
    return _make(arr, requires_grad)


def randn(*size, dtype=None, requires_grad=False):
    """Standard normal samples from the seeded counter-based generator (torch.randn).

    Args:
        *size: the shape, as ints or one tuple/list.
        dtype: float32 (default) or float64.
        requires_grad: record operations for autograd (default False).

    Example:
        >>> fastdl.manual_seed(0)
        >>> fastdl.randn(2, 2)
        tensor([[ 0.9911, -0.9247],
                [-0.1536,  0.1808]])
    """
    seed, stream = _random.next_key()
    arr = _core.rng_normal(_shape(size), seed, stream, 0, 0.0, 1.0,
                           _float_dtype(dtype, "randn"))
    return _make(arr, requires_grad)


def randint(low, high=None, size=None, dtype=None, requires_grad=False):
    """Integers uniform on [low, high) (torch.randint).

    Args:
        low: the lowest value (or, with two arguments, randint(high, size)).
        high: one above the highest value.
        size: the shape, a tuple.
        dtype: default int64.
        requires_grad: must be False (integers carry no gradient).

    Example:
        >>> fastdl.manual_seed(0)
        >>> fastdl.randint(0, 10, (5,))
        tensor([3, 7, 9, 6, 0])
    """
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: size must be given as a tuple, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if requires_grad:
        raise RuntimeError("randint: only floating point tensors can require gradients")
    seed, stream = _random.next_key()
    arr = _core.rng_randint(_shape((size,)), seed, stream, 0, low, high)
    dt = _dtype(dtype) or int64
    return Tensor._wrap(arr if dt == int64 else arr.astype(dt))


def randperm(n, dtype=None):
    """A random permutation of 0..n-1 (torch.randperm).

    Args:
        n: the length.
        dtype: default int64.

    Example:
        >>> fastdl.manual_seed(0)
        >>> fastdl.randperm(5)
        tensor([2, 1, 0, 3, 4])
    """
    seed, stream = _random.next_key()
    arr = _core.rng_permutation(n, seed, stream)
    dt = _dtype(dtype) or int64
    return Tensor._wrap(arr if dt == int64 else arr.astype(dt))


def _like(x, dtype):
    return x.shape, (_dtype(dtype) or x.dtype)


def zeros_like(x, dtype=None, requires_grad=False):
    """Zeros with input's shape and dtype (torch.zeros_like).

    Args:
        input: the tensor whose shape (and dtype) to copy.
        dtype: the element type (default: input's).
        requires_grad: record operations for autograd (default False).

    Example:
        >>> fastdl.zeros_like(fastdl.ones(2, 3, dtype=fastdl.float64))
        tensor([[0., 0., 0.],
                [0., 0., 0.]], dtype=float64)
    """
    s, d = _like(x, dtype)
    return zeros(s, dtype=d, requires_grad=requires_grad)


def ones_like(x, dtype=None, requires_grad=False):
    """Ones with input's shape and dtype (torch.ones_like).

    Args:
        input: the tensor whose shape (and dtype) to copy.
        dtype: the element type (default: input's).
        requires_grad: record operations for autograd (default False).

    Example:
        >>> fastdl.ones_like(fastdl.zeros(2))
        tensor([1., 1.])
    """
    s, d = _like(x, dtype)
    return ones(s, dtype=d, requires_grad=requires_grad)


def empty_like(x, dtype=None, requires_grad=False):
    """An uninitialized tensor with input's shape and dtype (torch.empty_like).

    Args:
        input: the tensor whose shape (and dtype) to copy.
        dtype: the element type (default: input's).
        requires_grad: record operations for autograd (default False).

    Example:
        >>> fastdl.empty_like(fastdl.zeros(2, 3)).shape
        (2, 3)
    """
    s, d = _like(x, dtype)
    return empty(s, dtype=d, requires_grad=requires_grad)


def full_like(x, fill_value, dtype=None, requires_grad=False):
    """fill_value with input's shape and dtype (torch.full_like).

    Args:
        input: the tensor whose shape (and dtype) to copy.
        fill_value: the value.
        dtype: the element type (default: input's).
        requires_grad: record operations for autograd (default False).

    Example:
        >>> fastdl.full_like(fastdl.zeros(2), 3)
        tensor([3., 3.])
    """
    s, d = _like(x, dtype)
    return full(s, fill_value, dtype=d, requires_grad=requires_grad)


def rand_like(x, dtype=None, requires_grad=False):
    """Uniform [0, 1) samples with input's shape and dtype (torch.rand_like).

    Args:
        input: the tensor whose shape (and dtype) to copy.
        dtype: the element type (default: input's).
        requires_grad: record operations for autograd (default False).

    Example:
        >>> fastdl.rand_like(fastdl.zeros(2, 3)).shape
        (2, 3)
    """
    s, d = _like(x, dtype)
    return rand(s, dtype=d, requires_grad=requires_grad)


def randn_like(x, dtype=None, requires_grad=False):
    """Standard normal samples with input's shape and dtype (torch.randn_like).

    Args:
        input: the tensor whose shape (and dtype) to copy.
        dtype: the element type (default: input's).
        requires_grad: record operations for autograd (default False).

    Example:
        >>> fastdl.randn_like(fastdl.zeros(2, 3, dtype=fastdl.float64)).dtype
        dtype('float64')
    """
    s, d = _like(x, dtype)
    return randn(s, dtype=d, requires_grad=requires_grad)


def randint_like(x, low, high=None, dtype=None):
    """Integers uniform on [low, high) with input's shape (torch.randint_like).

    Args:
        input: the tensor whose shape (and dtype) to copy.
        low: the lowest value (or, alone, high with low 0).
        high: one above the highest value.
        dtype: default input's if integer, else int64.

    Example:
        >>> fastdl.manual_seed(0)
        >>> fastdl.randint_like(fastdl.zeros(4), 2).tolist()
        [0, 1, 1, 1]
    """
    s, d = _like(x, dtype)
    return randint(low, high, s, dtype=d if d.kind in "iu" else int64)


def _add_device_arg():
    """Every creation function takes PyTorch's ``device=`` keyword: the CPU or None
    (anything else raises naming the device), and ``pin_memory=`` (ignored)."""
    from fastdl._device import accepts_device
    g = globals()
    for name in ("tensor", "as_tensor", "zeros", "ones", "empty", "full", "eye", "arange",
                 "linspace", "rand", "randn", "randint", "randperm", "zeros_like", "ones_like",
                 "empty_like", "full_like", "rand_like", "randn_like", "randint_like"):
        g[name] = accepts_device(g[name])


_add_device_arg()
