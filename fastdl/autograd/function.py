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
import numpy as np

from fastdl.autograd.grad_mode import _mode, no_grad

__all__ = ["Function", "KernelFunction", "FunctionCtx", "Node"]

Tensor = None       # set by fastdl.tensor once the class exists (it imports this module)


class Node:
    """A recorded op in the graph and the ``ctx`` its forward and backward share.

    Graph fields: ``name``, ``inputs`` (one entry per forward argument: the
    Tensor, or None for other arguments), ``nout`` (number of outputs).
    ``Node(name, inputs, backward)`` also builds a node from a closure
    ``backward(grad_out) -> grads`` for a single-output op.
    """
    __slots__ = ("name", "inputs", "nout", "_needs", "materialize_grads",
                 "_fn", "_cls", "_saved", "_nondiff", "_out_meta", "__dict__", "__weakref__")

    def __init__(self, name, inputs, backward):
        self.name = name
        self.inputs = tuple(inputs)
        self.nout = 1
        self.materialize_grads = False
        self._fn = lambda ctx, g: backward(g)
        self._cls = None
        self._saved = ()
        self._nondiff = None

    def __repr__(self):
        return "<Node %s>" % self.name

    # ---- the ctx API (PyTorch's FunctionCtx) ----------------------------------------
    @property
    def needs_input_grad(self):
        """One bool per forward argument: does it need a gradient?"""
        try:
            return self._needs
        except AttributeError:
            pass
        return tuple([t is not None and t._requires_grad for t in self.inputs])

    def save_for_backward(self, *tensors):
        """Keep tensors (or arrays) for backward; read them back as ``ctx.saved_tensors``."""
        self._saved = tensors

    @property
    def saved_tensors(self):
        if self._saved is None:
            raise RuntimeError("saved_tensors: trying to backward through the graph a second "
                               "time (node %s); the saved tensors were freed after the first "
                               "backward. Pass retain_graph=True to the first backward() if you "
                               "need to do this." % self.name)
        return self._saved

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
        self.__dict__.clear()


FunctionCtx = Node


def _new_ctx(cls):
    ctx = Node.__new__(Node)
    ctx._cls = cls
    ctx._saved = ()
    ctx._nondiff = None
    return ctx


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
        ctx = _new_ctx(cls)
        ctx.name = cls._backward_name
        enabled = _mode.enabled
        needs = tuple(enabled and isinstance(a, Tensor) and a._requires_grad for a in args)
        ctx._needs = needs
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


class KernelFunction(Function):
    """A built-in op: the Function API over storage ndarrays.

    ``apply(*args)`` passes each Tensor argument's array (and every other
    argument unchanged) to ``forward(ctx, *args)``, which returns an ndarray or
    a tuple of ndarrays. ``backward(ctx, *grads)`` gets an ndarray (or None for
    an output that received no gradient) per output and returns a gradient
    array per argument, in order; trailing Nones may be left out, and a
    single array may be returned for a single argument. Gradients must have
    exactly the argument's shape: the engine checks it.

    Only the per-op cost differs from Function: no Tensor wrapping, no
    ``no_grad`` block (forward calls kernels, not Tensor ops).
    """

    @classmethod
    def apply(cls, *args):
        ctx = Node.__new__(Node)
        ctx._cls = cls
        ctx._saved = ()
        ctx._nondiff = None
        arrays = []
        need = mixed = False
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a._data)
                if a._requires_grad:
                    need = True
            else:
                arrays.append(a)
                mixed = True
        if need and _mode.enabled:
            ctx.inputs = tuple([a if isinstance(a, Tensor) else None for a in args]) \
                if mixed else args
            ctx.materialize_grads = False
            ctx.name = cls._backward_name       # forward may refine it
            out = cls.forward(ctx, *arrays)
            ctx._fn = cls.backward
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
        ctx.inputs = ()
        out = cls.forward(ctx, *arrays)
        if type(out) is not tuple:
            return Tensor._wrap(out)
        return tuple([Tensor._wrap(o) for o in out])
