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
    return _mode.enabled


class set_grad_enabled:
    """Context manager (and decorator) that sets gradient recording on or off."""

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
    """Disable gradient recording, as a context manager or a decorator.

    Example:
        >>> with fastdl.no_grad():
        ...     y = model(x)        # no graph is recorded
    """
    mode = False


class enable_grad(_GradModeContext):
    """Enable gradient recording inside a ``no_grad`` block."""
    mode = True


_n_hooked = 0           # tensors that ever had a post-accumulate hook; 0: skip the alias check


def hooks_registered():
    global _n_hooked
    _n_hooked += 1


class RemovableHandle:
    """Returned by hook registrations; ``remove()`` unregisters the hook."""
    __slots__ = ("hooks", "key")

    def __init__(self, hooks, key):
        self.hooks, self.key = hooks, key

    def remove(self):
        self.hooks.pop(self.key, None)


class Node:
    """One recorded op: its inputs and the rule that maps grad_out to grad_inputs."""
    __slots__ = ("inputs", "backward", "name")

    def __init__(self, name, inputs, backward):
        self.name = name
        self.inputs = inputs
        self.backward = backward

    def __repr__(self):
        return "<Node %s>" % self.name


def _topo_order(root):
    """Tensors reachable from root through nodes, inputs before outputs.

    A node's leaf inputs are visited after its other inputs, so in the reversed
    walk each leaf (a parameter) comes right after the last op that uses it and
    its post-accumulate hooks run while backward continues. Leaves have no
    inputs, so this moves only the leaves: the order of the ops, and thus every
    gradient sum, is the same as when leaves are visited in input order."""
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
            # the stack pops last-pushed first: push leaves first, so they are visited last
            for inp in node.inputs:
                if inp is not None and inp._node is None and inp.requires_grad \
                        and id(inp) not in seen:
                    stack.append((inp, False))
            for inp in node.inputs:
                if inp is not None and inp._node is not None and inp.requires_grad \
                        and id(inp) not in seen:
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
            hooks = getattr(t, "_post_hooks", None)
            if hooks:
                for hook in list(hooks.values()):
                    hook(t)
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
        if _n_hooked and len(in_grads) > 1:
            # one array returned for two inputs: a hook may change the .grad that adopted
            # it while the other holder still needs it, so neither may adopt it
            for i, gi in enumerate(in_grads):
                if gi is not None and any(r is gi for r in in_grads[i + 1:]):
                    handed.add(id(gi))
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
