"""More of PyTorch's tensor functions: math, index moves, sorting, scans, sampling, tests.

Each function is also a Tensor method with the same arguments (``x.gather(1,
idx)``, ``x.topk(3)``), with PyTorch's names, defaults and return types
(``sort``/``topk`` return ``(values, indices)`` named tuples). Differentiable
ones record their backward rule (fastdl/autograd/_functions/ops.py) or are
built from differentiable ops; index and test results (argsort, isnan, any)
carry no gradient.

Example:
    >>> x = fastdl.tensor([[3.0, 1.0, 2.0]])
    >>> x.sort(dim=1).values
    tensor([[1., 2., 3.]])
    >>> fastdl.cumsum(x, dim=1)
    tensor([[3., 4., 6.]])
"""
import builtins
import numbers
import string
from collections import namedtuple

import numpy as np

from fastdl import random as _random
from fastdl._C import _core
from fastdl.autograd._functions import ops as _ops
from fastdl.tensor import (Tensor, _as_tensor, _is_float, _needs_grad, _F32, cat, expand,
                           getitem, matmul, mul, reshape, transpose, unsqueeze, where)
from fastdl.tensor import sum as _sum, amax as _amax, log as _log, exp as _exp
from fastdl.tensor import _promote, sub as _sub

__all__ = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "log1p", "expm1",
           "log2", "log10", "exp2", "rsqrt", "reciprocal", "erf", "floor", "ceil", "trunc",
           "round", "sign", "frac", "sigmoid", "tanh", "relu", "softmax", "log_softmax", "t",
           "mm", "bmm", "dot", "outer", "einsum", "norm", "logsumexp", "prod", "cumsum",
           "cumprod", "masked_fill", "narrow", "gather", "scatter", "scatter_add",
           "index_select", "topk", "sort", "argsort", "repeat_interleave", "flip", "roll",
           "tril", "triu", "isnan", "isinf", "isfinite", "any", "all", "allclose", "isclose",
           "equal", "multinomial", "bernoulli", "normal", "is_tensor", "numel",
           "is_floating_point", "Generator", "diag", "diagonal", "trace", "count_nonzero",
           "nonzero", "unique", "cdist", "remainder", "fmod", "floor_divide"]

SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])


def _dim(d, ndim, op):
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
        raise TypeError("%s: dim must be an int, got %r" % (op, d))
    n = builtins.max(ndim, 1)
    if not -n <= d < n:
        raise IndexError("%s: dim %d is out of range for a tensor with %d dims" % (op, d, ndim))
    return int(d) % n


def _float_input(x):
    x = _as_tensor(x)
    if not _is_float(x._data):
        x = Tensor._wrap(x._data.astype(_F32))
    return x


def _np_unary(x, name):
    return _ops.NpUnary.apply(_float_input(x), name)


def _make_unary(name, what):
    def fn(input):
        return _np_unary(input, name)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = """%s elementwise (torch.%s).

    Args:
        input: the tensor (integers compute in float32).

    Example:
        >>> fastdl.%s(fastdl.tensor([0.5, 2.0])).shape
        (2,)
    """ % (what, name, name)
    return fn


for _name, _what in [("sin", "The sine"), ("cos", "The cosine"), ("tan", "The tangent"),
                     ("asin", "The arcsine"), ("acos", "The arccosine"),
                     ("atan", "The arctangent"), ("sinh", "The hyperbolic sine"),
                     ("cosh", "The hyperbolic cosine"),
                     ("log1p", "log(1 + x), accurate for small x,"),
                     ("expm1", "exp(x) - 1, accurate for small x,"),
                     ("log2", "The base-2 logarithm"), ("log10", "The base-10 logarithm"),
                     ("exp2", "2 ** x"), ("rsqrt", "1 / sqrt(x)"),
                     ("reciprocal", "1 / x"), ("erf", "The Gauss error function"),
                     ("floor", "Round down (zero gradient)"), ("ceil", "Round up (zero gradient)"),
                     ("trunc", "Round toward zero (zero gradient)"),
                     ("sign", "The sign, -1, 0 or 1 (zero gradient)"),
                     ("frac", "The fractional part x - trunc(x)")]:
    globals()[_name] = _make_unary(_name, _what)
del _name, _what


def round(input, *, decimals=0):
    """Round half to even elementwise, optionally to ``decimals`` places (torch.round); zero gradient.

    Args:
        input: the tensor.
        decimals: the number of decimal places (keyword only).

    Example:
        >>> fastdl.round(fastdl.tensor([0.5, 1.5, 2.26]))
        tensor([0., 2., 2.])
        >>> fastdl.round(fastdl.tensor([2.26]), decimals=1)
        tensor([2.3])
    """
    x = _as_tensor(input)
    if not _is_float(x._data):
        return Tensor._wrap(x._data.copy())
    if decimals == 0:
        return _np_unary(x, "round")
    s = 10.0 ** decimals
    return _np_unary(x * s, "round") / s


# ---- activations under torch's top-level names ------------------------------------------

def sigmoid(input):
    """1 / (1 + exp(-x)) elementwise (torch.sigmoid; the same as F.sigmoid).

    Example:
        >>> fastdl.sigmoid(fastdl.tensor([0.0]))
        tensor([0.5])
    """
    from fastdl.nn import functional as F
    return F.sigmoid(_float_input(input))


def tanh(input):
    """The hyperbolic tangent elementwise (torch.tanh; the same as F.tanh).

    Example:
        >>> fastdl.tanh(fastdl.tensor([0.0]))
        tensor([0.])
    """
    from fastdl.nn import functional as F
    return F.tanh(_float_input(input))


def relu(input):
    """max(0, x) elementwise (torch.relu; the same as F.relu).

    Example:
        >>> fastdl.relu(fastdl.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    from fastdl.nn import functional as F
    x = _as_tensor(input)
    if not _is_float(x._data):
        return Tensor._wrap(np.maximum(x._data, 0))
    return F.relu(x)


def softmax(input, dim, dtype=None):
    """exp(x) / sum(exp(x)) along dim (torch.softmax; the same as F.softmax).

    Example:
        >>> fastdl.softmax(fastdl.tensor([0.0, 0.0]), dim=0)
        tensor([0.5, 0.5])
    """
    from fastdl.nn import functional as F
    x = _float_input(input)
    return F.softmax(x if dtype is None else x.to(dtype), dim)


def log_softmax(input, dim, dtype=None):
    """x - logsumexp(x) along dim (torch.log_softmax; the same as F.log_softmax).

    Example:
        >>> fastdl.log_softmax(fastdl.tensor([0.0, 0.0]), dim=0)
        tensor([-0.6931, -0.6931])
    """
    from fastdl.nn import functional as F
    x = _float_input(input)
    return F.log_softmax(x if dtype is None else x.to(dtype), dim)


# ---- linear algebra ----------------------------------------------------------------------

def t(input):
    """The transpose of a matrix; 0-D and 1-D tensors come back as they are (torch.t).

    Example:
        >>> fastdl.ones(2, 3).t().shape
        (3, 2)
    """
    x = _as_tensor(input)
    if x.ndim > 2:
        raise RuntimeError("t: expects a tensor with <= 2 dimensions, but self is %dD" % x.ndim)
    return x if x.ndim < 2 else transpose(x, 0, 1)


def mm(input, mat2):
    """The product of two matrices (n, k) @ (k, m) -> (n, m), no broadcasting (torch.mm).

    Example:
        >>> fastdl.mm(fastdl.ones(2, 3), fastdl.ones(3, 4)).shape
        (2, 4)
    """
    a, b = _as_tensor(input), _as_tensor(mat2)
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError("mm: expected 2-D tensors, got %dD and %dD" % (a.ndim, b.ndim))
    if a.shape[1] != b.shape[0]:
        raise RuntimeError("mm: mat1 and mat2 shapes cannot be multiplied (%dx%d and %dx%d)"
                           % (a.shape + b.shape))
    return matmul(a, b)


def bmm(input, mat2):
    """Batched matrix product (b, n, k) @ (b, k, m) -> (b, n, m), no broadcasting (torch.bmm).

    Example:
        >>> fastdl.bmm(fastdl.ones(5, 2, 3), fastdl.ones(5, 3, 4)).shape
        (5, 2, 4)
    """
    a, b = _as_tensor(input), _as_tensor(mat2)
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError("bmm: expected 3-D tensors, got %dD and %dD" % (a.ndim, b.ndim))
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError("bmm: batch1 %s and batch2 %s cannot be multiplied"
                           % (a.shape, b.shape))
    return matmul(a, b)


def dot(input, other):
    """The dot product of two 1-D tensors of the same length (torch.dot).

    Example:
        >>> fastdl.dot(fastdl.tensor([1.0, 2.0]), fastdl.tensor([3.0, 4.0]))
        tensor(11.)
    """
    a, b = _as_tensor(input), _as_tensor(other)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise RuntimeError("dot: expected two 1-D tensors of the same length, got shapes %s "
                           "and %s" % (a.shape, b.shape))
    return matmul(a, b)


def outer(input, vec2):
    """The outer product of two 1-D tensors: (n,) x (m,) -> (n, m) (torch.outer).

    Example:
        >>> fastdl.outer(fastdl.tensor([1.0, 2.0]), fastdl.tensor([1.0, 0.0, 3.0]))
        tensor([[1., 0., 3.],
                [2., 0., 6.]])
    """
    a, b = _as_tensor(input), _as_tensor(vec2)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError("outer: expected 1-D tensors, got %dD and %dD" % (a.ndim, b.ndim))
    return mul(unsqueeze(a, 1), unsqueeze(b, 0))


def _einsum_parse(eq, ndims):
    eq = eq.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs, out = eq, None
    subs = lhs.split(",")
    if len(subs) != len(ndims):
        raise ValueError("einsum: the equation has %d operands, %d tensors given"
                         % (len(subs), len(ndims)))
    used = set(c for c in eq if c.isalpha())
    free = [c for c in string.ascii_letters if c not in used]
    ell = None
    if "..." in eq:
        nell = builtins.max([n - (len(s) - 3) for s, n in zip(subs, ndims) if "..." in s],
                            default=0)
        ell = "".join(free[:nell])
        subs = [s.replace("...", ell[nell - (n - (len(s) - 3)):]) if "..." in s else s
                for s, n in zip(subs, ndims)]
    for s, n in zip(subs, ndims):
        if len(s) != n:
            raise ValueError("einsum: subscript %r has %d letters for a %d-D operand"
                             % (s, len(s), n))
        if len(set(s)) != len(s):
            raise NotImplementedError("einsum: a letter repeated within one operand "
                                      "(diagonals, %r) is not supported" % s)
    if out is None:
        counts = {}
        for s in subs:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = (ell or "") + "".join(sorted(c for c, k in counts.items()
                                           if k == 1 and c not in (ell or "")))
    elif "..." in out:
        out = out.replace("...", ell or "")
    return subs, out


def einsum(equation, *operands):
    """Sum of products over the letters of an Einstein-notation equation (torch.einsum).

    Supports explicit (``"ij,jk->ik"``) and implicit outputs and ``...``;
    each operand's letters must differ (no diagonals).

    Args:
        equation: the subscripts, e.g. ``"bij,bjk->bik"``.
        *operands: the tensors (or one list of them).

    Example:
        >>> a, b = fastdl.ones(2, 3), fastdl.ones(3, 4)
        >>> fastdl.einsum("ij,jk->ik", a, b).shape
        (2, 4)
        >>> fastdl.einsum("i,i->", fastdl.tensor([1.0, 2.0]), fastdl.tensor([3.0, 4.0]))
        tensor(11.)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ts = [_float_input(o) for o in operands]
    dt = np.result_type(*[t._data.dtype for t in ts])
    ts = [t if t.dtype == dt else t.to(dt) for t in ts]
    subs, out = _einsum_parse(equation, [t.ndim for t in ts])
    return _ops.Einsum.apply(*ts, subs, out)


def _dims_arg(dim, ndim, op):
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        return tuple(_dim(d, ndim, op) for d in dim)
    return (_dim(dim, ndim, op),)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The vector p-norm over dims, or all elements (torch.norm).

    Args:
        input: the tensor.
        p: a number > 0, ``inf``/``-inf``, or ``"fro"`` (the 2-norm of all elements).
        dim: None (all elements), an int or a tuple of ints.
        keepdim: keep the reduced dims with size 1.
        dtype: compute in this dtype.

    The gradient at a zero norm is zero.

    Example:
        >>> fastdl.norm(fastdl.tensor([3.0, 4.0]))
        tensor(5.)
        >>> fastdl.tensor([[1.0, -2.0], [3.0, 0.0]]).norm(p=1, dim=1)
        tensor([3., 3.])
    """
    x = _float_input(input)
    if dtype is not None:
        x = x.to(dtype)
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        raise NotImplementedError("norm: the nuclear norm is not supported")
    p = float(p)
    if not p > 0 and p != -np.inf:
        raise ValueError("norm: p must be > 0 or +-inf, got %r" % p)
    axes = _dims_arg(dim, x.ndim, "norm")
    if x.ndim == 0:
        return _ops.NpUnary.apply(x, "sign") * 0 + x.abs()
    return _ops.Norm.apply(x, p, axes, keepdim)


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over dim, computed stably with the max subtracted (torch.logsumexp).

    Example:
        >>> fastdl.logsumexp(fastdl.tensor([0.0, 0.0]), dim=0)
        tensor(0.6931)
    """
    x = _float_input(input)
    axes = _dims_arg(dim, x.ndim, "logsumexp")
    m = _amax(x.detach(), dim=axes, keepdim=True)
    m = Tensor._wrap(np.where(np.isfinite(m._data), m._data, 0).astype(x.dtype))
    out = _log(_sum(_exp(x - m), dim=axes, keepdim=True)) + m
    if not keepdim:
        out = reshape(out, tuple(s for i, s in enumerate(x.shape) if i not in axes))
    return out


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """The product over one dim, or of all elements (torch.prod).

    Example:
        >>> fastdl.prod(fastdl.tensor([[1.0, 2.0], [3.0, 4.0]]), dim=1)
        tensor([ 2., 12.])
    """
    x = _as_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    if not _is_float(x._data):
        return Tensor._wrap(np.asarray(np.prod(x._data, axis=dim, keepdims=keepdim)))
    d = None if dim is None else _dim(dim, x.ndim, "prod")
    return _ops.Prod.apply(x, d, keepdim and d is not None)


def cumsum(input, dim, *, dtype=None):
    """The running sum along dim (torch.cumsum); integers and bools sum as int64.

    Example:
        >>> fastdl.cumsum(fastdl.tensor([1.0, 2.0, 3.0]), dim=0)
        tensor([1., 3., 6.])
    """
    return _running("cumsum", np.cumsum, _ops.Cumsum, input, dim, dtype)


def cumprod(input, dim, *, dtype=None):
    """The running product along dim (torch.cumprod); exact gradients with zeros in the input.

    Example:
        >>> fastdl.cumprod(fastdl.tensor([1.0, 2.0, 3.0]), dim=0)
        tensor([1., 2., 6.])
    """
    return _running("cumprod", np.cumprod, _ops.Cumprod, input, dim, dtype)


def _running(op, np_fn, fn, input, dim, dtype):
    """cumsum / cumprod: the Function fn on floats, np_fn in int64 on integers and bools."""
    x = _as_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    d = _dim(dim, x.ndim, op)
    if x.ndim == 0:
        return x.clone()
    if not _is_float(x._data):
        return Tensor._wrap(np_fn(x._data, axis=d, dtype=np.int64))
    return fn.apply(x, d)


# ---- masks and index moves ------------------------------------------------------------

def _mask_array(mask, op):
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError("%s: expected a bool mask, got dtype %s" % (op, m.dtype))
    return m


def masked_fill(input, mask, value):
    """x with ``value`` where mask is True (torch.masked_fill); mask broadcasts to x.

    Args:
        input: the tensor.
        mask: a bool tensor broadcastable to input's shape.
        value: a number or a 0-D tensor.

    Example:
        >>> x = fastdl.tensor([1.0, 2.0, 3.0])
        >>> x.masked_fill(x > 1.5, 0.0)
        tensor([1., 0., 0.])
    """
    x = _as_tensor(input)
    m = _mask_array(mask, "masked_fill")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError("masked_fill: only supports a 0-dimensional value tensor, but "
                               "got a tensor with %d dimensions" % value.ndim)
        if not _needs_grad(value):
            value = value.item()
    try:
        np.broadcast_shapes(m.shape, x.shape)
    except ValueError:
        raise RuntimeError("masked_fill: the mask of shape %s does not broadcast to the tensor "
                           "of shape %s" % (m.shape, x.shape)) from None
    if not isinstance(value, Tensor):
        out = np.where(m, np.asarray(value).astype(x.dtype), x._data)
        if out.shape != x.shape:
            raise RuntimeError("masked_fill: the mask of shape %s would enlarge the tensor of "
                               "shape %s" % (m.shape, x.shape))
        if not _needs_grad(x):
            return Tensor._wrap(out)
        return where(Tensor._wrap(np.broadcast_to(m, x.shape)), Tensor._wrap(
            np.asarray(value, dtype=x.dtype)), x)
    return where(Tensor._wrap(np.broadcast_to(m, x.shape)), value.to(x.dtype), x)


def narrow(input, dim, start, length):
    """The slice start:start+length along dim, a view (torch.narrow).

    Example:
        >>> fastdl.arange(6).narrow(0, 2, 3)
        tensor([2, 3, 4])
    """
    x = _as_tensor(input)
    d = _dim(dim, x.ndim, "narrow")
    start = int(start)
    if start < 0:
        start += x.shape[d]
    if not (0 <= start and length >= 0 and start + length <= x.shape[d]):
        raise IndexError("narrow: start (%d) + length (%d) exceeds dimension size (%d)"
                         % (start, length, x.shape[d]))
    return getitem(x, (slice(None),) * d + (slice(start, start + length),))


def _index_array(index, op, name="index"):
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError("%s: expected an integer %s tensor, got dtype %s"
                           % (op, name, idx.dtype))
    return idx.astype(np.int64, copy=False)


def index_select(input, dim, index):
    """The entries at ``index`` (1-D ints) along dim (torch.index_select); gradients add up.

    Example:
        >>> x = fastdl.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        >>> fastdl.index_select(x, 0, fastdl.tensor([2, 0]))
        tensor([[5., 6.],
                [1., 2.]])
    """
    x = _as_tensor(input)
    d = _dim(dim, x.ndim, "index_select")
    idx = _index_array(index, "index_select")
    if idx.ndim > 1:
        raise IndexError("index_select: index must be 0-D or 1-D, got %d-D" % idx.ndim)
    n = x.shape[d] if x.ndim else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError("index_select: index out of range for dim %d of size %d" % (d, n))
    return getitem(x, (slice(None),) * d + (idx.reshape(-1),))


def _check_index_shape(x, idx, d, op, src=None):
    if idx.ndim != x.ndim:
        raise RuntimeError("%s: index tensor must have the same number of dimensions as the "
                           "input (%d), got %d" % (op, x.ndim, idx.ndim))
    for k in range(x.ndim):
        if k != d and idx.shape[k] > x.shape[k]:
            raise RuntimeError("%s: size of index (%s) must not exceed the input's (%s) in dim "
                               "%d" % (op, idx.shape, x.shape, k))
        if src is not None and idx.shape[k] > src.shape[k]:
            raise RuntimeError("%s: size of index (%s) must not exceed src's (%s) in dim %d"
                               % (op, idx.shape, src.shape, k))
    n = x.shape[d]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise RuntimeError("%s: index %d is out of bounds for dimension %d with size %d"
                           % (op, idx.max() if idx.max() >= n else idx.min(), d, n))


def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j] = input[i][index[i][j]] for dim=1 (torch.gather); out has index's shape.

    Args:
        input: the tensor.
        dim: the dim to index along.
        index: an int64 tensor with input's number of dims (no larger than input in the
            other dims).

    Example:
        >>> x = fastdl.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> fastdl.gather(x, 1, fastdl.tensor([[0, 0], [1, 0]]))
        tensor([[1., 1.],
                [4., 3.]])
    """
    x = _as_tensor(input)
    d = _dim(dim, x.ndim, "gather")
    idx = _index_array(index, "gather")
    _check_index_shape(x, idx, d, "gather")
    if not _is_float(x._data):
        return Tensor._wrap(_ops._take(x._data, idx, d))
    return _ops.Gather.apply(x, d, idx)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """input with src's entries written at index along dim (torch.scatter), out of place.

    Args:
        input: the tensor.
        dim: the dim to index along.
        index: int64 positions, shaped like src (or smaller).
        src: the values (a tensor), or a number (then it is ``value``).
        value: a number written at every index position.
        reduce: not supported (use scatter_add for "add").

    Example:
        >>> fastdl.zeros(2, 3).scatter(1, fastdl.tensor([[2], [0]]), 1.0)
        tensor([[0., 0., 1.],
                [1., 0., 0.]])
    """
    if reduce is not None:
        raise NotImplementedError("scatter: reduce=%r is not supported; use scatter_add or "
                                  "scatter_reduce" % (reduce,))
    x = _as_tensor(input)
    d = _dim(dim, x.ndim, "scatter")
    idx = _index_array(index, "scatter")
    if src is None:
        src = value
    if not isinstance(src, Tensor):
        _check_index_shape(x, idx, d, "scatter")
        if not _is_float(x._data):
            out = x._data.copy()
            out[_ops._full_index(idx, d)] = src
            return Tensor._wrap(out)
        return _ops.ScatterValue.apply(x, d, idx, float(src))
    _check_index_shape(x, idx, d, "scatter", src._data)
    return _scatter_tensor(x, d, idx, src, False, "scatter")


def _scatter_tensor(x, d, idx, src, add, op):
    if src.dtype != x.dtype:
        raise RuntimeError("%s: expected self and src to have the same dtype, got %s and %s"
                           % (op, x.dtype, src.dtype))
    if not _is_float(x._data):
        out = x._data.copy()
        s = src._data[tuple(slice(0, n) for n in idx.shape)]
        if add:
            _ops._add_at(out, idx, s, d)
        else:
            out[_ops._full_index(idx, d)] = s
        return Tensor._wrap(out)
    return _ops.Scatter.apply(x, src, d, idx, add)


def scatter_add(input, dim, index, src):
    """input with src's entries added at index along dim; repeated positions add up (torch.scatter_add).

    Example:
        >>> fastdl.zeros(4).scatter_add(0, fastdl.tensor([0, 1, 1]), fastdl.ones(3))
        tensor([1., 2., 0., 0.])
    """
    x = _as_tensor(input)
    d = _dim(dim, x.ndim, "scatter_add")
    idx = _index_array(index, "scatter_add")
    src = _as_tensor(src)
    _check_index_shape(x, idx, d, "scatter_add", src._data)
    return _scatter_tensor(x, d, idx, src, True, "scatter_add")


# ---- sorting ---------------------------------------------------------------------------

def _sort_indices(a, d, descending, stable=True):
    if descending:
        # stable descending: sort the negated keys (NaN first, as torch puts NaN largest)
        if a.dtype == np.bool_:
            a = a.astype(np.int8)
        key = -a if a.dtype.kind != "u" else (np.iinfo(a.dtype).max - a)
        if a.dtype.kind == "f":
            key = np.where(np.isnan(a), -np.inf, key)
            idx = np.argsort(key, axis=d, kind="stable")
            # NaN (torch: largest) before -inf keys of +inf values: order NaN first
            nan = np.take_along_axis(np.isnan(a), idx, d)
            order = np.argsort(~nan, axis=d, kind="stable")
            return np.take_along_axis(idx, order, d)
        return np.argsort(key, axis=d, kind="stable")
    return np.argsort(a, axis=d, kind="stable")


def sort(input, dim=-1, descending=False, stable=False):
    """Sort along dim: a named tuple (values, indices) (torch.sort); gradients follow the values.

    Ties keep their order (the sort is stable); NaN sorts as the largest value.

    Example:
        >>> v, i = fastdl.sort(fastdl.tensor([3.0, 1.0, 2.0]), descending=True)
        >>> v, i
        (tensor([3., 2., 1.]), tensor([0, 2, 1]))
    """
    x = _as_tensor(input)
    if x.ndim == 0:
        return SortResult(x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    d = _dim(dim, x.ndim, "sort")
    idx = _sort_indices(x._data, d, descending).astype(np.int64)
    return SortResult(gather(x, d, idx), Tensor._wrap(idx))


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort input along dim (torch.argsort); int64, no gradient.

    Example:
        >>> fastdl.argsort(fastdl.tensor([3.0, 1.0, 2.0]))
        tensor([1, 2, 0])
    """
    return sort(input, dim, descending, stable).indices


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (or smallest) entries along dim: a named tuple (values, indices) (torch.topk).

    Example:
        >>> fastdl.topk(fastdl.tensor([1.0, 5.0, 3.0, 4.0]), 2)
        topk(values=tensor([5., 4.]), indices=tensor([1, 3]))
    """
    x = _as_tensor(input)
    d = _dim(dim, x.ndim, "topk")
    n = x.shape[d] if x.ndim else 1
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise RuntimeError("topk: k (%r) out of range for dimension %d of size %d" % (k, d, n))
    if x.ndim == 0:
        return TopkResult(x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    idx = _sort_indices(x._data, d, largest)
    idx = np.take(idx, np.arange(k), axis=d).astype(np.int64)
    return TopkResult(gather(x, d, idx), Tensor._wrap(idx))


# ---- shape moves built from views and indexing -------------------------------------------

def repeat_interleave(input, repeats, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times along dim; dim None flattens first (torch.repeat_interleave).

    Args:
        input: the tensor.
        repeats: an int or a 1-D int tensor (one count per element along dim).
        dim: the dim, or None for the flattened tensor.

    Example:
        >>> fastdl.tensor([1, 2]).repeat_interleave(2)
        tensor([1, 1, 2, 2])
        >>> fastdl.tensor([[1.0, 2.0]]).repeat_interleave(fastdl.tensor([1, 2]), dim=1)
        tensor([[1., 2., 2.]])
    """
    x = _as_tensor(input)
    if dim is None:
        x = reshape(x, -1)
        d = 0
    else:
        d = _dim(dim, x.ndim, "repeat_interleave")
    rep = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    if rep.ndim > 1 or (rep.ndim == 1 and rep.size not in (1, x.shape[d])):
        raise RuntimeError("repeat_interleave: repeats must have the same size as input "
                           "along dim (%d), got %d" % (x.shape[d], rep.size))
    if np.any(rep < 0):
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    idx = np.repeat(np.arange(x.shape[d]), rep.reshape(-1) if rep.ndim else int(rep))
    return getitem(x, (slice(None),) * d + (idx,))


def flip(input, dims):
    """Reverse the order of entries along the given dims (torch.flip).

    Example:
        >>> fastdl.flip(fastdl.tensor([[1, 2], [3, 4]]), [1])
        tensor([[2, 1],
                [4, 3]])
    """
    x = _as_tensor(input)
    if isinstance(dims, int):
        dims = (dims,)
    ds = {_dim(d, x.ndim, "flip") for d in dims}
    idx = tuple(slice(None, None, -1) if k in ds else slice(None) for k in range(x.ndim))
    out = getitem(x, idx)
    if not _needs_grad(x):
        out = Tensor._wrap(np.ascontiguousarray(out._data))
    return out


def roll(input, shifts, dims=None):
    """Rotate entries along dims by shifts, wrapping around; dims None rolls the flat tensor (torch.roll).

    Example:
        >>> fastdl.roll(fastdl.tensor([1, 2, 3, 4]), 1)
        tensor([4, 1, 2, 3])
    """
    x = _as_tensor(input)
    if dims is None:
        if not isinstance(shifts, (int, np.integer)):
            (shifts,) = shifts
        return reshape(roll(reshape(x, -1), shifts, 0), x.shape)
    if isinstance(shifts, (int, np.integer)):
        shifts = (shifts,)
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError("roll: shifts and dimensions must align, got %d shifts and %d dims"
                           % (len(shifts), len(dims)))
    out = x
    for s, d in zip(shifts, dims):
        d = _dim(d, x.ndim, "roll")
        n = x.shape[d]
        if n == 0:
            continue
        idx = (np.arange(n) - int(s)) % n
        out = getitem(out, (slice(None),) * d + (idx,))
    return out


def _tri(input, diagonal, lower, op):
    x = _as_tensor(input)
    if x.ndim < 2:
        raise RuntimeError("%s: input tensor must have at least 2 dimensions" % op)
    r, c = x.shape[-2:]
    keep = (np.arange(c)[None, :] - np.arange(r)[:, None])
    keep = keep <= diagonal if lower else keep >= diagonal
    if not _is_float(x._data):
        return Tensor._wrap(np.where(keep, x._data, 0).astype(x.dtype))
    return mul(x, Tensor._wrap(keep.astype(x.dtype)))


def tril(input, diagonal=0):
    """The lower triangle of the last two dims, the rest zero (torch.tril).

    Example:
        >>> fastdl.tril(fastdl.ones(3, 3))
        tensor([[1., 0., 0.],
                [1., 1., 0.],
                [1., 1., 1.]])
    """
    return _tri(input, diagonal, True, "tril")


def triu(input, diagonal=0):
    """The upper triangle of the last two dims, the rest zero (torch.triu).

    Example:
        >>> fastdl.triu(fastdl.ones(2, 3), diagonal=1)
        tensor([[0., 1., 1.],
                [0., 0., 1.]])
    """
    return _tri(input, diagonal, False, "triu")


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of dims (dim1, dim2) as the last dim, a copy (torch.diagonal).

    Example:
        >>> fastdl.diagonal(fastdl.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor([1., 4.])
    """
    x = _as_tensor(input)
    d1, d2 = _dim(dim1, x.ndim, "diagonal"), _dim(dim2, x.ndim, "diagonal")
    r, c = x.shape[d1], x.shape[d2]
    rows = np.arange(builtins.max(0, -offset), r)
    cols = rows + offset
    ok = cols < c
    rows, cols = rows[ok], cols[ok]
    perm = [k for k in range(x.ndim) if k not in (d1, d2)] + [d1, d2]
    xp = x.permute(*perm)
    return getitem(xp, (Ellipsis, rows, cols))


def diag(input, diagonal=0):
    """A 1-D tensor's square diagonal matrix, or a 2-D tensor's diagonal (torch.diag).

    Example:
        >>> fastdl.diag(fastdl.tensor([1.0, 2.0]))
        tensor([[1., 0.],
                [0., 2.]])
    """
    x = _as_tensor(input)
    if x.ndim == 2:
        return globals()["diagonal"](x, diagonal)
    if x.ndim != 1:
        raise RuntimeError("diag: expected a 1-D or 2-D tensor, got %d-D" % x.ndim)
    n = x.shape[0] + builtins.abs(diagonal)
    rows = np.arange(x.shape[0]) + builtins.max(0, -diagonal)
    cols = np.arange(x.shape[0]) + builtins.max(0, diagonal)
    if not _is_float(x._data):
        out = np.zeros((n, n), x.dtype)
        out[rows, cols] = x._data
        return Tensor._wrap(out)
    onehot = np.zeros((x.shape[0], n * n), x.dtype)
    onehot[np.arange(x.shape[0]), rows * n + cols] = 1
    return reshape(matmul(x, Tensor._wrap(onehot)), n, n)


def trace(input):
    """The sum of a matrix's diagonal (torch.trace).

    Example:
        >>> fastdl.trace(fastdl.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor(5.)
    """
    x = _as_tensor(input)
    if x.ndim != 2:
        raise RuntimeError("trace: expected a matrix, got %d-D" % x.ndim)
    return _sum(diagonal(x))


def cdist(x1, x2, p=2.0):
    """Pairwise p-norm distances between the rows of x1 (*, P, M) and x2 (*, R, M) (torch.cdist).

    Example:
        >>> fastdl.cdist(fastdl.tensor([[0.0, 0.0]]), fastdl.tensor([[3.0, 4.0], [0.0, 1.0]]))
        tensor([[5., 1.]])
    """
    a, b = _float_input(x1), _float_input(x2)
    diff = unsqueeze(a, -2) - unsqueeze(b, -3)
    return norm(diff, p=p, dim=-1)


# ---- tests and comparisons (no gradient) ----------------------------------------------------

def isnan(input):
    """A bool tensor: True where input is NaN (torch.isnan).

    Example:
        >>> fastdl.isnan(fastdl.tensor([1.0, float("nan")]))
        tensor([False,  True])
    """
    return Tensor._wrap(np.isnan(_as_tensor(input)._data))


def isinf(input):
    """A bool tensor: True where input is +inf or -inf (torch.isinf).

    Example:
        >>> fastdl.isinf(fastdl.tensor([1.0, float("-inf")]))
        tensor([False,  True])
    """
    return Tensor._wrap(np.isinf(_as_tensor(input)._data))


def isfinite(input):
    """A bool tensor: True where input is neither inf nor NaN (torch.isfinite).

    Example:
        >>> fastdl.isfinite(fastdl.tensor([1.0, float("inf")]))
        tensor([ True, False])
    """
    return Tensor._wrap(np.isfinite(_as_tensor(input)._data))


def _bool_reduce(fn, input, dim, keepdim, op):
    x = _as_tensor(input)
    if dim is None:
        return Tensor._wrap(np.asarray(fn(x._data)))
    axes = _dims_arg(dim, x.ndim, op)
    return Tensor._wrap(np.asarray(fn(x._data, axis=axes, keepdims=keepdim)))


def any(input, dim=None, keepdim=False):
    """True if any element (along dim) is nonzero: a bool tensor (torch.any).

    Example:
        >>> fastdl.tensor([[0, 1], [0, 0]]).any(dim=1)
        tensor([ True, False])
    """
    return _bool_reduce(np.any, input, dim, keepdim, "any")


def all(input, dim=None, keepdim=False):
    """True if every element (along dim) is nonzero: a bool tensor (torch.all).

    Example:
        >>> fastdl.all(fastdl.tensor([1.0, 2.0]) > 0)
        tensor(True)
    """
    return _bool_reduce(np.all, input, dim, keepdim, "all")


def count_nonzero(input, dim=None):
    """The number of nonzero elements (along dim), int64 (torch.count_nonzero).

    Example:
        >>> fastdl.count_nonzero(fastdl.tensor([0.0, 2.0, 3.0]))
        tensor(2)
    """
    x = _as_tensor(input)
    axes = None if dim is None else _dims_arg(dim, x.ndim, "count_nonzero")
    return Tensor._wrap(np.asarray(np.count_nonzero(x._data, axis=axes), dtype=np.int64))


def nonzero(input, *, as_tuple=False):
    """The indices of the nonzero elements: (n, ndim) int64, or a tuple of 1-D tensors (torch.nonzero).

    Example:
        >>> fastdl.nonzero(fastdl.tensor([0.0, 1.0, 2.0]))
        tensor([[1],
                [2]])
    """
    x = _as_tensor(input)
    nz = np.nonzero(x._data)
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in nz)
    return Tensor._wrap(np.stack(nz, axis=1).astype(np.int64) if nz else
                        np.zeros((int(bool(x._data)), 0), np.int64))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values, sorted; optionally inverse indices and counts (torch.unique).

    Example:
        >>> fastdl.unique(fastdl.tensor([2, 1, 2, 3]))
        tensor([1, 2, 3])
    """
    x = _as_tensor(input)
    if dim is not None:
        raise NotImplementedError("unique: dim is not supported")
    u, inv, cnt = np.unique(x._data, return_inverse=True, return_counts=True)
    out = [Tensor._wrap(u)]
    if return_inverse:
        out.append(Tensor._wrap(inv.reshape(x.shape).astype(np.int64)))
    if return_counts:
        out.append(Tensor._wrap(cnt.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """A bool tensor: |input - other| <= atol + rtol * |other| elementwise (torch.isclose).

    Example:
        >>> fastdl.isclose(fastdl.tensor([1.0, 2.0]), fastdl.tensor([1.0, 2.1]))
        tensor([ True, False])
    """
    a, b = _as_tensor(input)._data, _as_tensor(other)._data
    return Tensor._wrap(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if every |input - other| <= atol + rtol * |other| (torch.allclose): a Python bool.

    Example:
        >>> fastdl.allclose(fastdl.tensor([1.0, 2.0]), fastdl.tensor([1.0, 2.0 + 1e-7]))
        True
    """
    a, b = _as_tensor(input)._data, _as_tensor(other)._data
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other):
    """True if both tensors have the same shape and elements (torch.equal): a Python bool.

    Example:
        >>> fastdl.equal(fastdl.tensor([1, 2]), fastdl.tensor([1, 2]))
        True
    """
    a, b = _as_tensor(input)._data, _as_tensor(other)._data
    return a.shape == b.shape and bool(np.array_equal(a, b))


def is_tensor(obj):
    """True if obj is a fastdl Tensor (torch.is_tensor).

    Example:
        >>> fastdl.is_tensor(fastdl.ones(1)), fastdl.is_tensor([1.0])
        (True, False)
    """
    return isinstance(obj, Tensor)


def is_floating_point(input):
    """True if the tensor's dtype is float32 or float64 (torch.is_floating_point).

    Example:
        >>> fastdl.is_floating_point(fastdl.ones(1)), fastdl.ones(1).long().is_floating_point()
        (True, False)
    """
    return _is_float(_as_tensor(input)._data)


def numel(input):
    """The number of elements of a tensor (torch.numel).

    Example:
        >>> fastdl.numel(fastdl.ones(2, 3))
        6
    """
    return _as_tensor(input).numel()


# ---- random sampling ---------------------------------------------------------------------

class Generator:
    """A private random stream (torch.Generator): seed it, pass it as ``generator=``.

    Random functions given ``generator=g`` draw from g's own (seed, counter)
    sequence and leave the global state (``fastdl.manual_seed``) untouched;
    the same seed gives the same numbers. ``device`` must be the CPU.

    Example:
        >>> g = fastdl.Generator().manual_seed(3)
        >>> a = fastdl.rand(2, generator=g)
        >>> b = fastdl.rand(2, generator=fastdl.Generator().manual_seed(3))
        >>> bool((a == b).all())
        True
    """

    def __init__(self, device="cpu"):
        from fastdl._device import check_device
        check_device(device, "Generator")
        self._seed = _random._DEFAULT_SEED
        self._stream = 0

    def manual_seed(self, seed):
        """Seed this generator; returns self."""
        self._seed = int(seed) & ((1 << 64) - 1)
        self._stream = 0
        return self

    def seed(self):
        """Seed from the OS's entropy; returns the seed."""
        import os
        self.manual_seed(int.from_bytes(os.urandom(8), "little"))
        return self._seed

    def initial_seed(self):
        """The seed in use."""
        return self._seed

    def get_state(self):
        """The state, a dict that set_state() restores."""
        return {"seed": self._seed, "stream": self._stream}

    def set_state(self, state):
        """Restore a state from get_state(); returns self."""
        self._seed, self._stream = int(state["seed"]), int(state["stream"])
        return self

    def __index__(self):
        # data samplers take an int seed: a Generator passes its seed
        return self._seed & ((1 << 63) - 1)

    def _next_key(self):
        key = (self._seed, (1 << 62) | self._stream)
        self._stream += 1
        return key


def _key(generator):
    if generator is None:
        return _random.next_key()
    if not isinstance(generator, Generator):
        raise TypeError("generator: expected a fastdl.Generator, got %r" % (generator,))
    return generator._next_key()


def _uniform(shape, dtype, generator=None):
    seed, stream = _key(generator)
    return _core.rng_uniform(tuple(shape), seed, stream, 0, 0.0, 1.0, dtype)


def _normal(shape, dtype, mean, std, generator=None):
    seed, stream = _key(generator)
    return _core.rng_normal(tuple(shape), seed, stream, 0, float(mean), float(std), dtype)


def bernoulli(input, p=None, *, generator=None):
    """0/1 samples, 1 with probability input (or p) elementwise, in input's dtype (torch.bernoulli).

    Example:
        >>> fastdl.bernoulli(fastdl.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """
    x = _as_tensor(input)
    prob = x._data if p is None else np.full(x.shape, p)
    if np.any((prob < 0) | (prob > 1)):
        raise RuntimeError("bernoulli: expected 0 <= p <= 1")
    u = _uniform(x.shape, np.float64, generator)
    dt = x.dtype if _is_float(x._data) else _F32
    return Tensor._wrap((u < prob).astype(dt))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Draw category indices with probabilities proportional to the rows of input (torch.multinomial).

    Args:
        input: non-negative weights, (C,) or (N, C).
        num_samples: how many draws per row.
        replacement: draw with replacement (without: at most the number of nonzero weights).

    Example:
        >>> fastdl.multinomial(fastdl.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
        tensor([1, 1])
    """
    x = _as_tensor(input)
    w = x._data.astype(np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError("multinomial: prob_dist must be 1 or 2 dim, got %d" % w.ndim)
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise RuntimeError("multinomial: probability tensor contains either inf, nan or "
                           "element < 0")
    rows = w.reshape(-1, w.shape[-1])
    tot = rows.sum(axis=1, keepdims=True)
    if np.any(tot <= 0):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of "
                           "probabilities <= 0)")
    n = int(num_samples)
    if n <= 0:
        raise RuntimeError("multinomial: cannot sample n_sample <= 0 samples")
    if replacement:
        cdf = np.cumsum(rows / tot, axis=1)
        cdf[:, -1] = 1.0
        u = _uniform((rows.shape[0], n), np.float64, generator)
        out = np.stack([np.searchsorted(c, uu, side="right") for c, uu in zip(cdf, u)])
        out = np.minimum(out, rows.shape[1] - 1)
    else:
        if n > rows.shape[1] or np.any((rows > 0).sum(axis=1) < n):
            raise RuntimeError("multinomial: cannot sample n_sample > prob_dist.size(-1) "
                               "samples without replacement")
        u = _uniform(rows.shape, np.float64, generator)
        with np.errstate(divide="ignore"):
            keys = -np.log(np.maximum(u, 1e-300)) / rows      # exponential race: smallest wins
        out = np.argsort(keys, axis=1, kind="stable")[:, :n]
    out = out.astype(np.int64)
    return Tensor._wrap(out.reshape(n) if w.ndim == 1 else out)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False):
    """Normal samples with the given mean and std (tensors broadcast, or numbers with size) (torch.normal).

    Example:
        >>> fastdl.normal(0.0, 1.0, size=(2, 3)).shape
        (2, 3)
        >>> fastdl.normal(fastdl.zeros(4), 2.0).shape
        (4,)
        >>> fastdl.normal(0, 0.01, size=(2, 1), requires_grad=True).requires_grad
        True
    """
    out = _normal_tensor(mean, std, size, generator, dtype)
    if requires_grad:
        if not _is_float(out._data):
            raise RuntimeError("normal: only floating point tensors can require gradients")
        out.requires_grad = True
    return out


def _normal_tensor(mean, std, size, generator, dtype):
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else np.asarray(mean)
        s = std._data if isinstance(std, Tensor) else np.asarray(std)
        shape = np.broadcast_shapes(m.shape, s.shape)
        dt = np.result_type(*[a.dtype for a in (m, s) if a.dtype.kind == "f"] or [_F32])
        z = _normal(shape, dt, 0.0, 1.0, generator)
        return Tensor._wrap((m + s * z).astype(dt))
    if size is None:
        raise TypeError("normal: with number mean and std, size is required")
    from fastdl.creation import _shape, _dtype
    dt = _dtype(dtype) or _F32
    return Tensor._wrap(_normal(_shape((size,)), dt, mean, std, generator))


def _div_operands(a, b, op):
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError("%s: expected a Tensor operand, got %s and %s"
                        % (op, type(a).__name__, type(b).__name__))
    ta, tb = _promote(a, b)
    if not _is_float(ta._data) and np.any(tb._data == 0):
        raise ZeroDivisionError("%s: integer division by zero" % op)
    return ta, tb


def _with_quotient_grad(a, b, value, quotient):
    """value = a - quotient * b, with PyTorch's gradients (1 for a, -quotient for b)."""
    if not ((_needs_grad(a) or _needs_grad(b)) and _is_float(a._data)):
        return Tensor._wrap(value)
    out = _sub(a, mul(Tensor._wrap(quotient), b))
    out._data[...] = value          # the exact value (NumPy's), the graph of a - q * b
    return out


def remainder(input, other):
    """The remainder of input / other with the sign of other, Python's % (torch.remainder); also ``x % y``.

    Equals ``input - floor(input / other) * other``; integer operands stay integer
    and an integer division by zero raises ZeroDivisionError. Broadcasting and dtype
    promotion follow the arithmetic operators. The gradient is 1 for input and
    ``-floor(input / other)`` for other, as in PyTorch.

    Args:
        input: a Tensor or number.
        other: a Tensor or number.

    Example:
        >>> fastdl.tensor([-3, -1, 2, 7]) % 3
        tensor([0, 2, 2, 1])
        >>> fastdl.remainder(fastdl.tensor([5.5, -5.5]), 2.0)
        tensor([1.5, 0.5])
    """
    a, b = _div_operands(input, other, "remainder")
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.remainder(a._data, b._data)
        q = np.floor_divide(a._data, b._data) if _is_float(a._data) else None
    return _with_quotient_grad(a, b, value, q)


def fmod(input, other):
    """The remainder of input / other with the sign of input, C's fmod (torch.fmod).

    Equals ``input - trunc(input / other) * other``; integer operands stay integer
    and an integer division by zero raises ZeroDivisionError. The gradient is 1 for
    input and ``-trunc(input / other)`` for other, as in PyTorch.

    Args:
        input: a Tensor or number.
        other: a Tensor or number.

    Example:
        >>> fastdl.fmod(fastdl.tensor([-3, -1, 2, 7]), 3)
        tensor([ 0, -1,  2,  1])
        >>> fastdl.tensor([5.5, -5.5]).fmod(2.0)
        tensor([ 1.5, -1.5])
    """
    a, b = _div_operands(input, other, "fmod")
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.fmod(a._data, b._data)
        q = np.rint((a._data - value) / b._data) if _is_float(a._data) else None  # an integer
    return _with_quotient_grad(a, b, value, q)


def floor_divide(input, other):
    """input / other rounded down, Python's // (torch.floor_divide); also ``x // y``.

    Integer operands stay integer (an integer division by zero raises
    ZeroDivisionError); the result carries no gradient, as in PyTorch.

    Args:
        input: a Tensor or number.
        other: a Tensor or number.

    Example:
        >>> fastdl.tensor([-7, 7]) // 2
        tensor([-4,  3])
        >>> fastdl.floor_divide(fastdl.tensor([7.5]), 2)
        tensor([3.])
    """
    a, b = _div_operands(input, other, "floor_divide")
    with np.errstate(divide="ignore", invalid="ignore"):
        return Tensor._wrap(np.floor_divide(a._data, b._data))


# ---- methods --------------------------------------------------------------------------------

def _inplace_random(self, arr, name):
    self._check_inplace(name)
    self._data[...] = arr
    self._bump()
    return self


def _install():
    names = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "log1p", "expm1",
             "log2", "log10", "exp2", "rsqrt", "reciprocal", "erf", "floor", "ceil", "trunc",
             "round", "sign", "frac", "sigmoid", "tanh", "relu", "t", "mm", "bmm", "dot",
             "outer", "norm", "logsumexp", "prod", "cumsum", "cumprod", "masked_fill", "narrow",
             "gather", "scatter", "scatter_add", "index_select", "topk", "sort", "argsort",
             "repeat_interleave", "flip", "roll", "tril", "triu", "isnan", "isinf", "isfinite",
             "any", "all", "allclose", "isclose", "equal", "multinomial", "bernoulli",
             "diag", "diagonal", "trace", "count_nonzero", "nonzero", "unique",
             "is_floating_point", "remainder", "fmod", "floor_divide"]
    g = globals()
    for n in names:
        setattr(Tensor, n, g[n])
    Tensor.softmax = lambda self, dim, dtype=None: softmax(self, dim, dtype)
    Tensor.log_softmax = lambda self, dim, dtype=None: log_softmax(self, dim, dtype)
    Tensor.arccos, Tensor.arcsin, Tensor.arctan = acos, asin, atan
    Tensor.__mod__ = remainder
    Tensor.__rmod__ = lambda self, other: remainder(other, self)
    Tensor.__floordiv__ = floor_divide
    Tensor.__rfloordiv__ = lambda self, other: floor_divide(other, self)

    def repeat(self, *sizes):
        """Tile the tensor: repeat(2, 3) repeats dim 0 twice and dim 1 three times (torch.Tensor.repeat)."""
        sizes = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        sizes = tuple(int(s) for s in sizes)
        if len(sizes) < self.ndim:
            raise RuntimeError("repeat: number of dimensions of repeat dims (%d) can not be "
                               "smaller than number of dimensions of tensor (%d)"
                               % (len(sizes), self.ndim))
        shape = (1,) * (len(sizes) - self.ndim) + tuple(self.shape)
        x = reshape(self, shape)
        inter = tuple(v for s in shape for v in (1, s))
        big = tuple(v for r, s in zip(sizes, shape) for v in (r, s))
        x = expand(reshape(x, inter), big)
        return reshape(x, tuple(r * s for r, s in zip(sizes, shape)))
    Tensor.repeat = repeat

    def tile(self, *dims):
        """Tile like repeat; fewer dims than the tensor's are padded with 1 in front (torch.tile)."""
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        dims = (1,) * (self.ndim - len(dims)) + tuple(dims)
        return repeat(self, *dims)
    Tensor.tile = tile

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A new tensor from data, with self's dtype unless given (torch.Tensor.new_tensor)."""
        from fastdl.creation import tensor
        return tensor(data, dtype=dtype or self.dtype, device=device,
                      requires_grad=requires_grad)

    def _new(fill):
        def new(self, *size, dtype=None, device=None, requires_grad=False, **kw):
            from fastdl._device import check_device
            from fastdl.creation import _shape, _make
            check_device(device, "new_" + fill)
            dt = np.dtype(dtype) if dtype is not None else self.dtype
            shp = _shape(size)
            arr = (np.zeros(shp, dt) if fill == "zeros" else np.ones(shp, dt) if fill == "ones"
                   else np.empty(shp, dt))
            return _make(arr, requires_grad)
        new.__name__ = "new_" + fill
        new.__doc__ = ("A new tensor of %s with the given size and self's dtype (torch.Tensor.new_%s)."
                       % (fill, fill))
        return new

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        """A new tensor filled with fill_value, with self's dtype unless given (torch.Tensor.new_full)."""
        from fastdl.creation import full
        return full(size, fill_value, dtype=dtype or self.dtype, device=device,
                    requires_grad=requires_grad)

    Tensor.new_tensor = new_tensor
    Tensor.new_zeros = _new("zeros")
    Tensor.new_ones = _new("ones")
    Tensor.new_empty = _new("empty")
    Tensor.new_full = new_full

    def type_as(self, other):
        """This tensor converted to other's dtype (torch.Tensor.type_as)."""
        return self.to(other.dtype)
    Tensor.type_as = type_as

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """Fill in place with uniform samples on [a, b); returns self."""
        u = _uniform(self.shape, self.dtype, generator)
        return _inplace_random(self, a + (b - a) * u, "uniform_")

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill in place with normal samples; returns self."""
        return _inplace_random(self, _normal(self.shape, self.dtype, mean, std, generator),
                               "normal_")

    def bernoulli_(self, p=0.5, *, generator=None):
        """Fill in place with 0/1 samples, 1 with probability p; returns self."""
        pa = p._data if isinstance(p, Tensor) else p
        u = _uniform(self.shape, np.float64, generator)
        return _inplace_random(self, (u < pa).astype(self.dtype), "bernoulli_")

    def random_(self, from_=0, to=None, *, generator=None):
        """Fill in place with integers drawn uniformly from [from, to); returns self."""
        if to is None:
            from_, to = 0, from_ if from_ else 2 ** 24
        u = _uniform(self.shape, np.float64, generator)
        return _inplace_random(self, np.floor(from_ + (to - from_) * u).astype(self.dtype),
                               "random_")

    def exponential_(self, lambd=1.0, *, generator=None):
        """Fill in place with exponential samples of rate lambd; returns self."""
        u = _uniform(self.shape, np.float64, generator)
        return _inplace_random(self, (-np.log1p(-u) / lambd).astype(self.dtype), "exponential_")

    for f in (uniform_, normal_, bernoulli_, random_, exponential_):
        setattr(Tensor, f.__name__, f)

    def make_inplace(name, fn):
        def method(self, *args, **kwargs):
            if self._graph_inplace(name, *args, *kwargs.values()):
                # the out-of-place op may save its input for backward (relu, clamp, log):
                # give it a copy, since self's memory is about to be overwritten
                return self._inplace_via(name, lambda p: fn(p.clone(), *args, **kwargs))
            r = fn(self, *args, **kwargs)
            if r._data.shape != self._data.shape:
                raise ValueError("%s: output with shape %s doesn't match the broadcast shape "
                                 "%s" % (name, self._data.shape, r._data.shape))
            np.copyto(self._data, r._data, casting="unsafe")
            self._bump()
            return self
        method.__name__ = name
        method.__doc__ = ("In-place %s: writes the result into self and returns self "
                          "(recorded in the graph when needed)." % name[:-1])
        return method

    from fastdl.nn import functional as F
    import sys
    T = sys.modules["fastdl.tensor"]
    inplace = dict(
        relu_=relu, sigmoid_=sigmoid, tanh_=tanh, clamp_=T.clip, clip_=T.clip,
        exp_=T.exp, log_=T.log, sqrt_=T.sqrt, abs_=T.abs, neg_=T.neg, square_=T.square,
        pow_=T.pow, masked_fill_=masked_fill, scatter_=scatter, scatter_add_=scatter_add,
        floor_=floor, ceil_=ceil, round_=round, sign_=sign, sin_=sin, cos_=cos,
        log1p_=log1p, expm1_=expm1, reciprocal_=reciprocal, rsqrt_=rsqrt, erf_=erf,
        tril_=tril, triu_=triu, maximum_=T.maximum, minimum_=T.minimum,
        leaky_relu_=F.leaky_relu, lerp_=lambda x, end, weight: x + weight * (end - x),
        addcmul_=lambda x, t1, t2, value=1: x + value * t1 * t2,
        addcdiv_=lambda x, t1, t2, value=1: x + value * t1 / t2,
        index_fill_=lambda x, dim, index, value: x.index_fill(dim, index, value),
    )
    for n, fn in inplace.items():
        setattr(Tensor, n, make_inplace(n, fn))

    def index_fill(self, dim, index, value):
        """A copy of self with ``value`` at the positions ``index`` along dim (torch.Tensor.index_fill)."""
        d = _dim(dim, self.ndim, "index_fill")
        idx = _index_array(index, "index_fill").reshape(-1)
        mask = np.zeros(self.shape[d], bool)
        mask[idx] = True
        mask = mask.reshape((-1,) + (1,) * (self.ndim - d - 1))
        return masked_fill(self, Tensor._wrap(np.broadcast_to(mask, self.shape)), value)
    Tensor.index_fill = index_fill
    Tensor.lerp = inplace["lerp_"]
    Tensor.addcmul = inplace["addcmul_"]
    Tensor.addcdiv = inplace["addcdiv_"]

    def _bitwise(fn, name):
        def op(self, other):
            o = other._data if isinstance(other, Tensor) else other
            if self._data.dtype.kind not in "biu" or (isinstance(o, np.ndarray)
                                                    and o.dtype.kind not in "biu"):
                raise TypeError("%s: only integer and bool tensors, got %s" % (name, self.dtype))
            return Tensor._wrap(np.asarray(fn(self._data, o)))
        op.__name__ = name
        return op
    for nm, fn in (("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor)):
        f = _bitwise(fn, "__%s__" % nm)
        setattr(Tensor, "__%s__" % nm, f)
        setattr(Tensor, "__r%s__" % nm, f)
        setattr(Tensor, "bitwise_%s" % nm, f)
        setattr(Tensor, "logical_%s" % nm,
                lambda self, other, fn=fn: Tensor._wrap(np.asarray(fn(
                    self._data.astype(bool), (other._data if isinstance(other, Tensor)
                                              else np.asarray(other)).astype(bool)))))

    def __invert__(self):
        if self._data.dtype.kind not in "biu":
            raise TypeError("__invert__: only integer and bool tensors, got %s" % self.dtype)
        return Tensor._wrap(np.invert(self._data))
    Tensor.__invert__ = __invert__
    Tensor.bitwise_not = __invert__
    Tensor.logical_not = lambda self: Tensor._wrap(~self._data.astype(bool))

    def __format__(self, spec):
        if self._data.size == 1 and self._data.ndim == 0:
            return format(self._data.item(), spec)
        if not spec:
            return repr(self)
        raise TypeError("unsupported format string passed to Tensor.__format__ (only 0-D "
                        "tensors take a format spec)")
    Tensor.__format__ = __format__


_install()
