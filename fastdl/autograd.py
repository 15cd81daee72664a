"""Reverse-mode autograd: graph nodes, gradient mode and the backward walk.

Every differentiable op that sees an input requiring grad records one
``Node``: its input Tensors and a ``backward`` closure mapping the output's
gradient to one gradient per input (``None`` where no gradient flows). The
closure holds exactly the buffers the backward rule needs; after a backward
pass without ``retain_graph`` the node drops it, so those buffers are freed.

``Tensor.backward()`` sorts the graph topologically and walks it in reverse,
adding gradients that meet at a tensor, and accumulating into ``.grad`` of
leaves.
"""
import functools
import threading

import numpy as np

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "Node"]


class _GradMode(threading.local):
    enabled = True


_mode = _GradMode()


def is_grad_enabled():
    """Whether operations are being recorded for autograd in this thread (torch.is_grad_enabled).

    Example:
        >>> fastdl.is_grad_enabled()
        True
        >>> with fastdl.no_grad():
        ...     fastdl.is_grad_enabled()
        False
    """
    return _mode.enabled


class set_grad_enabled:
    """Turn gradient recording on or off: a function call, a context manager or a decorator (torch.set_grad_enabled).

    Args:
        mode: True to record, False not to.

    Example:
        >>> x = fastdl.ones(2, requires_grad=True)
        >>> with fastdl.set_grad_enabled(False):
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    def __init__(self, mode=True):
        self.prev = _mode.enabled
        _mode.enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _mode.enabled = self.prev
        return False

    def __call__(self, fn):
        mode = _mode.enabled
        _mode.enabled = self.prev

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class _GradModeContext:
    mode = True

    def __new__(cls, orig_func=None):
        # @no_grad without parentheses decorates directly, as in PyTorch
        if orig_func is not None:
            if not callable(orig_func):
                raise TypeError("%s: expected a function to decorate, got %r"
                                % (cls.__name__, orig_func))
            return cls()(orig_func)
        return super().__new__(cls)

    def __enter__(self):
        self.prev = _mode.enabled
        _mode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _mode.enabled = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Disable gradient recording, as a context manager or a decorator (torch.no_grad).

    Use it for evaluation and inference: no graph is built, so no buffers are
    kept for backward.

    Example:
        >>> model = nn.Linear(3, 2)
        >>> with fastdl.no_grad():
        ...     y = model(fastdl.randn(4, 3))      # no graph is recorded
        >>> y.requires_grad, y.grad_fn
        (False, None)
        >>> @fastdl.no_grad()
        ... def predict(x):
        ...     return model(x)
        >>> predict(fastdl.randn(1, 3)).requires_grad
        False
    """
    mode = False


class enable_grad(_GradModeContext):
    """Enable gradient recording inside a ``no_grad`` block (torch.enable_grad).

    Example:
        >>> x = fastdl.ones(2, requires_grad=True)
        >>> with fastdl.no_grad():
        ...     with fastdl.enable_grad():
        ...         y = x * 2
        >>> y.requires_grad
        True
    """
    mode = True


class Node:
    """One recorded op of the autograd graph: its inputs and the rule that maps grad_out to grad_inputs.

    A tensor made by a differentiable op holds its Node as ``grad_fn``.

    Attributes:
        name: the op's name, e.g. 'MulBackward'.
        inputs: the input Tensors.
        backward: the closure from the output's gradient to one gradient per
            input (None once freed after backward()).

    Example:
        >>> x = fastdl.ones(2, requires_grad=True)
        >>> (x * 3).grad_fn
        <Node MulBackward>
    """
    __slots__ = ("inputs", "backward", "name")

    def __init__(self, name, inputs, backward):
        self.name = name
        self.inputs = inputs
        self.backward = backward

    def __repr__(self):
        return "<Node %s>" % self.name


def _topo_order(root):
    """Tensors reachable from root through nodes, inputs before outputs."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        node = t._node
        if node is not None:
            for inp in node.inputs:
                if inp is not None and inp.requires_grad and id(inp) not in seen:
                    stack.append((inp, False))
    return order


def run_backward(root, grad, retain_graph=False):
    """Backpropagate ``grad`` (an ndarray shaped like root) through the graph."""
    order = _topo_order(root)
    grads = {id(root): grad}
    # Arrays a leaf may adopt as its .grad without a copy: made by a backward
    # rule (not the caller's gradient), owning their memory, and handed to
    # exactly one tensor (a rule may return the same array for two inputs).
    handed = {id(grad)}

    def adopt(g):
        ok = g.base is None and g.flags.owndata and id(g) not in handed
        handed.add(id(g))
        return ok

    for t in reversed(order):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        node = t._node
        if node is None:
            t._accumulate_grad(g, adopt(g))
            continue
        if t._retains_grad:
            t._accumulate_grad(g, False)
        if node.backward is None:
            raise RuntimeError(
                "backward: trying to backward through the graph a second time (node %s); "
                "its saved buffers were freed after the first backward. Pass "
                "retain_graph=True to the first backward() if you need to do this." % node.name)
        in_grads = node.backward(g)
        if not retain_graph:
            node.backward = None
        for inp, gi in zip(node.inputs, in_grads):
            if inp is None or gi is None or not inp.requires_grad:
                continue
            if gi.shape != inp.shape:
                raise RuntimeError("backward of %s produced a gradient of shape %s for an "
                                   "input of shape %s" % (node.name, gi.shape, inp.shape))
            prev = grads.get(id(inp))
            if prev is None:
                grads[id(inp)] = gi
            else:
                grads[id(inp)] = np.add(prev, gi)
