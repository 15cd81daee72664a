"""Layers with PyTorch's names, constructor arguments, parameter shapes and
default initializations. Each forward is one call into fastdl.nn.functional.
"""
import math
import numbers

import numpy as np

from fastdl import creation
from fastdl.nn import functional as F
from fastdl.nn import init
from fastdl.nn.module import Module, Parameter
from fastdl.tensor import Tensor, flatten, reshape

__all__ = ["Identity", "Linear", "Flatten", "Unflatten", "ReLU", "LeakyReLU", "ELU", "GELU",
           "SiLU", "Sigmoid", "Tanh", "Softplus", "Softmax", "LogSoftmax", "Dropout",
           "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Embedding", "Conv1d", "Conv2d",
           "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


def _int_arg(layer, name, v, minimum):
    """v as an int >= minimum, or a TypeError/ValueError naming the layer and argument."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
        raise TypeError("%s: %s must be an integer, got %r" % (layer, name, v))
    if v < minimum:
        raise ValueError("%s: %s must be %s, got %d"
                         % (layer, name, "positive" if minimum == 1 else ">= %d" % minimum, v))
    return int(v)


def _ints(layer, name, v, n, minimum):
    """An int or a sequence of n ints, each >= minimum, as an n-tuple."""
    if isinstance(v, (tuple, list)):
        if len(v) != n:
            raise ValueError("%s: %s must be an int or a sequence of %d ints, got %r"
                             % (layer, name, n, v))
        return tuple(_int_arg(layer, name, x, minimum) for x in v)
    return (_int_arg(layer, name, v, minimum),) * n


def _pair(v, name="argument"):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError("%s: expected an int or a pair, got %r" % (name, v))
        return tuple(int(x) for x in v)
    return (int(v), int(v))


def _check_ndim(layer, x, allowed, what):
    if x.ndim not in allowed:
        raise ValueError("%s: expected %s input, got shape %s"
                         % (type(layer).__name__, what, tuple(x.shape)))


class Identity(Module):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x @ W.T + b, through one GEMM with a fused bias epilogue.

    Args:
        in_features, out_features: sizes of each input and output sample.
        bias: learn an additive bias (default True).
    Shapes: input (*, in_features) -> output (*, out_features).

    Example:
        >>> fastdl.nn.Linear(3, 5)(fastdl.randn(4, 3)).shape
        (4, 5)
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features = _int_arg("Linear", "in_features", in_features, 0)
        self.out_features = _int_arg("Linear", "out_features", out_features, 0)
        dt = dtype or np.float32
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dt))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if input.ndim < 1 or input.shape[-1] != self.in_features:
            raise ValueError("Linear: expected input of shape (*, %d), got %s"
                             % (self.in_features, tuple(input.shape)))
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return "in_features=%d, out_features=%d, bias=%s" % (
            self.in_features, self.out_features, self.bias is not None)


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return "start_dim=%d, end_dim=%d" % (self.start_dim, self.end_dim)


class Unflatten(Module):
    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input):
        d = self.dim % input.ndim
        shape = input.shape[:d] + self.unflattened_size + input.shape[d + 1:]
        return reshape(input, shape)

    def extra_repr(self):
        return "dim=%d, unflattened_size=%s" % (self.dim, self.unflattened_size)


# ---- activations --------------------------------------------------------------------

def _activation(name, fn_name, params=(), defaults=()):
    """Build a Module class whose forward is F.<fn_name>(input, **params)."""

    def __init__(self, *args, **kwargs):
        Module.__init__(self)
        vals = dict(zip(params, defaults))
        for p, v in zip(params, args):
            vals[p] = v
        for k, v in kwargs.items():
            if k not in params:
                raise TypeError("%s: unexpected argument %r" % (name, k))
            vals[k] = v
        for k, v in vals.items():
            setattr(self, k, v)

    def forward(self, input):
        return getattr(F, fn_name)(input, **{p: getattr(self, p) for p in params
                                             if p != "inplace"})

    def extra_repr(self):
        return ", ".join("%s=%r" % (p, getattr(self, p)) for p in params if p != "inplace")

    return type(name, (Module,), {"__init__": __init__, "forward": forward,
                                  "extra_repr": extra_repr,
                                  "__doc__": "Applies F.%s elementwise." % fn_name})


ReLU = _activation("ReLU", "relu", ("inplace",), (False,))
LeakyReLU = _activation("LeakyReLU", "leaky_relu", ("negative_slope", "inplace"), (0.01, False))
ELU = _activation("ELU", "elu", ("alpha", "inplace"), (1.0, False))
GELU = _activation("GELU", "gelu", ("approximate",), ("none",))
SiLU = _activation("SiLU", "silu", ("inplace",), (False,))
Sigmoid = _activation("Sigmoid", "sigmoid")
Tanh = _activation("Tanh", "tanh")
Softplus = _activation("Softplus", "softplus", ("beta", "threshold"), (1.0, 20.0))
Softmax = _activation("Softmax", "softmax", ("dim",), (None,))
LogSoftmax = _activation("LogSoftmax", "log_softmax", ("dim",), (None,))


class Dropout(Module):
    """Zero elements with probability p in training (scaling the rest by 1/(1-p)); identity in eval."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError("dropout probability has to be between 0 and 1, but got %s" % p)
        self.p = float(p)

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return "p=%s" % self.p


# ---- normalization ----------------------------------------------------------------------

class _BatchNorm(Module):
    _dims = ()
    _what = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=None):
        super().__init__()
        num_features = _int_arg(type(self).__name__, "num_features", num_features, 0)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dt = dtype or np.float32
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dt))
            self.bias = Parameter(np.zeros(num_features, dtype=dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dt))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dt))
            self.register_buffer("num_batches_tracked", creation.tensor(0))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, input):
        _check_ndim(self, input, self._dims, self._what)
        if input.shape[1] != self.num_features:
            raise ValueError("%s: expected %d channels (dim 1), got input of shape %s"
                             % (type(self).__name__, self.num_features, tuple(input.shape)))
        use_batch = self.training or not self.track_running_stats
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data[...] += 1
            if momentum is None:    # cumulative moving average, as in PyTorch
                momentum = 1.0 / float(self.num_batches_tracked.item())
        return F.batch_norm(input,
                            self.running_mean if not self.training or self.track_running_stats
                            else None,
                            self.running_var if not self.training or self.track_running_stats
                            else None,
                            self.weight, self.bias, use_batch, momentum or 0.0, self.eps)

    def extra_repr(self):
        return ("{num_features}, eps={eps}, momentum={momentum}, affine={affine}, "
                "track_running_stats={track_running_stats}".format(**self.__dict__))


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) input."""
    _dims = (2, 3)
    _what = "2-D (N, C) or 3-D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W) input."""
    _dims = (4,)
    _what = "4-D (N, C, H, W)"


class LayerNorm(Module):
    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dt = dtype or np.float32
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dt))
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dt)) if bias else None
            if not bias:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        n = len(self.normalized_shape)
        if tuple(input.shape[-n:]) != self.normalized_shape:
            raise ValueError("LayerNorm: expected input with trailing shape %s, got %s"
                             % (self.normalized_shape, tuple(input.shape)))
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return "%s, eps=%s, elementwise_affine=%s" % (self.normalized_shape, self.eps,
                                                      self.elementwise_affine)


class Embedding(Module):
    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=None):
        super().__init__()
        num_embeddings = _int_arg("Embedding", "num_embeddings", num_embeddings, 0)
        embedding_dim = _int_arg("Embedding", "embedding_dim", embedding_dim, 0)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            padding_idx = _int_arg("Embedding", "padding_idx", padding_idx, -num_embeddings)
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError("Embedding: padding_idx must be within num_embeddings (%d), "
                                 "got %d" % (num_embeddings, padding_idx))
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim),
                                         dtype=dtype or np.float32))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        s = "%d, %d" % (self.num_embeddings, self.embedding_dim)
        return s + (", padding_idx=%d" % self.padding_idx if self.padding_idx is not None else "")


# ---- convolution and pooling ----------------------------------------------------------------

class _ConvNd(Module):
    _n = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", dtype=None):
        super().__init__()
        name, n = type(self).__name__, self._n
        if padding_mode != "zeros":
            raise ValueError("%s: only padding_mode='zeros' is supported, got %r"
                             % (name, padding_mode))
        # PyTorch's checks and messages, plus sizes (it defers those to forward)
        in_channels = _int_arg(name, "in_channels", in_channels, 0)
        out_channels = _int_arg(name, "out_channels", out_channels, 1)
        groups = _int_arg(name, "groups", groups, 1)
        if in_channels % groups or out_channels % groups:
            raise ValueError("%s: in_channels (%d) and out_channels (%d) must be divisible by "
                             "groups (%d)" % (name, in_channels, out_channels, groups))
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _ints(name, "kernel_size", kernel_size, n, 1)
        self.stride = _ints(name, "stride", stride, n, 1)
        self.dilation = _ints(name, "dilation", dilation, n, 1)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError("%s: invalid padding string %r, should be one of "
                                 "{'valid', 'same'}" % (name, padding))
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("%s: padding='same' is not supported for strided "
                                 "convolutions, got stride=%s" % (name, self.stride))
            self.padding = padding
        else:
            self.padding = _ints(name, "padding", padding, n, 0)
        dt = dtype or np.float32
        self.weight = Parameter(np.empty((out_channels, in_channels // groups) + self.kernel_size,
                                         dtype=dt))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = "%d, %d, kernel_size=%s, stride=%s" % (self.in_channels, self.out_channels,
                                                   self.kernel_size, self.stride)
        if isinstance(self.padding, str) or any(self.padding):
            s += ", padding=%s" % (self.padding if isinstance(self.padding, tuple)
                                   else repr(self.padding),)
        if any(d != 1 for d in self.dilation):
            s += ", dilation=%s" % (self.dilation,)
        if self.groups != 1:
            s += ", groups=%d" % self.groups
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) input; weight (out, in/groups, kH, kW)."""
    _n = 2

    def forward(self, input):
        _check_ndim(self, input, (4,), "4-D (N, C, H, W)")
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) input; weight (out, in/groups, k)."""
    _n = 1

    def forward(self, input):
        _check_ndim(self, input, (3,), "3-D (N, C, L)")
        return F.conv1d(input, self.weight, self.bias, self.stride[0],
                        self.padding if isinstance(self.padding, str) else self.padding[0],
                        self.dilation[0], self.groups)


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return "kernel_size=%s, stride=%s, padding=%s" % (self.kernel_size, self.stride,
                                                          self.padding)


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return "kernel_size=%s, stride=%s, padding=%s" % (self.kernel_size, self.stride,
                                                          self.padding)


class AdaptiveAvgPool2d(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return "output_size=%s" % (self.output_size,)
