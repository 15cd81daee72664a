"""Devices: fastdl runs on the CPU only, under PyTorch's device names.

``fastdl.device("cpu")`` (or ``"cpu:0"``) is the one device; every ``device=``
argument (creation functions, layer constructors, ``Tensor.to``,
``Module.to``) accepts it, a ``device`` object or None, and refuses any other
device (``"cuda"``, ``"mps"``...) with an error naming it.
``fastdl.cuda.is_available()`` is False and ``fastdl.accelerator`` reports no
accelerator, so the usual ``"cuda" if torch.cuda.is_available() else "cpu"``
picks the CPU.

Example:
    >>> fastdl.device("cpu")
    device(type='cpu')
    >>> fastdl.zeros(2, device="cpu").device
    device(type='cpu')
"""
import functools

__all__ = ["device"]


class device:
    """A device name (torch.device): only the CPU exists in fastdl.

    Args:
        type: ``"cpu"``, ``"cpu:0"``, another ``device``, or the type with
            ``index`` (0 or None).
        index: the device index; only 0 (or None) for the CPU.

    Example:
        >>> d = fastdl.device("cpu")
        >>> d.type, d.index, str(d)
        ('cpu', None, 'cpu')
        >>> fastdl.device("cpu:0") == fastdl.device("cpu", 0)
        True
        >>> fastdl.device("cuda")
        Traceback (most recent call last):
        ...
        RuntimeError: device: fastdl runs on the CPU only; got device 'cuda' (use 'cpu')
    """
    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError("device: expected a string like 'cpu' or a device, got %r" % (type,))
        name = type.strip()
        if ":" in name:
            name, _, idx = name.partition(":")
            if index is not None:
                raise ValueError("device: index given twice in %r and index=%r" % (type, index))
            try:
                index = int(idx)
            except ValueError:
                raise RuntimeError("device: invalid device string %r" % (type,)) from None
        if name != "cpu":
            raise RuntimeError("device: fastdl runs on the CPU only; got device %r (use 'cpu')"
                               % (type if isinstance(type, str) else str(type)))
        if index is not None and index != 0:
            raise RuntimeError("device: the CPU has index 0 only, got %r" % (index,))
        self.type = "cpu"
        self.index = index

    def __repr__(self):
        if self.index is None:
            return "device(type='cpu')"
        return "device(type='cpu', index=%d)" % self.index

    def __str__(self):
        return "cpu" if self.index is None else "cpu:%d" % self.index

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, ValueError):
                return False
        return isinstance(other, device) and other.type == self.type

    def __hash__(self):
        return hash(self.type)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


CPU = device("cpu")


def check_device(dev, op="device"):
    """None, "cpu", "cpu:0" or a cpu device pass; anything else raises naming op and the device."""
    if dev is None or isinstance(dev, device):
        return
    if isinstance(dev, int) and not isinstance(dev, bool):
        raise RuntimeError("%s: fastdl runs on the CPU only; got device index %d (a CUDA "
                           "device); use device='cpu'" % (op, dev))
    if not isinstance(dev, str):
        raise TypeError("%s: expected a device ('cpu' or fastdl.device), got %r" % (op, dev))
    try:
        device(dev)
    except RuntimeError:
        raise RuntimeError("%s: fastdl runs on the CPU only; got device %r (use 'cpu')"
                           % (op, dev)) from None


def is_device(x):
    """True if x names a device ('cpu', 'cuda:1', a device object), as opposed to a dtype."""
    if isinstance(x, device):
        return True
    if isinstance(x, str):
        base = x.split(":")[0].strip()
        return base in ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "ipu", "vulkan",
                        "mtia", "privateuseone", "hpu", "npu", "lazy")
    return False


def accepts_device(fn):
    """Decorator: fn accepts the keywords ``device`` (checked, then dropped),
    ``pin_memory`` (ignored) and ``generator`` (a fastdl.Generator whose stream
    the call draws from instead of the global one)."""
    @functools.wraps(fn)
    def wrapper(*args, device=None, pin_memory=False, generator=None, **kwargs):
        check_device(device, fn.__name__)
        if generator is None:
            return fn(*args, **kwargs)
        from fastdl import random as _random
        return _random.run_with_generator(generator, fn, args, kwargs)
    return wrapper
