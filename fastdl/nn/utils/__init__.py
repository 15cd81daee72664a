"""fastdl.nn.utils: gradient clipping with ``torch.nn.utils``'s names and semantics.

float32 gradients go through the C helpers (fdl_grad_sq_norm_f32, fdl_grad_scale_f32,
fdl_grad_clamp_f32), whose norm is summed in double in a fixed order, so it is the
same for any thread count. Gradients of other dtypes use NumPy (float64
accumulation), documented rather than hidden.
"""
import math

import numpy as np

from fastdl._C import optim as _k
from fastdl.tensor import Tensor
from fastdl.nn.utils import rnn

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "l1_penalty", "rnn"]


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad._data for p in parameters if p.grad is not None]


def _fast(g):
    return g.dtype == np.float32 and g.flags.c_contiguous and g.flags.writeable


def _norm_of(g, norm_type):
    """The norm_type-norm of one gradient array, as a Python float."""
    if norm_type == math.inf:
        if g.size == 0:
            return 0.0
        return float(_k.grad_max_abs(g)) if _fast(g) else float(np.max(np.abs(g)))
    if norm_type == -math.inf:
        return float(np.min(np.abs(g))) if g.size else math.inf
    if norm_type == 2.0:
        s = _k.grad_sq_norm(g) if _fast(g) else float(np.sum(np.square(g, dtype=np.float64)))
        return math.sqrt(s)
    if norm_type == 0:
        return float(np.count_nonzero(g))
    a = np.abs(g.astype(np.float64))
    return float(np.sum(a ** norm_type) ** (1.0 / norm_type))


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False):
    """The norm of the norms of the given arrays or Tensors, as if they were concatenated.

    Args:
        tensors: an iterable of Tensors or NumPy arrays.
        norm_type: the p of the p-norm (default 2.0); ``float('inf')`` for the
            max norm.
        error_if_nonfinite: raise RuntimeError if the total is NaN or infinite
            (default False).

    Returns:
        A float32 0-d Tensor, like torch.nn.utils.get_total_norm.

    Example:
        >>> nn.utils.get_total_norm([fastdl.tensor([3.0]), fastdl.tensor([4.0])])
        tensor(5.)
        >>> nn.utils.get_total_norm([fastdl.tensor([3.0, -7.0])], norm_type=float('inf'))
        tensor(7.)
    """
    norm_type = float(norm_type)
    arrays = [t._data if isinstance(t, Tensor) else np.asarray(t) for t in tensors]
    if not arrays:
        return Tensor(np.zeros((), dtype=np.float32))
    norms = [_norm_of(a, norm_type) for a in arrays]
    if norm_type == math.inf:
        total = max(norms)
    elif norm_type == -math.inf:
        total = min(norms)
    elif norm_type == 2.0:
        total = math.sqrt(math.fsum(n * n for n in norms))
    elif norm_type == 0:
        total = float(sum(norms))
    else:
        total = float(np.sum(np.asarray(norms) ** norm_type) ** (1.0 / norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    return Tensor(np.array(total, dtype=np.float32))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale the gradients in place so that their total norm is at most max_norm.

    The total norm is taken over all gradients together; each gradient is multiplied
    by min(1, max_norm / (total_norm + 1e-6)), as torch does.

    Args:
        parameters: a Tensor or an iterable of Tensors; those without .grad are skipped.
        max_norm: the largest allowed norm.
        norm_type: the p of the p-norm; ``float('inf')`` for the max norm.
        error_if_nonfinite: raise if the total norm is NaN or infinite.
        foreach: accepted for torch compatibility; fastdl always uses its fused path.

    Returns:
        The total norm of the gradients before clipping, a float32 0-d Tensor.

    Example:
        >>> model = nn.Linear(3, 1)
        >>> model(fastdl.ones(4, 3) * 10).sum().backward()
        >>> before = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        >>> round(float(before), 2)
        69.4
        >>> round(float(nn.utils.get_total_norm([p.grad for p in model.parameters()])), 4)
        1.0
    """
    grads = _grads(parameters)
    if not grads:
        return Tensor(np.zeros((), dtype=np.float32))
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_coef = float(max_norm) / (float(total._data) + 1e-6)
    coef = min(clip_coef, 1.0)
    for g in grads:
        if _fast(g):
            _k.grad_scale_(g, coef)
        else:
            g *= g.dtype.type(coef)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value] in place.

    Args:
        parameters: a Tensor or an iterable of Tensors; those without .grad are skipped.
        clip_value: the bound (taken as a float).
        foreach: accepted for torch compatibility; ignored.

    Example:
        >>> w = fastdl.tensor([1.0, 2.0], requires_grad=True)
        >>> (w * fastdl.tensor([3.0, -0.2])).sum().backward()
        >>> nn.utils.clip_grad_value_([w], 0.5)
        >>> w.grad
        tensor([ 0.5, -0.2])
    """
    clip_value = float(clip_value)
    for g in _grads(parameters):
        if _fast(g):
            _k.grad_clamp_(g, -clip_value, clip_value)
        else:
            np.clip(g, -clip_value, clip_value, out=g)


def l1_penalty(parameters, weight=1.0):
    """weight * sum(|p|) over the parameters, as a Tensor to add to the loss.

    PyTorch has no L1 option in its optimizers (weight_decay is L2), so L1
    regularization is a term of the loss; its gradient, weight * sign(p), then
    reaches every optimizer through backward().

    Args:
        parameters: a Tensor or an iterable of Tensors.
        weight: the regularization strength (default 1.0).

    Returns:
        A 0-d Tensor that carries gradient to the parameters.

    Example:
        >>> w = fastdl.tensor([1.0, -2.0], requires_grad=True)
        >>> nn.utils.l1_penalty([w], weight=0.1)
        tensor(0.3, grad_fn=<...>)
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    total = None
    for p in parameters:
        term = p.abs().sum()
        total = term if total is None else total + term
    if total is None:
        return Tensor(np.zeros((), dtype=np.float32))
    return total * weight
