"""fastdl.accelerator: PyTorch's ``torch.accelerator`` queries; fastdl has no accelerator.

``is_available()`` is False and ``current_accelerator()`` returns None, so
``torch.accelerator.current_accelerator() if torch.accelerator.is_available()
else "cpu"`` picks the CPU.

Example:
    >>> fastdl.accelerator.is_available(), fastdl.accelerator.current_accelerator()
    (False, None)
"""

__all__ = ["is_available", "current_accelerator", "device_count"]


def is_available():
    """Whether an accelerator (GPU) is usable: always False in fastdl.

    Example:
        >>> fastdl.accelerator.is_available()
        False
    """
    return False


def current_accelerator(check_available=False):
    """The accelerator device in use: None, as torch returns on a machine without one.

    Example:
        >>> fastdl.accelerator.current_accelerator() is None
        True
    """
    return None


def device_count():
    """The number of accelerators: 0.

    Example:
        >>> fastdl.accelerator.device_count()
        0
    """
    return 0
