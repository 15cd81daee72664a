"""conv2d / conv1d as autograd ops over libfastdl's GEMM-based convolution."""
from fastdl.autograd._functions.nn import Conv2d
from fastdl.tensor import _promote


def _pair(v, name):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError("conv2d: %s must be an int or a pair, got %r" % (name, v))
        return (int(v[0]), int(v[1]))
    return (int(v), int(v))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over NCHW input, PyTorch's conv2d.

    Args:
        input: (N, C, H, W); weight: (K, C/groups, R, S); bias: (K,) or None.
        stride, padding, dilation: int or pair; padding may be 'valid' or 'same'
            (stride 1 only).
    Shapes: output (N, K, P, Q), P = (H + 2 pad - dilation (R - 1) - 1) // stride + 1.

    Example:
        >>> F.conv2d(fastdl.randn(2, 3, 8, 8), fastdl.randn(4, 3, 3, 3), padding=1).shape
        (2, 4, 8, 8)
    """
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
    return Conv2d.apply(x, w, b, stride, padding, dilation, int(groups))


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over (N, C, L) input with weight (K, C/groups, k), through conv2d."""
    from fastdl.tensor import unsqueeze, squeeze
    if input.ndim != 3:
        raise ValueError("conv1d: expected 3-D input (N, C, L), got shape %s" % (input.shape,))
    if weight.ndim != 3:
        raise ValueError("conv1d: expected 3-D weight (out_channels, in_channels/groups, k), "
                         "got shape %s" % (weight.shape,))
    one = lambda v: v[0] if isinstance(v, (tuple, list)) else v
    if isinstance(padding, str):
        pad = padding
    else:
        pad = (0, one(padding))
    out = conv2d(unsqueeze(input, 2), unsqueeze(weight, 2), bias, (1, one(stride)), pad,
                 (1, one(dilation)), groups)
    return squeeze(out, 2)
