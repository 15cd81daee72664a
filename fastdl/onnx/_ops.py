"""ONNX translations of fastdl's Functions (fastdl/autograd/_functions/*.py).

Each converter unpacks the arguments in the order the Function's ``apply``
takes them (e.g. ``Cat.apply(*tensors, dim)``); tests/test_onnx_export.py
fails when a Function changes its layout or a new one has no entry here.

``convert(rec, cls, args, outs)`` gets a recorded call with the arguments
exactly as the Function's ``apply`` got them and its output Tensors, emits
nodes through the recorder and returns one value name per output (None for
an output with no translation, e.g. max-pool indices). An op without a
translation raises ``Unsupported`` naming it.
"""
import math

import numpy as np

from fastdl.onnx._trace import Unsupported
from fastdl.tensor import Tensor

_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min


def _arr(a):
    return a._data if isinstance(a, Tensor) else a


def _reshape_spec(in_shape, out_shape):
    """Reshape target that keeps a dynamic batch working: dims equal to the input's
    leading dims are copied (0), the first other dim is inferred (-1)."""
    spec, inferred, prefix = [], False, True
    for i, s in enumerate(out_shape):
        if prefix and i < len(in_shape) and s == in_shape[i] and s != 0:
            spec.append(0)
            continue
        prefix = False
        if not inferred and s != 0:
            spec.append(-1)
            inferred = True
        else:
            spec.append(int(s))
    return spec


def _reduce(rec, op, x, axes, keepdim, ndim):
    """ReduceSum/Mean/Max/Min over axes; axes became an input at opset 13 (Sum) / 18."""
    axes = [int(a) for a in axes] if axes else list(range(ndim))
    if not axes:
        return rec.node("Identity", [x])
    as_input = op == "ReduceSum" and rec.opset >= 13 or rec.opset >= 18
    if as_input:
        return rec.node(op, [x, rec.ints(axes, "axes")], keepdims=int(bool(keepdim)))
    return rec.node(op, [x], axes=axes, keepdims=int(bool(keepdim)))


def _squeeze(rec, x, axes):
    return rec.node("Squeeze", [x, rec.ints(axes, "axes")])


def _unsqueeze(rec, x, axes):
    return rec.node("Unsqueeze", [x, rec.ints(axes, "axes")])


# ---- elementwise ----------------------------------------------------------------------

_BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow",
           "Maximum": "Max", "Minimum": "Min"}


def _binary(rec, cls, args, outs):
    a, b = args
    return [rec.node(_BINARY[cls.__name__], [rec.name(a), rec.name(b)])]


def _scalar(rec, value, like):
    return rec.const(np.asarray(value, dtype=_arr(like).dtype))


def _unary(rec, cls, args, outs):
    x, name = args[0], args[1]
    p0 = args[2] if len(args) > 2 else 0.0
    p1 = args[3] if len(args) > 3 else 0.0
    xn = rec.name(x)
    simple = {"neg": "Neg", "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "abs": "Abs",
              "reciprocal": "Reciprocal", "sign": "Sign", "copy": "Identity"}
    if name in simple:
        return [rec.node(simple[name], [xn])]
    if name == "square":
        return [rec.node("Mul", [xn, xn])]
    if name == "pow":
        return [rec.node("Pow", [xn, _scalar(rec, p0, x)])]
    if name == "affine":
        return [rec.node("Add", [rec.node("Mul", [xn, _scalar(rec, p0, x)]), _scalar(rec, p1, x)])]
    if name == "clip":
        lo = "" if p0 == -math.inf else _scalar(rec, p0, x)
        hi = "" if p1 == math.inf else _scalar(rec, p1, x)
        return [rec.node("Clip", [xn, lo, hi])]
    raise Unsupported("unary op '%s'" % name)


def _pow_scalar(rec, cls, args, outs):
    x, p = args
    return [rec.node("Pow", [rec.name(x), _scalar(rec, p, x)])]


def _where(rec, cls, args, outs):
    a, b, c = args
    cn = rec.name(np.asarray(_arr(c), dtype=bool)) if not rec.is_value(c) else rec.name(c)
    return [rec.node("Where", [cn, rec.name(a), rec.name(b)])]


def _to(rec, cls, args, outs):
    from onnx import helper
    x, dtype = args
    return [rec.node("Cast", [rec.name(x)], to=helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))]


def _activation(rec, cls, args, outs):
    x, name, p0, p1 = args
    xn = rec.name(x)
    if name == "relu":
        return [rec.node("Relu", [xn])]
    if name == "sigmoid":
        return [rec.node("Sigmoid", [xn])]
    if name == "tanh":
        return [rec.node("Tanh", [xn])]
    if name == "leaky_relu":
        return [rec.node("LeakyRelu", [xn], alpha=float(p0))]
    if name == "elu":
        return [rec.node("Elu", [xn], alpha=float(p0))]
    if name == "silu":
        return [rec.node("Mul", [xn, rec.node("Sigmoid", [xn])])]
    if name == "gelu":      # x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
        e = rec.node("Erf", [rec.node("Div", [xn, _scalar(rec, math.sqrt(2.0), x)])])
        h = rec.node("Mul", [xn, _scalar(rec, 0.5, x)])
        return [rec.node("Mul", [h, rec.node("Add", [e, _scalar(rec, 1.0, x)])])]
    if name == "gelu_tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        x3 = rec.node("Mul", [rec.node("Mul", [xn, xn]), xn])
        inner = rec.node("Add", [xn, rec.node("Mul", [x3, _scalar(rec, 0.044715, x)])])
        t = rec.node("Tanh", [rec.node("Mul", [inner, _scalar(rec, math.sqrt(2 / math.pi), x)])])
        h = rec.node("Mul", [xn, _scalar(rec, 0.5, x)])
        return [rec.node("Mul", [h, rec.node("Add", [t, _scalar(rec, 1.0, x)])])]
    if name == "softplus":   # log(1 + exp(beta x)) / beta, linear where beta x > threshold
        bx = rec.node("Mul", [xn, _scalar(rec, p0, x)])
        sp = rec.node("Div", [rec.node("Softplus", [bx]), _scalar(rec, p0, x)])
        big = rec.node("Greater", [bx, _scalar(rec, p1, x)])
        return [rec.node("Where", [big, xn, sp])]
    raise Unsupported("activation '%s'" % name)


def _softmax(rec, cls, args, outs):
    x, outer, n, inner, log = args
    shape = _arr(x).shape or (1,)
    axis = None
    for d in range(len(shape)):     # the last dim that fits: size-1 dims are ambiguous
        if (int(np.prod(shape[:d])) == outer and shape[d] == n
                and int(np.prod(shape[d + 1:])) == inner):
            axis = d
    if axis is None or _arr(x).ndim == 0:
        raise Unsupported("softmax of a 0-d tensor")
    return [rec.node("LogSoftmax" if log else "Softmax", [rec.name(x)], axis=axis)]


# ---- reductions, matmul --------------------------------------------------------------------

def _sum_mean(rec, cls, args, outs):
    x, axes, keepdim = args
    op = "ReduceSum" if cls.__name__ == "Sum" else "ReduceMean"
    return [_reduce(rec, op, rec.name(x), axes, keepdim, _arr(x).ndim)]


def _extreme(rec, cls, args, outs):
    x, is_min, axes, keepdim, name = args
    return [_reduce(rec, "ReduceMin" if is_min else "ReduceMax", rec.name(x), axes, keepdim,
                    _arr(x).ndim)]


def _max_min_dim(rec, cls, args, outs):
    x, is_min, axis, keepdim, name = args
    xn = rec.name(x)
    v = _reduce(rec, "ReduceMin" if is_min else "ReduceMax", xn, (axis,), keepdim, _arr(x).ndim)
    i = rec.node("ArgMin" if is_min else "ArgMax", [xn], axis=int(axis), keepdims=int(keepdim))
    return [v, i]


def _matmul(rec, cls, args, outs):
    a, b = args
    return [rec.node("MatMul", [rec.name(a), rec.name(b)])]


def _linear(rec, cls, args, outs):
    x, w, b = args
    xn, wn = rec.name(x), rec.name(w, "weight")
    if _arr(x).ndim == 2:
        ins = [xn, wn] + ([rec.name(b, "bias")] if b is not None else [])
        return [rec.node("Gemm", ins, transB=1)]
    y = rec.node("MatMul", [xn, rec.node("Transpose", [wn], perm=[1, 0])])
    if b is not None:
        y = rec.node("Add", [y, rec.name(b, "bias")])
    return [y]


# ---- shapes, indexing, joins ---------------------------------------------------------------

def _view(rec, cls, args, outs):
    x, shape = args
    spec = _reshape_spec(_arr(x).shape, outs[0]._data.shape)
    return [rec.node("Reshape", [rec.name(x), rec.ints(spec)])]


def _permute(rec, cls, args, outs):
    x, dims = args
    nd = _arr(x).ndim
    return [rec.node("Transpose", [rec.name(x)], perm=[int(d) % nd for d in dims])]


def _expand(rec, cls, args, outs):
    x, shape = args
    return [rec.node("Expand", [rec.name(x), rec.ints(shape)])]


def _index(rec, cls, args, outs):
    x, idx, basic = args
    if not basic:
        raise Unsupported("indexing with arrays or masks (advanced indexing)")
    xd = _arr(x)
    items = idx if isinstance(idx, tuple) else (idx,)
    n_real = sum(1 for i in items if i is not None and i is not Ellipsis)
    if any(i is Ellipsis for i in items):
        k = items.index(Ellipsis)
        items = items[:k] + (slice(None),) * (xd.ndim - n_real) + items[k + 1:]
    starts, ends, axes, steps, squeeze, new = [], [], [], [], [], []
    d = p = 0
    for it in items:
        if it is None:
            new.append(p)
            p += 1
            continue
        n = xd.shape[d]
        if isinstance(it, slice):
            if it != slice(None):
                s, e, st = it.indices(n)
                if st < 0 and e < 0:
                    e = _INT64_MIN
                starts.append(s), ends.append(e), axes.append(d), steps.append(st)
            p += 1
        else:
            i = int(it)
            starts.append(i), ends.append(i + 1 if i != -1 else _INT64_MAX)
            axes.append(d), steps.append(1)
            squeeze.append(d)
        d += 1
    y = rec.name(x)
    if axes:
        y = rec.node("Slice", [y, rec.ints(starts), rec.ints(ends), rec.ints(axes),
                               rec.ints(steps)])
    if squeeze:
        y = _squeeze(rec, y, squeeze)
    if new:
        y = _unsqueeze(rec, y, new)
    if y == rec.name(x):
        y = rec.node("Identity", [y])
    return [y]


def _cat(rec, cls, args, outs):
    *ts, dim = args
    return [rec.node("Concat", [rec.name(t) for t in ts], axis=int(dim))]


def _split(rec, cls, args, outs):
    x, sizes, dim, squeeze = args
    if len(sizes) == 1:
        parts = [rec.node("Identity", [rec.name(x)])]
    else:
        parts = rec.node("Split", [rec.name(x), rec.ints(sizes)], nout=len(sizes), axis=int(dim))
    if squeeze:
        parts = [_squeeze(rec, p, [dim]) for p in parts]
    return parts


# ---- nn ------------------------------------------------------------------------------------

def _pool_attrs(x, OH, OW, kh, kw, sh, sw, ph, pw, dh=1, dw=1):
    H, W = _arr(x).shape[-2:]
    floor_h = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    floor_w = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    attrs = dict(kernel_shape=[kh, kw], strides=[sh, sw], pads=[ph, pw, ph, pw],
                 ceil_mode=int(OH > floor_h or OW > floor_w))
    if (dh, dw) != (1, 1):
        attrs["dilations"] = [dh, dw]
    return attrs


def _need_4d(x, op):
    if _arr(x).ndim != 4:
        raise Unsupported("%s of a %d-d (unbatched) input; pass (N, C, H, W)"
                          % (op, _arr(x).ndim))


def _max_pool(rec, cls, args, outs):
    x = args[0]
    _need_4d(x, "max_pool2d")
    return [rec.node("MaxPool", [rec.name(x)], **_pool_attrs(*args)), None]


def _max_pool_win(rec, cls, args, outs):
    # max_pool2d without indices; relu: the fused ReLU + MaxPool2d node of a Sequential
    x, OH, OW, geom, relu = args
    _need_4d(x, "max_pool2d")
    y = rec.node("MaxPool", [rec.name(x)], **_pool_attrs(x, OH, OW, *geom))
    return [rec.node("Relu", [y]) if relu else y]


def _avg_pool(rec, cls, args, outs):
    x, OH, OW, kh, kw, sh, sw, ph, pw, cip = args
    _need_4d(x, "avg_pool2d")
    attrs = _pool_attrs(x, OH, OW, kh, kw, sh, sw, ph, pw)
    attrs["count_include_pad"] = int(bool(cip))
    return [rec.node("AveragePool", [rec.name(x)], **attrs)]


def _adaptive_avg_pool(rec, cls, args, outs):
    x, oh, ow = args
    _need_4d(x, "adaptive_avg_pool2d")
    H, W = _arr(x).shape[-2:]
    if (oh, ow) == (1, 1):
        return [rec.node("GlobalAveragePool", [rec.name(x)])]
    if H % oh or W % ow:
        raise Unsupported("adaptive_avg_pool2d to %s from %s (not a whole divisor)"
                          % ((oh, ow), (H, W)))
    k = [H // oh, W // ow]
    return [rec.node("AveragePool", [rec.name(x)], kernel_shape=k, strides=k)]


def _batch_norm(rec, cls, args, outs):
    x, w, b, rm, rv, training, momentum, eps = args[:8]
    relu = len(args) > 8 and args[8]     # the fused BatchNorm + ReLU of a Sequential
    if training:
        raise Unsupported("batch_norm in training mode (call model.eval() or export with "
                          "training=TrainingMode.EVAL)")
    C = _arr(x).shape[1]
    dt = _arr(x).dtype
    wn = rec.name(w, "weight") if w is not None else rec.const(np.ones(C, dt), "bn_scale")
    bn = rec.name(b, "bias") if b is not None else rec.const(np.zeros(C, dt), "bn_bias")
    y = rec.node("BatchNormalization", [rec.name(x), wn, bn, rec.name(rm, "running_mean"),
                                        rec.name(rv, "running_var")], epsilon=float(eps))
    return [rec.node("Relu", [y]) if relu else y, None, None]


def _layer_norm(rec, cls, args, outs):
    x, w, b, D, eps = args
    if rec.opset < 17:
        raise Unsupported("layer_norm below opset 17 (LayerNormalization); use "
                          "opset_version >= 17")
    shape = _arr(x).shape
    if w is not None:
        k = _arr(w).ndim
    else:
        k = next(k for k in range(1, len(shape) + 1) if int(np.prod(shape[-k:])) == D)
    ns = shape[len(shape) - k:]
    dt = _arr(x).dtype
    wn = rec.name(w, "weight") if w is not None else rec.const(np.ones(ns, dt), "ln_scale")
    ins = [rec.name(x), wn] + ([rec.name(b, "bias")] if b is not None else [])
    return [rec.node("LayerNormalization", ins, axis=-k, epsilon=float(eps))]


def _dropout(rec, cls, args, outs):
    raise Unsupported("dropout in training mode (call model.eval() or export with "
                      "training=TrainingMode.EVAL)")


def _embedding(rec, cls, args, outs):
    w, ix, pad = args
    return [rec.node("Gather", [rec.name(w, "weight"), rec.name(ix)], axis=0)]


def _conv2d(rec, cls, args, outs):
    x, w, b, stride, padding, dilation, groups = args
    ins = [rec.name(x), rec.name(w, "weight")] + ([rec.name(b, "bias")] if b is not None else [])
    k = list(_arr(w).shape[2:])
    return [rec.node("Conv", ins, kernel_shape=k, strides=list(stride),
                     pads=[padding[0], padding[1], padding[0], padding[1]],
                     dilations=list(dilation), group=int(groups))]


def _linear_relu(rec, cls, args, outs):
    # the fused Linear + ReLU node of a Sequential: ONNX's Gemm (or MatMul + Add), then Relu
    return [rec.node("Relu", [_linear(rec, cls, args, outs)[0]])]


def _conv2d_relu(rec, cls, args, outs):
    # the fused Conv2d + ReLU node of a Sequential: ONNX's Conv, then Relu
    return [rec.node("Relu", [_conv2d(rec, cls, args, outs)[0]])]


# ---- recurrent -------------------------------------------------------------------------

# PyTorch's gate blocks -> ONNX's: LSTM (i, f, g, o) -> (i, o, f, c); GRU (r, z, n) -> (z, r, h)
# RNNSequence modes are PyTorch's strings (RNNBase.mode)
_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN_TANH": [0], "RNN_RELU": [0]}


def _gates(a, order):
    blocks = np.split(np.asarray(a), len(order), axis=0)
    return np.concatenate([blocks[i] for i in order], axis=0)


def _rnn_sequence(rec, cls, args, outs):
    x, h0, c0, *wflat, (mode, L, D, H, dropout, training, batch_first) = args
    if dropout > 0 and training and L > 1:
        raise Unsupported("RNN dropout in training mode (call model.eval())")
    if any(rec.is_value(w) for w in wflat if w is not None) and not rec.export_params:
        raise Unsupported("recurrent layers with export_params=False")
    op = {"RNN_TANH": "RNN", "RNN_RELU": "RNN", "LSTM": "LSTM", "GRU": "GRU"}[mode]
    order = _ORDER[mode]
    xn = rec.name(x)
    if batch_first:
        xn = rec.node("Transpose", [xn], perm=[1, 0, 2])
    hs, cs = [], []
    for layer in range(L):
        ws = [wflat[4 * (layer * D + d):4 * (layer * D + d) + 4] for d in range(D)]
        W = np.stack([_gates(_arr(w[0]), order) for w in ws])
        R = np.stack([_gates(_arr(w[1]), order) for w in ws])
        ins = [xn, rec.const(W, "%s_W" % op), rec.const(R, "%s_R" % op)]
        if ws[0][2] is not None:
            Bias = np.stack([np.concatenate([_gates(_arr(w[2]), order), _gates(_arr(w[3]), order)])
                             for w in ws])
            ins.append(rec.const(Bias, "%s_B" % op))
        else:
            ins.append("")
        ins.append("")                          # sequence_lens
        for state in ((h0, c0) if op == "LSTM" else (h0,)):
            ins.append("" if state is None else rec.node(
                "Slice", [rec.name(state), rec.ints([layer * D]), rec.ints([(layer + 1) * D]),
                          rec.ints([0])]))
        while ins and ins[-1] == "":
            ins.pop()
        attrs = dict(hidden_size=int(H), direction="bidirectional" if D == 2 else "forward")
        if op == "GRU":
            attrs["linear_before_reset"] = 1
        if op == "RNN":
            attrs["activations"] = ["Relu" if mode == "RNN_RELU" else "Tanh"] * D
        res = rec.node(op, ins, nout=3 if op == "LSTM" else 2, **attrs)
        y = rec.node("Transpose", [res[0]], perm=[0, 2, 1, 3])       # (T, B, D, H)
        xn = rec.node("Reshape", [y, rec.ints([0, 0, -1])])          # (T, B, D * H)
        hs.append(res[1])
        if op == "LSTM":
            cs.append(res[2])
    y = rec.node("Transpose", [xn], perm=[1, 0, 2]) if batch_first else xn
    hn = hs[0] if L == 1 else rec.node("Concat", hs, axis=0)
    if op != "LSTM":
        return [y, hn]
    cn = cs[0] if L == 1 else rec.node("Concat", cs, axis=0)
    return [y, hn, cn]


def _rnn_cell(rec, cls, args, outs):
    pre, relu = args
    return [rec.node("Relu" if relu else "Tanh", [rec.name(pre)])]


def _chunks(rec, x, n, H):
    return rec.node("Split", [x, rec.ints([H] * n)], nout=n, axis=1)


def _lstm_cell(rec, cls, args, outs):
    """gates (i, f, g, o) -> c = f * c_prev + i * g, h = o * tanh(c)."""
    gates, c_prev = args
    H = _arr(c_prev).shape[1]
    i, f, g, o = _chunks(rec, rec.name(gates), 4, H)
    i, f, o = (rec.node("Sigmoid", [v]) for v in (i, f, o))
    c = rec.node("Add", [rec.node("Mul", [f, rec.name(c_prev)]),
                         rec.node("Mul", [i, rec.node("Tanh", [g])])])
    return [rec.node("Mul", [o, rec.node("Tanh", [c])]), c]


def _gru_cell(rec, cls, args, outs):
    """r, z = sigmoid(gi + gh), n = tanh(gi_n + r * gh_n), h = (1 - z) * n + z * h_prev."""
    gi, gh, h_prev = args
    H = _arr(h_prev).shape[1]
    ir, iz, in_ = _chunks(rec, rec.name(gi), 3, H)
    hr, hz, hn = _chunks(rec, rec.name(gh), 3, H)
    r = rec.node("Sigmoid", [rec.node("Add", [ir, hr])])
    z = rec.node("Sigmoid", [rec.node("Add", [iz, hz])])
    n = rec.node("Tanh", [rec.node("Add", [in_, rec.node("Mul", [r, hn])])])
    hp = rec.name(h_prev)
    # (1 - z) * n + z * h_prev = n + z * (h_prev - n)
    return [rec.node("Add", [n, rec.node("Mul", [z, rec.node("Sub", [hp, n])])])]


# Functions with no translation: the losses (training only) and std
CONVERTERS = {
    "Add": _binary, "Sub": _binary, "Mul": _binary, "Div": _binary, "Pow": _binary,
    "Maximum": _binary, "Minimum": _binary, "PowScalar": _pow_scalar, "Where": _where,
    "Unary": _unary, "To": _to, "Sum": _sum_mean, "Mean": _sum_mean, "Extreme": _extreme,
    "MaxMinDim": _max_min_dim, "Matmul": _matmul, "View": _view, "Permute": _permute,
    "Expand": _expand, "Index": _index, "Cat": _cat, "Split": _split,
    "Linear": _linear, "LinearReLU": _linear_relu, "Activation": _activation, "Softmax": _softmax,
    "MaxPool2d": _max_pool, "MaxPool2dWin": _max_pool_win, "AvgPool2d": _avg_pool,
    "AdaptiveAvgPool2d": _adaptive_avg_pool,
    "BatchNorm": _batch_norm, "LayerNorm": _layer_norm, "Dropout": _dropout,
    "Embedding": _embedding, "Conv2d": _conv2d, "Conv2dReLU": _conv2d_relu, "RNNSequence": _rnn_sequence,
    "RNNCell": _rnn_cell, "LSTMCell": _lstm_cell, "GRUCell": _gru_cell,
}
UNTRANSLATED = {"Std", "PointwiseLoss", "CrossEntropy", "NllLoss", "MultiMarginLoss",
                "TripletMarginLoss", "CosineEmbeddingLoss",
                # the PyTorch-compatible tensor functions (fastdl/ops.py) are not translated
                # yet: export refuses a model that uses them, naming the op
                "Cumprod", "Cumsum", "Einsum", "Gather", "Norm", "NpUnary", "Prod", "Scatter",
                "ScatterValue", "SetItem"}


def convert(rec, cls, args, outs):
    fn = CONVERTERS.get(cls.__name__)
    if fn is None or cls.__module__.split(".")[:2] != ["fastdl", "autograd"]:
        raise Unsupported("op %s (no ONNX translation)" % cls.__name__)
    return fn(rec, cls, args, outs)
