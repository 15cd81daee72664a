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
    """The recommended gain for a nonlinearity, PyTorch's table.

    linear/conv/sigmoid: 1; tanh: 5/3; relu: sqrt(2);
    leaky_relu: sqrt(2 / (1 + slope^2)); selu: 3/4.

    Args:
        nonlinearity: the function's name, e.g. 'relu', 'tanh', 'leaky_relu'.
        param: the negative slope for 'leaky_relu' (default 0.01).

    Returns:
        float. Unknown names raise ValueError.

    Example:
        >>> nn.init.calculate_gain('relu')
        1.4142135623730951
        >>> round(nn.init.calculate_gain('leaky_relu', 0.2), 4)
        1.3868
    """
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
    fill = _core.rng_uniform if kind == "uniform" else _core.rng_normal
    arr = fill(tensor.shape, seed, stream, 0, a, b,
               tensor.dtype if tensor.dtype.kind == "f" else np.float32)
    with no_grad():
        tensor._data[...] = arr
    return tensor


def uniform_(tensor, a=0.0, b=1.0):
    """Fill a tensor with draws from U(a, b), in place.

    Args:
        tensor: the Tensor or Parameter to fill in place (it is also returned).
        a: lower bound (default 0.0).
        b: upper bound (default 1.0).

    Example:
        >>> fastdl.manual_seed(0)
        >>> w = nn.init.uniform_(fastdl.empty(2, 3), -1, 1)
        >>> w.shape, float(w.min()) >= -1, float(w.max()) <= 1
        ((2, 3), True, True)
    """
    return _fill(tensor, "uniform", float(a), float(b))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill a tensor with draws from N(mean, std^2), in place.

    Args:
        tensor: the Tensor or Parameter to fill in place (it is also returned).
        mean: the mean (default 0.0).
        std: the standard deviation (default 1.0).

    Example:
        >>> fastdl.manual_seed(0)
        >>> w = nn.init.normal_(fastdl.empty(1000, 100), std=0.02)
        >>> round(float(w.std()), 2)
        0.02
    """
    return _fill(tensor, "normal", float(mean), float(std))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """Fill a tensor from N(mean, std^2) truncated to [a, b], redrawing values outside, in place.

    Args:
        tensor: the Tensor or Parameter to fill in place (it is also returned).
        mean: the mean (default 0.0).
        std: the standard deviation (default 1.0).
        a: lower cut-off, in the tensor's units (default -2.0).
        b: upper cut-off (default 2.0).

    Example:
        >>> w = nn.init.trunc_normal_(fastdl.empty(1000), std=1.0, a=-2.0, b=2.0)
        >>> bool(float(w.min()) >= -2.0 and float(w.max()) <= 2.0)
        True
    """
    normal_(tensor, mean, std)
    data = tensor._data
    bad = (data < a) | (data > b)
    while bad.any():
        seed, stream = _random.next_key()
        redraw = _core.rng_normal((int(bad.sum()),), seed, stream, 0, mean, std,
                                  data.dtype)
        data[bad] = redraw
        bad = (data < a) | (data > b)
    return tensor


def constant_(tensor, val):
    """Fill a tensor with one value, in place.

    Args:
        tensor: the Tensor or Parameter to fill in place (it is also returned).
        val: the value.

    Example:
        >>> nn.init.constant_(fastdl.empty(2, 2), 0.5)
        tensor([[0.5, 0.5],
                [0.5, 0.5]])
    """
    with no_grad():
        tensor._data[...] = val
    return tensor


def ones_(tensor):
    """Fill a tensor with ones, in place.

    Args:
        tensor: the Tensor or Parameter to fill in place (it is also returned).

    Example:
        >>> nn.init.ones_(fastdl.empty(3))
        tensor([1., 1., 1.])
    """
    return constant_(tensor, 1.0)


def zeros_(tensor):
    """Fill a tensor with zeros, in place.

    Args:
        tensor: the Tensor or Parameter to fill in place (it is also returned).

    Example:
        >>> nn.init.zeros_(fastdl.empty(3))
        tensor([0., 0., 0.])
    """
    return constant_(tensor, 0.0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal), in place.

    Args:
        tensor: a 2-D tensor, filled in place and returned.

    Example:
        >>> nn.init.eye_(fastdl.empty(2, 3))
        tensor([[1., 0., 0.],
                [0., 1., 0.]])
    """
    if tensor.ndim != 2:
        raise ValueError("eye_: only 2-D tensors are supported, got shape %s" % (tensor.shape,))
    with no_grad():
        tensor._data[...] = np.eye(*tensor.shape, dtype=tensor.dtype)
    return tensor


def xavier_uniform_(tensor, gain=1.0):
    """Glorot/Xavier uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)), in place.

    Args:
        tensor: at least 2-D; fan_in = size(1) * receptive field,
            fan_out = size(0) * receptive field. Filled in place and returned.
        gain: scaling factor (default 1.0).

    Example:
        >>> w = nn.init.xavier_uniform_(fastdl.empty(256, 128))
        >>> bool(float(w.abs().max()) <= (6 / (256 + 128)) ** 0.5)
        True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a)


def xavier_normal_(tensor, gain=1.0):
    """Glorot/Xavier normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)), in place.

    Args:
        tensor: at least 2-D; filled in place and returned.
        gain: scaling factor (default 1.0).

    Example:
        >>> fastdl.manual_seed(0)
        >>> w = nn.init.xavier_normal_(fastdl.empty(300, 100))
        >>> round(float(w.std()), 3), round((2 / 400) ** 0.5, 3)
        (0.071, 0.071)
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)))


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError("mode %r not supported, please use one of fan_in, fan_out" % (mode,))
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """He/Kaiming uniform: U(-b, b) with b = gain * sqrt(3 / fan), in place.

    The default initialization of Linear and Conv weights (with a=sqrt(5)).

    Args:
        tensor: at least 2-D; filled in place and returned.
        a: negative slope of the leaky_relu that follows (default 0).
        mode: 'fan_in' (default; keeps the forward variance) or 'fan_out'
            (keeps the backward variance).
        nonlinearity: 'relu' or 'leaky_relu' (default), see calculate_gain.

    Example:
        >>> w = nn.init.kaiming_uniform_(fastdl.empty(64, 128), nonlinearity='relu')
        >>> bool(float(w.abs().max()) <= (6 / 128) ** 0.5)
        True
    """
    if 0 in tensor.shape:    # PyTorch: a no-op with a warning, not a division by zero
        warnings.warn("Initializing zero-element tensors is a no-op")
        return tensor
    fan = _fan(tensor, mode)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """He/Kaiming normal: N(0, std^2) with std = gain / sqrt(fan), in place.

    Args:
        tensor: at least 2-D; filled in place and returned.
        a: negative slope of the leaky_relu that follows (default 0).
        mode: 'fan_in' (default) or 'fan_out'.
        nonlinearity: 'relu' or 'leaky_relu' (default), see calculate_gain.

    Example:
        >>> fastdl.manual_seed(0)
        >>> w = nn.init.kaiming_normal_(fastdl.empty(256, 128), nonlinearity='relu')
        >>> round(float(w.std()), 3), round((2 / 128) ** 0.5, 3)
        (0.125, 0.125)
    """
    if 0 in tensor.shape:    # PyTorch: a no-op with a warning, not a division by zero
        warnings.warn("Initializing zero-element tensors is a no-op")
        return tensor
    fan = _fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))


def orthogonal_(tensor, gain=1.0):
    """Fill a tensor with a (semi-)orthogonal matrix times gain, in place.

    Taken from the QR decomposition of a normal matrix, with signs fixed so the
    result is unique; a tensor of more than 2 dims is treated as
    (size(0), rest).

    Args:
        tensor: at least 2-D; filled in place and returned.
        gain: scaling factor (default 1.0).

    Example:
        >>> q = nn.init.orthogonal_(fastdl.empty(3, 5))
        >>> np.allclose((q @ q.T).numpy(), np.eye(3), atol=1e-5)
        True
    """
    if tensor.ndim < 2:
        raise ValueError("orthogonal_: only tensors with 2 or more dimensions are supported, "
                         "got shape %s" % (tensor.shape,))
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    seed, stream = _random.next_key()
    flat = _core.rng_normal((rows, cols), seed, stream, 0, 0.0, 1.0, np.float64)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))     # makes the decomposition unique
    if rows < cols:
        q = q.T
    with no_grad():
        tensor._data[...] = (gain * q).reshape(tensor.shape).astype(tensor.dtype)
    return tensor
