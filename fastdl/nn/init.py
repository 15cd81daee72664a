"""Parameter initializers with PyTorch's names, arguments and formulas.

All draw from fastdl's seeded counter-based generator, so one seed gives
the same weights for any thread count. Each fills the tensor in place and
returns it.
"""
import math
import warnings

import numpy as np

from fastdl import random as _random
from fastdl._C import _core
from fastdl.autograd import no_grad

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "ones_", "zeros_", "eye_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "orthogonal_", "trunc_normal_"]


def calculate_gain(nonlinearity, param=None):
    """Recommended gain for a nonlinearity (PyTorch's table)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError("calculate_gain: unsupported nonlinearity %r" % (nonlinearity,))


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError("fan in and fan out can not be computed for a tensor with fewer than "
                         "2 dimensions (shape %s)" % (tensor.shape,))
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fill(tensor, kind, a, b):
    seed, stream = _random.next_key()
    arr = _core.rng_fill(kind, tensor.shape, seed, stream, 0, a, b,
                         tensor.dtype if tensor.dtype.kind == "f" else np.float32)
    with no_grad():
        tensor._data[...] = arr
    return tensor


def uniform_(tensor, a=0.0, b=1.0):
    return _fill(tensor, "uniform", float(a), float(b))


def normal_(tensor, mean=0.0, std=1.0):
    return _fill(tensor, "normal", float(mean), float(std))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """Normal(mean, std) redrawn until inside [a, b]."""
    normal_(tensor, mean, std)
    data = tensor._data
    bad = (data < a) | (data > b)
    while bad.any():
        seed, stream = _random.next_key()
        redraw = _core.rng_fill("normal", (int(bad.sum()),), seed, stream, 0, mean, std,
                                data.dtype)
        data[bad] = redraw
        bad = (data < a) | (data > b)
    return tensor


def constant_(tensor, val):
    with no_grad():
        tensor._data[...] = val
    return tensor


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def eye_(tensor):
    if tensor.ndim != 2:
        raise ValueError("eye_: only 2-D tensors are supported, got shape %s" % (tensor.shape,))
    with no_grad():
        tensor._data[...] = np.eye(*tensor.shape, dtype=tensor.dtype)
    return tensor


def xavier_uniform_(tensor, gain=1.0):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a)


def xavier_normal_(tensor, gain=1.0):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)))


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError("mode %r not supported, please use one of fan_in, fan_out" % (mode,))
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    if 0 in tensor.shape:    # PyTorch: a no-op with a warning, not a division by zero
        warnings.warn("Initializing zero-element tensors is a no-op")
        return tensor
    fan = _fan(tensor, mode)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    if 0 in tensor.shape:    # PyTorch: a no-op with a warning, not a division by zero
        warnings.warn("Initializing zero-element tensors is a no-op")
        return tensor
    fan = _fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))


def orthogonal_(tensor, gain=1.0):
    """(Semi-)orthogonal matrix from the QR decomposition of a normal matrix."""
    if tensor.ndim < 2:
        raise ValueError("orthogonal_: only tensors with 2 or more dimensions are supported, "
                         "got shape %s" % (tensor.shape,))
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    seed, stream = _random.next_key()
    flat = _core.rng_fill("normal", (rows, cols), seed, stream, 0, 0.0, 1.0, np.float64)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))     # makes the decomposition unique
    if rows < cols:
        q = q.T
    with no_grad():
        tensor._data[...] = (gain * q).reshape(tensor.shape).astype(tensor.dtype)
    return tensor
