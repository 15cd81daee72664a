"""Record the ops of one forward pass as an ONNX graph.

Every built-in op of fastdl runs through ``KernelFunction.apply``
(fastdl/autograd/function.py). While ``trace`` runs, that entry point is
wrapped so that each call reports its Function class, its arguments and its
outputs to the recorder, which turns it into ONNX nodes (fastdl/onnx/_ops.py)
on the spot. Nothing changes outside a trace: the wrapper is installed for
the trace and removed after it.

Values are known by the identity of their storage arrays: the model inputs,
the outputs of recorded ops, the parameters and buffers (initializers, named
as in ``state_dict``). Any other array an op receives is a constant. So that
a constant that secretly depends on the input (a comparison, an ``.item()``,
an integer op, all of which bypass the Functions) cannot be baked in, the
forward pass is traced a second time on a perturbed input: the ops and the
constants must come out the same, or the export is refused.
"""
import threading

import numpy as np

from fastdl.autograd.function import KernelFunction
from fastdl.autograd.grad_mode import _mode
from fastdl.tensor import Tensor

_lock = threading.Lock()


class Unsupported(Exception):
    """An op (or a use of an op) with no ONNX translation; the message names it."""


class _Poisoned(Unsupported):
    """A value made by an unsupported op was used: reported once, at that op."""


class Recorder:
    """The graph being built: nodes, initializers and the names of known values."""

    def __init__(self, onnx, opset, params, export_params):
        self.onnx = onnx
        self.h = onnx.helper
        self.opset = opset
        self.nodes = []
        self.inits = {}            # name -> ndarray
        self.names = {}            # id(ndarray) -> value name (graph values)
        self.keep = []             # keeps recorded arrays alive so their ids stay unique
        self.params = params       # id(ndarray) -> (state_dict name, ndarray)
        self.export_params = export_params
        self.param_inputs = {}     # name -> ndarray, when export_params=False
        self.unsupported = {}      # op description -> count
        self.poisoned = {}         # id(ndarray) -> why the value can't be used
        self.folded = set()        # id(ndarray) of op outputs computed from constants only
        self.current_op = None
        self.constants = []        # (op index, array) of the unnamed constants used
        self.op_names = []
        self._count = 0

    # ---- naming ------------------------------------------------------------------
    def fresh(self, hint):
        self._count += 1
        return "%s_%d" % (hint, self._count)

    def bind(self, arr, name):
        self.names[id(arr)] = name
        self.keep.append(arr)

    def is_value(self, a):
        """Is this argument (Tensor or array) computed from the inputs?"""
        arr = a._data if isinstance(a, Tensor) else a
        if not isinstance(arr, np.ndarray):
            return False
        if id(arr) in self.names or id(arr) in self.poisoned:
            return True
        return not self.export_params and id(arr) in self.params

    def name(self, a, hint="const"):
        """The graph name of a Tensor/array argument, making an initializer for a
        parameter, a buffer or a constant."""
        arr = a._data if isinstance(a, Tensor) else a
        if not isinstance(arr, np.ndarray):
            arr = np.asarray(arr)
        key = id(arr)
        if key in self.poisoned:
            raise _Poisoned(self.poisoned[key])
        if key in self.names:
            return self.names[key]
        if key in self.params:
            pname, parr = self.params[key]
            if self.export_params:
                self.inits.setdefault(pname, parr)
            else:
                self.param_inputs.setdefault(pname, parr)
            return pname
        if isinstance(a, Tensor) and a._node is not None and key not in self.folded:
            raise Unsupported("an input of %s computed by an operation the exporter cannot "
                              "record" % self.current_op)
        self.constants.append((max(len(self.op_names) - 1, 0), np.array(arr, copy=True)))
        return self.const(arr, hint)

    def const(self, value, hint="const", dtype=None):
        arr = np.array(value, dtype=dtype, copy=True)
        name = self.fresh(hint)
        self.inits[name] = arr
        return name

    def ints(self, values, hint="shape"):
        return self.const(np.asarray(values, dtype=np.int64).reshape(-1), hint)

    def node(self, op, inputs, nout=1, **attrs):
        outs = [self.fresh(op) for _ in range(nout)]
        self.nodes.append(self.h.make_node(op, list(inputs), outs, **attrs))
        return outs if nout > 1 else outs[0]


class _Tracer:
    """Installs the recording wrapper around KernelFunction.apply for one trace."""

    def __init__(self, recorder, convert):
        self.rec = recorder
        self.convert = convert
        self.thread = threading.get_ident()

    def __enter__(self):
        self.orig = KernelFunction.__dict__["apply"]
        orig_fn = self.orig.__func__
        tracer = self

        def apply(cls, *args):
            out = orig_fn(cls, *args)
            if threading.get_ident() == tracer.thread:
                tracer.record(cls, args, out)
            return out
        KernelFunction.apply = classmethod(apply)
        return self

    def __exit__(self, *exc):
        KernelFunction.apply = self.orig
        return False

    def record(self, cls, args, out):
        rec = self.rec
        outs = out if isinstance(out, tuple) else (out,)
        rec.op_names.append(cls.__name__)
        rec.current_op = cls.__name__
        unseen = [a for a in args if isinstance(a, Tensor) and a._node is not None
                  and not rec.is_value(a) and id(a._data) not in rec.folded
                  and id(a._data) not in rec.params]
        if unseen:
            what = ("an input of %s comes from %s, which has no ONNX translation (a custom "
                    "autograd.Function is opaque to the trace)"
                    % (cls.__name__, getattr(unseen[0]._node, "name", "an unknown op")))
            rec.unsupported[what] = rec.unsupported.get(what, 0) + 1
            for o in outs:
                rec.poisoned[id(o._data)] = what
                rec.keep.append(o._data)
            return
        if not any(rec.is_value(a) for a in args):
            for o in outs:      # constants only: the outputs are constants too (folded)
                rec.folded.add(id(o._data))
                rec.keep.append(o._data)
            return
        try:
            names = self.convert(rec, cls, args, outs)
        except Unsupported as e:
            what = str(e)
            if not isinstance(e, _Poisoned):
                rec.unsupported[what] = rec.unsupported.get(what, 0) + 1
            for o in outs:
                rec.poisoned[id(o._data)] = what
                rec.keep.append(o._data)
            return
        for o, n in zip(outs, names):
            if n is None:
                rec.poisoned[id(o._data)] = ("%s: this output has no ONNX translation"
                                             % cls.__name__)
                rec.keep.append(o._data)
            else:
                rec.bind(o._data, n)


def run_trace(model, inputs, recorder, convert, input_names):
    """Run model(*inputs) once, recording; returns the flat list of output Tensors."""
    with _lock:
        prev = _mode.enabled
        _mode.enabled = True
        try:
            traced = []
            for t, n in zip(inputs, input_names):
                if isinstance(t, Tensor):
                    recorder.bind(t._data, n)
                traced.append(t)
            with _Tracer(recorder, convert):
                out = model(*traced)
        finally:
            _mode.enabled = prev
    return out


def trace_inputs(args, perturb=False, grow=None, seed=0):
    """Fresh leaf Tensors for the trace: float ones require grad, so that every op on
    them takes its Function (indexing, where, ... skip Functions otherwise).

    perturb: other values of the same shape; grow: {position among the Tensor
    arguments: axes}, dims made one longer (the dynamic axes), so that a constant
    whose shape follows them shows up as a difference between the two traces."""
    rng = np.random.default_rng(seed)
    res = []
    k = -1
    for a in args:
        if not isinstance(a, Tensor):
            res.append(a)
            continue
        k += 1
        arr = np.array(a._data, copy=True)
        if perturb and arr.size:
            if arr.dtype.kind == "f":
                # flipped and shifted: sums, signs and maxima all change
                scale = float(np.std(arr)) + 1.0
                arr = (rng.standard_normal(arr.shape) * scale - arr).astype(arr.dtype)
            else:
                arr = rng.permutation(arr.reshape(-1)).reshape(arr.shape)
        for ax in (grow or {}).get(k, ()):
            if arr.shape[ax]:
                arr = np.concatenate([arr, np.take(arr, [0], axis=ax)], axis=ax)
        t = Tensor._wrap(arr)
        if arr.dtype.kind == "f":
            t._requires_grad = True
        res.append(t)
    return res
