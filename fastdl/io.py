"""fastdl.save / fastdl.load: state dicts and checkpoints in safetensors files.

A file is a standard safetensors file: every tensor (or NumPy array) in the
object is stored under its dotted path ("model.0.weight"), so other tools can
read the weights. The structure around them (nested dicts and lists, numbers,
strings, None) is JSON in the safetensors metadata under "fastdl", with a
SHA-256 of each tensor (over its dtype, shape and bytes) and of the JSON
itself. Loading parses JSON and raw tensor bytes only; no pickle, so a file
never runs code.

``load`` validates the whole file before returning anything: header length,
JSON, each tensor's dtype, shape and byte range (no gaps, no overlaps, sizes
that match), the structure that references them, and (unless
``verify=False``) every checksum. Any problem raises :class:`CheckpointError`
(a ValueError) naming the file and the problem; a corrupt tensor is named.

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
import secrets
import socket
import stat
import threading

import numpy as np

from fastdl.tensor import Tensor

__all__ = ["save", "load", "CheckpointError", "atomic_write_bytes", "atomic_open",
           "check_trainer_checkpoint"]

_META_KEY = "fastdl"
_META_SHA_KEY = "fastdl.sha256"
_FORMAT = 1
_MAX_HEADER = 100 << 20             # the safetensors limit, also csrc's FDL_ST_MAX_HEADER

# safetensors dtype names <-> NumPy (little-endian on disk)
_DTYPES = {"BOOL": np.dtype(np.bool_), "U8": np.dtype("u1"), "I8": np.dtype("i1"),
           "U16": np.dtype("<u2"), "I16": np.dtype("<i2"), "F16": np.dtype("<f2"),
           "U32": np.dtype("<u4"), "I32": np.dtype("<i4"), "F32": np.dtype("<f4"),
           "U64": np.dtype("<u8"), "I64": np.dtype("<i8"), "F64": np.dtype("<f8")}
_NAMES = {(dt.kind, dt.itemsize): name for name, dt in _DTYPES.items()}
_UNSUPPORTED = {"BF16": "bfloat16", "F8_E4M3": "float8 e4m3", "F8_E5M2": "float8 e5m2"}


class CheckpointError(ValueError):
    """A file that fastdl.load refuses: truncated, corrupt, foreign or inconsistent.

    The message names the file and the problem; ``path`` and ``problem`` hold them.

    Example:
        >>> try:
        ...     fastdl.load("not-a-checkpoint.txt")          # doctest: +SKIP
        ... except fastdl.CheckpointError as e:
        ...     print(e.problem)
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
        >>> with atomic_open("out.bin") as f:      # doctest: +SKIP
        ...     f.write(b"data")
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
    """Write bytes to path via a temporary file and rename (atomic on POSIX); see atomic_open."""
    with atomic_open(path) as f:
        f.write(data)


# ---- save -----------------------------------------------------------------------------------

def _flatten(obj, prefix, tensors):
    """JSON-able structure with tensors replaced by references into `tensors`."""
    if isinstance(obj, Tensor):
        obj = obj._data
    if isinstance(obj, np.ndarray):
        key = prefix or "tensor"
        if key in tensors:
            raise ValueError("save: two tensors map to the key %r" % key)
        # np.ascontiguousarray would turn a 0-d array into shape (1,)
        tensors[key] = np.require(obj, requirements="C")
        return {"__tensor__": key}
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


_MARKERS = ("__tensor__", "__tuple__", "__float__", "__dict__", "__int_keys__")


def _reserved(d):
    return any(k in _MARKERS for k in d)


def _le(arr):
    """The array as little-endian bytes in C order (what safetensors stores)."""
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return np.require(arr, requirements="C")


def _tensor_sha(name, shape, arr):
    h = hashlib.sha256(("%s %s " % (name, list(shape))).encode())
    if arr.size:
        h.update(arr.reshape(-1).view(np.uint8))
    return h.hexdigest()


def save(obj, path):
    """Save a state dict (or a nested checkpoint dict) to a safetensors file.

    Args:
        obj: a Tensor, an array, or nested dicts/lists/tuples of them plus numbers,
            strings and None (e.g. {"model": model.state_dict(), "optimizer": opt.state_dict(),
            "epoch": 3}). 0-d tensors stay 0-d.
        path: destination; written atomically (see :func:`atomic_open`).

    Example:
        >>> fastdl.save(model.state_dict(), "model.safetensors")    # doctest: +SKIP
    """
    tensors = {}
    structure = _flatten(obj, "", tensors)
    entries, arrays, checksums = {}, [], {}
    # largest items first, so every tensor starts at a multiple of its item size
    order = sorted(tensors, key=lambda k: (-tensors[k].dtype.itemsize, k))
    offset = 0
    for key in order:
        arr = tensors[key]
        dt = arr.dtype
        name = _NAMES.get((dt.kind, dt.itemsize)) if dt.kind in "biuf" else None
        if name is None:
            raise TypeError("save: tensor %r has dtype %s, which safetensors cannot store "
                            "(bool, int8-64, uint8-64, float16/32/64 are supported)" % (key, dt))
        arr = _le(arr)
        shape = list(arr.shape)
        entries[key] = {"dtype": name, "shape": shape,
                        "data_offsets": [offset, offset + arr.nbytes]}
        checksums[key] = _tensor_sha(name, shape, arr)
        arrays.append(arr)
        offset += arr.nbytes
    meta_json = json.dumps({"format": _FORMAT, "structure": structure, "checksums": checksums},
                           allow_nan=False)
    header = {"__metadata__": {_META_KEY: meta_json,
                               _META_SHA_KEY: hashlib.sha256(meta_json.encode()).hexdigest()}}
    header.update(entries)
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    with atomic_open(path) as f:
        f.write(len(hb).to_bytes(8, "little"))
        f.write(hb)
        for arr in arrays:
            if arr.size:
                f.write(arr.reshape(-1).view(np.uint8).data)


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
    if os.path.isdir(path):
        raise CheckpointError(path, "is a directory, not a safetensors file")
    with open(path, "rb") as f:
        return f.read()


def _parse_header(path, raw):
    """(tensor entries {name: (dtype, shape, begin, end)}, metadata dict, data start)."""
    n = len(raw)
    if n == 0:
        raise CheckpointError(path, "empty file (0 bytes); not a safetensors file")
    if n < 8:
        raise CheckpointError(path, "only %d bytes: truncated, or not a safetensors file" % n)
    hlen = int.from_bytes(raw[:8], "little")
    if hlen > _MAX_HEADER or hlen > n - 8:
        raise CheckpointError(path, "truncated or not a safetensors file: the first 8 bytes give "
                              "a header of %d bytes, the file has %d after them" % (hlen, n - 8))
    try:
        header = json.loads(raw[8:8 + hlen].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise CheckpointError(path, "corrupt or foreign: the header is not valid JSON (%s)"
                              % str(e)[:200]) from None
    if not isinstance(header, dict):
        raise CheckpointError(path, "corrupt: the header is JSON %s, not an object"
                              % type(header).__name__)
    meta = header.pop("__metadata__", None)
    if meta is None:
        meta = {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                             for k, v in meta.items()):
        raise CheckpointError(path, "corrupt: __metadata__ must map strings to strings")
    data_len = n - 8 - hlen
    entries = {}
    for name, e in header.items():
        if not isinstance(e, dict) or set(e) != {"dtype", "shape", "data_offsets"}:
            raise CheckpointError(path, "corrupt: tensor %r: header entry must have exactly "
                                  "dtype, shape and data_offsets, got %.200r" % (name, e))
        dname, shape, offs = e["dtype"], e["shape"], e["data_offsets"]
        if dname in _UNSUPPORTED:
            raise CheckpointError(path, "tensor %r has dtype %s (%s), which NumPy and fastdl "
                                  "cannot hold" % (name, dname, _UNSUPPORTED[dname]))
        if not isinstance(dname, str) or dname not in _DTYPES:
            raise CheckpointError(path, "corrupt: tensor %r has unknown dtype %.50r (known: %s)"
                                  % (name, dname, ", ".join(_DTYPES)))
        if (not isinstance(shape, list) or len(shape) > 64
                or not all(type(d) is int and d >= 0 for d in shape)):
            raise CheckpointError(path, "corrupt: tensor %r has shape %.200r; expected a list of "
                                  "non-negative integers" % (name, shape))
        if (not isinstance(offs, list) or len(offs) != 2
                or not all(type(o) is int and o >= 0 for o in offs) or offs[0] > offs[1]):
            raise CheckpointError(path, "corrupt: tensor %r has data_offsets %.200r; expected "
                                  "[begin, end] with 0 <= begin <= end" % (name, offs))
        dt = _DTYPES[dname]
        want = math.prod(shape) * dt.itemsize
        if offs[1] - offs[0] != want:
            raise CheckpointError(path, "corrupt: tensor %r: dtype %s and shape %s need %d bytes, "
                                  "data_offsets %s span %d" % (name, dname, shape, want, offs,
                                                               offs[1] - offs[0]))
        entries[name] = (dt, tuple(shape), offs[0], offs[1])
    pos = 0
    for name, (_, _, b, e) in sorted(entries.items(), key=lambda kv: (kv[1][2], kv[1][3])):
        if b != pos:
            raise CheckpointError(path, "corrupt: tensor %r starts at data byte %d, expected %d "
                                  "(%s)" % (name, b, pos, "overlap" if b < pos else "gap"))
        pos = e
    if pos != data_len:
        if pos > data_len:
            raise CheckpointError(path, "truncated: the tensors need %d data bytes, the file has "
                                  "%d" % (pos, data_len))
        raise CheckpointError(path, "corrupt: %d bytes after the last tensor" % (data_len - pos))
    return entries, meta, 8 + hlen


def _check_structure(path, node, names, seen, where="<root>"):
    """Validate the JSON structure; every tensor reference must exist and appear once."""
    if isinstance(node, dict):
        if "__tensor__" in node:
            key = node["__tensor__"]
            if set(node) != {"__tensor__"} or not isinstance(key, str):
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


def load(path, map_location=None, *, verify=True):
    """Load what save() wrote (or any safetensors file, as a flat dict of Tensors).

    Every byte range, dtype and shape is validated before anything is returned,
    and each tensor's SHA-256 (written by save) is checked.

    Args:
        path: the file.
        map_location: None, 'cpu' or a dict mapping devices to 'cpu', accepted so
            PyTorch habits work; fastdl tensors live on the CPU, so any other
            device is refused.
        verify: check the per-tensor checksums (default True). ``verify=False``
            skips them (faster on huge files); the structure is still validated.

    Returns:
        The object saved: nested dicts/lists/tuples with Tensors (0-d stays 0-d).

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: (a ValueError) a truncated, corrupt, foreign or inconsistent
            file, naming the file, the problem and, for a bad checksum, the tensor.

    Example:
        >>> model.load_state_dict(fastdl.load("model.safetensors", map_location="cpu"))  # doctest: +SKIP
    """
    _check_map_location(map_location)
    path = os.fspath(path)
    raw = _read(path)
    entries, meta, start = _parse_header(path, raw)
    info = _fastdl_meta(path, meta, entries, verify)
    if info is not None:
        seen = set()
        _check_structure(path, info["structure"], entries, seen)
        unused = set(entries) - seen
        if unused:
            raise CheckpointError(path, "corrupt: tensors %s are in the file but not in its "
                                  "structure" % sorted(unused)[:5])
    checksums = (info or {}).get("checksums") if verify else None
    names = {dt: n for n, dt in _DTYPES.items()}
    tensors = {}
    for name, (dt, shape, b, e) in entries.items():
        arr = np.frombuffer(raw, dtype=dt, count=math.prod(shape), offset=start + b)
        if checksums is not None and _tensor_sha(names[dt], shape, arr) != checksums[name]:
            raise CheckpointError(path, "corrupt: tensor %r does not match its checksum (its "
                                  "bytes, dtype or shape changed after it was saved)" % name)
        arr = arr.astype(dt.newbyteorder("="), copy=True).reshape(shape)
        tensors[name] = Tensor._wrap(arr)
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
        if set(s) != set(fresh):
            bad("optimizer state[%r] keys differ from what %s keeps: missing %s, unexpected %s"
                % (j, type(optimizer).__name__, sorted(set(fresh) - set(s)),
                   sorted(set(s) - set(fresh))))
        for k, ref in fresh.items():
            v = s[k]
            if isinstance(ref, np.ndarray):
                arr = v._data if isinstance(v, Tensor) else None
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
