"""The backward walk over Nodes.

A Node may have several outputs (``node.nout``); each output Tensor knows its
node (``_node``) and its slot (``_oidx``). The engine sorts the Nodes
reachable from the roots topologically, walks them consumers-first, and for
each Node calls its backward once with the summed gradient of every output
(None for outputs that got none). Leaves get their gradient accumulated
into ``.grad`` at the end, or handed back to ``autograd.grad``.

ReLU fold: a ReLU node whose input is output 0 of a node that can take the
ReLU's mask in its own backward (``node._fold_relu``, e.g. BatchNorm) is not run
when the walk reaches it; its gradient waits with the producer. When the
producer's turn comes and nothing else sent a gradient to that output (and
the output does not retain its grad nor is an ``autograd.grad`` input), the
producer runs ``_fold_relu`` with the ReLU's gradient, the mask applied inside
its kernel. Otherwise the ReLU's backward runs then, as it would have, and
its result joins the other gradients. ``set_relu_fold(False)`` turns the fold off.

Two gradients of one tensor (a residual block's input gets one from its
convolution and one from its shortcut) are added by fastdl's threaded add kernel,
over the first when nothing else holds it (``_sum``).

A leaf with post-accumulate-grad hooks (``Tensor.register_post_accumulate_grad_hook``)
gets its gradient as soon as the last node that uses it has run, and its hooks run
then, while the walk goes on (DistributedDataParallel starts its all-reduce there).
"""
import sys
import sysconfig

import numpy as np

from fastdl._C._alloc import sole_owner
from fastdl._C._core import add as _kadd
from fastdl.autograd.function import _REBIND

__all__ = ["run_backward"]

# Reference counts tell "nothing else holds this" only where every holder
# counts: CPython with the GIL, before 3.14's borrowed stack references.
REFCOUNTS_EXACT = (sys.implementation.name == "cpython" and sys.version_info < (3, 14)
                   and not sysconfig.get_config_var("Py_GIL_DISABLED"))
_refs = sys.getrefcount

# Backward functions that may write their result over the gradient they get
# (ctx._grad_free tells them when they may); see writes_over_grad.
_OVERWRITERS = set()


def writes_over_grad(backward):
    """Mark a single-output backward that may write its input gradient over the
    incoming gradient array. The engine then sets ``ctx._grad_free`` to True
    for a call whose gradient nothing else holds (a temporary made by the
    consumer's backward, or a root gradient the caller gave up): no other
    node, leaf, retained or captured gradient, or caller sees that array."""
    _OVERWRITERS.add(backward)
    return backward

_n_hooked = 0           # tensors that ever had a post-accumulate hook; 0: skip the bookkeeping
_fold = [True]          # the ReLU fold (see the module docstring) is on


def set_relu_fold(on):
    """Turn the ReLU backward fold on or off (for tests and comparisons); returns the old
    setting."""
    old = _fold[0]
    _fold[0] = bool(on)
    return old


class RemovableHandle:
    """Returned by hook registrations; ``remove()`` unregisters the hook."""
    __slots__ = ("hooks", "key")

    def __init__(self, hooks, key):
        self.hooks, self.key = hooks, key

    def remove(self):
        self.hooks.pop(self.key, None)


def hooks_registered():
    global _n_hooked
    _n_hooked += 1


def _hooked_leaf_uses(order):
    """id(leaf) -> number of uses by the nodes in order, for leaves with hooks."""
    waits = {}
    for node in order:
        for inp in node.inputs:
            if inp is not None and inp._node is None and inp._requires_grad \
                    and getattr(inp, "_post_hooks", None):
                waits[id(inp)] = waits.get(id(inp), 0) + 1
    return waits or None


def _accumulate(leaf, g, handed):
    # Arrays a leaf may adopt as its .grad without a copy: made by a backward
    # rule (not the caller's gradient), the only user of their memory (their
    # own, or a cache block's), and handed to exactly one tensor (a rule may
    # return the same array for two inputs).
    k = id(g)
    owned = k not in handed and sole_owner(g)
    handed.add(k)
    leaf._accumulate_grad(g, owned)
    # no tensor ever had a hook: skip the getattr (an unset slot costs an AttributeError)
    hooks = getattr(leaf, "_post_hooks", None) if _n_hooked else None
    if hooks:
        for hook in list(hooks.values()):
            hook(leaf)


def _last_use(node, waits, leaves, handed):
    """Accumulate (and run the hooks of) the hooked leaves whose last user was node."""
    for inp in node.inputs:
        k = id(inp)
        n = waits.get(k)
        if n is None:
            continue
        if n > 1:
            waits[k] = n - 1
            continue
        del waits[k]
        e = leaves.pop(k, None)
        if e is not None:
            _accumulate(e[0], e[1], handed)


def _edge(node, inp):
    """(producer node, output slot) of input inp as node saw it when it was made.

    An in-place op in the graph rebinds a tensor to a new producer; nodes made
    before that still refer to the old one. Tensors rebound carry ``_hist``,
    a tuple of (epoch of the rebind, old node, old slot); nodes made after the
    first rebind carry the epoch they were made in."""
    h = getattr(inp, "_hist", None)
    if h is not None:
        e = node.__dict__.get("_epoch", 0) if node.__dict__ else 0
        for r, n, k in h:
            if r > e:
                return n, k
    return inp._node, inp._oidx


def _topo_nodes(roots):
    """Nodes reachable from roots, each before the nodes of its inputs; and the
    non-leaf tensors met on the way that retain their grad, by (node, slot)."""
    order, seen, retained = [], set(), {}
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root.inputs))]
        while stack:
            node, it = stack[-1]
            for inp in it:
                if inp is None or not inp._requires_grad:
                    continue
                if _REBIND[0]:
                    p, k = _edge(node, inp)
                else:
                    p, k = inp._node, inp._oidx
                if p is None:
                    continue
                if inp._retains_grad:
                    retained[(p, k)] = inp
                if p not in seen:
                    seen.add(p)
                    stack.append((p, iter(p.inputs)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order, retained


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def _sum(a, b, free=False):
    """a + b, two gradients of one tensor. Large float arrays of one dtype and shape go
    through fastdl's add kernel (threaded; the result in a cache block), written over a
    when free (the caller found that nothing else holds a's memory); the rest through
    NumPy (whose add of two 0-d arrays gives a scalar: kept an ndarray for the kernels).
    Either way each element is the one IEEE sum a[i] + b[i]."""
    if type(a) is np.ndarray and type(b) is np.ndarray and a.size >= 4096 \
            and a.shape == b.shape and a.dtype == b.dtype and (a.dtype == _F32 or a.dtype == _F64):
        if free and a.flags.c_contiguous and a.flags.writeable:
            return _kadd(a, b, a)
        return _kadd(a, b)
    return np.asarray(np.add(a, b))


def _put(buf, node, k, g, handed=None):
    """Add gradient g for output k of node. A single-output node's entry is the
    array itself; a multi-output node's is a list with one slot per output.
    handed (the ids of arrays the caller still holds, see run_backward): given,
    the sum may be written over the gradient already there when nothing else
    holds it."""
    if node.nout == 1:
        prev = buf.get(node)
        buf[node] = g if prev is None else _sum(prev, g)
        return
    slots = buf.get(node)
    if slots is None:
        slots = buf[node] = [None] * node.nout
    prev = slots[k]
    if prev is None:
        slots[k] = g
        return
    # free: held only by slots and prev (and getrefcount's argument)
    free = (handed is not None and REFCOUNTS_EXACT and _refs(prev) == 3
            and id(prev) not in handed and sole_owner(prev))
    slots[k] = _sum(prev, g, free)


def _fold_target(node, retained):
    """The producer that may take relu node's backward, or None."""
    inp = node.inputs[0]
    if inp is None:
        return None
    p, k = _edge(node, inp) if _REBIND[0] else (inp._node, inp._oidx)
    if p is None or k != 0 or p._fold_relu is None or p._fn is None \
            or (retained and (p, 0) in retained):
        return None
    return p


def _settle(node, got, held, retain_graph):
    """At the turn of node, which holds a relu's backward (held = (relu node, its
    gradient)): (relu node, grads) when the relu folds into node's backward, the
    relu's gradient in slot 0; else run the relu's backward now and add its result
    into slot 0: (None, grads)."""
    relu, g = held
    single = node.nout == 1
    g0 = got if single else (got[0] if got is not None else None)
    if g0 is None:
        if single:
            return relu, g
        got = got if got is not None else [None] * node.nout
        got[0] = g
        return relu, got
    r = relu._fn(relu, g)
    if not retain_graph:
        relu._release()
    if type(r) is not np.ndarray:
        r = np.asarray(r)
    # r is the relu's fresh result: the sum may go over it when nothing else holds it
    # (only r and getrefcount's argument); a + b and b + a are the same IEEE sum
    free = REFCOUNTS_EXACT and _refs(r) == 2 and sole_owner(r)
    if single:
        return None, _sum(r, got, free)
    got[0] = _sum(r, g0, free)
    return None, got


def run_backward(roots, grads, retain_graph=False, inputs=None, grads_given_up=False):
    """Backpropagate ``grads`` (ndarrays shaped like the roots) through the graph.

    inputs=None: accumulate into ``.grad`` of every leaf reached. Otherwise
    return the gradients of the given tensors (None where none arrived) and
    leave every ``.grad`` alone. grads_given_up=True: grads is a list the
    caller empties its hands of (it keeps no other reference to the arrays):
    the engine clears it, and backward rules and leaves may then reuse the
    arrays' memory.
    """
    buf = {}            # node -> grad (one output) or [grad per output]
    leaves = {}         # id(leaf) -> [leaf, grad]
    root_nodes = []
    retained_roots = []
    for t, g in zip(roots, grads):
        node = t._node
        if node is None:
            _add_leaf(leaves, t, g)
            continue
        _put(buf, node, t._oidx, g)
        root_nodes.append(node)
        if t._retains_grad:
            retained_roots.append(t)
    g = None
    order, retained = _topo_nodes(root_nodes)
    for t in retained_roots:
        retained[(t._node, t._oidx)] = t
    if grads_given_up:
        grads.clear()
        handed = set()
    else:
        handed = {id(g) for g in grads}      # arrays no leaf may adopt (see _accumulate)
    waits = _hooked_leaf_uses(order) if _n_hooked and inputs is None else None
    captured = None
    if inputs is not None:
        captured = {}
        retained = {k: v for k, v in retained.items()}
        for t in inputs:
            if t._node is not None:
                retained[(t._node, t._oidx)] = t

    held = {} if _fold[0] else None     # producer node -> (relu node, gradient), see _settle
    for node in order:
        got = buf.pop(node, None)
        relu = None
        if held and node in held:
            relu, got = _settle(node, got, held.pop(node), retain_graph)
        if got is None:
            if waits is not None:
                _last_use(node, waits, leaves, handed)
            continue
        single = node.nout == 1
        if retained:
            for k, g in enumerate((got,) if single else got):
                t = retained.get((node, k)) if g is not None else None
                if t is None:
                    continue
                if captured is not None:
                    captured[id(t)] = g
                else:
                    t._accumulate_grad(g, False)
            g = None
        fn = node._fn
        if fn is None:
            raise RuntimeError(
                "backward: trying to backward through the graph a second time (node %s); "
                "its saved buffers were freed after the first backward. Pass "
                "retain_graph=True to the first backward() if you need to do this." % node.name)
        if held is not None and node._relu:
            p = _fold_target(node, retained)
            if p is not None and p not in held:
                held[p] = (node, got)      # decided at p's turn (_settle)
                got = None
                continue
        if relu is not None:
            res = node._fold_relu(node, relu, got) if single else node._fold_relu(node, relu, *got)
            if not retain_graph:
                relu._release()
        elif single:
            if fn in _OVERWRITERS and REFCOUNTS_EXACT:
                # got is free when only this frame holds it (`got` and the call's
                # argument) and no other array uses its memory
                node._grad_free = (type(got) is np.ndarray and _refs(got) == 2
                                   and id(got) not in handed and sole_owner(got))
            res = fn(node, got)
        else:
            res = fn(node, *got)
        got = None
        if not retain_graph:
            node._release()
        if type(res) is not tuple:
            res = (res,)
        if waits is not None and len(res) > 1:
            # one array returned for two inputs: a hook may change the .grad that adopted
            # it while the other holder still needs it, so neither may adopt it
            for i, gi in enumerate(res):
                if gi is not None and any(r is gi for r in res[i + 1:]):
                    handed.add(id(gi))
        for inp, gi in zip(node.inputs, res):
            if gi is None or inp is None or not inp._requires_grad:
                continue
            if type(gi) is not np.ndarray:
                gi = np.asarray(gi)     # NumPy scalar arithmetic on 0-d arrays gives scalars
            if gi.shape != inp._data.shape:
                raise RuntimeError("backward of %s produced a gradient of shape %s for an "
                                   "input of shape %s" % (node.name, gi.shape, inp._data.shape))
            if _REBIND[0]:
                p, k = _edge(node, inp)
            else:
                p, k = inp._node, inp._oidx
            if p is None:
                e = leaves.get(id(inp))
                if e is None:
                    leaves[id(inp)] = [inp, gi]
                else:
                    prev = e[1]
                    # free: held only by e and prev (and getrefcount's argument)
                    free = (REFCOUNTS_EXACT and _refs(prev) == 3 and id(prev) not in handed
                            and sole_owner(prev))
                    e[1] = _sum(prev, gi, free)
                    prev = None
            elif p.nout == 1:
                prev = buf.get(p)
                if prev is None:
                    buf[p] = gi
                else:
                    # free: held only by buf and prev (and getrefcount's argument)
                    free = (REFCOUNTS_EXACT and _refs(prev) == 3 and id(prev) not in handed
                            and sole_owner(prev))
                    buf[p] = _sum(prev, gi, free)
                    prev = None
            else:
                _put(buf, p, k, gi, handed)
        res = gi = None     # hold no gradient into the next node's call (see _grad_free)
        if waits is not None:
            _last_use(node, waits, leaves, handed)

    if captured is not None:
        for leaf, g in leaves.values():
            captured[id(leaf)] = g
        return [captured.get(id(t)) for t in inputs]
    for leaf, g in leaves.values():
        _accumulate(leaf, g, handed)
    return None


def _add_leaf(leaves, t, g):
    e = leaves.get(id(t))
    if e is None:
        leaves[id(t)] = [t, g]
    else:
        e[1] = _sum(e[1], g)
