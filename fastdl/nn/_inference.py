"""Direct kernel calls for modules when no graph can be recorded.

Under ``no_grad`` / ``inference_mode`` a module's forward would only take its
Function's no-grad branch, after the functional layer's argument checks. At
batch 1 those Python steps cost more than the kernels, so Linear and the
parameter-free activations call the very same kernel here directly, for the
inputs whose checks cannot fail (a Tensor of the weight's float dtype and
the right width). Anything else returns None and the module takes its usual
path, which gives the usual errors. While ``fastdl.onnx.export`` records
(it wraps ``KernelFunction.apply``) the direct calls stay off, so every op
is recorded.
"""
from fastdl._C import gemm as _gemm
from fastdl.autograd._functions.nn import _ACT
from fastdl.autograd.function import KernelFunction
from fastdl.autograd.grad_mode import _mode
from fastdl.tensor import Tensor

_APPLY = KernelFunction.__dict__["apply"]
_KF = KernelFunction.__dict__


def direct():
    """True when a module may call its kernel directly: grad mode is off and no
    tracer wraps KernelFunction.apply."""
    return not _mode.enabled and _KF["apply"] is _APPLY


def linear(x, weight, bias, relu=False):
    """x @ weight.T + bias (then relu when relu is True) for a 2-D Tensor x of weight's
    dtype and width, else None."""
    if type(x) is not Tensor:
        return None
    xd, wd = x._data, weight._data
    if xd.ndim != 2 or xd.dtype != wd.dtype or xd.shape[1] != wd.shape[1]:
        return None
    if bias is None:
        return Tensor._wrap(_gemm.matmul(xd, wd, transb=True, relu=relu))
    bd = bias._data
    if bd.dtype != wd.dtype:
        return None
    return Tensor._wrap(_gemm.matmul(xd, wd, transb=True, bias=bd, relu=relu))


def activation(name, x):
    """A parameter-free activation (relu, sigmoid, tanh, silu) of a float Tensor x, else None."""
    if type(x) is not Tensor:
        return None
    xd = x._data
    if xd.ndim == 0 or xd.dtype.char not in "fd":
        return None
    fwd, _, _, _, params = _ACT[name]
    return Tensor._wrap(fwd(xd, *params(0.0, 0.0)))
