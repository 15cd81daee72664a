"""fastdl.save / fastdl.load: state dicts and checkpoints in safetensors files.

A file is a standard safetensors file, written and parsed by the
``safetensors`` library: every tensor (or NumPy array) in the object is
stored under its dotted path ("model.0.weight"), so other tools can read the
weights. What the library does not know, fastdl keeps in the safetensors
metadata under "fastdl": the structure around the tensors (nested dicts and
lists, numbers, strings, None) as JSON, a SHA-256 of each tensor (over its
dtype, shape and bytes), and a SHA-256 of that JSON. Loading parses JSON and
raw tensor bytes only; no pickle, so a file never runs code.

``load`` refuses a file before returning anything when the library finds its
header, dtypes, shapes or byte ranges malformed (truncation, gaps, overlaps,
sizes that do not match), when the structure does not match the tensors, or
(unless ``verify=False``) when a checksum fails. Any problem raises
:class:`CheckpointError` (a ValueError) naming the file and the problem; a
corrupt tensor is named.

Writes go to a temporary file beside the target, are flushed to disk, then
renamed over it, so a crash mid-save leaves the previous file intact. The
temporary name carries the host and process id, so the next save to the same
path removes what a killed save left behind. New files get the permissions
``open(path, "wb")`` would give (0644 under umask 022; an existing file's
mode is kept).
"""
import contextlib
import hashlib
import json
import math
import os
import re
import secrets
import socket
import stat
import threading

import numpy as np
import safetensors
import safetensors.numpy

from fastdl.tensor import Tensor

__all__ = ["save", "load", "CheckpointError", "atomic_write_bytes", "atomic_open",
           "check_trainer_checkpoint"]

_META_KEY = "fastdl"
_META_SHA_KEY = "fastdl.sha256"
_FORMAT = 2

# The dtypes fastdl stores: safetensors name <-> NumPy. The names are part of each tensor's
# checksum, so they must stay the format's names.
_DTYPES = {"BOOL": np.dtype(np.bool_), "U8": np.dtype("u1"), "I8": np.dtype("i1"),
           "U16": np.dtype("<u2"), "I16": np.dtype("<i2"), "F16": np.dtype("<f2"),
           "U32": np.dtype("<u4"), "I32": np.dtype("<i4"), "F32": np.dtype("<f4"),
           "U64": np.dtype("<u8"), "I64": np.dtype("<i8"), "F64": np.dtype("<f8")}
_NAMES = {(dt.kind, dt.itemsize): name for name, dt in _DTYPES.items()}
_UNSUPPORTED = {"BF16": "bfloat16", "F8_E4M3": "float8 e4m3", "F8_E5M2": "float8 e5m2",
                "C64": "complex64"}


class CheckpointError(ValueError):
    """A file that fastdl.load refuses: truncated, corrupt, foreign or inconsistent.

    The message names the file and the problem; ``path`` and ``problem`` hold them.

    Example:
        >>> with open("not-a-checkpoint.txt", "w") as f:
        ...     _ = f.write("hello")
        >>> try:
        ...     fastdl.load("not-a-checkpoint.txt")
        ... except fastdl.CheckpointError as e:
        ...     print(e.problem)
        not a valid safetensors file (truncated, corrupt or foreign): header too small
    """

    def __init__(self, path, problem):
        self.path = os.fspath(path) if path is not None else None
        self.problem = problem
        super().__init__("%s: %s" % (self.path, problem))

    def __reduce__(self):
        return (type(self), (self.path, self.problem))


# ---- atomic writes --------------------------------------------------------------------------

_TMP_SUFFIX = ".fastdl.tmp"
_HOST = hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
_in_progress = set()
_lock = threading.Lock()


def _tmp_name(base):
    """.<base>.<host>.<pid>.<random>.fastdl.tmp: who wrote it, so stale ones can be told."""
    return ".%s.%s.%d.%s%s" % (base, _HOST, os.getpid(), secrets.token_hex(4), _TMP_SUFFIX)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _remove_stale_temps(directory, base):
    """Delete temp files of earlier saves to <base> whose writer (on this host) is gone."""
    head = "." + base + "."
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not (name.startswith(head) and name.endswith(_TMP_SUFFIX)):
            continue
        parts = name[len(head):-len(_TMP_SUFFIX)].split(".")
        if len(parts) != 3 or parts[0] != _HOST or not parts[1].isdigit():
            continue
        pid = int(parts[1])
        full = os.path.join(directory, name)
        with _lock:
            busy = full in _in_progress
        if busy or (pid != os.getpid() and _pid_alive(pid)):
            continue
        try:
            os.unlink(full)
        except OSError:
            pass


@contextlib.contextmanager
def atomic_open(path):
    """Open a binary file that replaces `path` only when the block completes.

    The data goes to a temporary file in the same directory, is flushed and
    fsync'ed, then renamed over `path`. On an exception the temporary file is
    removed and `path` is untouched. Stale temporary files of killed saves to
    the same path are removed first. Permissions are those of a plain
    ``open(path, "wb")``: the umask applies to a new file, an existing file
    keeps its mode.

    Example:
        >>> from fastdl.io import atomic_open
        >>> with atomic_open("out.bin") as f:
        ...     _ = f.write(b"data")
        >>> open("out.bin", "rb").read()
        b'data'
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    _remove_stale_temps(directory, base)
    tmp = os.path.join(directory, _tmp_name(base))
    with _lock:
        _in_progress.add(tmp)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                     0o666)                                  # the umask applies
        try:
            try:
                mode = stat.S_IMODE(os.stat(path).st_mode)
            except OSError:
                mode = None
            if mode is not None:
                os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as f:
                fd = None
                yield f
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if fd is not None:
                os.close(fd)
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        try:                                # make the rename itself durable
            dfd = os.open(directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dfd)
        except OSError:
            pass
        finally:
            os.close(dfd)
    finally:
        with _lock:
            _in_progress.discard(tmp)


def atomic_write_bytes(path, data):
    """Write bytes to path via a temporary file and rename (atomic on POSIX); see atomic_open.

    Args:
        path: the destination file.
        data: the bytes to write.

    Example:
        >>> from fastdl.io import atomic_write_bytes
        >>> atomic_write_bytes("b.bin", b"xyz")
        >>> open("b.bin", "rb").read()
        b'xyz'
    """
    with atomic_open(path) as f:
        f.write(data)


# ---- save -----------------------------------------------------------------------------------

def _flatten(obj, prefix, tensors):
    """JSON-able structure with tensors replaced by references into `tensors`."""
    is_array = isinstance(obj, np.ndarray)
    if isinstance(obj, Tensor):
        obj = obj._data
    if isinstance(obj, np.ndarray):
        key = prefix or "tensor"
        if key in tensors:
            raise ValueError("save: two tensors map to the key %r" % key)
        # np.ascontiguousarray would turn a 0-d array into shape (1,)
        tensors[key] = np.require(obj, requirements="C")
        # a NumPy array loads back as an array, a Tensor as a Tensor
        return {"__array__": key} if is_array else {"__tensor__": key}
    _refuse_objects(obj)
    if isinstance(obj, np.generic):
        return _flatten(obj.item(), prefix, tensors)
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise TypeError("save: dict keys must be str or int, got %r" % (k,))
            out[str(k)] = _flatten(v, "%s.%s" % (prefix, k) if prefix else str(k), tensors)
        if len(out) != len(obj):
            raise ValueError("save: dict at %r has keys that collide as strings (e.g. 1 and '1')"
                             % (prefix or "<root>"))
        int_keys = [str(k) for k in obj if isinstance(k, int)]
        return {"__dict__": out, "__int_keys__": int_keys} if int_keys or _reserved(out) else out
    if isinstance(obj, (list, tuple)):
        items = [_flatten(v, "%s.%d" % (prefix, i) if prefix else str(i), tensors)
                 for i, v in enumerate(obj)]
        return {"__tuple__": items} if isinstance(obj, tuple) else items
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    raise TypeError("save: cannot store an object of type %s (tensors, arrays, dicts, lists, "
                    "numbers, strings and None are supported)" % type(obj).__name__)


_MARKERS = ("__tensor__", "__array__", "__tuple__", "__float__", "__dict__", "__int_keys__")


def _refuse_objects(obj):
    """Whole modules and optimizers are not stored (no pickle): point to their state dicts."""
    from fastdl.nn.module import Module
    from fastdl.optim.optimizer import Optimizer
    if isinstance(obj, Module):
        raise TypeError("save: cannot save a whole %s module (fastdl never pickles code); save "
                        "its weights with fastdl.save(model.state_dict(), path) and restore "
                        "them with model.load_state_dict(fastdl.load(path)), as PyTorch "
                        "recommends" % type(obj).__name__)
    if isinstance(obj, Optimizer):
        raise TypeError("save: cannot save a whole %s optimizer; save "
                        "optimizer.state_dict() and restore it with "
                        "optimizer.load_state_dict(...)" % type(obj).__name__)


def _uses_arrays(node):
    if isinstance(node, dict):
        return "__array__" in node or any(_uses_arrays(v) for v in node.values())
    if isinstance(node, list):
        return any(_uses_arrays(v) for v in node)
    return False


def _reserved(d):
    return any(k in _MARKERS for k in d)


def _le(arr):
    """The array as little-endian bytes in C order (what safetensors stores)."""
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return np.require(arr, requirements="C")


def _tensor_sha(name, shape, data):
    """SHA-256 over the safetensors dtype name, the shape and the little-endian bytes."""
    h = hashlib.sha256(("%s %s " % (name, list(shape))).encode())
    h.update(data)
    return h.hexdigest()


def save(obj, path):
    """Save a state dict (or a nested checkpoint dict) to a safetensors file.

    Args:
        obj: a Tensor, an array, or nested dicts/lists/tuples of them plus numbers,
            strings and None (e.g. {"model": model.state_dict(), "optimizer": opt.state_dict(),
            "epoch": 3}). 0-d tensors stay 0-d; NumPy arrays load back as arrays. A whole
            Module or Optimizer is refused (TypeError pointing to state_dict()): fastdl
            never pickles.
        path: destination path, written atomically (see :func:`atomic_open`), or a binary
            file object (written as is).

    Example:
        >>> model = nn.Sequential(nn.Linear(4, 2), nn.BatchNorm1d(2))
        >>> fastdl.save(model.state_dict(), "model.safetensors")
        >>> fastdl.save({"model": model.state_dict(), "epoch": 3}, "ckpt.safetensors")
        >>> ck = fastdl.load("ckpt.safetensors")
        >>> ck["epoch"], ck["model"]["1.num_batches_tracked"].shape
        (3, ())
    """
    tensors = {}
    structure = _flatten(obj, "", tensors)
    checksums = {}
    for key, arr in tensors.items():
        dt = arr.dtype
        name = _NAMES.get((dt.kind, dt.itemsize)) if dt.kind in "biuf" else None
        if name is None:
            raise TypeError("save: tensor %r has dtype %s, which fastdl cannot store "
                            "(bool, int8-64, uint8-64, float16/32/64 are supported)" % (key, dt))
        # C-contiguous little-endian: what the checksum covers, and safetensors.numpy.save
        # (0.8) reads each array through its data pointer without checking contiguity.
        tensors[key] = arr = _le(arr)
        checksums[key] = _tensor_sha(name, arr.shape, arr.reshape(-1).view(np.uint8))
    # format 2 adds NumPy arrays ({"__array__": key}); files without them stay format 1
    fmt = 2 if _uses_arrays(structure) else 1
    meta_json = json.dumps({"format": fmt, "structure": structure, "checksums": checksums},
                           allow_nan=False)
    meta = {_META_KEY: meta_json, _META_SHA_KEY: hashlib.sha256(meta_json.encode()).hexdigest()}
    # safetensors.numpy.save, not save_file: save_file (0.8) writes its own 0600 ".tmpXXXX"
    # file and renames it, which bypasses the umask, fsync and stale-temp handling of
    # atomic_open. The price is one in-memory copy of the file while it is written.
    data = safetensors.numpy.save(tensors, metadata=meta)
    if hasattr(path, "write"):          # a binary file object (io.BytesIO, open(..., "wb"))
        path.write(data)
        return
    atomic_write_bytes(path, data)


# ---- load -----------------------------------------------------------------------------------

def _check_map_location(map_location):
    """Accept what PyTorch users pass for a CPU load; refuse any other device clearly."""
    if map_location is None:
        return
    targets = list(map_location.values()) if isinstance(map_location, dict) else [map_location]
    for t in targets:
        if callable(t) and not isinstance(t, str):
            raise ValueError("load: map_location as a function is not supported; fastdl runs on "
                             "the CPU only, so pass map_location='cpu' or None")
        s = str(t).lower()
        if s not in ("cpu", "cpu:0"):
            raise ValueError("load: map_location=%r: fastdl tensors live on the CPU only; pass "
                             "'cpu' (or None)" % (t,))


def _read(path):
    """(header, [(name, {"dtype", "shape", "data"})]): the file parsed by the safetensors library.

    safetensors.deserialize checks the header (length, JSON, dtypes, shapes) and that the
    tensors' byte ranges cover the data exactly (no gap, overlap or truncation). It works on
    the bytes in memory, so a file changed while it is read cannot fault a mapping, and it
    imports nothing, whereas safe_open imports numpy and sys through builtins.__import__ on
    every call (test_load_never_runs_code forbids any import during a load). deserialize
    does not return the metadata, so the header it validated is decoded again with json.
    """
    if isinstance(path, tuple):         # ("<name>", bytes) from a file object
        path, raw = path
    else:
        if os.path.isdir(path):
            raise CheckpointError(path, "is a directory, not a safetensors file")
        with open(path, "rb") as f:
            raw = f.read()
    try:
        items = safetensors.deserialize(raw)
        header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
    except (safetensors.SafetensorError, ValueError, RecursionError) as e:
        raise _explain(path, raw, e) from None
    # safetensors ignores fields it does not know in a tensor's entry; fastdl never writes
    # any, and a file with them is not one whose layout we can vouch for.
    for name, e in header.items():
        if name != "__metadata__" and set(e) != {"dtype", "shape", "data_offsets"}:
            raise CheckpointError(path, "corrupt: tensor %r: header entry must have exactly "
                                  "dtype, shape and data_offsets, got %.200r" % (name, e))
    for name, e in items:
        d = e["dtype"]
        if d not in _DTYPES:
            raise CheckpointError(path, "tensor %r has dtype %s%s, which fastdl cannot hold "
                                  "(supported: %s)" % (name, d, " (%s)" % _UNSUPPORTED[d]
                                                       if d in _UNSUPPORTED else "",
                                                       ", ".join(_DTYPES)))
    return header, items


def _explain(path, raw, err):
    """CheckpointError for what the safetensors library refused, with its reason.

    The library's "invalid shape, data type, or offset for tensor" does not say which
    tensor, and "file not fully covered" does not say whether data is missing or extra;
    when the header is readable, _misfit says which tensor does not fit.
    """
    problem = re.sub(r"^Error while deserializing( header)?: ", "", str(err))
    try:
        problem += _misfit(raw)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        pass                                # the library's reason is all there is
    return CheckpointError(path, "not a valid safetensors file (truncated, corrupt or foreign): "
                           + problem)


def _misfit(raw):
    """"; <which tensor does not fit and how>" from a JSON header, or "" if none is found."""
    hlen = int.from_bytes(raw[:8], "little")
    have = len(raw) - 8 - hlen
    if have < 0:
        return ""
    header = json.loads(raw[8:8 + hlen])
    header.pop("__metadata__", None)
    last = (0, None)
    for name, e in header.items():
        (b, end), shape = e["data_offsets"], e["shape"]
        if not all(type(d) is int and d >= 0 for d in shape + [b, end]):
            return ""
        need = math.prod(shape) * _DTYPES[e["dtype"]].itemsize
        if end - b != need:
            return "; tensor %r: dtype %s and shape %s need %d bytes, data_offsets %s span %d" \
                % (name, e["dtype"], shape, need, [b, end], end - b)
        last = max(last, (end, name))
    if last[0] > have:
        return "; truncated: tensor %r ends at data byte %d, the file has %d" % (last[1], last[0],
                                                                              have)
    return "; %d bytes after the last tensor" % (have - last[0]) if last[0] < have else ""


def _check_structure(path, node, names, seen, where="<root>"):
    """Validate the JSON structure; every tensor reference must exist and appear once."""
    if isinstance(node, dict):
        if "__tensor__" in node or "__array__" in node:
            marker = "__tensor__" if "__tensor__" in node else "__array__"
            key = node[marker]
            if set(node) != {marker} or not isinstance(key, str):
                raise CheckpointError(path, "corrupt metadata at %s: bad tensor reference %.200r"
                                      % (where, node))
            if key not in names:
                raise CheckpointError(path, "corrupt: %s refers to tensor %r, which is not in "
                                      "the file" % (where, key))
            if key in seen:
                raise CheckpointError(path, "corrupt: tensor %r is referenced twice" % key)
            seen.add(key)
            return
        if "__tuple__" in node:
            if set(node) != {"__tuple__"} or not isinstance(node["__tuple__"], list):
                raise CheckpointError(path, "corrupt metadata at %s: bad tuple %.200r"
                                      % (where, node))
            for i, v in enumerate(node["__tuple__"]):
                _check_structure(path, v, names, seen, "%s[%d]" % (where, i))
            return
        if "__float__" in node:
            if set(node) != {"__float__"} or node["__float__"] not in ("nan", "inf", "-inf"):
                raise CheckpointError(path, "corrupt metadata at %s: bad float %.200r"
                                      % (where, node))
            return
        if "__dict__" in node:
            ints = node.get("__int_keys__", [])
            if (set(node) - {"__dict__", "__int_keys__"} or not isinstance(node["__dict__"], dict)
                    or not isinstance(ints, list)
                    or not all(isinstance(k, str) and k in node["__dict__"] for k in ints)):
                raise CheckpointError(path, "corrupt metadata at %s: bad dict %.200r"
                                      % (where, node))
            for k in ints:
                try:
                    if str(int(k)) != k:
                        raise ValueError
                except ValueError:
                    raise CheckpointError(path, "corrupt metadata at %s: int key %.50r"
                                          % (where, k)) from None
            node = node["__dict__"]
        elif "__int_keys__" in node:
            raise CheckpointError(path, "corrupt metadata at %s: __int_keys__ without __dict__"
                                  % where)
        for k, v in node.items():
            _check_structure(path, v, names, seen, "%s.%s" % (where, k) if where != "<root>"
                             else k)
        return
    if isinstance(node, list):
        for i, v in enumerate(node):
            _check_structure(path, v, names, seen, "%s[%d]" % (where, i))
        return
    if node is None or isinstance(node, (bool, int, str)):
        return
    if isinstance(node, float) and math.isfinite(node):
        return
    raise CheckpointError(path, "corrupt metadata at %s: value %.200r" % (where, node))


def _unflatten(node, tensors):
    if isinstance(node, dict):
        if "__tensor__" in node:
            return tensors[node["__tensor__"]]
        if "__array__" in node:
            return tensors[node["__array__"]]._data
        if "__tuple__" in node:
            return tuple(_unflatten(v, tensors) for v in node["__tuple__"])
        if "__float__" in node:
            return float(node["__float__"])
        if "__dict__" in node:
            ints = set(node.get("__int_keys__", ()))
            return {(int(k) if k in ints else k): _unflatten(v, tensors)
                    for k, v in node["__dict__"].items()}
        return {k: _unflatten(v, tensors) for k, v in node.items()}
    if isinstance(node, list):
        return [_unflatten(v, tensors) for v in node]
    return node


def _fastdl_meta(path, meta, names, verify):
    """The parsed fastdl metadata (structure, checksums), or None for a plain safetensors file."""
    text, sha = meta.get(_META_KEY), meta.get(_META_SHA_KEY)
    if text is None:
        if sha is not None:
            raise CheckpointError(path, "corrupt: metadata has %r but no %r" % (_META_SHA_KEY,
                                                                              _META_KEY))
        return None
    if verify and sha is not None and hashlib.sha256(text.encode()).hexdigest() != sha:
        raise CheckpointError(path, "corrupt: the fastdl metadata does not match its checksum "
                              "(the structure or the tensor checksums were altered)")
    try:
        info = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise CheckpointError(path, "corrupt fastdl metadata: not JSON (%s)" % str(e)[:200]) \
            from None
    if not isinstance(info, dict) or "structure" not in info:
        raise CheckpointError(path, "corrupt fastdl metadata: no structure")
    fmt = info.get("format")
    if type(fmt) is not int or fmt < 1:
        raise CheckpointError(path, "corrupt fastdl metadata: format %.50r" % (fmt,))
    if fmt > _FORMAT:
        raise CheckpointError(path, "written by a newer fastdl (format %d > %d); upgrade fastdl"
                              % (fmt, _FORMAT))
    checksums = info.get("checksums")
    if checksums is not None:
        if verify and sha is None:
            raise CheckpointError(path, "corrupt: tensor checksums present but the metadata "
                                  "checksum %r is missing" % _META_SHA_KEY)
        if not isinstance(checksums, dict) or set(checksums) != set(names) \
                or not all(isinstance(v, str) for v in checksums.values()):
            raise CheckpointError(path, "corrupt: the checksum table does not list exactly the "
                                  "file's tensors")
    return info


def load(path, map_location=None, *, weights_only=None, verify=True):
    """Load what save() wrote (or any safetensors file, as a flat dict of Tensors).

    The safetensors library validates every byte range, dtype and shape; fastdl then
    validates the structure and each tensor's SHA-256 (written by save) before
    anything is returned.

    Args:
        path: the file (a path, or a binary file object such as io.BytesIO).
        map_location: None, 'cpu' or a dict mapping devices to 'cpu', accepted so
            PyTorch habits work; fastdl tensors live on the CPU, so any other
            device is refused.
        weights_only: accepted for PyTorch's ``torch.load(f, weights_only=True)``:
            None, True or False. fastdl's files hold only tensors, numbers,
            strings and containers, never pickled code, so every value loads
            the same way (what PyTorch's ``weights_only=True`` allows).
        verify: check the per-tensor checksums (default True). ``verify=False``
            skips them (faster on huge files); the structure is still validated.

    Returns:
        The object saved: nested dicts/lists/tuples with Tensors (0-d stays 0-d).

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: (a ValueError) a truncated, corrupt, foreign or inconsistent
            file, naming the file, the problem and, for a bad checksum, the tensor.

    Example:
        >>> model = nn.Linear(4, 2)
        >>> fastdl.save(model.state_dict(), "model.safetensors")
        >>> state = fastdl.load("model.safetensors", map_location="cpu")
        >>> sorted(state)
        ['bias', 'weight']
        >>> state = fastdl.load("model.safetensors", weights_only=True)
        >>> nn.Linear(4, 2).load_state_dict(state)
        IncompatibleKeys(missing_keys=[], unexpected_keys=[])
    """
    _check_map_location(map_location)
    if weights_only not in (None, True, False):
        raise TypeError("load: weights_only must be None, True or False, got %r" % (weights_only,))
    if hasattr(path, "read"):           # a binary file object (io.BytesIO, open(..., "rb"))
        raw = path.read()
        if not isinstance(raw, (bytes, bytearray)):
            raise TypeError("load: the file object must be opened in binary mode ('rb')")
        path = getattr(path, "name", None) or "<file object>"
        header, items = _read((os.fspath(path) if not isinstance(path, int) else str(path),
                               bytes(raw)))
        path = str(path)
    else:
        path = os.fspath(path)
        header, items = _read(path)
    names = [name for name, _ in items]
    info = _fastdl_meta(path, header.get("__metadata__") or {}, names, verify)
    if info is not None:
        seen = set()
        _check_structure(path, info["structure"], set(names), seen)
        unused = set(names) - seen
        if unused:
            raise CheckpointError(path, "corrupt: tensors %s are in the file but not in its "
                                  "structure" % sorted(unused)[:5])
    checksums = (info or {}).get("checksums") if verify else None
    tensors = {}
    while items:                          # pop each tensor's bytes once it is copied
        name, e = items.pop()
        if checksums is not None and \
                _tensor_sha(e["dtype"], e["shape"], e["data"]) != checksums[name]:
            raise CheckpointError(path, "corrupt: tensor %r does not match its checksum (its "
                                  "bytes, dtype or shape changed after it was saved)" % name)
        dt = _DTYPES[e["dtype"]]
        arr = np.frombuffer(e["data"], dtype=dt).reshape(e["shape"])
        tensors[name] = Tensor._wrap(arr.astype(dt.newbyteorder("="), copy=True))  # writable
    if info is None:
        return tensors
    return _unflatten(info["structure"], tensors)


# ---- Trainer checkpoints --------------------------------------------------------------------

def check_trainer_checkpoint(ck, path, model, optimizer):
    """Validate a loaded Trainer checkpoint against the model and optimizer it will go into.

    Raises CheckpointError naming the file and the first problem: a missing
    section, model keys/shapes/dtypes that differ, an optimizer state whose
    groups or per-parameter buffers do not match what the optimizer keeps
    (renamed or missing keys), a bad epoch, RNG state or history.

    Args:
        ck: the object fastdl.load returned.
        path: the file it came from (named in the error).
        model: the Module the checkpoint will be loaded into.
        optimizer: the Optimizer likewise.

    Example:
        >>> from fastdl.io import check_trainer_checkpoint
        >>> trainer = fastdl.Trainer(nn.Linear(4, 2), "sgd", "mse")
        >>> trainer.save_checkpoint("t.ckpt")
        >>> ck = fastdl.load("t.ckpt")
        >>> check_trainer_checkpoint(ck, "t.ckpt", trainer.model, trainer.optimizer)
        >>> try:
        ...     check_trainer_checkpoint(ck, "t.ckpt", nn.Linear(4, 3), trainer.optimizer)
        ... except fastdl.CheckpointError as e:
        ...     print(e.problem)
        not a usable trainer checkpoint: model entry 'weight' is float32 (2, 4), the model has float32 (3, 4)
    """
    def bad(problem):
        raise CheckpointError(path, "not a usable trainer checkpoint: " + problem)

    if not isinstance(ck, dict):
        bad("the file holds a %s, not a checkpoint dict" % type(ck).__name__)
    for key in ("model", "optimizer", "epoch", "rng"):
        if key not in ck:
            bad("no %r section (weights-only files load with "
                "model.load_state_dict(fastdl.load(path)))" % key)
    sd, own = ck["model"], model.state_dict()
    if not isinstance(sd, dict):
        bad("'model' is a %s, not a state dict" % type(sd).__name__)
    missing, unexpected = sorted(set(own) - set(sd)), sorted(set(sd) - set(own))
    if missing or unexpected:
        bad("model keys differ: missing %s, unexpected %s" % (missing[:5], unexpected[:5]))
    for k, v in own.items():
        got = sd[k]
        if not isinstance(got, Tensor):
            bad("model entry %r is a %s, not a tensor" % (k, type(got).__name__))
        if got.shape != v.shape or got._data.dtype != v._data.dtype:
            bad("model entry %r is %s %s, the model has %s %s"
                % (k, got._data.dtype, tuple(got.shape), v._data.dtype, tuple(v.shape)))
    o = ck["optimizer"]
    if not isinstance(o, dict) or set(o) != {"state", "param_groups"}:
        bad("'optimizer' must hold exactly 'state' and 'param_groups', got %s"
            % (sorted(o) if isinstance(o, dict) else type(o).__name__))
    groups, state = o["param_groups"], o["state"]
    if not isinstance(groups, list) or len(groups) != len(optimizer.param_groups):
        bad("the optimizer has %d parameter group(s), the checkpoint %s"
            % (len(optimizer.param_groups), len(groups) if isinstance(groups, list) else groups))
    params = {}
    for i, (g, mine) in enumerate(zip(groups, optimizer.param_groups)):
        if not isinstance(g, dict):
            bad("optimizer param_groups[%d] is not a dict" % i)
        if set(g) != set(mine):
            bad("optimizer param_groups[%d] keys differ: missing %s, unexpected %s"
                % (i, sorted(set(mine) - set(g)), sorted(set(g) - set(mine))))
        ids = g["params"]
        if (not isinstance(ids, list) or len(ids) != len(mine["params"])
                or not all(type(j) is int for j in ids)):
            bad("optimizer param_groups[%d]['params'] must list %d parameter indices"
                % (i, len(mine["params"])))
        for j, p in zip(ids, mine["params"]):
            params[j] = (p, g)
    if not isinstance(state, dict):
        bad("optimizer 'state' is not a dict")
    for j, s in state.items():
        if j not in params or not isinstance(s, dict):
            bad("optimizer state for parameter %r, which no group lists" % (j,))
        p, g = params[j]
        fresh = {}
        optimizer._init_state(p, g, fresh)
        lazy = {k: p._data for k in optimizer._lazy_state if k in s and k not in fresh}
        missing, unexpected = set(fresh) - set(s), set(s) - set(fresh) - set(lazy)
        if missing or unexpected:
            bad("optimizer state[%r] keys differ from what %s keeps: missing %s, unexpected %s"
                % (j, type(optimizer).__name__, sorted(missing), sorted(unexpected)))
        for k, ref in {**fresh, **lazy}.items():
            v = s[k]
            if isinstance(ref, np.ndarray):
                arr = v._data if isinstance(v, Tensor) else v if isinstance(v, np.ndarray) \
                    else None
                if arr is None or arr.shape != ref.shape:
                    bad("optimizer state[%r][%r] should be an array of shape %s, got %s"
                        % (j, k, ref.shape, tuple(arr.shape) if arr is not None
                           else type(v).__name__))
    ep = ck["epoch"]
    if type(ep) is not int or ep < 0:
        bad("epoch %.50r is not a non-negative integer" % (ep,))
    rng = ck["rng"]
    if not isinstance(rng, dict) or set(rng) != {"seed", "stream"} or \
            not all(type(v) is int for v in rng.values()):
        bad("rng state %.100r is not {'seed': int, 'stream': int}" % (rng,))
    h = ck.get("history")
    if h is not None:
        if not isinstance(h, dict) or not isinstance(h.get("history", {}), dict) or \
                not isinstance(h.get("epoch", []), list) or \
                not all(isinstance(v, list) for v in h.get("history", {}).values()):
            bad("history is not {'history': {name: [values]}, 'epoch': [ints]}")
