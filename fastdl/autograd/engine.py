"""The backward walk over Nodes.

A Node may have several outputs (``node.nout``); each output Tensor knows its
node (``_node``) and its slot (``_oidx``). The engine sorts the Nodes
reachable from the roots topologically, walks them consumers-first, and for
each Node calls its backward once with the summed gradient of every output
(None for outputs that got none). Leaves get their gradient accumulated
into ``.grad`` at the end, or handed back to ``autograd.grad``.
"""
import numpy as np

__all__ = ["run_backward"]


def _topo_nodes(roots):
    """Nodes reachable from roots, each before the nodes of its inputs; and the
    non-leaf tensors met on the way that retain their grad, by (node, slot)."""
    order, seen, retained = [], set(), {}
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root.inputs))]
        while stack:
            node, it = stack[-1]
            for inp in it:
                if inp is None or not inp._requires_grad:
                    continue
                p = inp._node
                if p is None:
                    continue
                if inp._retains_grad:
                    retained[(id(p), inp._oidx)] = inp
                if id(p) not in seen:
                    seen.add(id(p))
                    stack.append((p, iter(p.inputs)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order, retained


def run_backward(roots, grads, retain_graph=False, inputs=None):
    """Backpropagate ``grads`` (ndarrays shaped like the roots) through the graph.

    inputs=None: accumulate into ``.grad`` of every leaf reached. Otherwise
    return the gradients of the given tensors (None where none arrived) and
    leave every ``.grad`` alone.
    """
    buf = {}            # id(node) -> [grad per output]
    leaves = {}         # id(leaf) -> [leaf, grad]
    # Arrays a leaf may adopt as its .grad without a copy: made by a backward
    # rule (not the caller's gradient), owning their memory, and handed to
    # exactly one tensor (a rule may return the same array for two inputs).
    handed = {id(g) for g in grads}
    root_nodes = []
    retained_roots = []
    for t, g in zip(roots, grads):
        node = t._node
        if node is None:
            _add_leaf(leaves, t, g)
            continue
        slots = buf.get(id(node))
        if slots is None:
            slots = buf[id(node)] = [None] * node.nout
        k = t._oidx
        slots[k] = g if slots[k] is None else _sum(slots[k], g)
        root_nodes.append(node)
        if t._retains_grad:
            retained_roots.append(t)
    order, retained = _topo_nodes(root_nodes)
    for t in retained_roots:
        retained[(id(t._node), t._oidx)] = t
    captured = None
    if inputs is not None:
        captured = {}
        for t in inputs:
            if t._node is not None:
                retained[(id(t._node), t._oidx)] = t

    for node in order:
        slots = buf.pop(id(node), None)
        if slots is None:
            continue
        if retained:
            for k, g in enumerate(slots):
                t = retained.get((id(node), k)) if g is not None else None
                if t is None:
                    continue
                if captured is not None:
                    captured[id(t)] = g
                elif t._retains_grad:
                    t._accumulate_grad(g, False)
        fn = node._fn
        if fn is None:
            raise RuntimeError(
                "backward: trying to backward through the graph a second time (node %s); "
                "its saved buffers were freed after the first backward. Pass "
                "retain_graph=True to the first backward() if you need to do this." % node.name)
        res = fn(node, slots[0]) if node.nout == 1 else fn(node, *slots)
        if not retain_graph:
            node._release()
        if type(res) is not tuple:
            res = (res,)
        for inp, gi in zip(node.inputs, res):
            if gi is None or inp is None or not inp._requires_grad:
                continue
            if type(gi) is not np.ndarray:
                gi = np.asarray(gi)     # NumPy scalar arithmetic on 0-d arrays gives scalars
            if gi.shape != inp._data.shape:
                raise RuntimeError("backward of %s produced a gradient of shape %s for an "
                                   "input of shape %s" % (node.name, gi.shape, inp._data.shape))
            p = inp._node
            if p is None:
                _add_leaf(leaves, inp, gi)
                continue
            slots = buf.get(id(p))
            if slots is None:
                slots = buf[id(p)] = [None] * p.nout
            k = inp._oidx
            slots[k] = gi if slots[k] is None else _sum(slots[k], gi)

    if captured is not None:
        for leaf, g in leaves.values():
            captured[id(leaf)] = g
        return [captured.get(id(t)) for t in inputs]
    for leaf, g in leaves.values():
        owned = g.base is None and g.flags.owndata and id(g) not in handed
        handed.add(id(g))
        leaf._accumulate_grad(g, owned)
    return None


def _add_leaf(leaves, t, g):
    e = leaves.get(id(t))
    if e is None:
        leaves[id(t)] = [t, g]
    else:
        e[1] = _sum(e[1], g)


def _sum(a, b):
    # np.add of two 0-d arrays returns a NumPy scalar; keep ndarrays for the kernels
    return np.asarray(np.add(a, b))
