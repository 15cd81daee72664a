"""More of PyTorch's layers: channel dropout, group/instance norm, 1-D pooling,
upsampling, transposed convolution, small activations and parameter containers.

Each has torch.nn's constructor arguments (``device``/``dtype`` last) and
calls the functional op of the same name.
"""
import math

import numpy as np

from fastdl._device import check_device
from fastdl.nn import functional as F
from fastdl.nn import init
from fastdl.nn.module import Module, Parameter

__all__ = ["Dropout1d", "Dropout2d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d",
           "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d", "Upsample", "ConvTranspose2d",
           "GLU", "Hardtanh", "ReLU6", "Mish", "Hardswish", "Hardsigmoid", "LogSigmoid",
           "Softsign", "ParameterList", "ParameterDict", "CosineSimilarity",
           "PairwiseDistance"]


class Dropout1d(Module):
    """Zero whole channels of (N, C, L) input with probability p in training (torch.nn.Dropout1d).

    Example:
        >>> nn.Dropout1d(0.5).eval()(fastdl.ones(2, 3, 4)).shape
        (2, 3, 4)
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError("Dropout1d: dropout probability has to be between 0 and 1, but "
                             "got %r" % (p,))
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training)

    def extra_repr(self):
        return "p=%s" % self.p


class Dropout2d(Dropout1d):
    """Zero whole channels of (N, C, H, W) input with probability p in training (torch.nn.Dropout2d).

    Example:
        >>> nn.Dropout2d(0.2).eval()(fastdl.ones(2, 3, 4, 4)).shape
        (2, 3, 4, 4)
    """

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training)


class GroupNorm(Module):
    """Group normalization of (N, C, *) over channel groups and spatial dims (torch.nn.GroupNorm).

    Example:
        >>> gn = nn.GroupNorm(2, 4)
        >>> gn(fastdl.randn(3, 4, 5)).shape, gn.weight.shape
        ((3, 4, 5), (4,))
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None):
        check_device(device, "GroupNorm")
        super().__init__()
        if num_channels % num_groups:
            raise ValueError("GroupNorm: num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps, self.affine = (
            num_groups, num_channels, eps, affine)
        dt = dtype or np.float32
        if affine:
            self.weight = Parameter(np.ones(num_channels, dtype=dt))
            self.bias = Parameter(np.zeros(num_channels, dtype=dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return "%d, %d, eps=%s, affine=%s" % (self.num_groups, self.num_channels, self.eps,
                                              self.affine)


class _InstanceNorm(Module):
    _ndim = 3

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None):
        check_device(device, type(self).__name__)
        super().__init__()
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
            from fastdl.tensor import Tensor
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.zeros((), np.int64)))
        else:
            self.running_mean = self.running_var = None

    def forward(self, input):
        batched = input.ndim == self._ndim
        if not batched:
            if input.ndim != self._ndim - 1:
                raise ValueError("%s: expected %d-D or %d-D input, got %d-D"
                                 % (type(self).__name__, self._ndim - 1, self._ndim,
                                    input.ndim))
            input = input.unsqueeze(0)
        use_stats = self.training or not self.track_running_stats
        out = F.instance_norm(input, self.running_mean if self.training else None,
                              self.running_var if self.training else None,
                              self.weight, self.bias, use_stats, self.momentum, self.eps) \
            if use_stats else F.instance_norm(input, self.running_mean, self.running_var,
                                              self.weight, self.bias, False, self.momentum,
                                              self.eps)
        return out if batched else out.squeeze(0)

    def extra_repr(self):
        return "%d, eps=%s, momentum=%s, affine=%s, track_running_stats=%s" % (
            self.num_features, self.eps, self.momentum, self.affine, self.track_running_stats)


class InstanceNorm1d(_InstanceNorm):
    """Normalize each (sample, channel) of (N, C, L) over L (torch.nn.InstanceNorm1d).

    Example:
        >>> nn.InstanceNorm1d(3)(fastdl.randn(2, 3, 5)).shape
        (2, 3, 5)
    """
    _ndim = 3


class InstanceNorm2d(_InstanceNorm):
    """Normalize each (sample, channel) of (N, C, H, W) over H and W (torch.nn.InstanceNorm2d).

    Example:
        >>> nn.InstanceNorm2d(3, affine=True)(fastdl.randn(2, 3, 4, 4)).shape
        (2, 3, 4, 4)
    """
    _ndim = 4


class MaxPool1d(Module):
    """1-D max pooling over L of (N, C, L) (torch.nn.MaxPool1d).

    Example:
        >>> nn.MaxPool1d(2)(fastdl.randn(1, 2, 6)).shape
        (1, 2, 3)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride or kernel_size, padding
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self):
        return "kernel_size=%s, stride=%s, padding=%s" % (self.kernel_size, self.stride,
                                                         self.padding)


class AvgPool1d(Module):
    """1-D average pooling over L of (N, C, L) (torch.nn.AvgPool1d).

    Example:
        >>> nn.AvgPool1d(3, stride=1)(fastdl.randn(1, 2, 6)).shape
        (1, 2, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride or kernel_size, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class AdaptiveAvgPool1d(Module):
    """Average pooling of (N, C, L) to a fixed length (torch.nn.AdaptiveAvgPool1d).

    Example:
        >>> nn.AdaptiveAvgPool1d(1)(fastdl.randn(2, 3, 7)).shape
        (2, 3, 1)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)


class Upsample(Module):
    """Resize spatial dims by size or scale_factor, nearest or (bi)linear (torch.nn.Upsample).

    Example:
        >>> nn.Upsample(scale_factor=2, mode="nearest")(fastdl.ones(1, 1, 2, 3)).shape
        (1, 1, 4, 6)
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self):
        return "size=%s, scale_factor=%s, mode=%r" % (self.size, self.scale_factor, self.mode)


class ConvTranspose2d(Module):
    """Transposed 2-D convolution, weight (C_in, C_out / groups, kH, kW) (torch.nn.ConvTranspose2d).

    H_out = (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1.

    Example:
        >>> up = nn.ConvTranspose2d(4, 2, kernel_size=2, stride=2)
        >>> up(fastdl.randn(1, 4, 5, 5)).shape, up.weight.shape
        ((1, 2, 10, 10), (4, 2, 2, 2))
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        check_device(device, "ConvTranspose2d")
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError("ConvTranspose2d: only padding_mode='zeros' is supported")
        if in_channels % groups or out_channels % groups:
            raise ValueError("ConvTranspose2d: in_channels and out_channels must be divisible "
                             "by groups")
        pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)     # noqa: E731
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = pair(kernel_size), pair(stride), pair(padding)
        self.output_padding, self.dilation, self.groups = pair(output_padding), pair(dilation), groups
        dt = dtype or np.float32
        self.weight = Parameter(np.empty((in_channels, out_channels // groups) + self.kernel_size,
                                         dtype=dt))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            # PyTorch's fan_in of a transposed weight is its dim 1 times the kernel size
            fan_in = self.weight.shape[1] * int(np.prod(self.kernel_size))
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input, output_size=None):
        if output_size is not None:
            raise NotImplementedError("ConvTranspose2d: output_size is not supported; use "
                                      "output_padding")
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation)

    def extra_repr(self):
        return "%d, %d, kernel_size=%s, stride=%s" % (self.in_channels, self.out_channels,
                                                     self.kernel_size, self.stride)


def _simple(name, fn, doc, example, params=()):
    def __init__(self, *args, **kwargs):
        Module.__init__(self)
        vals = dict(zip([p for p, _ in params], args))
        for p, d in params:
            setattr(self, p, kwargs.pop(p, vals.get(p, d)))
        kwargs.pop("inplace", None)
        if kwargs:
            raise TypeError("%s: unexpected arguments %s" % (name, sorted(kwargs)))

    def forward(self, input):
        return fn(input, *[getattr(self, p) for p, _ in params])
    doc = "%s\n\n    Example:\n        %s\n    " % (doc, example)
    return type(name, (Module,), {"__init__": __init__, "forward": forward, "__doc__": doc,
                                  "__module__": __name__})


GLU = _simple("GLU", F.glu, "a * sigmoid(b) over the halves of dim (torch.nn.GLU).",
              ">>> nn.GLU()(fastdl.ones(2, 4)).shape\n        (2, 2)", [("dim", -1)])
Hardtanh = _simple("Hardtanh", F.hardtanh, "clamp(x, min_val, max_val) (torch.nn.Hardtanh).",
                   ">>> nn.Hardtanh()(fastdl.tensor([2.0]))\n        tensor([1.])",
                   [("min_val", -1.0), ("max_val", 1.0)])
ReLU6 = _simple("ReLU6", F.relu6, "min(max(0, x), 6) (torch.nn.ReLU6).",
                ">>> nn.ReLU6()(fastdl.tensor([7.0]))\n        tensor([6.])")
Mish = _simple("Mish", F.mish, "x * tanh(softplus(x)) (torch.nn.Mish).",
               ">>> nn.Mish()(fastdl.tensor([0.0]))\n        tensor([0.])")
Hardswish = _simple("Hardswish", F.hardswish, "x * hardsigmoid(x) (torch.nn.Hardswish).",
                    ">>> nn.Hardswish()(fastdl.tensor([4.0]))\n        tensor([4.])")
Hardsigmoid = _simple("Hardsigmoid", F.hardsigmoid, "clamp(x / 6 + 1/2, 0, 1) (torch.nn.Hardsigmoid).",
                      ">>> nn.Hardsigmoid()(fastdl.tensor([0.0]))\n        tensor([0.5])")
LogSigmoid = _simple("LogSigmoid", F.logsigmoid, "log(sigmoid(x)) (torch.nn.LogSigmoid).",
                     ">>> nn.LogSigmoid()(fastdl.tensor([0.0]))\n        tensor([-0.6931])")
Softsign = _simple("Softsign", F.softsign, "x / (1 + |x|) (torch.nn.Softsign).",
                   ">>> nn.Softsign()(fastdl.tensor([1.0]))\n        tensor([0.5])")
CosineSimilarity = _simple(
    "CosineSimilarity", lambda x, dim, eps: x, "Cosine similarity of two inputs along dim "
    "(torch.nn.CosineSimilarity).",
    ">>> nn.CosineSimilarity()(fastdl.ones(2, 3), fastdl.ones(2, 3))\n        tensor([1., 1.])",
    [("dim", 1), ("eps", 1e-8)])
CosineSimilarity.forward = lambda self, x1, x2: F.cosine_similarity(x1, x2, self.dim, self.eps)
PairwiseDistance = _simple(
    "PairwiseDistance", lambda x, p, eps, keepdim: x, "The p-norm distance of two inputs over "
    "the last dim (torch.nn.PairwiseDistance).",
    ">>> nn.PairwiseDistance()(fastdl.zeros(1, 2), fastdl.tensor([[3.0, 4.0]]))\n"
    "        tensor([5.])",
    [("p", 2.0), ("eps", 1e-6), ("keepdim", False)])
PairwiseDistance.forward = lambda self, x1, x2: F.pairwise_distance(x1, x2, self.p, self.eps,
                                                                    self.keepdim)


class ParameterList(Module):
    """A list of Parameters registered with the module (torch.nn.ParameterList).

    Example:
        >>> pl = nn.ParameterList([nn.Parameter(fastdl.ones(2)) for _ in range(3)])
        >>> len(pl), len(list(pl.parameters()))
        (3, 3)
    """

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        for v in values or ():
            self.append(v)

    def append(self, value):
        """Add a Parameter (a Tensor is wrapped) at the end; returns self."""
        if not isinstance(value, Parameter):
            value = Parameter(value)
        self.register_parameter(str(self._size), value)
        self._size += 1
        return self

    def extend(self, values):
        """Append every value; returns self."""
        for v in values:
            self.append(v)
        return self

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self._parameters[str(i)] for i in range(self._size))

    def __getitem__(self, i):
        if isinstance(i, slice):
            return list(self)[i]
        if i < 0:
            i += self._size
        if not 0 <= i < self._size:
            raise IndexError("ParameterList: index %d is out of range" % i)
        return self._parameters[str(i)]


class ParameterDict(Module):
    """A dict of Parameters registered with the module (torch.nn.ParameterDict).

    Example:
        >>> pd = nn.ParameterDict({"a": nn.Parameter(fastdl.ones(2))})
        >>> list(pd.keys()), pd["a"].shape
        (['a'], (2,))
    """

    def __init__(self, parameters=None):
        super().__init__()
        for k, v in (parameters or {}).items():
            self[k] = v

    def __setitem__(self, key, value):
        if not isinstance(value, Parameter):
            value = Parameter(value)
        self.register_parameter(key, value)

    def __getitem__(self, key):
        return self._parameters[key]

    def __contains__(self, key):
        return key in self._parameters

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def keys(self):
        """The names."""
        return self._parameters.keys()

    def values(self):
        """The Parameters."""
        return self._parameters.values()

    def items(self):
        """(name, Parameter) pairs."""
        return self._parameters.items()
