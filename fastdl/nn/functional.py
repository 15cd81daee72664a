"""fastdl.nn.functional: PyTorch's functional names, argument order and defaults.

Usage: ``import fastdl.nn.functional as F``.

Every op runs a libfastdl kernel (csrc/nn) for its forward and its backward
through one Function of fastdl/autograd/_functions/nn.py, where the backward
rules live. Arguments are checked here; errors name the op, what was
expected and what came. Legacy PyTorch arguments
(``size_average``, ``reduce``) are accepted only as None.

Example:
    >>> import fastdl, fastdl.nn.functional as F
    >>> x = fastdl.randn(4, 10, requires_grad=True)
    >>> loss = F.cross_entropy(x, fastdl.tensor([1, 0, 9, 3]))
    >>> loss.backward()
"""
import numbers

import numpy as np

from fastdl import random as _random
from fastdl._intcheck import check_int64_range
from fastdl.autograd._functions import nn as _fn
from fastdl.tensor import Tensor, _promote

__all__ = [
    "linear", "conv1d", "conv2d",
    "relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softplus", "silu", "softmax",
    "log_softmax",
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "hinge_loss",
    "multi_margin_loss", "hinge_embedding_loss", "kl_div", "triplet_margin_loss",
    "cosine_embedding_loss",
    "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "batch_norm", "layer_norm", "dropout", "embedding",
]

# ---- helpers -------------------------------------------------------------------

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def _input(x, op, what="input"):
    """x as a float Tensor (float32 or float64)."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    dt = x._data.dtype
    if dt is not _F32 and dt is not _F64 and dt not in (np.float32, np.float64):
        raise TypeError("%s: expected %s of dtype float32 or float64, got %s"
                        % (op, what, x.dtype))
    return x


def _arr(x):
    return x._data if isinstance(x, Tensor) else (None if x is None else np.asarray(x))


def _like(x, dtype, op, what):
    """A float array of `dtype` from a Tensor/array/number (None stays None)."""
    a = _arr(x)
    if a is None:
        return None
    if a.dtype.kind not in "fiub":
        raise TypeError("%s: expected a numeric %s, got dtype %s" % (op, what, a.dtype))
    return np.asarray(a, dtype=dtype, order="C")     # 0-d stays 0-d


def _legacy(op, size_average, reduce):
    if size_average is not None or reduce is not None:
        raise ValueError("%s: size_average and reduce are deprecated in PyTorch and not "
                         "supported; use reduction='none'|'mean'|'sum'" % op)


def _check_reduction(op, reduction, extra=()):
    allowed = ("none", "mean", "sum") + tuple(extra)
    if reduction not in allowed:
        raise ValueError("%s: reduction must be one of %s, got %r"
                         % (op, ", ".join(repr(r) for r in allowed), reduction))


def _pair(v, op, what):
    if type(v) is int:              # the common case, without the ABC check below
        return v, v
    if isinstance(v, numbers.Integral):
        return int(v), int(v)
    v = tuple(v)
    if len(v) == 1:
        return int(v[0]), int(v[0])
    if len(v) != 2 or not all(isinstance(e, numbers.Integral) for e in v):
        raise ValueError("%s: %s must be an int or a pair of ints, got %r" % (op, what, v))
    return int(v[0]), int(v[1])


# ---- linear ---------------------------------------------------------------------------

def linear(input, weight, bias=None):
    """y = input @ weight.T + bias through one GEMM with a fused bias epilogue (torch.nn.functional.linear).

    Backward uses the transposed GEMM variants (no transposed copies).

    Args:
        input: the input.
        weight: (out_features, in_features).
        bias: (out_features,) or None.

    Shapes:
        input (*, in_features) -> output (*, out_features).

    Example:
        >>> y = F.linear(fastdl.randn(4, 3), fastdl.randn(5, 3), fastdl.zeros(5))
        >>> y.shape
        (4, 5)
    """
    return _linear(input, weight, bias, False)


def _linear(input, weight, bias, relu):
    """linear(input, weight, bias), then relu in the GEMM's epilogue when relu is True
    (one node; nn.Sequential's Linear + ReLU)."""
    if (isinstance(input, Tensor) and isinstance(weight, Tensor)
            and input._data.dtype == weight._data.dtype
            and (bias is None or (isinstance(bias, Tensor)
                                  and bias._data.dtype == weight._data.dtype))):
        x, w, b = input, weight, bias       # one dtype already: nothing to promote
    else:
        x, w = _promote(input, weight)
        b = None
        if bias is not None:
            x, b = _promote(x, bias)
            w = w.to(x.dtype)
    xd, wd = x._data, w._data
    if wd.ndim != 2:
        raise ValueError("linear: weight must be 2-D (out_features, in_features), got shape %s"
                         % (wd.shape,))
    if xd.ndim < 1 or xd.shape[-1] != wd.shape[1]:
        raise ValueError("linear: input shape %s does not match weight shape %s: expected "
                         "input (*, %d)" % (xd.shape, wd.shape, wd.shape[1]))
    if b is not None and b._data.shape != (wd.shape[0],):
        raise ValueError("linear: bias must have shape (%d,), got %s"
                         % (wd.shape[0], b._data.shape))
    return (_fn.LinearReLU if relu else _fn.Linear).apply(x, w, b)


# ---- activations -------------------------------------------------------------------

def _activation(name, x, p0=0.0, p1=0.0):
    return _fn.Activation.apply(_input(x, name), name, p0, p1)


def relu(input, inplace=False):
    """max(0, x) elementwise (torch.nn.functional.relu).

    Args:
        input: the tensor.
        inplace: accepted for PyTorch compatibility; the result is a new tensor.

    Shapes:
        input (*) -> output (*), same shape.

    Example:
        >>> F.relu(fastdl.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
    """
    return _activation("relu", input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x (torch.nn.functional.leaky_relu).

    Args:
        input: the tensor.
        negative_slope: slope for x < 0 (default 0.01).
        inplace: accepted for PyTorch compatibility; the result is a new tensor.

    Shapes:
        input (*) -> output (*), same shape.

    Example:
        >>> F.leaky_relu(fastdl.tensor([-1.0, 0.0, 2.0]), 0.1)
        tensor([-0.1,  0. ,  2. ])
    """
    return _activation("leaky_relu", input, float(negative_slope))


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x) - 1) (torch.nn.functional.elu).

    Args:
        input: the tensor.
        alpha: default 1.0.
        inplace: accepted for PyTorch compatibility; the result is a new tensor.

    Shapes:
        input (*) -> output (*), same shape.

    Example:
        >>> F.elu(fastdl.tensor([-1.0, 0.0, 2.0]))
        tensor([-0.6321,  0.    ,  2.    ])
    """
    return _activation("elu", input, float(alpha))


def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF (torch.nn.functional.gelu).

    Args:
        input: the tensor.
        approximate: 'none' (exact, erf) or 'tanh' (the tanh formula).

    Shapes:
        input (*) -> output (*), same shape.

    Example:
        >>> F.gelu(fastdl.tensor([-1.0, 0.0, 2.0]))
        tensor([-0.1587,  0.    ,  1.9545])
    """
    if approximate not in ("none", "tanh"):
        raise ValueError("gelu: approximate must be 'none' or 'tanh', got %r" % (approximate,))
    return _activation("gelu_tanh" if approximate == "tanh" else "gelu", input)


def sigmoid(input):
    """1 / (1 + exp(-x)), stable for large |x| (torch.sigmoid).

    Args:
        input: the tensor.

    Shapes:
        input (*) -> output (*), same shape.

    Example:
        >>> F.sigmoid(fastdl.tensor([-1.0, 0.0, 2.0]))
        tensor([0.2689, 0.5   , 0.8808])
    """
    return _activation("sigmoid", input)


def tanh(input):
    """The hyperbolic tangent elementwise (torch.tanh).

    Args:
        input: the tensor.

    Shapes:
        input (*) -> output (*), same shape.

    Example:
        >>> F.tanh(fastdl.tensor([-1.0, 0.0, 2.0]))
        tensor([-0.7616,  0.    ,  0.964 ])
    """
    return _activation("tanh", input)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta; linear where beta * x > threshold (torch.nn.functional.softplus).

    Args:
        input: the tensor.
        beta: default 1.0.
        threshold: default 20.0.

    Shapes:
        input (*) -> output (*), same shape.

    Example:
        >>> F.softplus(fastdl.tensor([-1.0, 0.0, 2.0]))
        tensor([0.3133, 0.6931, 2.1269])
    """
    if beta == 0:
        raise ValueError("softplus: beta must be nonzero")
    return _activation("softplus", input, float(beta), float(threshold))


def silu(input, inplace=False):
    """x * sigmoid(x), the swish (torch.nn.functional.silu).

    Args:
        input: the tensor.
        inplace: accepted for PyTorch compatibility; the result is a new tensor.

    Shapes:
        input (*) -> output (*), same shape.

    Example:
        >>> F.silu(fastdl.tensor([-1.0, 0.0, 2.0]))
        tensor([-0.2689,  0.    ,  1.7616])
    """
    return _activation("silu", input)


def _softmax_dim(op, ndim, dim):
    if dim is None:
        # PyTorch's legacy implicit choice
        dim = 0 if ndim in (0, 1, 3) else 1
    nd = max(ndim, 1)
    if not -nd <= dim < nd:
        raise ValueError("%s: dim %d is out of range for a %d-d input" % (op, dim, ndim))
    return dim % nd


def _softmax(op, input, dim, dtype, log):
    x = _input(input, op)
    if dtype is not None:
        x = x.to(np.dtype(dtype))
    d = _softmax_dim(op, x.ndim, dim)
    shape = x.shape if x.ndim else (1,)
    outer, n = int(np.prod(shape[:d])), shape[d]
    inner = int(np.prod(shape[d + 1:]))
    return _fn.Softmax.apply(x, outer, n, inner, log)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along dim, computed stably with the max subtracted (torch.softmax).

    Args:
        input: the tensor.
        dim: the dim to normalize; give it explicitly.
        dtype: cast the input to this dtype first.

    Shapes:
        input (*) -> output (*), same shape.

    Example:
        >>> F.softmax(fastdl.tensor([1.0, 2.0, 3.0]), dim=0)
        tensor([0.09  , 0.2447, 0.6652])
    """
    return _softmax("softmax", input, dim, dtype, False)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - logsumexp(x) along dim (torch.log_softmax).

    Args:
        input: the tensor.
        dim: the dim to normalize; give it explicitly.
        dtype: cast the input to this dtype first.

    Shapes:
        input (*) -> output (*), same shape.

    Example:
        >>> F.log_softmax(fastdl.tensor([[1.0, 2.0, 3.0]]), dim=-1)
        tensor([[-2.4076, -1.4076, -0.4076]])
    """
    return _softmax("log_softmax", input, dim, dtype, True)


# ---- pointwise losses ---------------------------------------------------------------

_NAN_CHECK = ("hinge_loss", "hinge_embedding_loss", "kl_div")    # kernels with max(0, .) or y log y


def _pointwise_loss(name, input, target, reduction, p0=0.0, ip=0, weight=None,
                    pos_weight=None, target_grad=False, count=None):
    x = _input(input, name)
    tshape = _arr(target).shape
    if tshape != x.shape:
        raise ValueError("%s: target shape %s must match input shape %s"
                         % (name, tuple(tshape), x.shape))
    dt = x.dtype
    y = _like(target, dt, name, "target")

    def full(w, what):
        if w is None:
            return None
        w = _like(w, dt, name, what)
        try:
            return np.array(np.broadcast_to(w, x.shape), order="C")
        except ValueError:
            raise ValueError("%s: %s of shape %s cannot be broadcast to the input shape %s"
                             % (name, what, w.shape, x.shape)) from None
    w, pw = full(weight, "weight"), full(pos_weight, "pos_weight")
    tt = target if (target_grad and isinstance(target, Tensor)) else None
    return _fn.PointwiseLoss.apply(x, tt, y, w, pw, name, p0, ip, reduction, count,
                                   name in _NAN_CHECK)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (x - y)^2 (torch.nn.functional.mse_loss).

    Args:
        input: predictions.
        target: same shape.
        size_average, reduce: PyTorch's deprecated arguments, accepted and mapped to reduction.
        reduction: 'mean' (default), 'sum' or 'none'.
        weight: optional elementwise weight.

    Shapes:
        input (*), target (*) same shape -> scalar, or (*) with reduction='none'.

    Example:
        >>> F.mse_loss(fastdl.tensor([1.0, 2.0, 3.0]), fastdl.tensor([1.0, 0.0, 0.0]))
        tensor(4.3333)
    """
    _legacy("mse_loss", size_average, reduce)
    _check_reduction("mse_loss", reduction)
    if weight is not None:
        raise ValueError("mse_loss: weight is not supported")
    return _pointwise_loss("mse_loss", input, target, reduction,
                           target_grad=True)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean absolute error |x - y| (torch.nn.functional.l1_loss).

    Args:
        input: predictions.
        target: same shape.
        size_average, reduce: PyTorch's deprecated arguments, accepted and mapped to reduction.
        reduction: 'mean' (default), 'sum' or 'none'.

    Shapes:
        input (*), target (*) same shape -> scalar, or (*) with reduction='none'.

    Example:
        >>> F.l1_loss(fastdl.tensor([1.0, 2.0, 3.0]), fastdl.tensor([1.0, 0.0, 0.0]))
        tensor(1.6667)
    """
    _legacy("l1_loss", size_average, reduce)
    _check_reduction("l1_loss", reduction)
    return _pointwise_loss("l1_loss", input, target, reduction,
                           target_grad=True)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| <= delta, else delta * (|d| - delta / 2); d = x - y (torch.nn.functional.huber_loss).

    Args:
        input: predictions.
        target: same shape.
        reduction: 'mean' (default), 'sum' or 'none'.
        delta: default 1.0.

    Shapes:
        input (*), target (*) same shape -> scalar, or (*) with reduction='none'.

    Example:
        >>> F.huber_loss(fastdl.tensor([1.0, 2.0, 3.0]), fastdl.tensor([1.0, 0.0, 0.0]))
        tensor(1.3333)
    """
    _check_reduction("huber_loss", reduction)
    if delta <= 0:
        raise ValueError("huber_loss: delta must be positive, got %r" % (delta,))
    return _pointwise_loss("huber_loss", input, target, reduction,
                           p0=float(delta), target_grad=True)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - beta / 2 (torch.nn.functional.smooth_l1_loss).

    Args:
        input: predictions.
        target: same shape.
        size_average, reduce: PyTorch's deprecated arguments, accepted and mapped to reduction.
        reduction: 'mean' (default), 'sum' or 'none'.
        beta: default 1.0.

    Shapes:
        input (*), target (*) same shape -> scalar, or (*) with reduction='none'.

    Example:
        >>> F.smooth_l1_loss(fastdl.tensor([1.0, 2.0, 3.0]), fastdl.tensor([1.0, 0.0, 0.0]), beta=0.5)
        tensor(1.5)
    """
    _legacy("smooth_l1_loss", size_average, reduce)
    _check_reduction("smooth_l1_loss", reduction)
    if beta < 0:
        raise ValueError("smooth_l1_loss: beta must be >= 0, got %r" % (beta,))
    return _pointwise_loss("smooth_l1_loss", input, target, reduction,
                           p0=float(beta), target_grad=True)


def _check_unit_interval(op, what, a):
    a = np.asarray(a)
    if a.size and (a.min() < 0 or a.max() > 1):
        raise ValueError("%s: all elements of %s should be between 0 and 1, got values in "
                         "[%g, %g]" % (op, what, float(a.min()), float(a.max())))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-w (y log x + (1 - y) log(1 - x)), logs clamped at -100 like PyTorch (torch.nn.functional.binary_cross_entropy).

    Args:
        input: probabilities in [0, 1] (ValueError otherwise).
        target: in [0, 1], same shape.
        weight: optional, broadcast against input.
        size_average, reduce: PyTorch's deprecated arguments, accepted and mapped to reduction.
        reduction: 'mean' (default), 'sum' or 'none'.

    Shapes:
        input (*), target (*) same shape -> scalar, or (*) with reduction='none'.

    Example:
        >>> F.binary_cross_entropy(fastdl.tensor([0.8, 0.4]), fastdl.tensor([1.0, 0.0]))
        tensor(0.367)
    """
    op = "binary_cross_entropy"
    _legacy(op, size_average, reduce)
    _check_reduction(op, reduction)
    x = _input(input, op)
    _check_unit_interval(op, "input", x._data)
    _check_unit_interval(op, "target", _arr(target))
    return _pointwise_loss(op, x, target, reduction,
                           weight=weight)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Sigmoid and binary cross-entropy in one stable formula (torch.nn.functional.binary_cross_entropy_with_logits).

    Args:
        input: logits.
        target: in [0, 1], same shape.
        weight: optional, broadcast against input.
        size_average, reduce: PyTorch's deprecated arguments, accepted and mapped to reduction.
        reduction: 'mean' (default), 'sum' or 'none'.
        pos_weight: weight of the positive term, broadcast over the last dim.

    Shapes:
        input (*), target (*) same shape -> scalar, or (*) with reduction='none'.

    Example:
        >>> F.binary_cross_entropy_with_logits(fastdl.tensor([2.0, -1.0]), fastdl.tensor([1.0, 0.0]))
        tensor(0.2201)
        >>> F.binary_cross_entropy_with_logits(fastdl.tensor([2.0, -1.0]), fastdl.tensor([1.0, 0.0]),
        ...                                    pos_weight=fastdl.tensor([2.0]))
        tensor(0.2836)
    """
    op = "binary_cross_entropy_with_logits"
    _legacy(op, size_average, reduce)
    _check_reduction(op, reduction)
    return _pointwise_loss(op, input, target,
                           reduction, weight=weight, pos_weight=pos_weight)


def _check_pm1(op, target):
    t = np.asarray(_arr(target))
    if t.size and not np.isin(t, (-1, 1)).all():
        raise ValueError("%s: target values must be -1 or 1, got %s"
                         % (op, np.unique(t)[:6].tolist()))


def hinge_loss(input, target, reduction="mean"):
    """SVM hinge max(0, 1 - y f(x)) for targets y in {-1, +1} (fastdl's own; not in PyTorch).

    Args:
        input: scores f(x).
        target: -1 or +1, same shape.
        reduction: 'mean' (default), 'sum' or 'none'.

    Shapes:
        input (*), target (*) same shape -> scalar, or (*) with reduction='none'.

    Example:
        >>> F.hinge_loss(fastdl.tensor([0.5, -2.0]), fastdl.tensor([1.0, -1.0]))
        tensor(0.25)
    """
    _check_reduction("hinge_loss", reduction)
    _check_pm1("hinge_loss", target)
    return _pointwise_loss("hinge_loss", input, target, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1 (torch.nn.functional.hinge_embedding_loss).

    Args:
        input: often distances.
        target: -1 or +1, same shape.
        margin: default 1.0.
        size_average, reduce: PyTorch's deprecated arguments, accepted and mapped to reduction.
        reduction: 'mean' (default), 'sum' or 'none'.

    Shapes:
        input (*), target (*) same shape -> scalar, or (*) with reduction='none'.

    Example:
        >>> F.hinge_embedding_loss(fastdl.tensor([0.3, 0.2]), fastdl.tensor([1.0, -1.0]))
        tensor(0.55)
    """
    _legacy("hinge_embedding_loss", size_average, reduce)
    _check_reduction("hinge_embedding_loss", reduction)
    _check_pm1("hinge_embedding_loss", target)
    return _pointwise_loss("hinge_embedding_loss", input,
                           target, reduction, p0=float(margin))


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL divergence with input given as log-probabilities: y (log y - x) (torch.nn.functional.kl_div).

    Args:
        input: log-probabilities.
        target: probabilities (or log-probabilities with log_target).
        size_average, reduce: PyTorch's deprecated arguments, accepted and mapped to reduction.
        reduction: 'mean' (default; divides by the number of elements, as PyTorch), 'batchmean' (divides the sum by the batch size: the true KL), 'sum' or 'none'.
        log_target: the target is given as log-probabilities (default False).

    Shapes:
        input (*), target (*) same shape -> scalar, or (*) with reduction='none'.

    Example:
        >>> logp = F.log_softmax(fastdl.tensor([[1.0, 2.0, 3.0]]), dim=1)
        >>> F.kl_div(logp, fastdl.tensor([[0.2, 0.3, 0.5]]), reduction='batchmean')
        tensor(0.078)
    """
    _legacy("kl_div", size_average, reduce)
    _check_reduction("kl_div", reduction, ("batchmean",))
    x = _input(input, "kl_div")
    red, count = reduction, None
    if reduction == "batchmean":
        red, count = "mean", (x.shape[0] if x.ndim else 1)
    return _pointwise_loss("kl_div", x, target, red, ip=int(bool(log_target)),
                           count=count)


# ---- class losses --------------------------------------------------------------------

def _same(d):
    return d


def _class_rows(op, x, target, prob):
    """x as rows [M, C] (class dim 1 moved last) and the target flattened to match."""
    xs = x._data.shape          # plain tuples: Tensor.shape would build a Size per use
    nd = len(xs)
    if nd == 0:
        raise ValueError("%s: input must have at least 1 dim, got a 0-d tensor" % op)
    t = _arr(target)
    if nd == 1:
        C = xs[0]
        rows = x._data.reshape(1, C)
        tshape = (C,) if prob else ()
        back = lambda d: d.reshape(C)  # noqa: E731
        out_shape = ()
    elif nd == 2:                     # (N, C): the rows already, no axis to move
        C = xs[1]
        rows = np.ascontiguousarray(x._data)
        tshape = xs if prob else (xs[0],)
        back = _same
        out_shape = (xs[0],)
    else:
        C = xs[1]
        moved = np.moveaxis(x._data, 1, -1)
        rows = np.ascontiguousarray(moved).reshape(-1, C)
        tshape = xs if prob else (xs[0],) + xs[2:]
        mshape = moved.shape
        back = lambda d: np.ascontiguousarray(np.moveaxis(d.reshape(mshape), -1, 1))  # noqa
        out_shape = (xs[0],) + xs[2:]
    if t.shape != tshape:
        raise ValueError("%s: expected target of shape %s for input of shape %s, got %s"
                         % (op, tuple(tshape), x.shape, tuple(t.shape)))
    if prob:
        tr = np.ascontiguousarray(np.moveaxis(t, 1, -1) if t.ndim > 2 else t,
                                  dtype=x.dtype).reshape(-1, C)
    else:
        check_int64_range(t, op, "target class index", ValueError)
        tr = np.ascontiguousarray(t, dtype=np.int64).reshape(-1)
    return rows, tr, C, back, out_shape


def _check_classes(op, t, C, ignore_index):
    bad = (t != ignore_index) & ((t < 0) | (t >= C))
    if bad.any():
        raise ValueError("%s: target class index %d is out of range [0, %d) (ignore_index=%d)"
                         % (op, int(t[bad][0]), C, ignore_index))


def _class_weight(op, weight, C, dtype):
    if weight is None:
        return None
    w = _like(weight, dtype, op, "weight").reshape(-1)
    if w.size != C:
        raise ValueError("%s: weight must have C = %d elements, got shape %s"
                         % (op, C, _arr(weight).shape))
    return w


def _int_target(op, target):
    t = _arr(target)
    if t.dtype.kind not in "iu":
        raise TypeError("%s: expected integer class indices as target, got dtype %s"
                        % (op, t.dtype))


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Fused log_softmax + nll_loss over the class dim (torch.nn.functional.cross_entropy).

    Args:
        input: raw logits; the class dim is dim 1 (dim 0 for 1-d input).
        target: integer class indices (input's shape without the class dim), or class probabilities shaped like input.
        weight: optional (C,) weight per class.
        size_average, reduce: PyTorch's deprecated arguments, accepted and mapped to reduction.
        ignore_index: a target value that contributes nothing (default -100).
        reduction: 'mean' (default), 'sum' or 'none'.
        label_smoothing: in [0, 1], mixes the target with the uniform distribution (default 0.0).

    Shapes:
        input (N, C) or (N, C, d1, ...); target (N) or (N, d1, ...) -> scalar, or (N, ...) with reduction='none'.

    Example:
        >>> logits = fastdl.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
        >>> F.cross_entropy(logits, fastdl.tensor([0, 2]))
        tensor(0.1755)
        >>> F.cross_entropy(logits, fastdl.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))   # probabilities
        tensor(0.1755)
    """
    op = "cross_entropy"
    _legacy(op, size_average, reduce)
    _check_reduction(op, reduction)
    x = _input(input, op)
    t = _arr(target)
    if t.dtype.kind not in "iuf":
        raise TypeError("%s: target must hold integer class indices or float probabilities, "
                        "got dtype %s" % (op, t.dtype))
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError("%s: label_smoothing must be in [0, 1], got %r" % (op, label_smoothing))
    prob = t.dtype.kind == "f"
    rows, tr, C, back, out_shape = _class_rows(op, x, target, prob)
    w = _class_weight(op, weight, C, x.dtype)
    if prob:
        count = rows.shape[0]
    elif w is None and tr.size and tr.view(np.uint64).max() < C and \
            not 0 <= ignore_index < C:
        # every index in range and none ignored: one reduction (tr is int64 and contiguous;
        # a negative index seen as unsigned is at least 2**63, out of range as well)
        count = tr.size
    else:
        _check_classes(op, tr, C, ignore_index)
        valid = tr != ignore_index
        count = (float(w[tr[valid]].sum(dtype=np.float64)) if w is not None
                 else int(valid.sum()))
    return _fn.CrossEntropy.apply(x, rows, tr, w, ignore_index, label_smoothing, reduction,
                                  count, out_shape, back)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood -w[t] * x[t] of log-probabilities (torch.nn.functional.nll_loss).

    Args:
        input: log-probabilities (N, C).
        target: class indices (N).
        weight: optional (C,) weight per class.
        size_average, reduce: PyTorch's deprecated arguments, accepted and mapped to reduction.
        ignore_index: a target value that contributes nothing (default -100).
        reduction: 'mean' (default), 'sum' or 'none'.

    Shapes:
        input (N, C), target (N) -> scalar, or (N) with reduction='none'.

    Example:
        >>> logp = F.log_softmax(fastdl.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]]), dim=1)
        >>> F.nll_loss(logp, fastdl.tensor([0, 2]))
        tensor(0.1755)
    """
    op = "nll_loss"
    _legacy(op, size_average, reduce)
    _check_reduction(op, reduction)
    x = _input(input, op)
    _int_target(op, target)
    rows, tr, C, back, out_shape = _class_rows(op, x, target, False)
    w = _class_weight(op, weight, C, x.dtype)
    _check_classes(op, tr, C, ignore_index)
    valid = tr != ignore_index
    count = float(w[tr[valid]].sum(dtype=np.float64)) if w is not None else int(valid.sum())
    return _fn.NllLoss.apply(x, rows, tr, w, ignore_index, reduction, count, out_shape, back)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """Multi-class hinge: sum over c != y of max(0, margin - x[y] + x[c])^p / C (torch.nn.functional.multi_margin_loss).

    Args:
        input: scores (N, C).
        target: class indices (N).
        p: 1 or 2 (default 1).
        margin: default 1.0.
        weight: optional (C,) weight per class.
        size_average, reduce: PyTorch's deprecated arguments, accepted and mapped to reduction.
        reduction: 'mean' (default), 'sum' or 'none'.

    Shapes:
        input (N, C), target (N) -> scalar, or (N) with reduction='none'.

    Example:
        >>> F.multi_margin_loss(fastdl.tensor([[0.1, 0.2, 0.4, 0.8]]), fastdl.tensor([3]))
        tensor(0.325)
    """
    op = "multi_margin_loss"
    _legacy(op, size_average, reduce)
    _check_reduction(op, reduction)
    if p not in (1, 2):
        raise ValueError("%s: only p == 1 and p == 2 are supported, got %r" % (op, p))
    x = _input(input, op)
    if x.ndim not in (1, 2):
        raise ValueError("%s: expected 1-d or 2-d input, got shape %s" % (op, x.shape))
    _int_target(op, target)
    rows, tr, C, back, out_shape = _class_rows(op, x, target, False)
    _check_classes(op, tr, C, -(1 << 62))
    w = _class_weight(op, weight, C, x.dtype)
    return _fn.MultiMarginLoss.apply(x, rows, tr, w, int(p), float(margin), reduction,
                                     out_shape, back)


def _pair_rows(op, tensors, names):
    ts = [_input(t, op, n) for t, n in zip(tensors, names)]
    shape = ts[0].shape
    for t, n in zip(ts[1:], names[1:]):
        if t.shape != shape:
            raise ValueError("%s: %s shape %s must match %s shape %s"
                             % (op, n, t.shape, names[0], shape))
        if t.dtype != ts[0].dtype:
            raise TypeError("%s: %s dtype %s must match %s dtype %s"
                            % (op, n, t.dtype, names[0], ts[0].dtype))
    if len(shape) not in (1, 2):
        raise ValueError("%s: expected 1-d or 2-d inputs, got shape %s" % (op, shape))
    return ts, [np.ascontiguousarray(t._data).reshape(-1, shape[-1]) for t in ts]


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, d(a, p) - d(a, n) + margin) with d(u, v) = ||u - v + eps||_p (torch.nn.functional.triplet_margin_loss).

    Args:
        anchor: (N, D).
        positive: (N, D).
        negative: (N, D).
        margin: default 1.0.
        p: the norm degree (default 2).
        eps: default 1e-6.
        swap: use min(d(a, n), d(p, n)) (default False).
        size_average, reduce: PyTorch's deprecated arguments, accepted and mapped to reduction.
        reduction: 'mean' (default), 'sum' or 'none'.

    Shapes:
        (N, D) each -> scalar, or (N) with reduction='none'.

    Example:
        >>> F.triplet_margin_loss(fastdl.tensor([[0.0, 0.0]]), fastdl.tensor([[0.0, 1.0]]), fastdl.tensor([[3.0, 4.0]]))
        tensor(0.)
    """
    op = "triplet_margin_loss"
    _legacy(op, size_average, reduce)
    _check_reduction(op, reduction)
    if p <= 0:
        raise ValueError("%s: p must be positive, got %r" % (op, p))
    ts, (a, po, ne) = _pair_rows(op, (anchor, positive, negative),
                                 ("anchor", "positive", "negative"))
    return _fn.TripletMarginLoss.apply(ts[0], ts[1], ts[2], a, po, ne, float(margin), float(p),
                                       float(eps), bool(swap), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1 (torch.nn.functional.cosine_embedding_loss).

    Args:
        input1: (N, D).
        input2: (N, D).
        target: -1 or +1, (N).
        margin: default 0.
        size_average, reduce: PyTorch's deprecated arguments, accepted and mapped to reduction.
        reduction: 'mean' (default), 'sum' or 'none'.

    Shapes:
        input1, input2 (N, D), target (N) -> scalar, or (N) with reduction='none'.

    Example:
        >>> F.cosine_embedding_loss(fastdl.tensor([[1.0, 0.0]]), fastdl.tensor([[0.0, 1.0]]), fastdl.tensor([1.0]))
        tensor(1.)
    """
    op = "cosine_embedding_loss"
    _legacy(op, size_average, reduce)
    _check_reduction(op, reduction)
    ts, (a, b) = _pair_rows(op, (input1, input2), ("input1", "input2"))
    y = _arr(target)
    want = (a.shape[0],) if ts[0].ndim == 2 else ()
    if tuple(y.shape) != want:
        raise ValueError("%s: expected target of shape %s for inputs of shape %s, got %s"
                         % (op, want, ts[0].shape, tuple(y.shape)))
    _check_pm1(op, y)
    y = _like(y, a.dtype, op, "target").reshape(-1)
    return _fn.CosineEmbeddingLoss.apply(ts[0], ts[1], a, b, y, float(margin), reduction)


# ---- pooling ----------------------------------------------------------------------------

def _pool_input(op, input):
    x = _input(input, op)
    if x.ndim not in (3, 4):
        raise ValueError("%s: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got shape %s"
                         % (op, x.shape))
    if 0 in x.shape[-2:]:     # (padding could give windows, but no value to pool: PyTorch refuses)
        raise ValueError("%s: expected an input with non-zero H and W, got shape %s"
                         % (op, x.shape))
    return x


def _pool_out(op, L, k, s, p, d, ceil, in_shape, axis):
    if k <= 0 or s <= 0 or p < 0 or d <= 0:
        raise ValueError("%s: kernel_size, stride and dilation must be positive and padding "
                         ">= 0, got kernel_size=%d stride=%d padding=%d dilation=%d"
                         % (op, k, s, p, d))
    eff = d * (k - 1) + 1
    if 2 * p > eff:
        raise ValueError("%s: padding should be at most half of the effective kernel size, "
                         "got padding=%d with kernel_size=%d dilation=%d" % (op, p, k, d))
    num = L + 2 * p - eff
    if num < 0:
        raise ValueError("%s: kernel (effective size %d) is larger than the padded input "
                         "(%s %d + 2*%d) for input of shape %s" % (op, eff, axis, L, p, in_shape))
    o = (-(-num // s) if ceil else num // s) + 1
    if ceil and (o - 1) * s >= L + p:
        o -= 1
    return o


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over (H, W) (torch.nn.functional.max_pool2d).

    A window entirely in the padding (dilation, ceil_mode) gives -inf and index -1.

    Args:
        input: (N, C, H, W).
        kernel_size: an int or a pair.
        stride: default kernel_size.
        padding: implicit -inf padding (default 0).
        dilation: default 1.
        ceil_mode: round the output size up (default False).
        return_indices: also return the flat h * W + w position of each max.

    Shapes:
        (N, C, H, W) -> (N, C, H_out, W_out), H_out = (H + 2 * padding - dilation * (k - 1) - 1) // stride + 1.

    Example:
        >>> out, idx = F.max_pool2d(fastdl.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
        >>> out
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
        >>> idx.tolist()
        [[[[5, 7], [13, 15]]]]
    """
    x, OH, OW, geom = _max_pool2d_geometry(input, kernel_size, stride, padding, dilation,
                                           ceil_mode)
    if return_indices or geom[0] * geom[1] > _WIN_MAX_KERNEL:
        out, indices = _fn.MaxPool2d.apply(x, OH, OW, *geom)
        return (out, indices) if return_indices else out
    return _fn.MaxPool2dWin.apply(x, OH, OW, geom, False)


# a window of at most this many elements keeps its argmax in one byte (fastdl/_C/nn.pyx)
_WIN_MAX_KERNEL = 255


def _max_pool2d_relu(input, kernel_size, stride, padding, dilation, ceil_mode):
    """relu(max_pool2d(input)), which equals max_pool2d(relu(input)) in values and gradients:
    the node nn.Sequential builds for ReLU followed by MaxPool2d (ReLU on the pooled output,
    its backward mask folded into the pool's argmax). None when the window is too large for
    the compact argmax (the caller then runs the two modules)."""
    x, OH, OW, geom = _max_pool2d_geometry(input, kernel_size, stride, padding, dilation,
                                           ceil_mode)
    if geom[0] * geom[1] > _WIN_MAX_KERNEL:
        return None
    return _fn.MaxPool2dWin.apply(x, OH, OW, geom, True)


def _max_pool2d_geometry(input, kernel_size, stride, padding, dilation, ceil_mode):
    """(x, OH, OW, (kh, kw, sh, sw, ph, pw, dh, dw)) of a max_pool2d call, arguments checked."""
    op = "max_pool2d"
    x = _pool_input(op, input)
    kh, kw = _pair(kernel_size, op, "kernel_size")
    sh, sw = _pair(kernel_size if stride is None or stride == [] else stride, op, "stride")
    ph, pw = _pair(padding, op, "padding")
    dh, dw = _pair(dilation, op, "dilation")
    H, W = x.shape[-2:]
    OH = _pool_out(op, H, kh, sh, ph, dh, ceil_mode, x.shape, "H")
    OW = _pool_out(op, W, kw, sw, pw, dw, ceil_mode, x.shape, "W")
    return x, OH, OW, (kh, kw, sh, sw, ph, pw, dh, dw)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over (H, W) (torch.nn.functional.avg_pool2d).

    Args:
        input: (N, C, H, W).
        kernel_size: an int or a pair.
        stride: default kernel_size.
        padding: zero padding (default 0).
        ceil_mode: round the output size up (default False).
        count_include_pad: count padded zeros in the divisor (default True).

    Shapes:
        (N, C, H, W) -> (N, C, H_out, W_out), H_out = (H + 2 * padding - k) // stride + 1.

    Example:
        >>> F.avg_pool2d(fastdl.arange(16.0).reshape(1, 1, 4, 4), 2)
        tensor([[[[ 2.5,  4.5],
                  [10.5, 12.5]]]])
    """
    op = "avg_pool2d"
    if divisor_override is not None:
        raise ValueError("avg_pool2d: divisor_override is not supported")
    x = _pool_input(op, input)
    kh, kw = _pair(kernel_size, op, "kernel_size")
    sh, sw = _pair(kernel_size if stride is None or stride == [] else stride, op, "stride")
    ph, pw = _pair(padding, op, "padding")
    H, W = x.shape[-2:]
    OH = _pool_out(op, H, kh, sh, ph, 1, ceil_mode, x.shape, "H")
    OW = _pool_out(op, W, kw, sw, pw, 1, ceil_mode, x.shape, "W")
    cip = bool(count_include_pad)
    return _fn.AvgPool2d.apply(x, OH, OW, kh, kw, sh, sw, ph, pw, cip)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size; output_size=1 is global average pooling (torch.nn.functional.adaptive_avg_pool2d).

    Args:
        input: (N, C, H, W).
        output_size: (H_out, W_out) or one int.

    Shapes:
        (N, C, H, W) -> (N, C, H_out, W_out).

    Example:
        >>> F.adaptive_avg_pool2d(fastdl.arange(16.0).reshape(1, 1, 4, 4), 1)
        tensor([[[[7.5]]]])
    """
    op = "adaptive_avg_pool2d"
    x = _pool_input(op, input)
    H, W = x.shape[-2:]
    if isinstance(output_size, numbers.Integral):
        oh = ow = int(output_size)
    else:
        oh, ow = tuple(output_size)
        oh = H if oh is None else int(oh)
        ow = W if ow is None else int(ow)
    if oh <= 0 or ow <= 0:
        raise ValueError("%s: output_size must be positive, got %r" % (op, output_size))
    if H == 0 or W == 0:
        raise ValueError("%s: input of shape %s has an empty spatial dim" % (op, x.shape))
    return _fn.AdaptiveAvgPool2d.apply(x, oh, ow)


# ---- normalization -----------------------------------------------------------------------

def _param(op, p, n, dtype, what):
    if p is None:
        return None
    if not isinstance(p, Tensor):
        p = Tensor(np.asarray(p, dtype=dtype))
    if p.numel() != n:
        raise ValueError("%s: %s should contain %d elements (the channel count), got shape %s"
                         % (op, what, n, p.shape))
    if p.dtype != dtype:
        raise TypeError("%s: %s dtype %s must match the input dtype %s" % (op, what, p.dtype, dtype))
    return p


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-05):
    """Batch normalization over (N, C) or (N, C, *) input, per channel C (torch.nn.functional.batch_norm).

    Args:
        input: (N, C, *).
        running_mean: (C,) or None; updated in place when training.
        running_var: (C,) or None; updated in place with the unbiased batch variance.
        weight: per-channel scale (C,) or None.
        bias: per-channel shift (C,) or None.
        training: use the batch statistics (True) or the running ones (False, default).
        momentum: weight of the batch in the running statistics (default 0.1).
        eps: added to the variance (default 1e-5).

    Shapes:
        input (N, C, *) -> output, same shape.

    Example:
        >>> x = fastdl.tensor([[1.0, 2.0], [3.0, 6.0]])
        >>> mean, var = fastdl.zeros(2), fastdl.ones(2)
        >>> F.batch_norm(x, mean, var, training=True)
        tensor([[-1., -1.],
                [ 1.,  1.]])
        >>> mean, var
        (tensor([0.2, 0.4]), tensor([1.1, 1.7]))
    """
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps,
                       False)


def _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps, relu):
    """batch_norm, followed by relu in the same kernel pass when relu is true (the node
    nn.Sequential builds for BatchNorm1d/2d followed by ReLU)."""
    op = "batch_norm"
    x = _input(input, op)
    if x.ndim < 2:
        raise ValueError("%s: expected input with at least 2 dims (N, C, ...), got shape %s"
                         % (op, x.shape))
    C = x.shape[1]
    if momentum is None:
        raise ValueError("%s: momentum=None (cumulative average) is not supported" % op)
    stats = []
    for r, what in ((running_mean, "running_mean"), (running_var, "running_var")):
        if r is None:
            stats.append(None)
            continue
        a = r._data if isinstance(r, Tensor) else r
        if not isinstance(a, np.ndarray):
            raise TypeError("%s: %s must be a Tensor or ndarray, got %s" % (op, what, type(r).__name__))
        if a.size != C:
            raise ValueError("%s: %s should contain %d elements (input channels, input shape "
                             "%s), got shape %s" % (op, what, C, x.shape, a.shape))
        if a.dtype != x.dtype:
            raise TypeError("%s: %s dtype %s must match the input dtype %s"
                            % (op, what, a.dtype, x.dtype))
        stats.append(a)
    if not training and (stats[0] is None or stats[1] is None):
        raise ValueError("%s: running_mean and running_var are required when training=False"
                         % op)
    if training and x.numel() // C <= 1:
        raise ValueError("%s: expected more than 1 value per channel when training, got input "
                         "of shape %s" % (op, x.shape))
    w = _param(op, weight, C, x.dtype, "weight")
    b = _param(op, bias, C, x.dtype, "bias")
    out, _, _ = _fn.BatchNorm.apply(x, w, b, stats[0], stats[1], bool(training),
                                    float(momentum), float(eps), bool(relu))
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalize over the trailing normalized_shape dims, then scale and shift (torch.nn.functional.layer_norm).

    Args:
        input: (*, *normalized_shape).
        normalized_shape: the trailing shape to normalize over.
        weight: scale of shape normalized_shape, or None.
        bias: shift of shape normalized_shape, or None.
        eps: added to the variance (default 1e-5).

    Shapes:
        output, same shape as input.

    Example:
        >>> F.layer_norm(fastdl.tensor([[1.0, 2.0, 3.0, 4.0]]), (4,))
        tensor([[-1.3416, -0.4472,  0.4472,  1.3416]])
    """
    op = "layer_norm"
    x = _input(input, op)
    ns = (int(normalized_shape),) if isinstance(normalized_shape, numbers.Integral) \
        else tuple(int(s) for s in normalized_shape)
    if len(ns) == 0 or len(ns) > x.ndim or tuple(x.shape[x.ndim - len(ns):]) != ns:
        raise ValueError("%s: normalized_shape %s must match the trailing dims of the input "
                         "shape %s" % (op, ns, x.shape))
    D = int(np.prod(ns))
    for p, what in ((weight, "weight"), (bias, "bias")):
        if p is not None and tuple(_arr(p).shape) != ns:
            raise ValueError("%s: %s shape %s must equal normalized_shape %s"
                             % (op, what, tuple(_arr(p).shape), ns))
    w = _param(op, weight, D, x.dtype, "weight")
    b = _param(op, bias, D, x.dtype, "bias")
    return _fn.LayerNorm.apply(x, w, b, D, float(eps))


# ---- dropout, embedding --------------------------------------------------------------------

def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (torch.nn.functional.dropout).

    The mask comes from fastdl's counter-based generator: it depends on the seed
    (fastdl.manual_seed) and the call, never on the thread count. Identity when
    training=False or p == 0.

    Args:
        input: the tensor.
        p: the drop probability in [0, 1] (default 0.5).
        training: apply dropout (default True); False is the identity.
        inplace: accepted for PyTorch compatibility; the result is a new tensor.

    Shapes:
        input (*) -> output (*), same shape.

    Example:
        >>> fastdl.manual_seed(0)
        >>> F.dropout(fastdl.ones(8), p=0.5)
        tensor([2., 0., 0., 0., 0., 2., 0., 2.])
        >>> F.dropout(fastdl.ones(3), p=0.5, training=False)
        tensor([1., 1., 1.])
    """
    op = "dropout"
    if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError("%s: dropout probability has to be between 0 and 1, but got %r"
                         % (op, p))
    x = _input(input, op)
    if not training or p == 0.0:
        return x
    seed, stream = _random.next_key()
    return _fn.Dropout.apply(x, float(p), seed, stream)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of weight at integer indices; padding_idx rows get no gradient (torch.nn.functional.embedding).

    Args:
        input: integer indices (*).
        weight: the table (V, D).
        padding_idx: an index whose row gets no gradient.
        max_norm, norm_type, scale_grad_by_freq, sparse: not supported (an error if set).

    Shapes:
        input (*) -> output (*, D).

    Example:
        >>> table = fastdl.arange(12.0).reshape(4, 3)
        >>> F.embedding(fastdl.tensor([[0, 3]]), table)
        tensor([[[ 0.,  1.,  2.],
                 [ 9., 10., 11.]]])
    """
    op = "embedding"
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise ValueError("%s: max_norm, scale_grad_by_freq and sparse are not supported" % op)
    w = _input(weight, op, "weight")
    if w.ndim != 2:
        raise ValueError("%s: weight must be 2-d (num_embeddings, embedding_dim), got shape %s"
                         % (op, w.shape))
    idx = _arr(input)
    if idx.dtype.kind not in "iu":
        raise TypeError("%s: expected integer indices as input, got dtype %s" % (op, idx.dtype))
    V = w.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= V):
        bad = idx[(idx < 0) | (idx >= V)].flat[0]
        raise ValueError("%s: index %d is out of range [0, %d) for weight of shape %s"
                         % (op, int(bad), V, w.shape))
    pad = -1
    if padding_idx is not None:
        if not -V <= padding_idx < V:
            raise ValueError("%s: padding_idx %d must be within num_embeddings %d"
                             % (op, padding_idx, V))
        pad = padding_idx % V
    ix = np.asarray(idx, dtype=np.int64, order="C")         # 0-d stays 0-d
    return _fn.Embedding.apply(w, ix, pad)


from fastdl.nn._conv import conv1d, conv2d  # noqa: E402
from fastdl.nn._functional_more import *  # noqa: E402,F401,F403  (attention, pad, interpolate...)
from fastdl.nn._functional_more import __all__ as _more_all  # noqa: E402
__all__ = __all__ + _more_all
