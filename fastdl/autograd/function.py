"""Function: one op's forward and backward, and the graph Node that records it.

Every differentiable op in fastdl is a subclass of ``Function`` with two
static methods, as in PyTorch:

- ``forward(ctx, *args)`` computes the outputs and saves on ``ctx`` what
  backward needs (``ctx.save_for_backward(...)`` or plain attributes);
- ``backward(ctx, *grad_outputs)`` gets one gradient per output and returns
  one gradient per forward argument (``None`` where no gradient flows).

``Function.apply(*args)`` runs forward and, when grad mode is on and an
argument requires grad, records the ctx as the outputs' ``grad_fn`` Node.
An op may have several outputs; the engine calls its backward once with the
gradients of all of them (``None`` for the unused ones, or zeros with
``ctx.set_materialize_grads(True)``, the default for ``Function``).

Two flavours share the ctx, the Node and the engine:

- ``Function`` (public, PyTorch's API): forward and backward see Tensors;
  forward runs under ``no_grad``.
- ``KernelFunction`` (fastdl's built-in ops, fastdl/autograd/_functions/):
  forward and backward see the storage ndarrays, because their bodies are
  calls into libfastdl's kernels; gradients of unused outputs arrive as
  ``None``. Everything else is identical.
"""
import weakref

import numpy as np

from fastdl.autograd.grad_mode import _mode, no_grad

__all__ = ["Function", "KernelFunction", "FunctionCtx", "Node", "once_differentiable"]

Tensor = None       # set by fastdl.tensor once the class exists (it imports this module)


class Node:
    """A recorded op in the graph and the ``ctx`` its forward and backward share (also exported as FunctionCtx).

    Graph fields: ``name``, ``inputs`` (the Tensor arguments, None for an
    absent one), ``nout`` (number of outputs), ``needs_input_grad`` (one bool
    per input). Attributes forward sets on the ctx are dropped with the saved
    tensors after a backward without retain_graph. ``Node(name, inputs,
    backward)`` also builds a node from a closure ``backward(grad_out) ->
    grads`` for a single-output op. A tensor made by a differentiable op holds
    its Node as ``grad_fn``.

    Example:
        >>> x = fastdl.ones(2, requires_grad=True)
        >>> y = x * 3
        >>> y.grad_fn
        <Node MulBackward>
        >>> y.grad_fn.needs_input_grad
        (True, False)
    """
    __slots__ = ("name", "inputs", "nout", "needs_input_grad", "_fn", "_saved", "__dict__",
                 "__weakref__")
    # defaults a ctx overrides only when it needs to (instance attributes cost per op)
    _nondiff = None
    _cls = None
    materialize_grads = False
    _grad_free = False      # set by the engine for backwards marked writes_over_grad
    _relu = False           # a relu node (its backward may be folded, see engine._settle)
    _fold_relu = None       # backward(ctx, relu_node, g, *other grads) taking a relu's mask

    def __init__(self, name, inputs, backward):
        self.name = name
        self.inputs = tuple(inputs)
        self.nout = 1
        self.needs_input_grad = tuple(t is not None and t.requires_grad for t in self.inputs)
        self._fn = lambda ctx, g: backward(g)
        if _REBIND[0]:
            self._epoch = _REBIND[0]

    def __repr__(self):
        return "<Node %s>" % self.name

    # ---- the ctx API (PyTorch's FunctionCtx) ----------------------------------------
    def save_for_backward(self, *tensors):
        """Keep tensors (or arrays) for backward; read them back as ``ctx.saved_tensors``."""
        self._saved = tensors
        if _versions:
            self._saved_versions = tuple(_version(t) for t in tensors)

    @property
    def saved_tensors(self):
        try:
            saved = self._saved
        except AttributeError:
            return ()
        if saved is None:
            raise RuntimeError("saved_tensors: trying to backward through the graph a second "
                               "time (node %s); the saved tensors were freed after the first "
                               "backward. Pass retain_graph=True to the first backward() if you "
                               "need to do this." % self.name)
        if _versions:
            _check_versions(self, saved)
        return saved

    def mark_non_differentiable(self, *outputs):
        """Outputs that carry no gradient (indices, masks, saved statistics).

        They are returned without grad_fn; backward still gets a gradient slot
        for each of them (zeros, or None without materialized grads).
        """
        ids = {id(o._data if Tensor is not None and isinstance(o, Tensor) else o)
               for o in outputs}
        self._nondiff = ids if self._nondiff is None else self._nondiff | ids

    def set_materialize_grads(self, value):
        """True: gradients of unused outputs reach backward as zeros (default for
        Function); False: as None."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors):
        raise NotImplementedError("mark_dirty: in-place custom Functions are not supported; "
                                  "return a new tensor from forward")

    def _release(self):
        """Drop what backward needed, after a backward without retain_graph."""
        self._fn = None
        self._saved = None
        d = self.__dict__
        if d:
            ep = d.get("_epoch")
            d.clear()
            if ep:
                d["_epoch"] = ep        # the engine still resolves this node's inputs


FunctionCtx = Node


# ---- version counters (in-place ops) ------------------------------------------------------
# An in-place op bumps the version of the memory it writes (the root ndarray
# under any views); save_for_backward records the versions of what it saves,
# and saved_tensors raises if one changed since (PyTorch's rule: in-place ops
# are fine unless backward needs the overwritten value). Until the first
# in-place op the table is empty and neither side costs anything: a node that
# recorded nothing saw every version at 0.

_versions = {}      # id(root ndarray) -> [version, weakref to the root]
# [epoch]: how many times an in-place op rebound a tensor in the graph (0: never,
# and nodes need no epoch stamp); see engine._edge
_REBIND = [0]


def _root(a):
    if type(a) is not np.ndarray:
        if Tensor is not None and isinstance(a, Tensor):
            a = a._data
        elif not isinstance(a, np.ndarray):
            return None
    b = a.base
    while b is not None:
        if not isinstance(b, np.ndarray):
            break
        a, b = b, b.base
    return a


def _version(a):
    # hot once the table is non-empty (every save_for_backward): the common cases
    # (None, a parameter tuple, an array owning its memory) take no loop
    if a is None:
        return 0
    if type(a) is np.ndarray and a.base is None:
        e = _versions.get(id(a))
    else:
        r = _root(a)
        if r is None:
            return 0
        a = r
        e = _versions.get(id(r))
    return 0 if e is None or e[1]() is not a else e[0]


def bump_version(arr):
    """Mark the memory under arr (and every view of it) as modified in place."""
    r = _root(arr)
    if r is None:
        return
    k = id(r)
    e = _versions.get(k)
    if e is not None and e[1]() is r:
        e[0] += 1
        return
    try:
        ref = weakref.ref(r, lambda _, k=k: _versions.pop(k, None))
    except TypeError:
        return
    _versions[k] = [1, ref]


def _check_versions(node, saved):
    recorded = node.__dict__.get("_saved_versions") if node.__dict__ else None
    for i, t in enumerate(saved):
        want = recorded[i] if recorded is not None else 0
        have = _version(t)
        if have != want:
            shape = getattr(t, "shape", ())
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                "inplace operation: [%s of shape %s] (saved by %s) is at version %d; expected "
                "version %d instead. Use the out-of-place op (x = x + y instead of x += y) or "
                "clone() the tensor before modifying it."
                % ("Tensor", list(shape), node.name, have, want))


class _FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        cls._backward_name = name + "Backward"


class Function(metaclass=_FunctionMeta):
    """A user-defined op with PyTorch's ``torch.autograd.Function`` API.

    Subclass it, write ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``
    as static methods, and call ``MyOp.apply(*args)`` (never forward directly).

    - forward receives the arguments as given (Tensors and anything else), runs
      under ``no_grad`` and returns a Tensor or a tuple of Tensors.
    - ``ctx.save_for_backward(*tensors)`` / ``ctx.saved_tensors``;
      ``ctx.needs_input_grad`` holds one bool per forward argument;
      ``ctx.mark_non_differentiable(*outputs)``;
      ``ctx.set_materialize_grads(False)`` passes None instead of zeros for
      outputs that got no gradient.
    - backward receives one Tensor per output and returns one gradient per
      forward argument: a Tensor shaped like the argument (a broadcastable
      one is summed down to it, as in PyTorch), or None.

    Example:
        >>> class Cube(fastdl.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x * x
        ...     @staticmethod
        ...     def backward(ctx, g):
        ...         x, = ctx.saved_tensors
        ...         return g * 3 * x * x
        >>> x = fastdl.tensor([1.0, 2.0], requires_grad=True)
        >>> Cube.apply(x).sum().backward()
        >>> x.grad
        tensor([ 3., 12.])
    """

    def __init__(self, *args, **kwargs):
        raise RuntimeError("%s: autograd Functions are not instantiated; call %s.apply(...)"
                           % (type(self).__name__, type(self).__name__))

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement the backward function for custom "
                                  "autograd.Function.")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = Node.__new__(Node)
        ctx._cls = cls
        ctx.name = cls._backward_name
        enabled = _mode.enabled
        needs = tuple(enabled and isinstance(a, Tensor) and a._requires_grad for a in args)
        ctx.needs_input_grad = needs
        ctx.materialize_grads = True
        with no_grad():
            out = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        if not any(needs):
            return out
        nd = ctx._nondiff or ()
        wrapped, meta = [], []
        for k, o in enumerate(outs):
            if not isinstance(o, Tensor):
                wrapped.append(o)
                meta.append(None)
                continue
            meta.append((o._data.shape, o._data.dtype))
            if id(o._data) in nd or id(o) in nd or o._data.dtype.kind != "f":
                wrapped.append(Tensor._wrap(o._data))
            else:
                t = Tensor._wrap(o._data, ctx)
                t._oidx = k
                wrapped.append(t)
        ctx.inputs = tuple(a if isinstance(a, Tensor) else None for a in args)
        ctx.nout = len(outs)
        ctx._out_meta = meta
        ctx._fn = _tensor_backward
        if _REBIND[0]:
            ctx._epoch = _REBIND[0]
        return wrapped[0] if single else tuple(wrapped)


def _tensor_backward(ctx, *grads):
    """Call a Tensor-level Function's backward and check what it returns."""
    gs = []
    for g, meta in zip(grads, ctx._out_meta):
        if g is None and meta is not None and ctx.materialize_grads:
            g = np.zeros(meta[0], meta[1])
        gs.append(None if g is None else Tensor._wrap(g))
    with no_grad():
        res = ctx._cls.backward(ctx, *gs)
    if not isinstance(res, tuple):
        res = (res,)
    n = len(ctx.inputs)
    if len(res) < n or any(r is not None for r in res[n:]):
        raise RuntimeError("function %s returned an incorrect number of gradients (expected %d, "
                           "got %d)" % (ctx.name, n, len(res)))
    out = []
    for i, (inp, r) in enumerate(zip(ctx.inputs, res)):
        if r is None:
            out.append(None)
            continue
        if inp is None:
            raise RuntimeError("function %s returned a gradient different than None at position "
                               "%d, but the corresponding forward input was not a Tensor"
                               % (ctx.name, i + 1))
        if isinstance(r, Tensor):
            a = r._data
        elif isinstance(r, np.ndarray):
            a = r
        else:
            raise TypeError("function %s returned a %s as the gradient at position %d; expected "
                            "a Tensor or None" % (ctx.name, type(r).__name__, i + 1))
        shape = inp._data.shape
        if a.shape != shape:
            a = _sum_to(a, shape, ctx.name, i)
        out.append(a.astype(inp._data.dtype, copy=False))
    return tuple(out)


def _sum_to(a, shape, name, i):
    """Sum a broadcast gradient down to the input's shape, as PyTorch's engine does."""
    try:
        ok = np.broadcast_shapes(shape, a.shape) == a.shape
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError("function %s returned an invalid gradient at index %d - got shape %s "
                           "but expected shape compatible with %s"
                           % (name, i, tuple(a.shape), tuple(shape)))
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + j for j, s in enumerate(shape)
                                      if s == 1 and a.shape[lead + j] != 1)
    return np.asarray(a.sum(axis=axes, keepdims=True)).reshape(shape)


def once_differentiable(fn):
    """PyTorch's decorator for a backward that cannot itself be differentiated.

    Every fastdl backward is once-differentiable (create_graph is not
    supported), so this returns fn unchanged; it is here so that code written
    for PyTorch runs as is.

    Args:
        fn: a Function's backward.

    Example:
        >>> class Square(fastdl.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     @fastdl.autograd.once_differentiable
        ...     def backward(ctx, g):
        ...         x, = ctx.saved_tensors
        ...         return 2 * x * g
        >>> x = fastdl.tensor([3.0], requires_grad=True)
        >>> Square.apply(x).sum().backward()
        >>> x.grad
        tensor([6.])
    """
    return fn


class KernelFunction(Function):
    """A built-in op: the Function API over storage ndarrays.

    ``apply(*args)``: the Tensor arguments come first (None for an absent
    optional one), then plain parameters; the first argument that is neither
    a Tensor nor None ends the inputs. ``forward(ctx, *args)`` gets each
    input's array and the parameters unchanged, and returns an ndarray or a
    tuple of ndarrays. ``backward(ctx, *grads)`` gets an ndarray (or None for
    an output that received no gradient) per output and returns a gradient
    array per input, in order (a single array for a single input). Gradients
    must have exactly the input's shape: the engine checks it.
    ``ctx.needs_input_grad`` has one bool per input. A subclass may declare
    ``n_inputs`` (its number of inputs) to skip the scan.

    Only the per-op cost differs from Function: no Tensor wrapping, no
    ``no_grad`` block (forward calls kernels, not Tensor ops).
    """

    n_inputs = None     # how many leading arguments are inputs; None: scan for them

    @classmethod
    def apply(cls, *args):
        n = cls.n_inputs
        ctx = Node.__new__(Node)
        if n == 1:                      # the common shapes, without a loop
            x = args[0]
            if x._requires_grad and _mode.enabled:
                ctx.needs_input_grad = _TRUE1
                ctx.inputs = (x,)
                ctx.name = cls._backward_name       # forward may refine it
                out = cls.forward(ctx, x._data, *args[1:])
            else:
                ctx.needs_input_grad = _FALSE1
                out = cls.forward(ctx, x._data, *args[1:])
                return Tensor._wrap(out) if type(out) is not tuple else _wrap_plain(out)
        elif n == 2:
            a, b = args[0], args[1]
            ra = a is not None and a._requires_grad
            rb = b is not None and b._requires_grad
            if (ra or rb) and _mode.enabled:
                ctx.needs_input_grad = (ra, rb)
                ctx.inputs = (a, b)
                ctx.name = cls._backward_name
                out = cls.forward(ctx, None if a is None else a._data,
                                  None if b is None else b._data, *args[2:])
            else:
                ctx.needs_input_grad = _FALSE2
                out = cls.forward(ctx, None if a is None else a._data,
                                  None if b is None else b._data, *args[2:])
                return Tensor._wrap(out) if type(out) is not tuple else _wrap_plain(out)
        elif n == 3:
            a, b, c = args[0], args[1], args[2]
            ra = a is not None and a._requires_grad
            rb = b is not None and b._requires_grad
            rc = c is not None and c._requires_grad
            ctx.needs_input_grad = (ra, rb, rc)
            arrays = (None if a is None else a._data, None if b is None else b._data,
                      None if c is None else c._data)
            if (ra or rb or rc) and _mode.enabled:
                ctx.inputs = (a, b, c)
                ctx.name = cls._backward_name
                out = cls.forward(ctx, *arrays, *args[3:])
            else:
                out = cls.forward(ctx, *arrays, *args[3:])
                return Tensor._wrap(out) if type(out) is not tuple else _wrap_plain(out)
        else:
            arrays, needs, need = [], [], False
            for a in args if n is None else args[:n]:
                if isinstance(a, Tensor):
                    arrays.append(a._data)
                    r = a._requires_grad
                    needs.append(r)
                    need = need or r
                elif a is None:
                    arrays.append(None)
                    needs.append(False)
                else:
                    break
            n = len(arrays)
            arrays += args[n:]
            ctx.needs_input_grad = needs
            if need and _mode.enabled:
                ctx.inputs = args[:n]
                ctx.name = cls._backward_name
                out = cls.forward(ctx, *arrays)
            else:
                return _wrap_plain(cls.forward(ctx, *arrays))
        ctx._fn = cls.backward
        if _REBIND[0]:
            ctx._epoch = _REBIND[0]
        if type(out) is not tuple:
            ctx.nout = 1
            return Tensor._wrap(out, ctx)
        ctx.nout = len(out)
        nd = ctx._nondiff
        res = []
        for k, o in enumerate(out):
            if nd is not None and id(o) in nd:
                res.append(Tensor._wrap(o))
            else:
                t = Tensor._wrap(o, ctx)
                t._oidx = k
                res.append(t)
        return tuple(res)


def _wrap_plain(out):
    if type(out) is not tuple:
        return Tensor._wrap(out)
    return tuple([Tensor._wrap(o) for o in out])


_TRUE1, _FALSE1, _FALSE2 = (True,), (False,), (False, False)
