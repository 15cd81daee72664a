"""Reverse-mode autograd, PyTorch's ``torch.autograd`` names.

- grad_mode.py: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.
- function.py: ``Function`` (forward saves, backward uses) and the ``Node``
  each call records; it is also the ``ctx`` forward and backward share.
- engine.py: the backward walk (multi-output nodes, leaf accumulation).
- _functions/: the backward rules of every built-in op, one Function per op,
  together in one place (tensor ops, nn ops, recurrent layers).
"""
import numpy as np

from fastdl.autograd.grad_mode import (_mode, enable_grad, is_grad_enabled,  # noqa: F401
                                       no_grad, set_grad_enabled)
from fastdl.autograd.function import (Function, FunctionCtx, KernelFunction,  # noqa: F401
                                      Node, once_differentiable)
from fastdl.autograd.engine import run_backward

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "Function",
           "FunctionCtx", "Node", "backward", "grad", "once_differentiable"]


def _seq(x):
    if x is None:
        return None
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _root_grads(op, outputs, grad_outputs):
    from fastdl.tensor import Tensor
    gos = _seq(grad_outputs)
    if gos is None:
        gos = (None,) * len(outputs)
    if len(gos) != len(outputs):
        raise RuntimeError("%s: got %d grad_outputs for %d outputs" % (op, len(gos), len(outputs)))
    grads = []
    for o, g in zip(outputs, gos):
        if not isinstance(o, Tensor):
            raise TypeError("%s: expected Tensors as outputs, got %s" % (op, type(o).__name__))
        if not o.requires_grad:
            raise RuntimeError("%s: element %d of tensors does not require grad and does not "
                               "have a grad_fn" % (op, len(grads)))
        if g is None:
            if o._data.size != 1:
                raise RuntimeError("%s: grad can be implicitly created only for scalar outputs, "
                                   "got shape %s" % (op, o.shape))
            g = np.ones(o._data.shape, dtype=o._data.dtype)
        else:
            g = g._data if isinstance(g, Tensor) else np.asarray(g)
            if g.shape != o._data.shape:
                raise RuntimeError("%s: gradient has shape %s but the output has shape %s"
                                   % (op, g.shape, o._data.shape))
            g = g.astype(o._data.dtype, copy=False)
        grads.append(g)
    return grads


def _no_create_graph(op, create_graph):
    if create_graph:
        raise NotImplementedError(
            "%s: create_graph=True (higher-order gradients) is not supported: fastdl's backward "
            "rules compute on arrays and record no graph" % op)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` into the leaves' ``.grad`` (PyTorch's
    ``torch.autograd.backward``). ``inputs``: accumulate only into these tensors."""
    _no_create_graph("backward", create_graph)
    outs = _seq(tensors)
    grads = _root_grads("backward", outs, grad_tensors)
    retain = bool(create_graph) if retain_graph is None else bool(retain_graph)
    if inputs is None:
        run_backward(outs, grads, retain)
        return
    ins = _seq(inputs)
    for t, g in zip(ins, run_backward(outs, grads, retain, ins)):
        if g is not None:
            t._accumulate_grad(g, False)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=False, is_grads_batched=False, materialize_grads=False):
    """Gradients of outputs with respect to inputs, returned (not accumulated into .grad).

    Args:
        outputs: a Tensor or a sequence of Tensors to differentiate.
        inputs: a Tensor or a sequence of Tensors (leaves or not).
        grad_outputs: d(loss)/d(output) per output; None for one-element outputs.
        retain_graph: keep the saved buffers for another backward (default False).
        create_graph: not supported (higher-order gradients); True raises.
        allow_unused: return None for an input the outputs do not depend on,
            instead of raising. materialize_grads=True returns zeros instead.
    Returns:
        a tuple with one Tensor (or None) per input.

    Example:
        >>> x = fastdl.tensor([1.0, 2.0], requires_grad=True)
        >>> fastdl.autograd.grad((x * x).sum(), x)
        (tensor([2., 4.]),)
    """
    from fastdl.tensor import Tensor
    _no_create_graph("grad", create_graph)
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True is not supported")
    outs = _seq(outputs)
    ins = _seq(inputs)
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor):
            raise TypeError("grad: expected Tensors as inputs, got %s at position %d"
                            % (type(t).__name__, i))
        if not t.requires_grad:
            raise RuntimeError("grad: one of the differentiated Tensors (position %d) does not "
                               "require grad" % i)
    grads = _root_grads("grad", outs, grad_outputs)
    retain = bool(create_graph) if retain_graph is None else bool(retain_graph)
    res = run_backward(outs, grads, retain, ins)
    out = []
    for i, (t, g) in enumerate(zip(ins, res)):
        if g is None:
            if materialize_grads:
                out.append(Tensor._wrap(np.zeros_like(t._data)))
                continue
            if not allow_unused:
                raise RuntimeError("grad: one of the differentiated Tensors (position %d) appears "
                                   "to not have been used in the graph. Set allow_unused=True if "
                                   "this is the desired behavior." % i)
            out.append(None)
            continue
        g = np.array(g, dtype=t._data.dtype, copy=True, order="C")
        out.append(Tensor._wrap(g))
    return tuple(out)
