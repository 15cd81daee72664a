"""Model files: architecture + weights in one safetensors file, shared with C.

:func:`export` writes an nn.Sequential: its layers as JSON in the safetensors
metadata (key ``fastdl_model``, PyTorch's constructor arguments per layer) and
its state dict as tensors (``fastdl.load`` reads the file as a state dict).
``fdl_model_load`` in C (fastdl/model.h) rebuilds the same model from it, and
``fdl_model_save`` writes files :func:`load_model` opens.
"""
import json
import math

import numpy as np
import safetensors
import safetensors.numpy

from fastdl import io as _io
from fastdl.tensor import Tensor

__all__ = ["export", "load_model"]

_MODEL_KEY = "fastdl_model"


def _nn():
    from fastdl import nn
    return nn


def _pair(v):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError("expected a pair, got %r" % (v,))
        return [int(v[0]), int(v[1])]
    return [int(v), int(v)]


def _num(x):
    x = float(x)
    if not math.isfinite(x):
        raise ValueError("non-finite setting %r" % x)
    return x


def _refuse(i, mod, why):
    raise ValueError("export: layer %d (%s) is not supported by the C model runtime: %s"
                     % (i, type(mod).__name__, why))


def _same_padding(k, d):
    total = d * (k - 1)
    if total % 2:
        return None
    return total // 2


def _describe(i, mod):
    """The JSON record of one module (PyTorch's constructor arguments)."""
    nn = _nn()
    t = type(mod)
    if t is nn.Linear:
        return {"type": "Linear", "in_features": mod.in_features,
                "out_features": mod.out_features, "bias": mod.bias is not None}
    if t is nn.Conv2d:
        pad = mod.padding
        if isinstance(pad, str):
            if pad == "valid":
                pad = (0, 0)
            else:
                p = [_same_padding(k, d) for k, d in zip(mod.kernel_size, mod.dilation)]
                if None in p:
                    _refuse(i, mod, "padding='same' with an even total padding is asymmetric")
                pad = tuple(p)
        return {"type": "Conv2d", "in_channels": mod.in_channels,
                "out_channels": mod.out_channels, "kernel_size": _pair(mod.kernel_size),
                "stride": _pair(mod.stride), "padding": _pair(pad),
                "dilation": _pair(mod.dilation), "groups": mod.groups,
                "bias": mod.bias is not None}
    if t is nn.MaxPool2d:
        if mod.return_indices:
            _refuse(i, mod, "return_indices=True")
        return {"type": "MaxPool2d", "kernel_size": _pair(mod.kernel_size),
                "stride": _pair(mod.stride), "padding": _pair(mod.padding),
                "dilation": _pair(mod.dilation), "ceil_mode": bool(mod.ceil_mode)}
    if t is nn.AvgPool2d:
        if getattr(mod, "divisor_override", None):
            _refuse(i, mod, "divisor_override")
        return {"type": "AvgPool2d", "kernel_size": _pair(mod.kernel_size),
                "stride": _pair(mod.stride), "padding": _pair(mod.padding),
                "ceil_mode": bool(mod.ceil_mode),
                "count_include_pad": bool(mod.count_include_pad)}
    if t is nn.AdaptiveAvgPool2d:
        os_ = mod.output_size
        if isinstance(os_, (tuple, list)) and None in os_:
            _refuse(i, mod, "output_size with None")
        return {"type": "AdaptiveAvgPool2d", "output_size": _pair(os_)}
    if t in (nn.BatchNorm1d, nn.BatchNorm2d):
        nbt = mod.num_batches_tracked
        return {"type": t.__name__, "num_features": mod.num_features, "eps": _num(mod.eps),
                "momentum": None if mod.momentum is None else _num(mod.momentum),
                "affine": bool(mod.affine), "track_running_stats": bool(mod.track_running_stats),
                "num_batches_tracked": int(nbt.item()) if nbt is not None else 0}
    if t is nn.LayerNorm:
        if mod.weight is not None and mod.bias is None:
            _refuse(i, mod, "bias=False with elementwise_affine=True")
        if not 1 <= len(mod.normalized_shape) <= 4:
            _refuse(i, mod, "normalized_shape must have 1 to 4 dims")
        return {"type": "LayerNorm", "normalized_shape": [int(s) for s in mod.normalized_shape],
                "eps": _num(mod.eps), "elementwise_affine": mod.weight is not None}
    if t is nn.Dropout:
        return {"type": "Dropout", "p": _num(mod.p)}
    if t is nn.Flatten:
        return {"type": "Flatten", "start_dim": int(mod.start_dim), "end_dim": int(mod.end_dim)}
    if t is nn.Identity:
        return {"type": "Identity"}
    if t in (nn.ReLU, nn.SiLU, nn.Sigmoid, nn.Tanh):
        return {"type": t.__name__}
    if t is nn.LeakyReLU:
        return {"type": "LeakyReLU", "negative_slope": _num(mod.negative_slope)}
    if t is nn.ELU:
        return {"type": "ELU", "alpha": _num(mod.alpha)}
    if t is nn.GELU:
        if mod.approximate not in ("none", "tanh"):
            _refuse(i, mod, "approximate=%r" % (mod.approximate,))
        return {"type": "GELU", "approximate": mod.approximate}
    if t is nn.Softplus:
        return {"type": "Softplus", "beta": _num(mod.beta), "threshold": _num(mod.threshold)}
    if t in (nn.Softmax, nn.LogSoftmax):
        if mod.dim is None:
            _refuse(i, mod, "dim=None (give the dim)")
        return {"type": t.__name__, "dim": int(mod.dim)}
    if t is nn.Embedding:
        if i != 0:
            _refuse(i, mod, "Embedding must be the first layer")
        if getattr(mod, "max_norm", None) is not None:
            _refuse(i, mod, "max_norm")
        return {"type": "Embedding", "num_embeddings": mod.num_embeddings,
                "embedding_dim": mod.embedding_dim, "padding_idx": mod.padding_idx}
    if t in (nn.LSTM, nn.GRU):
        if not mod.batch_first:
            _refuse(i, mod, "batch_first=False (the C runtime keeps the batch in dim 0)")
        if mod.bidirectional:
            _refuse(i, mod, "bidirectional=True")
        if mod.dropout and mod.num_layers > 1:
            _refuse(i, mod, "dropout between stacked layers")
        return {"type": t.__name__, "input_size": mod.input_size,
                "hidden_size": mod.hidden_size, "num_layers": mod.num_layers,
                "bias": bool(mod.bias), "batch_first": True}
    if t is nn.LastTimeStep:
        if not mod.batch_first:
            _refuse(i, mod, "batch_first=False")
        return {"type": "LastTimeStep"}
    _refuse(i, mod, "no C implementation of this module")


def export(model, path, example_input):
    """Write a Sequential model's architecture and weights to one file that C can load.

    The file is safetensors: the state dict as tensors (``fastdl.load`` reads
    it as a state dict) and the architecture as JSON in the metadata, each
    layer with its PyTorch constructor arguments. ``fdl_model_load`` in C
    (fastdl/model.h) rebuilds the model from it, runs it and keeps training
    it; :func:`load_model` rebuilds it in Python.

    Supported layers: Linear, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d,
    BatchNorm1d/2d, LayerNorm, Dropout, Flatten, Identity, ReLU, LeakyReLU,
    ELU, GELU, SiLU, Sigmoid, Tanh, Softplus, Softmax, LogSoftmax, Embedding
    (first layer), LSTM and GRU (batch_first) followed by LastTimeStep or
    other layers. Anything else is refused with a ValueError naming it.

    Args:
        model: an nn.Sequential (a single supported module is exported as a
            Sequential of one).
        path: destination; written atomically (temporary file, then rename).
        example_input: a batch the model accepts (Tensor or array): float32,
            or int64 indices for a model starting with Embedding. Its shape
            without the batch dim is recorded; the model runs once on it (in
            eval mode, without gradients) to check it.

    Example:
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> fastdl.export(model, "mlp.safetensors", fastdl.randn(1, 4))
        >>> sorted(fastdl.load("mlp.safetensors"))
        ['0.bias', '0.weight', '2.bias', '2.weight']
    """
    nn = _nn()
    if not isinstance(model, nn.Sequential):
        if isinstance(model, nn.Module):
            model = nn.Sequential(model)
        else:
            raise TypeError("export: expected an nn.Sequential, got %s" % type(model).__name__)
    x = example_input._data if isinstance(example_input, Tensor) else np.asarray(example_input)
    if x.ndim < 2 or x.ndim > 6 or x.shape[0] < 1 or 0 in x.shape:
        raise ValueError("export: example_input must be a non-empty batch (B, ...) with 2 to 6 "
                         "dims, got shape %s" % (x.shape,))
    mods = list(model.children()) if hasattr(model, "children") else list(model)
    layers = [_describe(i, m) for i, m in enumerate(mods)]
    first_emb = bool(layers) and layers[0]["type"] == "Embedding"
    if first_emb and x.dtype.kind not in "iu":
        raise ValueError("export: a model starting with Embedding needs integer example_input, "
                         "got %s" % x.dtype)
    if not first_emb and x.dtype != np.float32:
        raise ValueError("export: example_input must be float32, got %s" % x.dtype)
    from fastdl import creation, no_grad
    was = [m.training for m in model.modules()]
    model.eval()
    try:
        with no_grad():
            model(creation.tensor(x.astype(np.int64) if first_emb else x))
    except Exception as e:
        raise ValueError("export: the model does not run on example_input of shape %s: %s"
                         % (x.shape, e)) from e
    finally:
        for m, w in zip(model.modules(), was):
            m.training = w
    tensors = {}
    for name, t in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue            # recorded in the layer's JSON
        a = t._data if isinstance(t, Tensor) else np.asarray(t)
        if a.dtype != np.float32:
            raise ValueError("export: tensor %r is %s; the C runtime is float32 (convert the "
                             "model first)" % (name, a.dtype))
        tensors[name] = np.ascontiguousarray(a)
    arch = {"format": 1, "input_shape": [int(s) for s in x.shape[1:]],
            "input_dtype": "int64" if first_emb else "float32", "layers": layers}
    meta = {_io._META_KEY: json.dumps({"format": _io._FORMAT,
                                       "structure": {k: {"__tensor__": k} for k in tensors}}),
            _MODEL_KEY: json.dumps(arch, allow_nan=False)}
    _io.atomic_write_bytes(path, safetensors.numpy.save(tensors, metadata=meta))


def _build(i, rec):
    nn = _nn()
    if not isinstance(rec, dict) or not isinstance(rec.get("type"), str):
        raise ValueError("layer %d is not an object with a \"type\"" % i)
    t = rec["type"]
    a = {k: v for k, v in rec.items() if k != "type"}
    simple = {"ReLU": nn.ReLU, "SiLU": nn.SiLU, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh,
              "Identity": nn.Identity, "LastTimeStep": nn.LastTimeStep}
    if t in simple:
        return simple[t]()
    if t in ("BatchNorm1d", "BatchNorm2d"):
        nbt = int(a.pop("num_batches_tracked", 0))
        m = getattr(nn, t)(**a)
        if m.num_batches_tracked is not None:
            m.num_batches_tracked._data[...] = nbt
        return m
    classes = {"Linear": nn.Linear, "Conv2d": nn.Conv2d, "MaxPool2d": nn.MaxPool2d,
               "AvgPool2d": nn.AvgPool2d, "AdaptiveAvgPool2d": nn.AdaptiveAvgPool2d,
               "LayerNorm": nn.LayerNorm, "Dropout": nn.Dropout, "Flatten": nn.Flatten,
               "LeakyReLU": nn.LeakyReLU, "ELU": nn.ELU, "GELU": nn.GELU,
               "Softplus": nn.Softplus, "Softmax": nn.Softmax, "LogSoftmax": nn.LogSoftmax,
               "Embedding": nn.Embedding, "LSTM": nn.LSTM, "GRU": nn.GRU}
    if t not in classes:
        raise ValueError("layer %d: unknown layer type %r" % (i, t))
    for k in ("kernel_size", "stride", "padding", "dilation", "output_size"):
        if isinstance(a.get(k), list):
            a[k] = tuple(a[k])
    return classes[t](**a)


def load_model(path):
    """Rebuild the nn.Sequential stored in a model file (fastdl.export or C's fdl_model_save).

    Args:
        path: a file with an architecture record (``fastdl_model`` in the
            safetensors metadata) and the weights.

    Returns:
        The nn.Sequential with the file's weights and BatchNorm statistics,
        in training mode (call ``.eval()`` for inference).

    Raises:
        ValueError: the file has no architecture record, or it names a layer
            or arguments fastdl does not know; fastdl.CheckpointError: the
            tensors are missing, extra, misshapen or corrupt.

    Example:
        >>> model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten())
        >>> fastdl.export(model, "cnn.safetensors", fastdl.randn(1, 1, 5, 5))
        >>> fastdl.load_model("cnn.safetensors")
        Sequential(
          (0): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))
          (1): ReLU()
          (2): Flatten(start_dim=1, end_dim=-1)
        )
    """
    nn = _nn()
    try:
        with safetensors.safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
    except (OSError, ValueError, RuntimeError) as e:
        raise ValueError("load_model: %s is not a readable safetensors file: %s" % (path, e)) \
            from e
    except Exception as e:   # safetensors' own error types
        raise ValueError("load_model: %s is not a readable safetensors file: %s" % (path, e)) \
            from e
    if _MODEL_KEY not in meta:
        raise ValueError("load_model: %s has no architecture record (write it with "
                         "fastdl.export or fdl_model_save)" % (path,))
    try:
        arch = json.loads(meta[_MODEL_KEY])
    except ValueError as e:
        raise ValueError("load_model: %s: the architecture record is not valid JSON: %s"
                         % (path, e)) from e
    if not isinstance(arch, dict) or arch.get("format") != 1 or \
            not isinstance(arch.get("layers"), list):
        raise ValueError("load_model: %s: unsupported architecture record" % (path,))
    try:
        model = nn.Sequential(*[_build(i, r) for i, r in enumerate(arch["layers"])])
    except (TypeError, ValueError) as e:
        raise ValueError("load_model: %s: %s" % (path, e)) from e
    state = _io.load(path)
    own = model.state_dict()
    for k in own:
        if k.endswith("num_batches_tracked"):
            state[k] = own[k]
    model.load_state_dict(state)
    return model
