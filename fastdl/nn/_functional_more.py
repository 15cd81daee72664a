"""More of torch.nn.functional: attention, padding, resizing, channel dropout, distances.

Built from fastdl's differentiable tensor ops (matmul, softmax, indexing), so
each has its gradient without a rule of its own; re-exported by
fastdl.nn.functional under PyTorch's names.
"""
import math
import numbers

import numpy as np

from fastdl import ops as _ops
from fastdl import random as _random
from fastdl.tensor import Tensor, _as_tensor, _is_float, cat, getitem, matmul, reshape, where

__all__ = ["scaled_dot_product_attention", "normalize", "one_hot", "pad", "interpolate",
           "dropout1d", "dropout2d", "cosine_similarity", "pairwise_distance", "group_norm",
           "instance_norm", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "glu",
           "conv_transpose2d", "logsigmoid", "softsign", "hardtanh", "relu6", "mish",
           "hardswish", "hardsigmoid"]


def _F():
    from fastdl.nn import functional
    return functional


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(q k^T * scale + mask) v over the last two dims (torch.nn.functional.scaled_dot_product_attention).

    Args:
        query: (..., L, E).
        key: (..., S, E).
        value: (..., S, Ev).
        attn_mask: None; a bool mask broadcastable to (..., L, S), True where attention
            is allowed; or a float mask added to the scores.
        dropout_p: dropout on the attention weights.
        is_causal: mask out the upper triangle (position i attends to j <= i); not with
            attn_mask.
        scale: the score factor (default 1 / sqrt(E)).
        enable_gqa: not supported (False).

    Example:
        >>> q = k = v = fastdl.ones(2, 3, 4)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        (2, 3, 4)
    """
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa is not supported")
    q, k, v = _as_tensor(query), _as_tensor(key), _as_tensor(value)
    L, S = q.shape[-2], k.shape[-2]
    s = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = matmul(q, k.transpose(-2, -1)) * s
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("scaled_dot_product_attention: explicit attn_mask should not "
                               "be set when is_causal=True")
        attn_mask = Tensor._wrap(np.tril(np.ones((L, S), dtype=bool)))
    if attn_mask is not None:
        m = _as_tensor(attn_mask)
        if m.dtype == np.bool_:
            scores = _ops.masked_fill(scores, Tensor._wrap(np.broadcast_to(
                ~m._data, np.broadcast_shapes(m.shape, scores.shape))), float("-inf"))
        else:
            scores = scores + m.to(scores.dtype)
    F = _F()
    attn = F.softmax(scores, dim=-1)
    if dropout_p > 0.0:
        attn = F.dropout(attn, dropout_p)
    return matmul(attn, v)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p, eps) along dim (torch.nn.functional.normalize).

    Example:
        >>> F.normalize(fastdl.tensor([[3.0, 4.0]]))
        tensor([[0.6, 0.8]])
    """
    x = _as_tensor(input)
    n = _ops.norm(x, p, dim, keepdim=True)
    return x / n.clamp(min=eps)


def one_hot(tensor, num_classes=-1):
    """int64 one-hot rows: (*) class indices -> (*, num_classes) (torch.nn.functional.one_hot).

    Args:
        tensor: an integer tensor of class indices.
        num_classes: the number of classes; -1: max index + 1.

    Example:
        >>> F.one_hot(fastdl.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    t = _as_tensor(tensor)
    if t._data.dtype.kind not in "iu":
        raise RuntimeError("one_hot: one_hot is only applicable to index tensor, got dtype %s"
                           % t.dtype)
    a = t._data.astype(np.int64)
    if num_classes == -1:
        num_classes = int(a.max()) + 1 if a.size else 0
    if a.size and (a.min() < 0 or a.max() >= num_classes):
        raise RuntimeError("one_hot: class values must be in [0, %d), got min %d, max %d"
                           % (num_classes, a.min(), a.max()))
    out = np.zeros(a.shape + (num_classes,), np.int64)
    np.put_along_axis(out, a[..., None], 1, axis=-1)
    return Tensor._wrap(out)


def _pad_index(n, before, after, mode, op):
    """Source indices along one dim for reflect/replicate/circular padding."""
    i = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        if before > n or after > n:
            raise RuntimeError("%s: circular padding can wrap around only once (pad %d, %d "
                               "for size %d)" % (op, before, after, n))
        return i % n
    if before >= n or after >= n:
        raise RuntimeError("%s: padding size should be less than the corresponding input "
                           "dimension, but got: padding (%d, %d) at dimension of size %d"
                           % (op, before, after, n))
    i = np.abs(i)
    return np.where(i > n - 1, 2 * (n - 1) - i, i)


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad) // 2 dims: pad = (left, right, top, bottom, ...) (torch.nn.functional.pad).

    Args:
        input: the tensor.
        pad: pairs of (before, after) sizes, last dim first; negative sizes crop.
        mode: "constant", "reflect", "replicate" or "circular".
        value: the fill for mode "constant" (default 0).

    Example:
        >>> F.pad(fastdl.tensor([[1.0, 2.0]]), (1, 2))
        tensor([[0., 1., 2., 0., 0.]])
        >>> F.pad(fastdl.tensor([[1.0, 2.0, 3.0]]), (2, 0), mode="reflect")
        tensor([[3., 2., 1., 2., 3.]])
    """
    x = _as_tensor(input)
    pad = tuple(int(v) for v in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError("pad: padding length must be even and at most 2 * input dims (%d), "
                         "got %d" % (2 * x.ndim, len(pad)))
    npairs = len(pad) // 2
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(npairs)]      # last dim first
    if mode == "constant":
        # crop negative sizes first, then place the input inside a filled tensor
        crop = [slice(None)] * x.ndim
        for i, (b, a) in enumerate(pairs):
            d = x.ndim - 1 - i
            crop[d] = slice(-b if b < 0 else 0, x.shape[d] + a if a < 0 else x.shape[d])
        if any(b < 0 or a < 0 for b, a in pairs):
            x = getitem(x, tuple(crop))
        shape = list(x.shape)
        place = [slice(None)] * x.ndim
        for i, (b, a) in enumerate(pairs):
            d = x.ndim - 1 - i
            b, a = max(b, 0), max(a, 0)
            shape[d] = x.shape[d] + b + a
            place[d] = slice(b, b + x.shape[d])
        fill = 0 if value is None else value
        out = Tensor._wrap(np.full(shape, fill, dtype=x.dtype))
        if not (x._requires_grad):
            out._data[tuple(place)] = x._data
            return out
        from fastdl.tensor import _setitem_graph
        return _setitem_graph(out, tuple(place), x)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError("pad: mode %r is not supported (constant, reflect, "
                                  "replicate, circular)" % (mode,))
    if value not in (None, 0):
        raise ValueError("pad: padding mode %r doesn't take in value argument" % mode)
    out = x
    for i, (b, a) in enumerate(pairs):
        d = x.ndim - 1 - i
        idx = _pad_index(out.shape[d], b, a, mode, "pad")
        out = getitem(out, (slice(None),) * d + (idx,))
    return out


def _out_size(in_sizes, size, scale_factor, op):
    n = len(in_sizes)
    if (size is None) == (scale_factor is None):
        raise ValueError("%s: exactly one of size or scale_factor should be defined" % op)
    if size is not None:
        size = (size,) * n if isinstance(size, numbers.Integral) else tuple(size)
        if len(size) != n:
            raise ValueError("%s: size has %d values for %d spatial dims" % (op, len(size), n))
        return tuple(int(s) for s in size), None
    sf = (scale_factor,) * n if isinstance(scale_factor, numbers.Real) else tuple(scale_factor)
    return tuple(int(math.floor(s * f)) for s, f in zip(in_sizes, sf)), sf


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, *spatial) input (torch.nn.functional.interpolate).

    Args:
        input: (N, C, L), (N, C, H, W) or (N, C, D, H, W).
        size: the output spatial size (an int or a tuple).
        scale_factor: or a multiplier per spatial dim.
        mode: "nearest", "linear", "bilinear", "trilinear" (the linear ones by dims).
        align_corners: for the linear modes, as in PyTorch (default False).
        recompute_scale_factor: True: compute the source positions from the output size.

    Example:
        >>> F.interpolate(fastdl.tensor([[[1.0, 2.0]]]), scale_factor=2)
        tensor([[[1., 1., 2., 2.]]])
        >>> F.interpolate(fastdl.tensor([[[1.0, 3.0]]]), size=4, mode="linear", align_corners=True)
        tensor([[[1.    , 1.6667, 2.3333, 3.    ]]])
    """
    x = _as_tensor(input)
    if x.ndim < 3:
        raise ValueError("interpolate: expected (N, C, *spatial) input, got shape %s"
                         % (x.shape,))
    if antialias:
        raise NotImplementedError("interpolate: antialias is not supported")
    spatial = x.shape[2:]
    out_size, sf = _out_size(spatial, size, scale_factor, "interpolate")
    if recompute_scale_factor:
        sf = None
    linear = mode in ("linear", "bilinear", "trilinear")
    if mode not in ("nearest", "linear", "bilinear", "trilinear"):
        raise NotImplementedError("interpolate: mode %r is not supported" % (mode,))
    if not linear and align_corners is not None:
        raise ValueError("interpolate: align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear | bicubic | trilinear")
    out = x
    for k, (n_in, n_out) in enumerate(zip(spatial, out_size)):
        d = 2 + k
        lead = (slice(None),) * d
        if not linear:
            scale = (1.0 / sf[k]) if sf is not None else n_in / n_out
            src = np.minimum(np.floor(np.arange(n_out) * scale).astype(np.int64), n_in - 1)
            out = getitem(out, lead + (src,))
            continue
        if align_corners:
            pos = (np.arange(n_out) * ((n_in - 1) / (n_out - 1)) if n_out > 1
                   else np.zeros(n_out))
        else:
            scale = (1.0 / sf[k]) if sf is not None else n_in / n_out
            pos = np.maximum((np.arange(n_out) + 0.5) * scale - 0.5, 0.0)
        i0 = np.minimum(np.floor(pos).astype(np.int64), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        w = (pos - i0).astype(x.dtype).reshape((-1,) + (1,) * (x.ndim - d - 1))
        wt = Tensor._wrap(w)
        out = getitem(out, lead + (i0,)) * (1 - wt) + getitem(out, lead + (i1,)) * wt
    return out


def _channel_dropout(input, p, training, op, ndim_ok):
    if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError("%s: dropout probability has to be between 0 and 1, but got %r"
                         % (op, p))
    x = _as_tensor(input)
    if x.ndim not in ndim_ok:
        raise ValueError("%s: expected %s-D input, got %d-D" % (op, " or ".join(
            str(n) for n in ndim_ok), x.ndim))
    if not training or p == 0.0:
        return x
    batched = x.ndim == max(ndim_ok)
    keep_shape = x.shape[:2] if batched else x.shape[:1]
    mshape = keep_shape + (1,) * (x.ndim - len(keep_shape))
    seed, stream = _random.next_key()
    from fastdl._C import _core
    u = _core.rng_uniform(mshape, seed, stream, 0, 0.0, 1.0, np.dtype(np.float64))
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    mask = ((u >= p) * scale).astype(x.dtype)
    return x * Tensor._wrap(mask)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) input with probability p, scale the rest by 1/(1-p) (torch.nn.functional.dropout1d).

    Example:
        >>> F.dropout1d(fastdl.ones(1, 2, 3), p=0.5, training=False).shape
        (1, 2, 3)
    """
    return _channel_dropout(input, p, training, "dropout1d", (2, 3))


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) or (C, H, W) input with probability p (torch.nn.functional.dropout2d).

    Example:
        >>> fastdl.manual_seed(0)
        >>> y = F.dropout2d(fastdl.ones(1, 4, 2, 2), p=0.5)
        >>> sorted(set(y.flatten().tolist())) in ([0.0, 2.0], [2.0], [0.0])
        True
    """
    return _channel_dropout(input, p, training, "dropout2d", (3, 4))


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between x1 and x2 along dim, each norm clamped to eps (torch.nn.functional.cosine_similarity).

    Example:
        >>> F.cosine_similarity(fastdl.tensor([[1.0, 0.0]]), fastdl.tensor([[1.0, 1.0]]))
        tensor([0.7071])
    """
    a, b = _as_tensor(x1), _as_tensor(x2)
    na = _ops.norm(a, 2, dim, keepdim=True).clamp(min=eps)
    nb = _ops.norm(b, 2, dim, keepdim=True).clamp(min=eps)
    return ((a / na) * (b / nb)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of x1 - x2 + eps over the last dim (torch.nn.functional.pairwise_distance).

    Example:
        >>> F.pairwise_distance(fastdl.tensor([[0.0, 0.0]]), fastdl.tensor([[3.0, 4.0]]))
        tensor([5.])
    """
    a, b = _as_tensor(x1), _as_tensor(x2)
    return _ops.norm(a - b + eps, p, -1, keepdim)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Normalize (N, C, *) over groups of C // num_groups channels and the spatial dims (torch.nn.functional.group_norm).

    Example:
        >>> F.group_norm(fastdl.randn(2, 4, 3), 2).shape
        (2, 4, 3)
    """
    x = _as_tensor(input)
    N, C = x.shape[0], x.shape[1]
    if C % num_groups:
        raise RuntimeError("group_norm: expected number of channels in input (%d) to be "
                           "divisible by num_groups (%d)" % (C, num_groups))
    g = reshape(x, N, num_groups, -1)
    mean = g.mean(-1, keepdim=True)
    c = g - mean
    var = (c * c).mean(-1, keepdim=True)
    y = reshape(c / (var + eps).sqrt(), x.shape)
    shape = (1, C) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * reshape(weight, shape)
    if bias is not None:
        y = y + reshape(bias, shape)
    return y


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-05):
    """Normalize each (sample, channel) of (N, C, *) over its spatial dims (torch.nn.functional.instance_norm).

    Example:
        >>> y = F.instance_norm(fastdl.tensor([[[1.0, 3.0]]]))
        >>> [round(v, 3) for v in y.flatten().tolist()]
        [-1.0, 1.0]
    """
    x = _as_tensor(input)
    C = x.shape[1]
    axes = tuple(range(2, x.ndim))
    shape = (1, C) + (1,) * (x.ndim - 2)
    if use_input_stats:
        mean = x.mean(axes, keepdim=True)
        c = x - mean
        var = (c * c).mean(axes, keepdim=True)
        if running_mean is not None or running_var is not None:
            n = int(np.prod(x.shape[2:]))
            bm = mean.detach()._data.reshape(x.shape[0], C).mean(0)
            bv = var.detach()._data.reshape(x.shape[0], C).mean(0) * (n / max(n - 1, 1))
            if running_mean is not None:
                running_mean._data[...] = (1 - momentum) * running_mean._data + momentum * bm
            if running_var is not None:
                running_var._data[...] = (1 - momentum) * running_var._data + momentum * bv
    else:
        mean = reshape(running_mean, shape)
        var = reshape(running_var, shape)
        c = x - mean
    y = c / (var + eps).sqrt()
    if weight is not None:
        y = y * reshape(weight, shape)
    if bias is not None:
        y = y + reshape(bias, shape)
    return y


def _as_2d_pool(x, op):
    x = _as_tensor(x)
    if x.ndim not in (2, 3):
        raise ValueError("%s: expected (N, C, L) or (C, L) input, got shape %s" % (op, x.shape))
    return x.unsqueeze(-2)


def _one(v, op, name):
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError("%s: %s must be an int or a 1-tuple, got %r" % (op, name, v))
        v = v[0]
    return int(v)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over L of (N, C, L) (torch.nn.functional.max_pool1d).

    Example:
        >>> F.max_pool1d(fastdl.tensor([[[1.0, 3.0, 2.0, 5.0]]]), 2)
        tensor([[[3., 5.]]])
    """
    x = _as_2d_pool(input, "max_pool1d")
    k = _one(kernel_size, "max_pool1d", "kernel_size")
    s = k if stride is None or stride == () else _one(stride, "max_pool1d", "stride")
    out = _F().max_pool2d(x, (1, k), (1, s), (0, _one(padding, "max_pool1d", "padding")),
                          (1, _one(dilation, "max_pool1d", "dilation")), ceil_mode,
                          return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over L of (N, C, L) (torch.nn.functional.avg_pool1d).

    Example:
        >>> F.avg_pool1d(fastdl.tensor([[[1.0, 3.0, 2.0, 6.0]]]), 2)
        tensor([[[2., 4.]]])
    """
    x = _as_2d_pool(input, "avg_pool1d")
    k = _one(kernel_size, "avg_pool1d", "kernel_size")
    s = k if stride is None or stride == () else _one(stride, "avg_pool1d", "stride")
    return _F().avg_pool2d(x, (1, k), (1, s), (0, _one(padding, "avg_pool1d", "padding")),
                           ceil_mode, count_include_pad).squeeze(-2)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) to a fixed length (torch.nn.functional.adaptive_avg_pool1d).

    Example:
        >>> F.adaptive_avg_pool1d(fastdl.tensor([[[1.0, 3.0, 2.0, 6.0]]]), 2)
        tensor([[[2., 4.]]])
    """
    x = _as_2d_pool(input, "adaptive_avg_pool1d")
    n = _one(output_size, "adaptive_avg_pool1d", "output_size")
    return _F().adaptive_avg_pool2d(x, (1, n)).squeeze(-2)


def glu(input, dim=-1):
    """The gated linear unit a * sigmoid(b), with input split in halves a, b along dim (torch.nn.functional.glu).

    Example:
        >>> F.glu(fastdl.tensor([1.0, 0.0]))
        tensor([0.5])
    """
    a, b = _as_tensor(input).chunk(2, dim)
    return a * _F().sigmoid(b)


def logsigmoid(input):
    """log(sigmoid(x)), computed stably as -softplus(-x) (torch.nn.functional.logsigmoid).

    Example:
        >>> F.logsigmoid(fastdl.tensor([0.0]))
        tensor([-0.6931])
    """
    return -_F().softplus(-_as_tensor(input))


def softsign(input):
    """x / (1 + |x|) (torch.nn.functional.softsign).

    Example:
        >>> F.softsign(fastdl.tensor([1.0]))
        tensor([0.5])
    """
    x = _as_tensor(input)
    return x / (1 + x.abs())


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val) (torch.nn.functional.hardtanh).

    Example:
        >>> F.hardtanh(fastdl.tensor([-2.0, 0.5, 3.0]))
        tensor([-1. ,  0.5,  1. ])
    """
    return _as_tensor(input).clamp(min_val, max_val)


def relu6(input, inplace=False):
    """min(max(0, x), 6) (torch.nn.functional.relu6).

    Example:
        >>> F.relu6(fastdl.tensor([-1.0, 7.0]))
        tensor([0., 6.])
    """
    return _as_tensor(input).clamp(0.0, 6.0)


def mish(input, inplace=False):
    """x * tanh(softplus(x)) (torch.nn.functional.mish).

    Example:
        >>> F.mish(fastdl.tensor([0.0]))
        tensor([0.])
    """
    F = _F()
    x = _as_tensor(input)
    return x * F.tanh(F.softplus(x))


def hardsigmoid(input, inplace=False):
    """clamp(x / 6 + 1/2, 0, 1) (torch.nn.functional.hardsigmoid).

    Example:
        >>> F.hardsigmoid(fastdl.tensor([0.0, 4.0]))
        tensor([0.5, 1. ])
    """
    return (_as_tensor(input) / 6 + 0.5).clamp(0.0, 1.0)


def hardswish(input, inplace=False):
    """x * hardsigmoid(x) (torch.nn.functional.hardswish).

    Example:
        >>> F.hardswish(fastdl.tensor([0.0, 4.0]))
        tensor([0., 4.])
    """
    x = _as_tensor(input)
    return x * hardsigmoid(x)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """The transposed 2-D convolution, the gradient of conv2d w.r.t. its input (torch.nn.functional.conv_transpose2d).

    Computed as conv2d over the input with stride - 1 zeros between elements,
    padded by dilation * (k - 1) - padding, with the kernel flipped and its
    in/out channels swapped.

    Args:
        input: (N, C_in, H, W).
        weight: (C_in, C_out / groups, kH, kW).
        bias: (C_out,) or None.
        stride, padding, output_padding, groups, dilation: as PyTorch.

    Example:
        >>> F.conv_transpose2d(fastdl.ones(1, 1, 2, 2), fastdl.ones(1, 1, 2, 2), stride=2).shape
        (1, 1, 4, 4)
    """
    def pair(v):
        return (int(v), int(v)) if isinstance(v, numbers.Integral) else tuple(int(a) for a in v)
    x, w = _as_tensor(input), _as_tensor(weight)
    batched = x.ndim == 4
    if not batched:
        x = x.unsqueeze(0)
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    oph, opw = pair(output_padding)
    dh, dw = pair(dilation)
    cin, cout_g, kh, kw = w.shape
    if x.shape[1] != cin:
        raise RuntimeError("conv_transpose2d: expected input with %d channels, got %d"
                           % (cin, x.shape[1]))
    if oph >= max(sh, dh) or opw >= max(sw, dw):
        raise ValueError("conv_transpose2d: output padding must be smaller than either stride "
                         "or dilation")
    N, _, H, W = x.shape
    if sh > 1 or sw > 1:
        z = Tensor._wrap(np.zeros((N, cin, (H - 1) * sh + 1, (W - 1) * sw + 1), x.dtype))
        idx = (slice(None), slice(None), slice(None, None, sh), slice(None, None, sw))
        if x._requires_grad:
            from fastdl.tensor import _setitem_graph
            x = _setitem_graph(z, idx, x)
        else:
            z._data[idx] = x._data
            x = z
    eh, ew = dh * (kh - 1) - ph, dw * (kw - 1) - pw
    x = pad(x, (ew, ew + opw, eh, eh + oph))
    # weight (G*cin_g, cout_g, kh, kw) -> (G*cout_g, cin_g, kh, kw), flipped
    cin_g = cin // groups
    wt = reshape(w, groups, cin_g, cout_g, kh, kw).transpose(1, 2)
    wt = reshape(wt, groups * cout_g, cin_g, kh, kw)
    wt = _ops.flip(wt, (2, 3))
    out = _F().conv2d(x, wt.contiguous(), bias, 1, 0, (dh, dw), groups)
    return out if batched else out.squeeze(0)
