"""fastdl.nn.functional: PyTorch's functional names, argument order and defaults.

Usage: ``import fastdl.nn.functional as F``.
"""
import numpy as np

from fastdl.autograd import Node
from fastdl.tensor import Tensor, _needs_grad, _promote, _reduce, _R


def _gemm():
    from fastdl._C import gemm
    return gemm


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias through one GEMM with a fused bias epilogue.

    Shapes: input (*, in_features), weight (out_features, in_features),
    bias (out_features,), output (*, out_features).
    Backward uses the transposed GEMM variants (no transposed copies).

    Example:
        >>> y = F.linear(fastdl.randn(4, 3), fastdl.randn(5, 3), fastdl.zeros(5))
        >>> y.shape
        (4, 5)
    """
    x, w = _promote(input, weight)
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
    bd = None
    if bias is not None:
        bd = b._data
        if bd.shape != (wd.shape[0],):
            raise ValueError("linear: bias must have shape (%d,), got %s"
                             % (wd.shape[0], bd.shape))
    gemm = _gemm()
    lead = xd.shape[:-1]
    x2 = xd.reshape(-1, xd.shape[-1])
    out = gemm.matmul(x2, wd, transb=True, bias=bd).reshape(lead + (wd.shape[0],))
    inputs = (x, w) if bias is None else (x, w, b)
    if not _needs_grad(*inputs):
        return Tensor._wrap(out)
    rx, rw = x.requires_grad, w.requires_grad
    rb = bias is not None and b.requires_grad

    def backward(g):
        g2 = g.reshape(-1, wd.shape[0])
        gx = gemm.matmul(g2, wd).reshape(xd.shape) if rx else None
        gw = gemm.matmul(g2, x2, transa=True) if rw else None
        if bias is None:
            return gx, gw
        gb = _reduce(_R["sum"], g2, (0,), False) if rb else None
        return gx, gw, gb
    return Tensor._wrap(out, Node("LinearBackward", inputs, backward))


from fastdl.nn._conv import conv1d, conv2d  # noqa: E402
