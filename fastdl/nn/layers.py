"""Layers with PyTorch's names, constructor arguments, parameter shapes and
default initializations. Each forward is one call into fastdl.nn.functional.
"""
import math
import numbers

import numpy as np

from fastdl import creation
from fastdl.nn import functional as F
from fastdl._device import check_device
from fastdl.nn import _inference, init
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
    """A placeholder layer that returns its input unchanged.

    Args:
        *args, **kwargs: accepted and ignored (PyTorch's signature), so Identity
            can stand in for any layer.

    Shapes:
        input (*) -> output (*), the same tensor.

    Example:
        >>> x = fastdl.randn(2, 3)
        >>> nn.Identity(54, unused=1)(x) is x
        True
    """
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """Applies y = x @ W.T + b, through one GEMM with a fused bias epilogue.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias (default True).
        dtype: parameter dtype (default float32).

    Attributes:
        weight: (out_features, in_features), initialized U(-1/sqrt(in), 1/sqrt(in))
            (kaiming_uniform_ with a=sqrt(5), as PyTorch).
        bias: (out_features,), same bound.

    Shapes:
        input (*, in_features) -> output (*, out_features).

    Example:
        >>> layer = nn.Linear(3, 5)
        >>> layer(fastdl.randn(4, 3)).shape
        (4, 5)
        >>> layer.weight.shape, layer.bias.shape
        ((5, 3), (5,))
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        check_device(device, type(self).__name__)
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
        return self._forward(input, False)

    def _forward(self, input, relu):
        """forward(input), then relu in the GEMM's epilogue when relu is True (nn.Sequential's
        Linear + ReLU)."""
        ps = self._parameters       # self.weight would go through Module.__getattr__
        w = ps.get("weight")
        w = self.weight if w is None else w
        b = ps["bias"] if "bias" in ps else self.bias
        if _inference.direct():         # no graph: the GEMM alone when the checks cannot fail
            y = _inference.linear(input, w, b, relu)
            if y is not None:
                return y
        # the array's plain shape (Tensor.shape would build a Size)
        xs = input._data.shape if type(input) is Tensor else input.shape
        if len(xs) < 1 or xs[-1] != self.in_features:
            raise ValueError("Linear: expected input of shape (*, %d), got %s"
                             % (self.in_features, tuple(input.shape)))
        return F._linear(input, w, b, relu)

    def extra_repr(self):
        return "in_features=%d, out_features=%d, bias=%s" % (
            self.in_features, self.out_features, self.bias is not None)


class Flatten(Module):
    """Flattens the dimensions start_dim..end_dim into one (PyTorch's nn.Flatten).

    Args:
        start_dim: first dimension to flatten (default 1, keeping the batch).
        end_dim: last dimension to flatten (default -1).

    Shapes:
        input (N, d1, ..., dk) -> output (N, d1 * ... * dk) with the defaults.

    Example:
        >>> nn.Flatten()(fastdl.randn(4, 2, 3)).shape
        (4, 6)
    """
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return "start_dim=%d, end_dim=%d" % (self.start_dim, self.end_dim)


class Unflatten(Module):
    """Expands one dimension into a given shape (the inverse of Flatten).

    Args:
        dim: the dimension to expand.
        unflattened_size: the shape it becomes; its product must equal the
            size of ``dim``.

    Shapes:
        input (N, prod(unflattened_size)) -> output (N, *unflattened_size) for dim=1.

    Example:
        >>> nn.Unflatten(1, (2, 3))(fastdl.randn(4, 6)).shape
        (4, 2, 3)
    """
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
    direct = fn_name in ("relu", "sigmoid", "tanh", "silu")     # no kernel parameters

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
        """Apply the activation to the input (see the class docstring)."""
        if direct and _inference.direct():
            y = _inference.activation(fn_name, input)
            if y is not None:
                return y
        return getattr(F, fn_name)(input, **{p: getattr(self, p) for p in params
                                             if p != "inplace"})

    def extra_repr(self):
        """The activation's settings, shown in its repr."""
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

ReLU.__doc__ = """max(0, x) elementwise (torch.nn.ReLU).

Args:
    inplace: accepted for PyTorch compatibility; the result is a new tensor.

Shapes:
    input (*) -> output (*), same shape.

Example:
    >>> nn.ReLU()(fastdl.tensor([-1.0, 0.0, 2.0]))
    tensor([0., 0., 2.])
"""
LeakyReLU.__doc__ = """x if x > 0 else negative_slope * x, elementwise (torch.nn.LeakyReLU).

Args:
    negative_slope: slope for x < 0 (default 0.01).
    inplace: accepted for PyTorch compatibility.

Shapes:
    input (*) -> output (*), same shape.

Example:
    >>> nn.LeakyReLU(0.1)(fastdl.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.1,  0. ,  2. ])
"""
ELU.__doc__ = """x if x > 0 else alpha * (exp(x) - 1), elementwise (torch.nn.ELU).

Args:
    alpha: the value approached as x -> -inf is -alpha (default 1.0).
    inplace: accepted for PyTorch compatibility.

Shapes:
    input (*) -> output (*), same shape.

Example:
    >>> nn.ELU()(fastdl.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.6321,  0.    ,  2.    ])
"""
GELU.__doc__ = """x * Phi(x), the Gaussian error linear unit, elementwise (torch.nn.GELU).

Args:
    approximate: 'none' (exact, with erf) or 'tanh' (the tanh approximation).

Shapes:
    input (*) -> output (*), same shape.

Example:
    >>> nn.GELU()(fastdl.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.1587,  0.    ,  1.9545])
"""
SiLU.__doc__ = """x * sigmoid(x) (swish), elementwise (torch.nn.SiLU).

Args:
    inplace: accepted for PyTorch compatibility.

Shapes:
    input (*) -> output (*), same shape.

Example:
    >>> nn.SiLU()(fastdl.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.2689,  0.    ,  1.7616])
"""
Sigmoid.__doc__ = """1 / (1 + exp(-x)), elementwise (torch.nn.Sigmoid).

Shapes:
    input (*) -> output (*), same shape.

Example:
    >>> nn.Sigmoid()(fastdl.tensor([-1.0, 0.0, 2.0]))
    tensor([0.2689, 0.5   , 0.8808])
"""
Tanh.__doc__ = """The hyperbolic tangent, elementwise (torch.nn.Tanh).

Shapes:
    input (*) -> output (*), same shape.

Example:
    >>> nn.Tanh()(fastdl.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.7616,  0.    ,  0.964 ])
"""
Softplus.__doc__ = """log(1 + exp(beta * x)) / beta, elementwise (torch.nn.Softplus).

Args:
    beta: sharpness (default 1.0).
    threshold: above beta * x > threshold the output is x, for stability (default 20.0).

Shapes:
    input (*) -> output (*), same shape.

Example:
    >>> nn.Softplus()(fastdl.tensor([-1.0, 0.0, 2.0]))
    tensor([0.3133, 0.6931, 2.1269])
"""
Softmax.__doc__ = """exp(x) / sum(exp(x)) along ``dim``: each slice sums to 1 (torch.nn.Softmax).

Args:
    dim: the dimension to normalize (give it; None picks one the way PyTorch's
        legacy rule does).

Shapes:
    input (*) -> output (*), same shape.

Example:
    >>> nn.Softmax(dim=1)(fastdl.tensor([[1.0, 2.0, 3.0]]))
    tensor([[0.09  , 0.2447, 0.6652]])
"""
LogSoftmax.__doc__ = """log(softmax(x)) along ``dim``, computed stably (torch.nn.LogSoftmax).

Args:
    dim: the dimension to normalize.

Shapes:
    input (*) -> output (*), same shape.

Example:
    >>> nn.LogSoftmax(dim=1)(fastdl.tensor([[1.0, 2.0, 3.0]]))
    tensor([[-2.4076, -1.4076, -0.4076]])
"""


class Dropout(Module):
    """Zeroes elements with probability p while training and scales the rest by 1/(1-p).

    In eval mode (``module.eval()``) it is the identity. The mask comes from
    fastdl's global generator, so ``fastdl.manual_seed`` makes it repeatable.

    Args:
        p: probability of zeroing an element, in [0, 1] (default 0.5).
        inplace: accepted for PyTorch compatibility; the result is always a
            new tensor.

    Shapes:
        input (*) -> output (*), same shape.

    Example:
        >>> fastdl.manual_seed(0)
        >>> drop = nn.Dropout(p=0.5)
        >>> y = drop(fastdl.ones(1000))
        >>> sorted(set(y.numpy().tolist()))      # kept elements are scaled by 2
        [0.0, 2.0]
        >>> drop.eval()(fastdl.ones(3))
        tensor([1., 1., 1.])
    """

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
    """Batch normalization, shared by BatchNorm1d and BatchNorm2d."""
    _dims = ()
    _what = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        check_device(device, type(self).__name__)
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
        return self._forward(input, False)

    def _forward(self, input, relu):
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
        return F._batch_norm(input,
                             self.running_mean if not self.training or self.track_running_stats
                             else None,
                             self.running_var if not self.training or self.track_running_stats
                             else None,
                             self.weight, self.bias, use_batch, momentum or 0.0, self.eps, relu)

    def extra_repr(self):
        return ("{num_features}, eps={eps}, momentum={momentum}, affine={affine}, "
                "track_running_stats={track_running_stats}".format(**self.__dict__))


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) input, per channel C.

    In training, normalizes with the batch's mean and biased variance and
    updates ``running_mean``/``running_var`` (unbiased variance) with
    ``momentum``; in eval, normalizes with the running statistics.
    Follows torch.nn.BatchNorm1d.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance for stability (default 1e-5).
        momentum: weight of the new batch in the running statistics
            (default 0.1); None gives a cumulative average.
        affine: learn a per-channel scale ``weight`` and shift ``bias``
            (default True).
        track_running_stats: keep running statistics (default True); when
            False, batch statistics are used in eval too.
        dtype: parameter dtype (default float32).

    Shapes:
        input (N, C) or (N, C, L) -> output of the same shape.

    Example:
        >>> fastdl.manual_seed(0)
        >>> bn = nn.BatchNorm1d(3)
        >>> y = bn(fastdl.randn(16, 3) * 5 + 2)
        >>> y.shape, round(float(y.mean()), 4)
        ((16, 3), 0.0)
        >>> int(bn.num_batches_tracked.item())
        1
    """
    _dims = (2, 3)
    _what = "2-D (N, C) or 3-D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W) input, per channel C.

    Statistics are taken over N, H and W. Arguments and behaviour are those
    of BatchNorm1d (and torch.nn.BatchNorm2d).

    Args:
        num_features: C, the number of channels.
        eps: added to the variance for stability (default 1e-5).
        momentum: weight of the new batch in the running statistics
            (default 0.1); None gives a cumulative average.
        affine: learn a per-channel scale and shift (default True).
        track_running_stats: keep running statistics (default True).
        dtype: parameter dtype (default float32).

    Shapes:
        input (N, C, H, W) -> output (N, C, H, W).

    Example:
        >>> bn = nn.BatchNorm2d(8)
        >>> bn(fastdl.randn(2, 8, 5, 5)).shape
        (2, 8, 5, 5)
        >>> bn.running_mean.shape
        (8,)
    """
    _dims = (4,)
    _what = "4-D (N, C, H, W)"


class LayerNorm(Module):
    """Layer normalization over the trailing ``normalized_shape`` dimensions of each sample.

    Args:
        normalized_shape: an int or a shape: the trailing dimensions to
            normalize over.
        eps: added to the variance for stability (default 1e-5).
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros) of
            shape normalized_shape (default True).
        bias: learn the bias when elementwise_affine (default True).
        dtype: parameter dtype (default float32).

    Shapes:
        input (*, *normalized_shape) -> output of the same shape.

    Example:
        >>> ln = nn.LayerNorm(4)
        >>> y = ln(fastdl.tensor([[1.0, 2.0, 3.0, 4.0]]))
        >>> [round(v, 3) for v in y.detach().numpy()[0].tolist()]
        [-1.342, -0.447, 0.447, 1.342]
    """
    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        check_device(device, type(self).__name__)
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
    """A lookup table: row i of ``weight`` is the vector of index i.

    Args:
        num_embeddings: size of the table (number of indices).
        embedding_dim: size of each vector.
        padding_idx: an index whose row is zero at initialization and gets
            no gradient (default None).
        dtype: weight dtype (default float32).

    Attributes:
        weight: (num_embeddings, embedding_dim), initialized N(0, 1).

    Shapes:
        input (*) integer indices -> output (*, embedding_dim).

    Example:
        >>> emb = nn.Embedding(10, 3, padding_idx=0)
        >>> emb(fastdl.tensor([[1, 2], [0, 4]])).shape
        (2, 2, 3)
        >>> emb(fastdl.tensor([0]))
        tensor([[0., 0., 0.]], grad_fn=<...>)
    """
    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        check_device(device, type(self).__name__)
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
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise NotImplementedError("Embedding: max_norm, scale_grad_by_freq and sparse are "
                                      "not supported")
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim),
                                             dtype=dtype or np.float32))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError("Embedding: _weight must have shape (%d, %d), got %s"
                                 % (num_embeddings, embedding_dim, tuple(_weight.shape)))
            self.weight = Parameter(_weight, requires_grad=not _freeze)

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
    """Shared constructor and initialization of Conv1d and Conv2d."""
    _n = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        check_device(device, type(self).__name__)
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
    """2-D convolution (cross-correlation) over (N, C, H, W) input, torch.nn.Conv2d.

    Runs as packed GEMMs on fastdl's kernels.

    Args:
        in_channels: C_in.
        out_channels: C_out.
        kernel_size: an int or a pair (kH, kW).
        stride: an int or a pair (default 1).
        padding: zero padding on each side, an int or a pair (default 0).
        dilation: spacing between kernel taps, an int or a pair (default 1).
        groups: split channels into this many independent groups (default 1);
            C_in and C_out must be divisible by it.
        bias: learn a per-output-channel bias (default True).
        padding_mode: only 'zeros' is supported (ValueError otherwise).
        dtype: parameter dtype (default float32).

    Attributes:
        weight: (C_out, C_in / groups, kH, kW), kaiming_uniform_(a=sqrt(5)).
        bias: (C_out,).

    Shapes:
        input (N, C_in, H, W) -> output (N, C_out, H_out, W_out) with
        H_out = (H + 2 * padding - dilation * (kH - 1) - 1) // stride + 1
        (W_out alike).

    Example:
        >>> conv = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        >>> conv(fastdl.randn(2, 1, 28, 28)).shape
        (2, 8, 28, 28)
        >>> nn.Conv2d(3, 6, 5, stride=2)(fastdl.randn(1, 3, 32, 32)).shape
        (1, 6, 14, 14)
    """
    _n = 2

    def forward(self, input):
        _check_ndim(self, input, (4,), "4-D (N, C, H, W)")
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)


_CONV2D_FORWARD = Conv2d.forward
_RELU_FORWARD = ReLU.forward
_LINEAR_FORWARD = Linear.forward


def _linear_relu_pair(a, b):
    """Whether Linear a followed by ReLU b (in a Sequential) may run as one fused node, on
    the same terms as _conv_relu_pair."""
    return (type(a) is Linear and type(b) is ReLU and not a._forward_hooks
            and not b._forward_hooks and "forward" not in a.__dict__
            and "forward" not in b.__dict__ and Linear.forward is _LINEAR_FORWARD
            and ReLU.forward is _RELU_FORWARD)


def _linear_relu_call(lin, relu, input):
    """relu(lin(input)) as one GEMM with a bias + ReLU epilogue (and one autograd node)."""
    out = lin._forward(input, True)
    lin.__dict__["_last_output_shape"] = relu.__dict__["_last_output_shape"] = out._data.shape
    return out


def _conv_relu_pair(a, b):
    """Whether Conv2d a followed by ReLU b (in a Sequential) may run as one fused node:
    only the plain classes, with no forward hook and no forward replaced, so that
    nothing can observe the convolution's output before the ReLU."""
    return (type(a) is Conv2d and type(b) is ReLU and not a._forward_hooks
            and not b._forward_hooks and "forward" not in a.__dict__
            and "forward" not in b.__dict__ and Conv2d.forward is _CONV2D_FORWARD
            and ReLU.forward is _RELU_FORWARD)


def _conv_relu_call(conv, relu, input):
    """relu(conv(input)) as one conv2d + bias + ReLU kernel pass (and one autograd node)."""
    from fastdl.nn._conv import _conv2d
    _check_ndim(conv, input, (4,), "4-D (N, C, H, W)")
    out = _conv2d(input, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation,
                  conv.groups, True)
    conv.__dict__["_last_output_shape"] = relu.__dict__["_last_output_shape"] = out._data.shape
    return out


_BN_FORWARD = _BatchNorm.forward


def _bn_relu_pair(a, b):
    """Whether BatchNorm1d/2d a followed by ReLU b (in a Sequential) may run as one fused
    node, on the same terms as _conv_relu_pair."""
    return (type(a) in (BatchNorm1d, BatchNorm2d) and type(b) is ReLU and not a._forward_hooks
            and not b._forward_hooks and "forward" not in a.__dict__
            and "forward" not in b.__dict__ and type(a).forward is _BN_FORWARD
            and ReLU.forward is _RELU_FORWARD)


def _bn_relu_call(bn, relu, input):
    """relu(bn(input)) as one batch_norm + ReLU kernel pass (and one autograd node)."""
    out = bn._forward(input, True)
    bn.__dict__["_last_output_shape"] = relu.__dict__["_last_output_shape"] = out._data.shape
    return out


def _relu_pool_pair(a, b):
    """Whether ReLU a followed by MaxPool2d b (in a Sequential) may run as one node
    relu(max_pool2d(x)): the plain classes, no forward hook, no forward replaced (nothing
    can observe the ReLU's output), and no indices asked of the pool."""
    return (type(a) is ReLU and type(b) is MaxPool2d and not a._forward_hooks
            and not b._forward_hooks and "forward" not in a.__dict__
            and "forward" not in b.__dict__ and ReLU.forward is _RELU_FORWARD
            and MaxPool2d.forward is _MAXPOOL2D_FORWARD and not b.return_indices)


def _relu_pool_call(relu, pool, input):
    """max_pool2d(relu(input)) as relu(max_pool2d(input)): equal values and gradients
    (relu is monotone, and the pooled output masks the backward), the ReLU on the 4x
    smaller output. None when the pool's window is too large for the fused node."""
    out = F._max_pool2d_relu(input, pool.kernel_size, pool.stride, pool.padding,
                             pool.dilation, pool.ceil_mode)
    if out is not None:
        relu.__dict__["_last_output_shape"] = input.shape
        pool.__dict__["_last_output_shape"] = out._data.shape
    return out


def _conv_relu_pool_call(conv, relu, pool, input):
    """max_pool2d(relu(conv(input))) as the plain convolution, then the fused ReLU +
    max-pool node: the ReLU's forward pass and its backward mask over the full-size
    convolution output are not run at all. None when the pool cannot be fused."""
    from fastdl.nn._conv import _conv2d
    _check_ndim(conv, input, (4,), "4-D (N, C, H, W)")
    kh, kw = F._pair(pool.kernel_size, "max_pool2d", "kernel_size")
    if kh * kw > F._WIN_MAX_KERNEL:
        return None
    y = _conv2d(input, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation,
                conv.groups, False)
    conv.__dict__["_last_output_shape"] = y._data.shape
    return _relu_pool_call(relu, pool, y)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) input, torch.nn.Conv1d.

    Args:
        in_channels: C_in.
        out_channels: C_out.
        kernel_size: the kernel length k.
        stride: step between windows (default 1).
        padding: zeros added on each side (default 0).
        dilation: spacing between kernel taps (default 1).
        groups: independent channel groups (default 1).
        bias: learn a per-output-channel bias (default True).
        padding_mode: only 'zeros' is supported.
        dtype: parameter dtype (default float32).

    Attributes:
        weight: (C_out, C_in / groups, k).

    Shapes:
        input (N, C_in, L) -> output (N, C_out, L_out),
        L_out = (L + 2 * padding - dilation * (k - 1) - 1) // stride + 1.

    Example:
        >>> nn.Conv1d(2, 4, kernel_size=3)(fastdl.randn(1, 2, 10)).shape
        (1, 4, 8)
    """
    _n = 1

    def forward(self, input):
        _check_ndim(self, input, (3,), "3-D (N, C, L)")
        return F.conv1d(input, self.weight, self.bias, self.stride[0],
                        self.padding if isinstance(self.padding, str) else self.padding[0],
                        self.dilation[0], self.groups)


class MaxPool2d(Module):
    """2-D max pooling over (N, C, H, W) input, torch.nn.MaxPool2d.

    Args:
        kernel_size: window size, an int or a pair.
        stride: window step (default: kernel_size).
        padding: implicit -inf padding on each side (default 0).
        dilation: spacing between window elements (default 1).
        return_indices: also return the flat argmax positions (default False).
        ceil_mode: round the output size up instead of down (default False).

    Shapes:
        input (N, C, H, W) -> output (N, C, H_out, W_out),
        H_out = (H + 2 * padding - dilation * (k - 1) - 1) // stride + 1.

    Example:
        >>> x = fastdl.arange(16.0).reshape(1, 1, 4, 4)
        >>> nn.MaxPool2d(2)(x)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
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


_MAXPOOL2D_FORWARD = MaxPool2d.forward


class AvgPool2d(Module):
    """2-D average pooling over (N, C, H, W) input, torch.nn.AvgPool2d.

    Args:
        kernel_size: window size, an int or a pair.
        stride: window step (default: kernel_size).
        padding: zero padding on each side (default 0).
        ceil_mode: round the output size up instead of down (default False).
        count_include_pad: count padded zeros in the divisor (default True).

    Shapes:
        input (N, C, H, W) -> output (N, C, H_out, W_out),
        H_out = (H + 2 * padding - k) // stride + 1.

    Example:
        >>> x = fastdl.arange(16.0).reshape(1, 1, 4, 4)
        >>> nn.AvgPool2d(2)(x)
        tensor([[[[ 2.5,  4.5],
                  [10.5, 12.5]]]])
    """
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
    """Average pooling to a fixed output size, whatever the input size.

    Args:
        output_size: (H_out, W_out), or one int for a square output.

    Shapes:
        input (N, C, H, W) -> output (N, C, H_out, W_out).

    Example:
        >>> nn.AdaptiveAvgPool2d(1)(fastdl.randn(2, 3, 5, 5)).shape
        (2, 3, 1, 1)
    """
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return "output_size=%s" % (self.output_size,)
