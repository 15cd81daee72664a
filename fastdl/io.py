"""fastdl.save / fastdl.load: state dicts and checkpoints in safetensors files.

A file is a standard safetensors file: every tensor (or NumPy array) in the
object is stored under its dotted path ("model.0.weight"), so other tools can
read the weights. The structure around them (nested dicts and lists, numbers,
strings, None) is JSON in the safetensors metadata under "fastdl". Loading
parses JSON and raw tensor bytes only; no pickle, so a file never runs code.

Writes go to a temporary file in the same directory, are flushed to disk, then
renamed over the target, so a crash mid-save leaves the previous file intact.
"""
import json
import os
import tempfile

import numpy as np

from fastdl.tensor import Tensor

__all__ = ["save", "load", "atomic_write_bytes"]

_META_KEY = "fastdl"
_FORMAT = 1


def atomic_write_bytes(path, data):
    """Write bytes to path via a temporary file and rename (atomic on POSIX)."""
    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _flatten(obj, prefix, tensors):
    """JSON-able structure with tensors replaced by references into `tensors`."""
    if isinstance(obj, Tensor):
        obj = obj._data
    if isinstance(obj, np.ndarray):
        key = prefix or "tensor"
        if key in tensors:
            raise ValueError("save: two tensors map to the key %r" % key)
        tensors[key] = np.ascontiguousarray(obj)
        return {"__tensor__": key}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, (str, int)):
                raise TypeError("save: dict keys must be str or int, got %r" % (k,))
            out[str(k)] = _flatten(v, "%s.%s" % (prefix, k) if prefix else str(k), tensors)
        int_keys = [str(k) for k in obj if isinstance(k, int)]
        return {"__dict__": out, "__int_keys__": int_keys} if int_keys else out
    if isinstance(obj, (list, tuple)):
        items = [_flatten(v, "%s.%d" % (prefix, i) if prefix else str(i), tensors)
                 for i, v in enumerate(obj)]
        return {"__tuple__": items} if isinstance(obj, tuple) else items
    if obj is None or isinstance(obj, (bool, int, float, str)):
        if isinstance(obj, float) and not np.isfinite(obj):
            return {"__float__": repr(obj)}
        return obj
    raise TypeError("save: cannot store an object of type %s (tensors, arrays, dicts, lists, "
                    "numbers, strings and None are supported)" % type(obj).__name__)


def _unflatten(node, tensors, path):
    if isinstance(node, dict):
        if "__tensor__" in node:
            key = node["__tensor__"]
            if key not in tensors:
                raise ValueError("load: %s: tensor %r is referenced but missing" % (path, key))
            return Tensor._wrap(tensors[key])
        if "__tuple__" in node:
            return tuple(_unflatten(v, tensors, path) for v in node["__tuple__"])
        if "__float__" in node:
            return float(node["__float__"])
        if "__dict__" in node:
            ints = set(node.get("__int_keys__", ()))
            return {(int(k) if k in ints else k): _unflatten(v, tensors, path)
                    for k, v in node["__dict__"].items()}
        return {k: _unflatten(v, tensors, path) for k, v in node.items()}
    if isinstance(node, list):
        return [_unflatten(v, tensors, path) for v in node]
    return node


def save(obj, path):
    """Save a state dict (or a nested checkpoint dict) to a safetensors file.

    Args:
        obj: a Tensor, an array, or nested dicts/lists/tuples of them plus numbers,
            strings and None (e.g. {"model": model.state_dict(), "optimizer": opt.state_dict(),
            "epoch": 3}).
        path: destination; written atomically.

    Example:
        >>> fastdl.save(model.state_dict(), "model.safetensors")    # doctest: +SKIP
    """
    from safetensors.numpy import save as st_save
    tensors = {}
    structure = _flatten(obj, "", tensors)
    meta = {_META_KEY: json.dumps({"format": _FORMAT, "structure": structure})}
    atomic_write_bytes(path, st_save(tensors, metadata=meta))


def load(path):
    """Load what save() wrote (or any safetensors file, as a flat dict of Tensors).

    Raises:
        FileNotFoundError: no such file.
        ValueError: a truncated, corrupt or foreign file, naming the file and the problem.
    """
    from safetensors.numpy import load as st_load
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("load: %s is not a safetensors file: only %d bytes" % (path, len(raw)))
    header_len = int.from_bytes(raw[:8], "little")
    if header_len > len(raw) - 8:
        raise ValueError("load: %s is truncated or corrupt: header claims %d bytes, file has %d"
                         % (path, header_len, len(raw) - 8))
    try:
        header = json.loads(raw[8:8 + header_len])
        tensors = st_load(raw)
    except Exception as e:
        raise ValueError("load: %s is not a valid safetensors file (truncated or corrupt): %s"
                         % (path, e)) from None
    meta = header.get("__metadata__") or {}
    if _META_KEY not in meta:
        return {k: Tensor._wrap(v) for k, v in tensors.items()}
    try:
        info = json.loads(meta[_META_KEY])
        structure = info["structure"]
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError("load: %s has corrupt fastdl metadata: %s" % (path, e)) from None
    if info.get("format", 0) > _FORMAT:
        raise ValueError("load: %s was written by a newer fastdl (format %s > %d)"
                         % (path, info.get("format"), _FORMAT))
    return _unflatten(structure, tensors, path)
