"""DLPack: zero-copy exchange of tensors with NumPy, PyTorch and any DLPack library.

A fastdl Tensor's storage is a NumPy array, so both directions delegate to
NumPy's own DLPack implementation (no capsule code here):

- ``Tensor.__dlpack__`` / ``Tensor.__dlpack_device__`` export the storage
  (strides included, so non-contiguous views travel as views);
  ``torch.from_dlpack(t)`` and ``np.from_dlpack(t)`` share t's memory.
- ``fastdl.from_dlpack(obj)`` (PyTorch's ``torch.from_dlpack``) wraps an
  object with ``__dlpack__`` (a torch tensor, a NumPy array...) or a DLPack
  capsule as a Tensor sharing its memory.

Read-only memory: DLPack 1.0 carries a read-only flag; older consumers
cannot be told, so exporting a read-only tensor to them raises BufferError
(NumPy's rule). A read-only source arrives in fastdl as a read-only tensor,
whose in-place ops raise. PyTorch has no read-only tensors and ignores the
flag: writing through such a torch view writes the read-only memory.

Only CPU memory exists in fastdl (device ``(kDLCPU=1, 0)``); ``stream`` must be
None or -1 (the CPU has no streams).
"""
from fastdl.tensor import Tensor

__all__ = ["from_dlpack", "to_dlpack"]

_KDLCPU = 1


class _Capsule:
    """Presents a bare DLPack capsule through the ``__dlpack__`` protocol NumPy reads."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, stream=None, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (_KDLCPU, 0)


def _tensor_dlpack(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    """Export this tensor's memory as a DLPack capsule (the array-API protocol).

    Args:
        stream: None or -1 (CPU memory has no stream).
        max_version: the highest DLPack version the consumer understands;
            (1, 0) or above gets a versioned capsule that carries the
            read-only flag.
        dl_device: None or (1, 0) (the CPU).
        copy: None or False share memory; True exports a copy.
    """
    if self._requires_grad:
        raise RuntimeError("__dlpack__: can't export a tensor that requires grad; use "
                           "tensor.detach() first")
    if stream is not None and stream != -1:
        raise BufferError("__dlpack__: stream must be None or -1 for CPU memory, got %r"
                          % (stream,))
    kwargs = {}
    if max_version is not None:
        kwargs["max_version"] = tuple(max_version)
    if dl_device is not None:
        kwargs["dl_device"] = dl_device
    if copy is not None:
        kwargs["copy"] = copy
    try:
        return self._data.__dlpack__(**kwargs)
    except BufferError as e:
        if not self._data.flags.writeable:
            raise BufferError("__dlpack__: this tensor is read-only and the consumer did not "
                              "ask for DLPack >= 1.0 (max_version), which can carry the "
                              "read-only flag; export tensor.clone() instead") from e
        raise BufferError("__dlpack__: %s (tensor of dtype %s, shape %s)"
                          % (e, self._data.dtype, self._data.shape)) from e


def _tensor_dlpack_device(self):
    """(device type, device id) of this tensor's memory: always (1, 0), the CPU."""
    return self._data.__dlpack_device__()


Tensor.__dlpack__ = _tensor_dlpack
Tensor.__dlpack_device__ = _tensor_dlpack_device


def from_dlpack(ext_tensor, *, device=None, copy=None):
    """A Tensor sharing the memory of another library's tensor (PyTorch's ``from_dlpack``).

    Args:
        ext_tensor: an object with ``__dlpack__`` (a torch.Tensor, a NumPy
            array, a JAX/CuPy CPU array...) or a DLPack capsule.
        device: None or "cpu" (fastdl's only device).
        copy: None or False share the memory; True returns a writable copy.
    Returns:
        a Tensor over the same memory (no copy; strides are kept); it does not
        require grad. A read-only source gives a read-only tensor.

    Example:
        >>> import numpy as np
        >>> a = np.arange(3, dtype=np.float32)
        >>> t = fastdl.from_dlpack(a)
        >>> a[0] = 7
        >>> t
        tensor([7., 1., 2.])
    """
    import numpy as np
    if device is not None and str(device) != "cpu":
        raise ValueError("from_dlpack: fastdl tensors live on the CPU; device must be None or "
                         "'cpu', got %r" % (device,))
    if copy not in (None, True, False):
        raise ValueError("from_dlpack: copy must be None, True or False, got %r" % (copy,))
    if isinstance(ext_tensor, Tensor):
        return Tensor._wrap(ext_tensor._data.copy() if copy else ext_tensor._data)
    src = ext_tensor
    if not hasattr(src, "__dlpack__"):
        if type(src).__name__ != "PyCapsule":
            raise TypeError("from_dlpack: expected an object with __dlpack__ (a tensor or "
                            "array) or a DLPack capsule, got %s" % type(src).__name__)
        src = _Capsule(src)
    elif hasattr(src, "__dlpack_device__"):
        dev = src.__dlpack_device__()
        if int(dev[0]) != _KDLCPU:
            raise BufferError("from_dlpack: fastdl tensors live in CPU memory (device type 1), "
                              "got a tensor on device %s; move it to the CPU first (e.g. "
                              "tensor.cpu())" % (tuple(int(d) for d in dev),))
    try:
        arr = np.from_dlpack(src)
    except (BufferError, TypeError, ValueError, RuntimeError) as e:
        what = type(ext_tensor).__module__.split(".")[0] + "." + type(ext_tensor).__name__
        dt = getattr(ext_tensor, "dtype", None)
        raise type(e)("from_dlpack: cannot import this %s%s: %s"
                      % (what, "" if dt is None else " of dtype %s" % dt, e)) from e
    return Tensor._wrap(np.array(arr, copy=True) if copy else arr)


def to_dlpack(tensor):
    """A DLPack capsule of ``tensor`` (PyTorch's ``torch.utils.dlpack.to_dlpack``): the
    legacy unversioned capsule, which cannot carry the read-only flag."""
    if not isinstance(tensor, Tensor):
        raise TypeError("to_dlpack: expected a fastdl Tensor, got %s" % type(tensor).__name__)
    return tensor.__dlpack__()
