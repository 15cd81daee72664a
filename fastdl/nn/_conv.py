"""conv2d / conv1d as autograd ops over libfastdl's GEMM-based convolution."""
import numbers

import numpy as np

from fastdl.autograd import KernelFunction
from fastdl.autograd._functions.nn import Conv2d, Conv2dReLU
from fastdl.tensor import _promote


def _ints(op, name, v, n):
    """An int or a sequence of n ints as an n-tuple; a clear TypeError otherwise."""
    items = tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
    if len(items) != n:
        raise ValueError("%s: %s must be an int or a sequence of %d ints, got %r"
                         % (op, name, n, v))
    for i in items:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral):
            raise TypeError("%s: %s must be an int or a sequence of %d ints, got %r"
                            % (op, name, n, v))
    return tuple(int(i) for i in items)


def _pair(v, name):
    return _ints("conv2d", name, v, 2)


def _validate(op, xs, ws, bs, stride, padding, dilation, groups):
    """Check an n-d convolution's shapes and arguments (n = len(stride)) in the caller's
    terms, so conv1d's errors speak of (N, C, L), and zero sizes get words, not a status."""
    n = len(stride)
    if isinstance(groups, (bool, np.bool_)) or not isinstance(groups, numbers.Integral):
        raise TypeError("%s: groups must be an int, got %r" % (op, groups))
    if groups < 1:
        raise ValueError("%s: groups must be positive, got %d" % (op, groups))
    C, K, Cg, ks = xs[1], ws[0], ws[1], ws[2:]
    if any(k < 1 for k in ks):
        raise ValueError("%s: kernel size must be positive, got weight of shape %s"
                         % (op, tuple(ws)))
    if K < 1:
        raise ValueError("%s: weight must have at least one output channel (dim 0), got "
                         "weight of shape %s" % (op, tuple(ws)))
    if C % groups or K % groups:
        raise ValueError("%s: in_channels (%d) and out_channels (%d) must be divisible by "
                         "groups (%d)" % (op, C, K, groups))
    if Cg * groups != C:
        raise ValueError("%s: input has %d channels but weight %s expects %d (= %d x groups %d)"
                         % (op, C, tuple(ws), Cg * groups, Cg, groups))
    if bs is not None and tuple(bs) != (K,):
        raise ValueError("%s: bias must have shape (%d,), got %s" % (op, K, tuple(bs)))
    if any(v < 1 for v in stride + dilation) or any(v < 0 for v in padding):
        raise ValueError("%s: stride and dilation must be >= 1 and padding >= 0, got stride=%s "
                         "padding=%s dilation=%s" % (op, stride, padding, dilation))
    out = []
    for i in range(n):
        L, eff = xs[2 + i] + 2 * padding[i], dilation[i] * (ks[i] - 1) + 1
        if L < eff:
            raise ValueError("%s: kernel size %s with dilation %s is larger than the padded "
                             "input %s (input %s, padding %s)"
                             % (op, tuple(ks), dilation,
                                tuple(xs[2 + j] + 2 * padding[j] for j in range(n)),
                                tuple(xs), padding))
        out.append((L - eff) // stride[i] + 1)
    return tuple(out)


class _EmptyConv2d(KernelFunction):
    """A convolution where the input or the weight holds no element: every sum is
    empty, so out = bias (0 without one), dx and dw are 0 and db sums dout."""

    n_inputs = 3

    @staticmethod
    def forward(ctx, x, w, b, out_shape):
        ctx.shapes = (x.shape, w.shape, x.dtype)
        out = np.zeros(out_shape, dtype=x.dtype)
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        return out

    @staticmethod
    def backward(ctx, g):
        xs, ws, dt = ctx.shapes
        db = np.asarray(g).sum(axis=(0, 2, 3)).astype(dt) if ctx.needs_input_grad[2] else None
        return np.zeros(xs, dt), np.zeros(ws, dt), db


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over NCHW input (torch.nn.functional.conv2d).

    Runs on fastdl's GEMM-based convolution; backward reuses the same machinery.

    Args:
        input: (N, C, H, W).
        weight: (K, C / groups, R, S).
        bias: (K,) or None.
        stride: an int or a pair (default 1).
        padding: an int, a pair, or 'valid' / 'same' (stride 1 only).
        dilation: an int or a pair (default 1).
        groups: independent channel groups (default 1).

    Shapes:
        output (N, K, P, Q), P = (H + 2 * pad - dilation * (R - 1) - 1) // stride + 1
        (Q alike).

    Example:
        >>> F.conv2d(fastdl.randn(2, 3, 8, 8), fastdl.randn(4, 3, 3, 3), padding=1).shape
        (2, 4, 8, 8)
        >>> F.conv2d(fastdl.ones(1, 1, 3, 3), fastdl.ones(1, 1, 2, 2))
        tensor([[[[4., 4.],
                  [4., 4.]]]])
    """
    return _conv2d(input, weight, bias, stride, padding, dilation, groups, False)


def _conv2d(input, weight, bias, stride, padding, dilation, groups, relu):
    """conv2d, followed by relu in the same kernel pass when relu is true (the node
    nn.Sequential builds for Conv2d followed by ReLU)."""
    x, w = _promote(input, weight)
    b = None
    if bias is not None:
        x, b = _promote(x, bias)
        w = w.to(x.dtype)
    if x.ndim != 4:
        raise ValueError("conv2d: expected 4-D input (N, C, H, W), got shape %s" % (x.shape,))
    if w.ndim != 4:
        raise ValueError("conv2d: expected 4-D weight (out_channels, in_channels/groups, kH, "
                         "kW), got shape %s" % (w.shape,))
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError("conv2d: padding='same' is not supported for strided "
                                 "convolutions")
            tot = [dilation[i] * (w.shape[2 + i] - 1) for i in range(2)]
            if any(t % 2 for t in tot):
                raise ValueError("conv2d: padding='same' needs an odd effective kernel size "
                                 "here, got kernel %s" % (w.shape[2:],))
            padding = (tot[0] // 2, tot[1] // 2)
        else:
            raise ValueError("conv2d: padding must be an int, a pair, 'valid' or 'same', got %r"
                             % padding)
    padding = _pair(padding, "padding")
    P, Q = _validate("conv2d", x.shape, w.shape, None if b is None else b.shape, stride,
                     padding, dilation, groups)
    if x.numel() == 0 or w.numel() == 0:
        out = _EmptyConv2d.apply(x, w, b, (x.shape[0], w.shape[0], P, Q))
        if relu:
            from fastdl.nn.functional import relu as _relu
            out = _relu(out)
        return out
    return (Conv2dReLU if relu else Conv2d).apply(x, w, b, stride, padding, dilation,
                                                  int(groups))


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over (N, C, L) input, through conv2d (torch.nn.functional.conv1d).

    Args:
        input: (N, C, L).
        weight: (K, C / groups, k).
        bias: (K,) or None.
        stride: default 1.
        padding: an int, or 'valid' / 'same' (default 0).
        dilation: default 1.
        groups: default 1.

    Shapes:
        output (N, K, L_out), L_out = (L + 2 * padding - dilation * (k - 1) - 1) // stride + 1.

    Example:
        >>> F.conv1d(fastdl.ones(1, 2, 5), fastdl.ones(3, 2, 3))
        tensor([[[6., 6., 6.],
                 [6., 6., 6.],
                 [6., 6., 6.]]])
    """
    from fastdl.tensor import unsqueeze, squeeze
    if input.ndim != 3:
        raise ValueError("conv1d: expected 3-D input (N, C, L), got shape %s" % (input.shape,))
    if weight.ndim != 3:
        raise ValueError("conv1d: expected 3-D weight (out_channels, in_channels/groups, k), "
                         "got shape %s" % (weight.shape,))
    (st,), (dil,) = _ints("conv1d", "stride", stride, 1), _ints("conv1d", "dilation", dilation, 1)
    if isinstance(padding, str):
        pad = padding     # conv2d resolves (and checks) 'valid' / 'same'
        p1 = (dil * (weight.shape[2] - 1) // 2 if padding == "same" else 0,)
    else:
        p1 = _ints("conv1d", "padding", padding, 1)
        pad = (0, p1[0])
    _validate("conv1d", input.shape, weight.shape, None if bias is None else bias.shape, (st,),
              p1, (dil,), groups)
    out = conv2d(unsqueeze(input, 2), unsqueeze(weight, 2), bias, (1, st), pad, (1, dil), groups)
    return squeeze(out, 2)
