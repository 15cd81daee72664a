"""fastdl.onnx: export a model to ONNX, PyTorch's ``torch.onnx.export`` names.

The graph is recorded during one forward pass on the example inputs (a
trace): every op the model runs (layers, functional ops, Tensor methods)
becomes ONNX nodes, so any model whose forward uses supported ops exports,
not only Sequential ones. Data-dependent Python control flow is frozen at
the path the example took, as with PyTorch's tracer.

Supported: linear, conv1d/conv2d, max/avg/adaptive-avg pooling, batch_norm
(eval), layer_norm, dropout (eval: identity), embedding, RNN/LSTM/GRU (any
layers, bidirectional, batch_first), relu/leaky_relu/elu/gelu/sigmoid/tanh/
softplus/silu, softmax/log_softmax, + - * / pow maximum minimum, exp/log/
sqrt/abs/neg/clamp, sum/mean/amax/amin/max/min, matmul, reshape/view/
flatten/squeeze/unsqueeze, permute/transpose, expand, cat/stack/split/chunk,
basic indexing (ints, slices, None, ...), where, dtype casts.
Anything else is refused with an error naming the op.

Needs the optional extra: ``pip install fastdl[onnx]`` (onnx, onnxruntime).
"""
import enum
import io
import os
import tempfile

import numpy as np

from fastdl.tensor import Tensor

__all__ = ["export", "TrainingMode", "is_in_onnx_export"]

DEFAULT_OPSET = 18
MIN_OPSET = 13

_exporting = False


class TrainingMode(enum.IntEnum):
    """The mode the model is traced in (PyTorch's ``torch.onnx.TrainingMode``)."""
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def is_in_onnx_export():
    """True while ``fastdl.onnx.export`` traces a model."""
    return _exporting


def _import_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("fastdl.onnx.export needs the 'onnx' package: pip install "
                          "'fastdl[onnx]' (installs onnx and onnxruntime)") from None
    return onnx


def _flatten(out):
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flatten(o)]
    if isinstance(out, dict):
        return [t for o in out.values() for t in _flatten(o)]
    raise TypeError("fastdl.onnx.export: the model returned a %s; expected Tensors (or "
                    "tuples, lists or dicts of them)" % type(out).__name__)


def _as_args(args):
    if isinstance(args, Tensor):
        return (args,)
    if isinstance(args, (tuple, list)):
        args = tuple(args)
        if args and isinstance(args[-1], dict):
            raise ValueError("fastdl.onnx.export: keyword arguments to forward (a trailing "
                             "dict in args) are not supported")
        return args
    raise TypeError("fastdl.onnx.export: args must be a Tensor or a tuple of Tensors, got %s"
                    % type(args).__name__)


def _names(given, n, default, what):
    given = list(given or [])
    if len(given) > n:
        raise ValueError("fastdl.onnx.export: %d %s given for %d %ss"
                         % (len(given), what, n, what.split("_")[0]))
    if n == 1:
        return given or [default]
    return given + ["%s_%d" % (default, i) for i in range(len(given), n)]


def _dims(shape, axes, name):
    """Shape with dim_param strings where dynamic_axes asks for them."""
    dims = list(shape)
    if axes is None:
        return dims
    items = axes.items() if isinstance(axes, dict) else \
        [(a, "%s_dynamic_axes_%d" % (name, i + 1)) for i, a in enumerate(axes)]
    for a, label in items:
        a = int(a)
        if not -len(dims) <= a < len(dims):
            raise ValueError("fastdl.onnx.export: dynamic axis %d of '%s' is out of range "
                             "for shape %s" % (a, name, tuple(shape)))
        dims[a] = str(label)
    return dims


def _record(model, inputs, input_names, opset, export_params):
    from fastdl.onnx import _ops, _trace
    onnx = _import_onnx()
    params = {}
    if hasattr(model, "named_parameters"):
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if t is not None:
                arr = t._data if isinstance(t, Tensor) else t
                params[id(arr)] = (name, arr)
    rec = _trace.Recorder(onnx, opset, params, export_params)
    out = _trace.run_trace(model, inputs, rec, _ops.convert, input_names)
    return rec, _flatten(out)


def _check_same(rec1, rec2):
    """The second trace (perturbed input) must record the same ops and constants."""
    if rec1.op_names != rec2.op_names:
        raise RuntimeError(
            "fastdl.onnx.export: the model ran different ops on a second input of the same "
            "shape (%d ops, then %d): its forward has data-dependent control flow, which a "
            "traced graph cannot represent" % (len(rec1.op_names), len(rec2.op_names)))
    if len(rec1.constants) != len(rec2.constants):
        raise RuntimeError("fastdl.onnx.export: the model used different constants on a "
                           "second input of the same shape")
    for (i, a), (_, b) in zip(rec1.constants, rec2.constants):
        op = rec1.op_names[i] if i < len(rec1.op_names) else "output"
        if a.shape != b.shape:
            raise RuntimeError(
                "fastdl.onnx.export: an argument of op %s (#%d) of shape %s is a constant "
                "whose shape follows a dynamic axis (%s on a longer input), e.g. a tensor "
                "made inside forward from the batch size, such as a zero initial state; pass "
                "it as an input, or export without dynamic_axes" % (op, i + 1, a.shape, b.shape))
        if not np.array_equal(a, b, equal_nan=True):
            raise RuntimeError(
                "fastdl.onnx.export: an argument of op %s (#%d) of shape %s depends on the "
                "input through an operation the exporter cannot record (a comparison, an "
                "integer op, .item() or .numpy()); it would be frozen as a constant. Express "
                "it with supported tensor ops" % (op, i + 1, a.shape))


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None,
           output_names=None, opset_version=None, export_params=True,
           keep_initializers_as_inputs=False, dynamic_axes=None, training=TrainingMode.EVAL,
           do_constant_folding=True, dynamo=False, **options):
    """Export a model to ONNX by tracing one forward pass (PyTorch's ``torch.onnx.export``).

    Args:
        model: a ``fastdl.nn.Module`` (or any callable over Tensors).
        args: the example input: a Tensor or a tuple of Tensors (positional
            arguments of forward; non-Tensor entries are passed as they are).
        f: a path or a binary file object to write the model to; None only
            returns it.
        verbose: print the graph.
        input_names, output_names: names of the graph's inputs and outputs
            (default ``input``/``output``, numbered when there are several).
        opset_version: the ONNX opset (default 18; 13 and above).
        export_params: store the weights in the model (default True); False
            makes them graph inputs.
        keep_initializers_as_inputs: also list the weights as graph inputs.
        dynamic_axes: {name: {axis: label}} or {name: [axis, ...]}, e.g.
            ``{"input": {0: "batch"}, "output": {0: "batch"}}``.
        training: ``TrainingMode.EVAL`` (default: traced in eval mode, then the
            mode is restored), ``PRESERVE`` or ``TRAINING``.
        do_constant_folding: ops on constants only are always folded.
        dynamo: must be False (fastdl has one exporter, the tracer).
    Returns:
        the ``onnx.ModelProto``.

    Example:
        >>> model = fastdl.nn.Sequential(fastdl.nn.Linear(4, 3), fastdl.nn.ReLU())
        >>> fastdl.onnx.export(model, fastdl.randn(1, 4), "model.onnx",
        ...                    input_names=["x"], output_names=["y"],
        ...                    dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    """
    global _exporting
    onnx = _import_onnx()
    if options:
        raise TypeError("fastdl.onnx.export: unsupported argument(s) %s"
                        % ", ".join(sorted(options)))
    if kwargs:
        raise ValueError("fastdl.onnx.export: kwargs to forward are not supported; pass "
                         "inputs positionally in args")
    if dynamo:
        raise ValueError("fastdl.onnx.export: dynamo=True is PyTorch's torch.export path; "
                         "fastdl exports by tracing (dynamo=False)")
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    max_opset = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= max_opset:
        raise ValueError("fastdl.onnx.export: opset_version must be in [%d, %d], got %d"
                         % (MIN_OPSET, max_opset, opset))
    args = _as_args(args)
    tensors = [a for a in args if isinstance(a, Tensor)]
    if not tensors:
        raise ValueError("fastdl.onnx.export: args holds no Tensor to trace with")
    in_names = _names(input_names, len(tensors), "input", "input_names")
    from fastdl.onnx import _trace

    was_training = getattr(model, "training", None)
    if was_training is not None and training != TrainingMode.PRESERVE:
        model.train(training == TrainingMode.TRAINING)
    _exporting = True
    try:
        rec, outs = _record(model, _trace.trace_inputs(args), in_names, opset, export_params)
        if not rec.unsupported:
            try:
                grow = {k: [int(a) for a in (dynamic_axes or {}).get(n, ())]
                        for k, n in enumerate(in_names)}
                rec2, outs2 = _record(model, _trace.trace_inputs(args, True, grow), in_names,
                                  opset, export_params)
            except Exception:       # the perturbed input is not valid for this model
                rec2 = None
            if rec2 is not None:
                _check_same(rec, rec2)
                for i, (a, b) in enumerate(zip(outs, outs2)):
                    if id(a._data) in rec.names or id(a._data) in rec.poisoned:
                        continue
                    if a.shape != b.shape or not np.array_equal(a._data, b._data,
                                                                equal_nan=True):
                        raise RuntimeError(
                            "fastdl.onnx.export: output %d depends on the input through "
                            "operations the exporter cannot record (ops run under no_grad, "
                            "comparisons, .item() or .numpy()); it would be frozen as a "
                            "constant" % i)
    finally:
        _exporting = False
        if was_training is not None:
            model.train(was_training)

    if rec.unsupported:
        raise RuntimeError("fastdl.onnx.export: cannot export: the forward pass used "
                           "unsupported op(s): " + "; ".join(
                               "%s (x%d)" % (k, v) if v > 1 else k
                               for k, v in rec.unsupported.items()))
    h = onnx.helper
    out_names = _names(output_names, len(outs), "output", "output_names")
    dynamic_axes = dict(dynamic_axes or {})
    unknown = set(dynamic_axes) - set(in_names) - set(out_names)
    if unknown:
        raise ValueError("fastdl.onnx.export: dynamic_axes names %s are neither input nor "
                         "output names (%s)" % (sorted(unknown), in_names + out_names))
    from fastdl.onnx._trace import Unsupported
    for t, name in zip(outs, out_names):
        try:
            src = rec.name(t, "output_const")
        except Unsupported as e:
            raise RuntimeError("fastdl.onnx.export: cannot export output '%s': %s"
                               % (name, e)) from None
        rec.nodes.append(h.make_node("Identity", [src], [name]))

    def info(name, arr):
        return h.make_tensor_value_info(name, h.np_dtype_to_tensor_dtype(arr.dtype),
                                        _dims(arr.shape, dynamic_axes.get(name), name))

    graph_inputs = [info(n, t._data) for n, t in zip(in_names, tensors)]
    graph_inputs += [info(n, a) for n, a in rec.param_inputs.items()]
    inits = [onnx.numpy_helper.from_array(np.ascontiguousarray(a), n)
             for n, a in rec.inits.items()]
    if keep_initializers_as_inputs:
        graph_inputs += [info(n, a) for n, a in rec.inits.items()]
    graph = h.make_graph(rec.nodes, type(model).__name__, graph_inputs,
                         [info(n, t._data) for n, t in zip(out_names, outs)], inits)
    opsets = [h.make_opsetid("", opset)]
    proto = h.make_model(graph, opset_imports=opsets, producer_name="fastdl",
                         ir_version=h.find_min_ir_version_for(opsets))
    onnx.checker.check_model(proto)
    if verbose:
        print(onnx.printer.to_text(proto.graph))
    if f is not None:
        _write(proto, f)
    return proto


def _write(proto, f):
    data = proto.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        d = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".onnx-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    elif isinstance(f, io.IOBase) or hasattr(f, "write"):
        f.write(data)
    else:
        raise TypeError("fastdl.onnx.export: f must be a path or a binary file object, got %s"
                        % type(f).__name__)
