"""Tensor: a NumPy array plus the autograd record of how it was made.

Storage is a NumPy array (float32 by default), so ``from_numpy`` and
``Tensor.numpy()`` share memory. Float math runs in libfastdl's kernels
(fastdl._C); views, indexing and joins use NumPy's own data movement.
Integer and bool tensors (labels, masks) use NumPy and never carry grad.

Each op here checks and promotes its arguments, then calls one Function of
fastdl/autograd/_functions/tensor.py, which runs the kernel and, when grad
mode is on and an input requires grad, records itself as the output's Node
with what its backward needs. Backward rules live together there, not here
(see DESIGN.md: "Backward rules live together").
"""
import builtins
import numbers
import sys
import weakref
from collections import namedtuple

import numpy as np

from fastdl import autograd
from fastdl.autograd import engine as _engine
from fastdl import _device
from fastdl._C import _core
from fastdl._intcheck import check_int64_range
from fastdl.autograd import _mode
from fastdl.autograd._functions import tensor as _fn

_refs, _weakrefs = sys.getrefcount, weakref.getweakrefcount

__all__ = ["Tensor"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_F32 = np.dtype(np.float32)

# The binary ops are the _core functions themselves (no op codes).
_ADD, _SUB, _MUL, _DIV = _core.add, _core.sub, _core.mul, _core.div

MaxMin = namedtuple("MaxMin", ["values", "indices"])


class Size(tuple):
    """A tensor's shape: a tuple of ints, what ``Tensor.shape`` and ``Tensor.size()`` return (torch.Size).

    It compares equal to a plain tuple of the same ints and prints like one;
    ``numel()`` is the product of the dims.

    Example:
        >>> s = fastdl.zeros(2, 3).shape
        >>> isinstance(s, fastdl.Size), s == fastdl.Size([2, 3]), s == (2, 3), s.numel()
        (True, True, True, 6)
    """
    __slots__ = ()

    def numel(self):
        """The number of elements of a tensor of this shape.

        Example:
            >>> fastdl.Size([2, 3, 4]).numel()
            24
        """
        n = 1
        for d in self:
            n *= d
        return n

_TYPE_NAMES = {np.dtype(np.float32): "FloatTensor", np.dtype(np.float64): "DoubleTensor",
               np.dtype(np.int64): "LongTensor", np.dtype(np.int32): "IntTensor",
               np.dtype(np.bool_): "BoolTensor", np.dtype(np.uint8): "ByteTensor"}


def _is_float(arr):
    return arr.dtype in _FLOATS


# ---- Tensor ----------------------------------------------------------------------

class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Most functions of the ``fastdl`` namespace are also methods (``x.sum(1)``,
    ``x.exp()``, ``x.matmul(w)``), with PyTorch's aliases: ``view`` and
    ``reshape`` (shape as ints or a tuple), ``view_as``/``reshape_as``/``expand_as``
    (another tensor's shape), ``multiply``/``divide``/``subtract``/``true_divide``,
    comparisons ``eq``/``ne``/``lt``/``le``/``gt``/``ge`` (and the operators,
    giving bool tensors), and the in-place ``add_``, ``sub_``, ``mul_``, ``div_``,
    ``zero_``, ``fill_`` (refused on tensors that record a graph).

    Args:
        data: a NumPy array (shared, not copied) or anything ``fastdl.tensor``
            accepts (copied).
        requires_grad: record operations on this tensor for ``backward()``.

    Example:
        >>> x = fastdl.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4., 6.])
    """
    # _post_hooks is set only by register_post_accumulate_grad_hook (never in
    # __init__/_wrap, so ops pay nothing for it); backward reads it with getattr.
    __slots__ = ("_data", "grad", "_requires_grad", "_node", "_oidx", "_retains_grad",
                 "_post_hooks", "_hist", "__weakref__")
    __array_ufunc__ = None      # make ndarray <op> Tensor defer to Tensor's reflected ops

    def __init__(self, data, requires_grad=False, dtype=None):
        if not isinstance(data, np.ndarray) or (dtype is not None and data.dtype != dtype):
            from fastdl.creation import _as_array
            data = _as_array(data, dtype)
        self._data = data
        self.grad = None
        self._node = None
        self._oidx = 0
        self._retains_grad = False
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, arr, node=None):
        t = cls.__new__(cls)
        t._data = arr
        t.grad = None
        t._node = node
        t._oidx = 0
        t._retains_grad = False
        t._requires_grad = node is not None
        return t

    # ---- attributes ------------------------------------------------------------
    @property
    def data(self):
        """This tensor's values as a new Tensor detached from the graph (shares memory)."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value):
        arr = value._data if isinstance(value, Tensor) else np.asarray(value)
        if arr.shape != self._data.shape:
            raise ValueError("data: expected shape %s, got %s" % (self._data.shape, arr.shape))
        self._data = arr.astype(self._data.dtype, copy=False)

    @property
    def requires_grad(self):
        """Whether operations on this tensor are recorded for backward(); settable on leaves (floating dtypes only)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and not _is_float(self._data):
            raise RuntimeError("requires_grad: only floating point tensors can require "
                               "gradients, got dtype %s" % self._data.dtype)
        if not flag and self._node is not None:
            raise RuntimeError("requires_grad: you can only change requires_grad flags of "
                               "leaf tensors; use detach() for a non-leaf")
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad in place and return self (torch.Tensor.requires_grad_)."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        """True for tensors made by the user (not by an op): their .grad is filled by backward()."""
        return self._node is None

    @property
    def grad_fn(self):
        """The autograd Node that produced this tensor, or None for a leaf."""
        return self._node

    def retain_grad(self):
        """Keep .grad of this non-leaf tensor after backward."""
        if self._node is not None:
            self._retains_grad = True

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` during backward, right after this leaf's .grad is updated.

        As in PyTorch: leaves only, the hook returns None, and backward visits
        a leaf as soon as every op that used it has produced its gradient (the
        last layer's weights first), so the hook can start work (a gradient
        all-reduce) while backward goes on through the earlier layers.

        Returns:
            a handle whose ``remove()`` unregisters the hook.

        Example:
            >>> w = fastdl.ones(3, requires_grad=True)
            >>> h = w.register_post_accumulate_grad_hook(lambda t: print(t.grad))
            >>> (w * 2).sum().backward()
            tensor([2., 2., 2.])
        """
        if not callable(hook):
            raise TypeError("register_post_accumulate_grad_hook: expected a callable, got %r"
                            % (hook,))
        if self._node is not None:
            raise RuntimeError("register_post_accumulate_grad_hook: post accumulate grad hooks "
                               "cannot be registered on non-leaf tensors")
        if not self._requires_grad:
            raise RuntimeError("register_post_accumulate_grad_hook: cannot register a hook on "
                               "a tensor that doesn't require gradient")
        hooks = getattr(self, "_post_hooks", None)
        if hooks is None:
            hooks = self._post_hooks = {}
        key = builtins.max(hooks, default=0) + 1
        hooks[key] = hook
        autograd.engine.hooks_registered()
        return autograd.engine.RemovableHandle(hooks, key)

    @property
    def shape(self):
        """The shape, a fastdl.Size (a tuple of ints)."""
        return Size(self._data.shape)

    @property
    def dtype(self):
        """The element type, a NumPy dtype (float32 by default)."""
        return self._data.dtype

    @property
    def ndim(self):
        """The number of dims."""
        return self._data.ndim

    def dim(self):
        """The number of dims (torch.Tensor.dim)."""
        return self._data.ndim

    def size(self, dim=None):
        """The shape, or the length of one dim (PyTorch's Tensor.size)."""
        return Size(self._data.shape) if dim is None else self._data.shape[dim]

    def numel(self):
        """The number of elements."""
        return self._data.size

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    @property
    def T(self):
        """The tensor with all dims reversed (the transpose of a matrix)."""
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self):
        """The tensor with its last two dims swapped (a batch of transposed matrices)."""
        return self.transpose(-2, -1)

    # ---- conversion ----------------------------------------------------------------
    def numpy(self):
        """The storage array, shared (no copy)."""
        if self._requires_grad:
            raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad; "
                               "use tensor.detach().numpy()")
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError("item: only one-element tensors can be converted to Python "
                             "scalars, got shape %s" % (self._data.shape,))
        return self._data.reshape(-1)[0].item()

    def tolist(self):
        """The values as (nested) Python lists."""
        return self._data.tolist()

    def detach(self):
        """A new leaf tensor sharing storage, outside the graph."""
        return Tensor._wrap(self._data)

    def detach_(self):
        """Detach this tensor from the graph in place: it becomes a leaf not requiring grad."""
        self._node = None
        self._requires_grad = False
        return self

    def clone(self):
        """A copy with its own storage; gradients flow back to the original."""
        if not _is_float(self._data):
            return Tensor._wrap(self._data.copy())
        return _unary_op(self, "copy")

    def contiguous(self):
        """Self if C-contiguous, else a contiguous copy."""
        return self if self._data.flags.c_contiguous else self.clone()

    def is_contiguous(self):
        """Whether the storage is C-contiguous."""
        return bool(self._data.flags.c_contiguous)

    def float(self):
        """This tensor as float32 (self if it already is)."""
        return self.to(np.float32)

    def double(self):
        """This tensor as float64 (self if it already is)."""
        return self.to(np.float64)

    def long(self):
        """This tensor as int64 (self if it already is)."""
        return self.to(np.int64)

    def int(self):
        """This tensor as int32 (self if it already is)."""
        return self.to(np.int32)

    def bool(self):
        """This tensor as bool (self if it already is)."""
        return self.to(np.bool_)

    @property
    def device(self):
        """The device holding this tensor: always ``fastdl.device("cpu")``."""
        return _device.CPU

    @property
    def is_cuda(self):
        """False: fastdl tensors live on the CPU."""
        return False

    def cpu(self):
        """This tensor on the CPU: self (fastdl tensors always are)."""
        return self

    def cuda(self, device=None, non_blocking=False):
        """Refused: fastdl runs on the CPU only (raises RuntimeError)."""
        raise RuntimeError("cuda: fastdl runs on the CPU only; there is no CUDA device "
                           "(use .cpu() or .to('cpu'))")

    def half(self):
        """Refused: fastdl computes in float32/float64, not float16 (raises TypeError)."""
        raise TypeError("half: float16 tensors are not supported by fastdl (float32 and "
                        "float64 only)")

    def bfloat16(self):
        """Refused: fastdl computes in float32/float64, not bfloat16 (raises TypeError)."""
        raise TypeError("bfloat16: bfloat16 tensors are not supported by fastdl (float32 and "
                        "float64 only)")

    def to(self, *args, **kwargs):
        """This tensor converted to a dtype (self if nothing changes), as torch.Tensor.to.

        Accepts ``to(dtype)``, ``to(device)``, ``to(device, dtype)``,
        ``to(other)`` (other's dtype) and the keywords ``dtype``, ``device``,
        ``non_blocking``, ``copy``. The device must be the CPU ("cpu",
        "cpu:0" or ``fastdl.device``); any other raises. Gradients flow
        through float casts.

        Example:
            >>> fastdl.tensor([1.7, -2.2]).to(fastdl.int64)
            tensor([ 1, -2])
            >>> fastdl.ones(2).to("cpu", fastdl.float64).dtype
            dtype('float64')
        """
        dtype, dev = kwargs.pop("dtype", None), kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError("to: unexpected keyword arguments %s" % sorted(kwargs))
        for a in args:
            if isinstance(a, Tensor):
                dtype = a._data.dtype
            elif _device.is_device(a):
                dev = a
            elif isinstance(a, bool) or a is None:
                continue
            else:
                dtype = a
        _device.check_device(dev, "to")
        if dtype is None:
            return self.clone() if copy else self
        if isinstance(dtype, str) and dtype in ("float16", "half", "bfloat16"):
            dtype = None
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError("to: expected a dtype or a device, got %r" % (dtype,)) from None
        if dtype.kind == "f" and dtype not in _FLOATS:
            raise TypeError("to: %s tensors are not supported by fastdl (float32 and float64 "
                            "only)" % dtype)
        if dtype == self._data.dtype:
            return self.clone() if copy else self
        if dtype in _FLOATS and self._data.dtype in _FLOATS:
            return _fn.To.apply(self, dtype)
        return Tensor._wrap(self._data.astype(dtype))

    def type(self, dtype=None, non_blocking=False):
        """The dtype's name with no argument ('torch.FloatTensor' style), else ``to(dtype)``.

        Example:
            >>> fastdl.ones(2).type()
            'fastdl.FloatTensor'
            >>> fastdl.ones(2).type(fastdl.int64).dtype
            dtype('int64')
        """
        if dtype is None:
            return "fastdl." + _TYPE_NAMES.get(self._data.dtype, str(self._data.dtype))
        return self.to(dtype)


    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="tensor(",
                               precision=4, suppress_small=False)
        extra = ""
        if self._data.dtype not in (_F32, np.dtype(np.int64), np.dtype(np.bool_)):
            extra += ", dtype=%s" % self._data.dtype
        if self._node is not None:
            extra += ", grad_fn=<%s>" % self._node.name
        elif self._requires_grad:
            extra += ", requires_grad=True"
        return "tensor(%s%s)" % (body, extra)

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError("bool: the truth value of a tensor with %d elements is "
                               "ambiguous" % self._data.size)
        return bool(self._data.reshape(-1)[0])

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    # identity hash, as PyTorch's (dict and set keys: optimizer state, parameter sets);
    # object's own slot, so a lookup calls no Python function
    __hash__ = object.__hash__

    # ---- autograd entry -----------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's .grad.

        Args:
            gradient: d(loss)/d(self); may be omitted only for a one-element tensor.
            retain_graph: keep the saved buffers for another backward.
            create_graph: not supported (higher-order gradients); True raises.
            inputs: accumulate only into these tensors' .grad.
        """
        if create_graph or inputs is not None:
            return autograd.backward(self, gradient, retain_graph, create_graph, inputs)
        if not self._requires_grad:
            raise RuntimeError("backward: tensor does not require grad and has no grad_fn")
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError("backward: grad can be implicitly created only for "
                                   "scalar outputs, got shape %s; pass gradient="
                                   % (self._data.shape,))
            g = np.ones(self._data.shape, dtype=self._data.dtype)
            free = True
        else:
            g = gradient._data if isinstance(gradient, Tensor) else np.asarray(gradient)
            if g.shape != self._data.shape:
                raise RuntimeError("backward: gradient has shape %s but the tensor has "
                                   "shape %s" % (g.shape, self._data.shape))
            if g.dtype != self._data.dtype:
                g, free = g.astype(self._data.dtype), True
            else:
                # A temporary gradient, as in y.backward(fastdl.ones_like(y)), is held
                # by this frame alone (the Tensor by `gradient`, its array by the
                # Tensor and `g`): the backward may then write over it instead of
                # allocating.
                free = (type(gradient) is Tensor and _engine.REFCOUNTS_EXACT
                        and _refs(gradient) == 2 and _weakrefs(gradient) == 0
                        and _refs(g) == 3)
            gradient = None
        if free:
            gs = [g]
            g = None
            autograd.run_backward((self,), gs, bool(retain_graph), grads_given_up=True)
        else:
            autograd.run_backward((self,), (g,), bool(retain_graph))

    def _accumulate_grad(self, g, owned=False):
        """Add g into .grad. owned=True: g is a fresh array nothing else refers to,
        so the first gradient can adopt it instead of copying (saves a pass over
        every weight gradient per step)."""
        if g.dtype != self._data.dtype:
            g, owned = g.astype(self._data.dtype), True
        if self.grad is None:
            if not (owned and g.flags.c_contiguous and g.flags.writeable):
                g = np.array(g, copy=True, order="C")
            self.grad = Tensor._wrap(g)
        elif self.grad._data.flags.writeable:
            _ADD(self.grad._data, g, out=self.grad._data)
        else:       # a read-only .grad the user assigned: never write through it
            self.grad = Tensor._wrap(_ADD(self.grad._data, g))

    def zero_(self):
        """Fill with zeros in place and return self."""
        return self.fill_(0)

    def fill_(self, value):
        """Fill with one value (a number or a 0-D tensor) in place and return self."""
        if self._graph_inplace("fill_", value):
            v = value if isinstance(value, Tensor) else Tensor._wrap(
                np.asarray(value, dtype=self._data.dtype))
            return self._inplace_via("fill_", lambda p: where(
                Tensor._wrap(np.ones(p.shape, dtype=bool)), v.to(p.dtype), p))
        self._data[...] = value._data if isinstance(value, Tensor) else value
        self._bump()
        return self

    def copy_(self, src, non_blocking=False):
        """Copy src's values (broadcast, cast to self's dtype) into self in place; returns self.

        Gradients flow to src (and none to self's old value), as in PyTorch.

        Example:
            >>> x = fastdl.zeros(2, 2)
            >>> x.copy_(fastdl.tensor([1.0, 2.0]))
            tensor([[1., 2.],
                    [1., 2.]])
        """
        src = src if isinstance(src, Tensor) else Tensor(src)
        if self._graph_inplace("copy_", src):
            return self._inplace_via("copy_", lambda p: where(
                Tensor._wrap(np.ones(p.shape, dtype=bool)), src.to(p.dtype), p))
        self._data[...] = src._data
        self._bump()
        return self

    def _check_inplace(self, op):
        if not self._data.flags.writeable:
            raise ValueError("%s: this tensor's memory is read-only (its NumPy array has "
                             "writeable=False, e.g. np.frombuffer over bytes); use clone() "
                             "or the out-of-place op" % op)
        if self._requires_grad and self._node is None and _mode.enabled:
            raise RuntimeError("%s: a leaf Variable that requires grad is being used in an "
                               "in-place operation; wrap it in fastdl.no_grad() or use "
                               "an out-of-place op" % op)

    def _bump(self):
        autograd.function.bump_version(self._data)

    def _graph_inplace(self, op, *args):
        """Check an in-place op; True if it must be recorded in the graph (self or an
        argument requires grad, in grad mode)."""
        self._check_inplace(op)
        if not _mode.enabled:
            return False
        if self._requires_grad:
            return True
        return builtins.any(isinstance(a, Tensor) and a._requires_grad for a in args)

    def _inplace_via(self, op, fn):
        """Record an in-place op: out = fn(old self) out of place, written into self's
        memory; self takes out's place in the graph. A view made by basic indexing
        passes the write on to its base's graph too."""
        old = Tensor._wrap(self._data, self._node)
        old._oidx, old._requires_grad = self._oidx, self._requires_grad
        out = fn(old)
        if out._data.dtype != self._data.dtype:
            out = out.to(self._data.dtype)
        if out._data.shape != self._data.shape:
            raise ValueError("%s: output with shape %s doesn't match the broadcast shape %s"
                             % (op, self._data.shape, out._data.shape))
        base = self._view_base()
        np.copyto(self._data, out._data)
        # nodes made before keep seeing the old producer (engine._edge)
        rb = autograd.function._REBIND
        rb[0] += 1
        self._hist = getattr(self, "_hist", ()) + ((rb[0], self._node, self._oidx),)
        self._node, self._oidx, self._requires_grad = out._node, out._oidx, out._requires_grad
        self._bump()
        if base is not None:
            b, idx = base
            b._inplace_via(op, lambda p: _setitem_graph(p, idx, self))
        return self

    def _view_base(self):
        """(base tensor, index) when self was made by basic indexing of a tensor in the
        graph; raise for other views in the graph (their base would miss the write)."""
        node = self._node
        if node is None or self._data.base is None:
            return None
        name = node.name
        if name == "IndexBackward" and getattr(node, "basic", False):
            return node.inputs[0], node.idx
        if (name in ("ViewBackward", "PermuteBackward", "ExpandBackward", "SplitBackward")
                and node.inputs and node.inputs[0] is not None
                and np.shares_memory(self._data, node.inputs[0]._data)):
            raise RuntimeError("in-place operation on a view (%s) of a tensor that requires "
                               "grad is not supported; use index assignment x[idx] = ... or "
                               "an out-of-place op" % name)
        return None

    # ---- arithmetic ----------------------------------------------------------------
    def __add__(self, other): return add(self, other)
    def __radd__(self, other): return add(other, self)
    def __sub__(self, other): return sub(self, other)
    def __rsub__(self, other): return sub(other, self)
    def __mul__(self, other): return mul(self, other)
    def __rmul__(self, other): return mul(other, self)
    def __truediv__(self, other): return div(self, other)
    def __rtruediv__(self, other): return div(other, self)
    def __pow__(self, other): return pow(self, other)
    def __rpow__(self, other): return pow(other, self)
    def __neg__(self): return neg(self)
    def __pos__(self): return self
    def __matmul__(self, other): return matmul(self, other)
    def __rmatmul__(self, other): return matmul(other, self)
    def __abs__(self): return abs(self)

    def __iadd__(self, other): return self._inplace(_ADD, other, "add_")
    def __isub__(self, other): return self._inplace(_SUB, other, "sub_")
    def __imul__(self, other): return self._inplace(_MUL, other, "mul_")
    def __itruediv__(self, other): return self._inplace(_DIV, other, "div_")

    def add_(self, other, alpha=1):
        """In place self += alpha * other; returns self (not on tensors that require grad, outside no_grad)."""
        return self._inplace(_ADD, other if alpha == 1 else _scaled(other, alpha), "add_")

    def sub_(self, other, alpha=1):
        """In place self -= alpha * other; returns self."""
        return self._inplace(_SUB, other if alpha == 1 else _scaled(other, alpha), "sub_")

    def mul_(self, other): return self._inplace(_MUL, other, "mul_")
    def div_(self, other): return self._inplace(_DIV, other, "div_")

    def _inplace(self, op, other, name):
        if self._graph_inplace(name, other):
            fn = _INPLACE_FNS[op]
            if op is _MUL or op is _DIV:    # may save self for other's gradient: a copy
                return self._inplace_via(name, lambda p: fn(p.clone(), other))
            return self._inplace_via(name, lambda p: fn(p, other))
        b = _operand(other, self._data.dtype)
        if not _is_float(self._data):
            res = _np_binary(op, self._data, b)
            if not np.can_cast(res.dtype, self._data.dtype, "same_kind"):
                raise RuntimeError("%s: result type %s can't be cast to the tensor's dtype %s"
                                   % (name, res.dtype, self._data.dtype))
            self._data[...] = res
        elif not self._data.flags.c_contiguous:
            self._data[...] = op(self._data, b.astype(self._data.dtype, copy=False))
        else:
            if np.broadcast_shapes(self._data.shape, b.shape) != self._data.shape:
                raise ValueError("%s: output with shape %s doesn't match the broadcast shape %s"
                                 % (name, self._data.shape,
                                    np.broadcast_shapes(self._data.shape, b.shape)))
            op(self._data, b.astype(self._data.dtype, copy=False), out=self._data)
        self._bump()
        return self

    def __eq__(self, other): return _compare("eq", self, other)
    def __ne__(self, other): return _compare("ne", self, other)
    def __lt__(self, other): return _compare("lt", self, other)
    def __le__(self, other): return _compare("le", self, other)
    def __gt__(self, other): return _compare("gt", self, other)
    def __ge__(self, other): return _compare("ge", self, other)
    eq = __eq__
    ne = __ne__
    lt = __lt__
    le = __le__
    gt = __gt__
    ge = __ge__

    def __getitem__(self, idx): return getitem(self, idx)

    def __setitem__(self, idx, value):
        if self._graph_inplace("setitem", value):
            idx = _index_arrays(idx, "setitem")
            self._inplace_via("setitem", lambda p: _setitem_graph(p, idx, value))
            return
        self._data[_index_arrays(idx, "setitem")] = value._data if isinstance(value, Tensor) else value
        self._bump()


def _setitem_graph(x, idx, value):
    """x with x[idx] = value, out of place, differentiable in x and value."""
    from fastdl.autograd._functions.ops import SetItem
    if not isinstance(value, Tensor):
        value = Tensor._wrap(np.asarray(value, dtype=x._data.dtype))
    elif value._data.dtype != x._data.dtype:
        value = value.to(x._data.dtype)
    return SetItem.apply(x, value, idx)


def _scaled(other, alpha):
    return mul(other, alpha) if isinstance(other, Tensor) else np.asarray(other) * alpha


_INPLACE_FNS = {}     # filled below: kernel -> the out-of-place op (add, sub, mul, div)

_NP_BINARY = {_core.add: np.add, _core.sub: np.subtract, _core.mul: np.multiply,
              _core.div: np.true_divide, _core.pow: np.power, _core.maximum: np.maximum,
              _core.minimum: np.minimum}


def _np_binary(op, a, b):
    return _NP_BINARY[op](a, b)


def _needs_grad(*ts):
    if not _mode.enabled:
        return False
    for t in ts:
        if t is not None and t._requires_grad:
            return True
    return False


def _is_scalar(x):
    return isinstance(x, numbers.Number) and not isinstance(x, (Tensor, np.ndarray))


def _operand(x, dtype):
    """An ndarray for a non-Tensor operand.

    A Python number takes the tensor's dtype unless it belongs to a higher
    category (bool < int < float), in which case it takes that category's
    default (int64, float32), as in PyTorch: int tensor + 0.5 is float32.
    """
    if isinstance(x, Tensor):
        return x._data
    if _is_scalar(x):
        if isinstance(x, (bool, np.bool_)):
            return np.asarray(x, dtype=dtype)
        if isinstance(x, numbers.Integral):
            return np.asarray(x, dtype=dtype if dtype.kind in "iuf" else np.int64)
        return np.asarray(x, dtype=dtype if dtype.kind == "f" else _F32)
    return np.asarray(x)


def _promote(a, b):
    """Tensor operands (either may be a Python number or array) in one dtype."""
    ta = a if isinstance(a, Tensor) else None
    tb = b if isinstance(b, Tensor) else None
    if ta is None and tb is None:
        ta = Tensor(a)              # fastdl's default dtypes, e.g. where(c, 1.0, 0.0)
    if ta is None:
        ta = Tensor._wrap(_operand(a, tb._data.dtype))
    if tb is None:
        tb = Tensor._wrap(_operand(b, ta._data.dtype))
    da, db = ta._data.dtype, tb._data.dtype
    if da != db:
        if _is_scalar(b):
            dt = db                 # _operand already chose the scalar's category default
        elif _is_scalar(a):
            dt = da
        else:
            dt = np.result_type(da, db)
            if dt.kind == "f" and dt not in _FLOATS:
                dt = _F32
        if da != dt:
            ta = ta.to(dt)
        if db != dt:
            tb = tb.to(dt)
    return ta, tb


# ---- elementwise binary ops --------------------------------------------------------

def _binary_op(fn, a, b):
    """a op b with broadcasting through Function fn; integer operands use NumPy."""
    a, b = _promote(a, b)
    if fn is _fn.Div and not _is_float(a._data):
        a, b = a.to(_F32), b.to(_F32)       # true division of integers is float32, as in PyTorch
    if not _is_float(a._data):
        return Tensor._wrap(_np_binary(fn.op, a._data, b._data))
    if (a._requires_grad or b._requires_grad) and _mode.enabled:
        return fn.apply(a, b)
    return Tensor._wrap(fn.op(a._data, b._data))     # nothing to record


def add(a, b, alpha=1):
    """a + alpha * b elementwise (torch.add); also ``a + b`` and ``a.add(b)``.

    Broadcasting follows NumPy's rules; either operand may be a Python number. Also a Tensor method and operator.

    Args:
        a: a Tensor or number.
        b: a Tensor or number.
        alpha: multiplier of b (default 1).

    Example:
        >>> fastdl.add(fastdl.tensor([1.0, 2.0]), fastdl.tensor([10.0]), alpha=2)
        tensor([21., 22.])
    """
    if alpha != 1:
        b = mul(b, alpha)
    return _binary_op(_fn.Add, a, b)


def sub(a, b, alpha=1):
    """a - alpha * b elementwise (torch.sub); also ``a - b`` and ``a.sub(b)``.

    Broadcasting follows NumPy's rules; either operand may be a Python number. Also a Tensor method and operator.

    Args:
        a: a Tensor or number.
        b: a Tensor or number.
        alpha: multiplier of b (default 1).

    Example:
        >>> fastdl.tensor([5.0, 5.0]) - fastdl.tensor([1.0, 2.0])
        tensor([4., 3.])
    """
    if alpha != 1:
        b = mul(b, alpha)
    return _binary_op(_fn.Sub, a, b)


def mul(a, b):
    """a * b elementwise (torch.mul); also ``a * b`` and ``a.mul(b)``.

    Broadcasting follows NumPy's rules; either operand may be a Python number. Also a Tensor method and operator.

    Args:
        a: a Tensor or number.
        b: a Tensor or number.

    Example:
        >>> fastdl.mul(fastdl.tensor([[1.0, -2.0], [3.0, 4.0]]), fastdl.tensor([10.0, 0.5]))
        tensor([[10., -1.],
                [30.,  2.]])
    """
    return _binary_op(_fn.Mul, a, b)


def div(a, b):
    """a / b elementwise, true division (torch.div); also ``a / b`` and ``a.div(b)``.

    Broadcasting follows NumPy's rules; either operand may be a Python number. Also a Tensor method and operator.

    Args:
        a: a Tensor or number.
        b: a Tensor or number.

    Example:
        >>> fastdl.tensor([1.0, 3.0]) / 2
        tensor([0.5, 1.5])
    """
    return _binary_op(_fn.Div, a, b)


def pow(a, b):
    """a ** b elementwise (torch.pow); a scalar exponent uses a faster unary path.

    Broadcasting follows NumPy's rules; either operand may be a Python number. Also a Tensor method and operator.

    Args:
        a: a Tensor or number.
        b: a Tensor or number.

    Example:
        >>> fastdl.tensor([1.0, 2.0, 3.0]) ** 2
        tensor([1., 4., 9.])
        >>> fastdl.pow(2, fastdl.tensor([1.0, 3.0]))
        tensor([2., 8.])
    """
    if isinstance(a, Tensor) and isinstance(b, numbers.Number) and _is_float(a._data):
        return _fn.PowScalar.apply(a, float(b))
    return _binary_op(_fn.Pow, a, b)


def maximum(a, b):
    """Elementwise max of two tensors; NaN propagates (torch.maximum).

    The gradient goes to the larger input (split evenly on ties).

    Args:
        a: a Tensor or number.
        b: a Tensor or number.

    Example:
        >>> fastdl.maximum(fastdl.tensor([1.0, 5.0]), fastdl.tensor([3.0, 2.0]))
        tensor([3., 5.])
    """
    return _binary_op(_fn.Maximum, a, b)


def minimum(a, b):
    """Elementwise min of two tensors; NaN propagates (torch.minimum).

    Args:
        a: a Tensor or number.
        b: a Tensor or number.

    Example:
        >>> fastdl.minimum(fastdl.tensor([1.0, 5.0]), fastdl.tensor([3.0, 2.0]))
        tensor([1., 2.])
    """
    return _binary_op(_fn.Minimum, a, b)


def _compare(name, a, b):
    a, b = _promote(a, b)
    if _is_float(a._data):
        return Tensor._wrap(getattr(_core, name)(a._data, b._data))
    fn = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
          "gt": np.greater, "ge": np.greater_equal}[name]
    return Tensor._wrap(fn(a._data, b._data))


# ---- elementwise unary ops ---------------------------------------------------------------

def _unary_op(x, name, p0=0.0, p1=0.0):
    """out = f(x) through the unary kernel ``name``; integers compute in float32."""
    if not _is_float(x._data):
        x = Tensor._wrap(x._data.astype(_F32))
    return _fn.Unary.apply(x, name, p0, p1)


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def neg(x):
    """-x elementwise (torch.neg); also ``-x``.

    Args:
        x: the tensor.

    Example:
        >>> -fastdl.tensor([1.0, -2.0])
        tensor([-1.,  2.])
    """
    x = _as_tensor(x)
    if not _is_float(x._data):
        return Tensor._wrap(-x._data)
    return _unary_op(x, "neg")


def exp(x):
    """e ** x elementwise (torch.exp).

    Args:
        x: the tensor.

    Example:
        >>> fastdl.exp(fastdl.tensor([0.0, 1.0]))
        tensor([1.    , 2.7183])
    """
    return _unary_op(_as_tensor(x), "exp")


def log(x):
    """The natural logarithm elementwise (torch.log); log(0) = -inf.

    Args:
        x: the tensor.

    Example:
        >>> fastdl.log(fastdl.tensor([1.0, 4.0]))
        tensor([0.    , 1.3863])
    """
    return _unary_op(_as_tensor(x), "log")


def sqrt(x):
    """The square root elementwise (torch.sqrt).

    Args:
        x: the tensor.

    Example:
        >>> fastdl.sqrt(fastdl.tensor([4.0, 9.0]))
        tensor([2., 3.])
    """
    return _unary_op(_as_tensor(x), "sqrt")


def abs(x):
    """|x| elementwise (torch.abs); also ``abs(x)``.

    The gradient at 0 is 0.

    Args:
        x: the tensor.

    Example:
        >>> fastdl.abs(fastdl.tensor([-1.5, 2.0]))
        tensor([1.5, 2. ])
    """
    x = _as_tensor(x)
    if not _is_float(x._data):
        return Tensor._wrap(np.abs(x._data))
    return _unary_op(x, "abs")


def square(x):
    """x * x elementwise (torch.square).

    Args:
        x: the tensor.

    Example:
        >>> fastdl.square(fastdl.tensor([-3.0, 2.0]))
        tensor([9., 4.])
    """
    return pow(_as_tensor(x), 2)


def clip(x, min=None, max=None):
    """Clamp x into [min, max]; either bound may be None; NaN stays NaN (torch.clamp / torch.clip).

    The gradient flows where x is inside the bounds.

    Args:
        x: the tensor.
        min: the lower bound or None.
        max: the upper bound or None.

    Example:
        >>> fastdl.clamp(fastdl.tensor([-2.0, 0.5, 3.0]), -1, 1)
        tensor([-1. ,  0.5,  1. ])
        >>> fastdl.clip(fastdl.tensor([-2.0, 0.5]), min=0)
        tensor([0. , 0.5])
    """
    x = _as_tensor(x)
    lo = -np.inf if min is None else float(min)
    hi = np.inf if max is None else float(max)
    if min is None and max is None:
        raise ValueError("clip: at least one of min or max must not be None")
    if not _is_float(x._data) and all(v is None or isinstance(v, numbers.Integral)
                                      for v in (min, max)):
        return Tensor._wrap(np.clip(x._data, min, max))     # integer data stays integer
    return _unary_op(x, "clip", lo, hi)


clamp = clip


# ---- reductions --------------------------------------------------------------------------

def _axes_arg(dim, axis, name):
    if dim is not None and axis is not None:
        raise TypeError("%s: pass dim or axis, not both" % name)
    return dim if dim is not None else axis


def sum(x, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
    """Sum over dims (torch.sum).

    Args:
        input: the tensor.
        dim: an int, a tuple of ints, or None for all dims (``axis`` is accepted too).
        keepdim: keep reduced dims with size 1 (``keepdims`` is accepted too).
        dtype: accumulate and return in this dtype.

    Example:
        >>> x = fastdl.tensor([[1.0, -2.0], [3.0, 4.0]])
        >>> fastdl.sum(x), x.sum(dim=0)
        (tensor(6.), tensor([4., 2.]))
        >>> x.sum(1, keepdim=True)
        tensor([[-1.],
                [ 7.]])
    """
    x = _as_tensor(x)
    ax = _axes_arg(dim, axis, "sum")
    keepdim = keepdim if keepdims is None else keepdims
    if dtype is not None and np.dtype(dtype) in _FLOATS and x.dtype != np.dtype(dtype):
        x = x.to(dtype)             # accumulate and return in the requested float dtype
    xd = x._data
    if not _is_float(xd):
        return Tensor._wrap(np.sum(xd, axis=ax if not isinstance(ax, list) else tuple(ax),
                                   keepdims=keepdim, dtype=dtype))
    return _fn.Sum.apply(x, _core.normalize_axes(ax, xd.ndim, "sum"), keepdim)


def mean(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Mean over dims (torch.mean).

    Args:
        input: the tensor.
        dim: an int, a tuple of ints, or None for all dims (``axis`` is accepted too).
        keepdim: keep reduced dims with size 1 (``keepdims`` is accepted too).

    Example:
        >>> x = fastdl.tensor([[1.0, -2.0], [3.0, 4.0]])
        >>> x.mean(), x.mean(dim=1)
        (tensor(1.5), tensor([-0.5,  3.5]))
    """
    x = _as_tensor(x)
    ax = _axes_arg(dim, axis, "mean")
    keepdim = keepdim if keepdims is None else keepdims
    xd = x._data
    if not _is_float(xd):
        raise TypeError("mean: expected a floating point tensor, got dtype %s" % xd.dtype)
    return _fn.Mean.apply(x, _core.normalize_axes(ax, xd.ndim, "mean"), keepdim)


def _extreme(x, is_min, axes, keepdim, name):
    return _fn.Extreme.apply(x, is_min, axes, keepdim, name)


def amax(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Max over dims (torch.amax); the gradient is split evenly among ties.

    Args:
        input: the tensor.
        dim: an int, a tuple of ints, or None for all dims (``axis`` is accepted too).
        keepdim: keep reduced dims with size 1 (``keepdims`` is accepted too).

    Example:
        >>> fastdl.amax(fastdl.tensor([[1.0, -2.0], [3.0, 4.0]]), dim=1)
        tensor([1., 4.])
    """
    x = _as_tensor(x)
    ax = _axes_arg(dim, axis, "amax")
    keepdim = keepdim if keepdims is None else keepdims
    if not _is_float(x._data):
        return Tensor._wrap(np.amax(x._data, axis=ax, keepdims=keepdim))
    return _extreme(x, False, _core.normalize_axes(ax, x.ndim, "amax"), keepdim, "AmaxBackward")


def amin(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Min over dims (torch.amin); the gradient is split evenly among ties.

    Args:
        input: the tensor.
        dim: an int, a tuple of ints, or None for all dims (``axis`` is accepted too).
        keepdim: keep reduced dims with size 1 (``keepdims`` is accepted too).

    Example:
        >>> fastdl.amin(fastdl.tensor([[1.0, -2.0], [3.0, 4.0]]))
        tensor(-2.)
    """
    x = _as_tensor(x)
    ax = _axes_arg(dim, axis, "amin")
    keepdim = keepdim if keepdims is None else keepdims
    if not _is_float(x._data):
        return Tensor._wrap(np.amin(x._data, axis=ax, keepdims=keepdim))
    return _extreme(x, True, _core.normalize_axes(ax, x.ndim, "amin"), keepdim, "AminBackward")


def _max_min(x, is_min, dim, keepdim, axis, keepdims, name):
    """PyTorch's max/min: no dim -> scalar; int dim -> (values, indices);
    a Tensor as second argument -> elementwise maximum/minimum."""
    if isinstance(dim, (Tensor, np.ndarray)):
        return minimum(x, dim) if is_min else maximum(x, dim)
    x = _as_tensor(x)
    ax = _axes_arg(dim, axis, name)
    keepdim = keepdim if keepdims is None else keepdims
    if ax is None:
        return (amin if is_min else amax)(x)
    if not isinstance(ax, (int, np.integer)):
        raise TypeError("%s: dim must be an int (use amax/amin for several dims), got %r"
                        % (name, ax))
    if not _is_float(x._data):
        values = (amin if is_min else amax)(x, ax, keepdim)
        return MaxMin(values, (argmin if is_min else argmax)(x, ax, keepdim))
    if x.ndim == 0:                 # PyTorch: dim 0 (or -1) of a 0-d tensor is itself
        if ax not in (0, -1):
            raise IndexError("%s: dim %r is out of range for a 0-d tensor (expected 0 or -1)"
                             % (name, ax))
        return MaxMin(_unary_op(x, "copy"), Tensor._wrap(np.zeros((), np.int64)))
    axn = _core.normalize_axes(ax, x.ndim, name)[0]
    return MaxMin(*_fn.MaxMinDim.apply(x, is_min, axn, keepdim, name))


def max(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The maximum: over all elements, or (values, indices) along one dim (torch.max).

    Args:
        input: the tensor.
        dim: None (the max of all elements) or one int.
        keepdim: keep the reduced dim with size 1.

    Returns:
        a 0-d Tensor when dim is None, else a named tuple (values, indices).

    Example:
        >>> x = fastdl.tensor([[1.0, -2.0], [3.0, 4.0]])
        >>> fastdl.max(x)
        tensor(4.)
        >>> values, indices = x.max(dim=1)
        >>> values, indices
        (tensor([1., 4.]), tensor([0, 1]))
    """
    return _max_min(x, False, dim, keepdim, axis, keepdims, "max")


def min(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The minimum: over all elements, or (values, indices) along one dim (torch.min).

    Args:
        input: the tensor.
        dim: None (the min of all elements) or one int.
        keepdim: keep the reduced dim with size 1.

    Returns:
        a 0-d Tensor when dim is None, else a named tuple (values, indices).

    Example:
        >>> x = fastdl.tensor([[1.0, -2.0], [3.0, 4.0]])
        >>> fastdl.min(x, dim=0).values
        tensor([ 1., -2.])
    """
    return _max_min(x, True, dim, keepdim, axis, keepdims, "min")


def _np_argreduce(fn, xd, ax, keepdim, name):
    if ax is not None and not isinstance(ax, (int, np.integer)):
        raise TypeError("%s: dim must be an int or None, got %r" % (name, ax))
    if ax is not None:
        _core.normalize_axes(ax, xd.ndim, name)
    if (xd.size == 0 if ax is None else xd.shape[ax] == 0):
        raise ValueError("%s: cannot take %s over an empty dim (shape %s)" % (name, name, xd.shape))
    return np.asarray(fn(xd, axis=ax, keepdims=keepdim), dtype=np.int64)


def argmax(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the max (the first on ties): of the flattened tensor, or along a dim (torch.argmax).

    Args:
        input: the tensor.
        dim: None (flattened) or one int.
        keepdim: keep the reduced dim with size 1.

    Example:
        >>> x = fastdl.tensor([[1.0, -2.0], [3.0, 4.0]])
        >>> fastdl.argmax(x), x.argmax(dim=1)
        (tensor(3), tensor([0, 1]))
    """
    x = _as_tensor(x)
    ax = _axes_arg(dim, axis, "argmax")
    keepdim = keepdim if keepdims is None else keepdims
    if not _is_float(x._data):      # exact for int64 beyond 2**53, where float64 is not
        return Tensor._wrap(_np_argreduce(np.argmax, x._data, ax, keepdim, "argmax"))
    return Tensor._wrap(_core.argmax(x._data, ax, keepdim))


def argmin(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the min (the first on ties): of the flattened tensor, or along a dim (torch.argmin).

    Args:
        input: the tensor.
        dim: None (flattened) or one int.
        keepdim: keep the reduced dim with size 1.

    Example:
        >>> fastdl.argmin(fastdl.tensor([[1.0, -2.0], [3.0, 4.0]]), dim=0)
        tensor([0, 0])
    """
    x = _as_tensor(x)
    ax = _axes_arg(dim, axis, "argmin")
    keepdim = keepdim if keepdims is None else keepdims
    if not _is_float(x._data):      # exact for int64 beyond 2**53, where float64 is not
        return Tensor._wrap(_np_argreduce(np.argmin, x._data, ax, keepdim, "argmin"))
    return Tensor._wrap(_core.argmin(x._data, ax, keepdim))


def var(x, dim=None, keepdim=False, *, axis=None, keepdims=None, correction=None,
        unbiased=None, ddof=None):
    """Variance over dims (torch.var); divides by N - correction.

    Args:
        input: the tensor.
        dim: an int, a tuple of ints, or None for all dims (``axis`` is accepted too).
        keepdim: keep reduced dims with size 1 (``keepdims`` is accepted too).
        correction: 1 (default, Bessel's correction: N - 1) or 0 (N).
        unbiased: False is correction=0 (older PyTorch name).
        ddof: NumPy's name for correction.

    Example:
        >>> x = fastdl.tensor([1.0, 2.0, 3.0, 4.0])
        >>> fastdl.var(x), fastdl.var(x, unbiased=False)
        (tensor(1.6667), tensor(1.25))
    """
    x = _as_tensor(x)
    ax = _axes_arg(dim, axis, "var")
    keepdim = keepdim if keepdims is None else keepdims
    c = 1
    if correction is not None:
        c = correction
    elif unbiased is not None:
        c = 1 if unbiased else 0
    elif ddof is not None:
        c = ddof
    axes = _core.normalize_axes(ax, x.ndim, "var")
    n = int(np.prod([x.shape[d] for d in axes])) if axes else 1
    d = x - mean(x, axes, True)
    return sum(d * d, axes, keepdim) / builtins.max(n - c, 0)


def _correction(correction, unbiased, ddof):
    if correction is not None:
        return correction
    if unbiased is not None:
        return 1 if unbiased else 0
    if ddof is not None:
        return ddof
    return 1


def std(x, dim=None, keepdim=False, *, axis=None, keepdims=None, correction=None,
        unbiased=None, ddof=None):
    """Standard deviation over dims, sqrt(var) (torch.std).

    Its gradient is 0 where the std is 0, as in PyTorch.

    Args:
        input: the tensor.
        dim: an int, a tuple of ints, or None for all dims (``axis`` is accepted too).
        keepdim: keep reduced dims with size 1 (``keepdims`` is accepted too).
        correction: 1 (default: divide by N - 1) or 0.
        unbiased: False is correction=0.
        ddof: NumPy's name for correction.

    Example:
        >>> fastdl.std(fastdl.tensor([1.0, 2.0, 3.0, 4.0]))
        tensor(1.291)
    """
    x = _as_tensor(x)
    ax = _axes_arg(dim, axis, "std")
    keepdim = keepdim if keepdims is None else keepdims
    if not _is_float(x._data):
        raise TypeError("std: expected a floating point tensor, got dtype %s" % x.dtype)
    axes = _core.normalize_axes(ax, x.ndim, "std")
    return _fn.Std.apply(x, axes, keepdim, _correction(correction, unbiased, ddof))


# ---- matmul ----------------------------------------------------------------------------

def matmul(a, b):
    """Matrix product with NumPy's rules: 1-D, 2-D and batched (broadcast) operands (torch.matmul); also ``a @ b``.

    Runs on fastdl's packed GEMM; backward uses the transposed GEMM variants, with no transposed copy.

    Args:
        a: a Tensor.
        b: a Tensor.

    Shapes:
        (n, k) @ (k, m) -> (n, m); (*, n, k) @ (*, k, m) -> (*, n, m) with the batch dims broadcast; a 1-D operand is a vector.

    Example:
        >>> (fastdl.ones(2, 3) @ fastdl.ones(3, 4)).shape
        (2, 4)
        >>> fastdl.matmul(fastdl.ones(5, 2, 3), fastdl.ones(3, 4)).shape
        (5, 2, 4)
        >>> fastdl.matmul(fastdl.tensor([1.0, 2.0]), fastdl.tensor([3.0, 4.0]))
        tensor(11.)
    """
    a, b = _promote(a, b)
    ad, bd = a._data, b._data
    if ad.ndim == 0 or bd.ndim == 0:
        raise ValueError("matmul: both operands need at least 1 dim, got shapes %s and %s"
                         % (ad.shape, bd.shape))
    if not _is_float(ad):
        return Tensor._wrap(np.matmul(ad, bd))
    a2 = ad[None, :] if ad.ndim == 1 else ad
    b2 = bd[:, None] if bd.ndim == 1 else bd
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError("matmul: shapes %s and %s are not aligned: %d (dim -1 of the first) "
                         "!= %d (dim %d of the second)"
                         % (ad.shape, bd.shape, a2.shape[-1], b2.shape[-2], -2 if bd.ndim > 1 else 0))
    return _fn.Matmul.apply(a, b)


# ---- shape ops ---------------------------------------------------------------------------

def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(s) for s in shape)


def reshape(x, *shape):
    """The same elements in a new shape; a view when possible (torch.reshape).

    Args:
        x: the tensor.
        *shape: the new shape, as ints or one tuple; one entry may be -1 (inferred).

    Example:
        >>> fastdl.reshape(fastdl.arange(6), 2, 3)
        tensor([[0, 1, 2],
                [3, 4, 5]])
        >>> fastdl.arange(6).reshape(3, -1).shape
        (3, 2)
    """
    shape = _shape_arg(shape)
    xd = x._data
    try:
        return _fn.View.apply(x, shape)
    except ValueError:
        raise ValueError("reshape: shape %s is invalid for input of shape %s (%d elements)"
                         % (shape, xd.shape, xd.size)) from None


def permute(x, *dims):
    """Reorder the dims; a view (torch.permute).

    Args:
        x: the tensor.
        *dims: the new order of the dims, as ints or one tuple.

    Example:
        >>> fastdl.permute(fastdl.zeros(2, 3, 4), 2, 0, 1).shape
        (4, 2, 3)
    """
    dims = _shape_arg(dims)
    nd = x.ndim
    if sorted(d % nd if nd else d for d in dims) != list(range(nd)):
        raise ValueError("permute: dims %s are not a permutation of %d dims" % (dims, nd))
    return _fn.Permute.apply(x, dims)


def transpose(x, dim0, dim1):
    """Swap two dims; a view (torch.transpose).

    Args:
        x: the tensor.
        dim0: a dim.
        dim1: the other dim.

    Example:
        >>> fastdl.transpose(fastdl.zeros(2, 3, 4), 0, 2).shape
        (4, 3, 2)
    """
    nd = x.ndim
    if nd == 0:
        return x
    dims = list(range(nd))
    try:
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    except IndexError:
        raise ValueError("transpose: dims (%d, %d) out of range for %d dims"
                         % (dim0, dim1, nd)) from None
    return permute(x, *dims)


def flatten(x, start_dim=0, end_dim=-1):
    """Merge the dims start_dim..end_dim into one (torch.flatten).

    Args:
        x: the tensor.
        start_dim: first dim to merge (default 0).
        end_dim: last dim to merge (default -1).

    Example:
        >>> fastdl.flatten(fastdl.zeros(2, 3, 4)).shape, fastdl.zeros(2, 3, 4).flatten(1).shape
        ((24,), (2, 12))
    """
    nd = x.ndim
    if nd == 0:
        return reshape(x, 1)
    s, e = start_dim % nd, end_dim % nd
    if s > e:
        raise ValueError("flatten: start_dim (%d) comes after end_dim (%d)" % (start_dim, end_dim))
    shape = x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:]
    return reshape(x, shape)


def squeeze(x, dim=None):
    """Remove dims of size 1: all of them, or only dim (torch.squeeze).

    Args:
        x: the tensor.
        dim: None (all size-1 dims) or one dim, left alone if its size is not 1.

    Example:
        >>> fastdl.squeeze(fastdl.zeros(2, 1, 3)).shape, fastdl.zeros(1, 1, 3).squeeze(0).shape
        ((2, 3), (1, 3))
    """
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = _core.normalize_axes(dims, x.ndim, "squeeze")
        shape = tuple(s for d, s in enumerate(x.shape) if not (d in dims and s == 1))
    return reshape(x, shape)


def unsqueeze(x, dim):
    """Insert a dim of size 1 at position dim (torch.unsqueeze).

    Args:
        x: the tensor.
        dim: the position of the new dim, in [-x.ndim - 1, x.ndim].

    Example:
        >>> fastdl.unsqueeze(fastdl.zeros(3), 0).shape
        (1, 3)
    """
    nd = x.ndim + 1
    if not -nd <= dim < nd:
        raise ValueError("unsqueeze: dim %d out of range for a result of %d dims" % (dim, nd))
    dim %= nd
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def expand(x, *shape):
    """Broadcast size-1 dims to a larger shape without copying (torch.expand).

    The gradient is summed back over the expanded dims.

    Args:
        x: the tensor.
        *shape: the new shape; -1 keeps a dim's size; new leading dims may be added.

    Example:
        >>> fastdl.tensor([[1.0], [2.0]]).expand(2, 3)
        tensor([[1., 1., 1.],
                [2., 2., 2.]])
    """
    shape = _shape_arg(shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ValueError("expand: the number of sizes (%d) must be >= the number of dims (%d)"
                         % (len(shape), x.ndim))
    full = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    try:
        np.broadcast_shapes(x.shape, full)
    except ValueError:
        raise ValueError("expand: shape %s cannot be expanded to %s" % (x.shape, shape)) from None
    return _fn.Expand.apply(x, full)


# ---- indexing and joins --------------------------------------------------------------------

def _index_arrays(idx, op="getitem"):
    """Replace Tensors inside an index by their arrays (uint64 ones checked:
    NumPy would wrap 2**64 - 1 to -1, the last element)."""
    if isinstance(idx, Tensor):
        idx = idx._data
    elif isinstance(idx, tuple):
        idx = tuple(i._data if isinstance(i, Tensor) else i for i in idx)
    elif isinstance(idx, list):
        idx = np.asarray([i._data if isinstance(i, Tensor) else i for i in idx])
    for i in idx if isinstance(idx, tuple) else (idx,):
        check_int64_range(i, op)
    return idx


def _is_basic(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis
               for i in items)


def getitem(x, idx):
    idx = _index_arrays(idx)
    xd = x._data
    try:
        if not _needs_grad(x):
            out = xd[idx]
            return Tensor._wrap(out if type(out) is np.ndarray else np.asarray(out))
        return _fn.Index.apply(x, idx, _is_basic(idx))
    except IndexError as e:
        raise IndexError("getitem: %s (tensor of shape %s)" % (e, xd.shape)) from None


def cat(tensors, dim=0, *, axis=None):
    """Concatenate tensors along an existing dim (torch.cat).

    Args:
        tensors: a non-empty sequence of tensors with equal shapes except along dim.
        dim: the dim to join along (default 0; ``axis`` is accepted too).

    Example:
        >>> fastdl.cat([fastdl.zeros(2, 3), fastdl.ones(1, 3)]).shape
        (3, 3)
        >>> fastdl.cat([fastdl.zeros(2, 3), fastdl.ones(2, 1)], dim=1).shape
        (2, 4)
    """
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    d = dim if axis is None else axis
    nd = tensors[0].ndim
    d = _core.normalize_axes(d, nd, "cat")[0]
    for t in tensors[1:]:
        if t.ndim != nd or t.shape[:d] + t.shape[d + 1:] != tensors[0].shape[:d] + tensors[0].shape[d + 1:]:
            raise ValueError("cat: sizes must match except in dim %d, got %s"
                             % (d, [t.shape for t in tensors]))
    return _fn.Cat.apply(*tensors, d)


def stack(tensors, dim=0, *, axis=None):
    """Join tensors of equal shape along a new dim (torch.stack).

    Args:
        tensors: a non-empty sequence of tensors of the same shape.
        dim: the position of the new dim (default 0; ``axis`` is accepted too).

    Example:
        >>> fastdl.stack([fastdl.zeros(3), fastdl.ones(3)]).shape, fastdl.stack([fastdl.zeros(3), fastdl.ones(3)], dim=1).shape
        ((2, 3), (3, 2))
    """
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError("stack: all tensors must have the same shape, got %s"
                         % [t.shape for t in tensors])
    d = dim if axis is None else axis
    return cat([unsqueeze(t, d) for t in tensors], d)


def _split_dim(x, dim, op):
    if x.ndim == 0:
        raise ValueError("%s: expected a tensor with at least 1 dim, got a 0-d tensor" % op)
    return _core.normalize_axes(dim, x.ndim, op)[0]


def _split(x, sizes, d, squeeze=False):
    if _is_float(x._data):
        return _fn.Split.apply(x, tuple(sizes), d, squeeze)
    outs, start = [], 0
    for s in sizes:
        piece = x._data[(slice(None),) * d + (slice(start, start + s),)]
        outs.append(Tensor._wrap(np.squeeze(piece, d) if squeeze else piece))
        start += s
    return tuple(outs)


def split(x, split_size_or_sections, dim=0):
    """Split into chunks of one size (int) or of the given sizes (list) along dim (torch.split).

    All pieces come from one autograd node: using several of them in a loss
    runs one backward that fills one gradient array.

    Args:
        x: the tensor.
        split_size_or_sections: a chunk size (the last chunk may be smaller) or a list of sizes summing to x.shape[dim].
        dim: the dim to split (default 0).

    Returns:
        a tuple of views.

    Example:
        >>> [p.tolist() for p in fastdl.split(fastdl.arange(5), 2)]
        [[0, 1], [2, 3], [4]]
        >>> [p.tolist() for p in fastdl.arange(5).split([1, 4])]
        [[0], [1, 2, 3, 4]]
    """
    d = _split_dim(x, dim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        s = int(split_size_or_sections)
        if s <= 0:
            raise ValueError("split: split_size must be positive, got %d" % s)
        sizes = [s] * (n // s) + ([n % s] if n % s else [])
        if not sizes:
            sizes = [0]
    else:
        sizes = [int(v) for v in split_size_or_sections]
        if builtins.sum(sizes) != n or builtins.min(sizes, default=0) < 0:
            raise ValueError("split: sections %s do not sum to the dim size %d" % (sizes, n))
    return _split(x, sizes, d)


def chunk(x, chunks, dim=0):
    """Split into at most ``chunks`` pieces of ceil(n / chunks) elements along dim (torch.chunk).

    Args:
        x: the tensor.
        chunks: the number of pieces wanted (a positive int).
        dim: the dim to split (default 0).

    Returns:
        a tuple of views; the last piece may be smaller, and there may be fewer
        than ``chunks`` pieces.

    Example:
        >>> [p.tolist() for p in fastdl.chunk(fastdl.arange(5), 2)]
        [[0, 1, 2], [3, 4]]
        >>> [p.shape for p in fastdl.arange(6).reshape(2, 3).chunk(3, dim=1)]
        [(2, 1), (2, 1), (2, 1)]
    """
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise ValueError("chunk: chunks must be a positive int, got %r" % (chunks,))
    d = _split_dim(x, dim, "chunk")
    n = x.shape[d]
    size = -(-n // int(chunks)) if n else 0
    return split(x, size if size else [0], d)


def unbind(x, dim=0):
    """The slices along dim, with that dim removed (torch.unbind); one autograd node for all.

    Args:
        x: the tensor.
        dim: the dim to remove (default 0).

    Example:
        >>> fastdl.unbind(fastdl.arange(6).reshape(2, 3))
        (tensor([0, 1, 2]), tensor([3, 4, 5]))
        >>> [t.tolist() for t in fastdl.arange(6).reshape(2, 3).unbind(1)]
        [[0, 3], [1, 4], [2, 5]]
    """
    d = _split_dim(x, dim, "unbind")
    return _split(x, [1] * x.shape[d], d, squeeze=True)


def where(cond, a, b):
    """Elementwise cond ? a : b, with broadcasting (torch.where).

    Args:
        cond: a bool Tensor or array.
        a: values where cond is True (a Tensor or number).
        b: values where cond is False.

    Example:
        >>> x = fastdl.tensor([1.0, -1.0, 2.0])
        >>> fastdl.where(x > 0, x, 0.0)
        tensor([1., 0., 2.])
    """
    c = cond._data if isinstance(cond, Tensor) else np.asarray(cond)
    c = c.astype(bool, copy=False)
    a, b = _promote(a, b)
    if not _needs_grad(a, b):
        return Tensor._wrap(np.where(c, a._data, b._data))
    return _fn.Where.apply(a, b, c)


# ---- methods delegating to the functions above -------------------------------------------------

_INPLACE_FNS.update({_ADD: add, _SUB: sub, _MUL: mul, _DIV: div})


def _install_methods():
    simple = dict(add=add, sub=sub, mul=mul, div=div, pow=pow, matmul=matmul, exp=exp, log=log,
                  sqrt=sqrt, abs=abs, square=square, clip=clip, clamp=clip, neg=neg,
                  maximum=maximum, minimum=minimum, sum=sum, mean=mean, max=max, min=min,
                  amax=amax, amin=amin, argmax=argmax, argmin=argmin, var=var, std=std,
                  permute=permute, transpose=transpose, flatten=flatten, squeeze=squeeze,
                  unsqueeze=unsqueeze, expand=expand, split=split, chunk=chunk,
                  unbind=unbind)
    for name, fn in simple.items():
        setattr(Tensor, name, fn)
    Tensor.reshape = lambda self, *shape: reshape(self, *shape)
    Tensor.view = Tensor.reshape
    Tensor.expand_as = lambda self, other: expand(self, other.shape)
    Tensor.view_as = lambda self, other: reshape(self, other.shape)
    Tensor.reshape_as = Tensor.view_as
    Tensor.divide = div
    Tensor.multiply = mul
    Tensor.subtract = sub
    Tensor.true_divide = div


_install_methods()
autograd.function.Tensor = Tensor      # Function.apply wraps its outputs in this class
