"""Gradient mode: no_grad, enable_grad, set_grad_enabled (thread-local, as in PyTorch)."""
import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]


class _GradMode(threading.local):
    enabled = True


_mode = _GradMode()


def is_grad_enabled():
    return _mode.enabled


class set_grad_enabled:
    """Context manager (and decorator) that sets gradient recording on or off."""

    def __init__(self, mode=True):
        self.prev = _mode.enabled
        _mode.enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _mode.enabled = self.prev
        return False

    def __call__(self, fn):
        mode = _mode.enabled
        _mode.enabled = self.prev

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class _GradModeContext:
    mode = True

    def __new__(cls, orig_func=None):
        # @no_grad without parentheses decorates directly, as in PyTorch
        if orig_func is not None:
            if not callable(orig_func):
                raise TypeError("%s: expected a function to decorate, got %r"
                                % (cls.__name__, orig_func))
            return cls()(orig_func)
        return super().__new__(cls)

    def __enter__(self):
        self.prev = _mode.enabled
        _mode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _mode.enabled = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Disable gradient recording, as a context manager or a decorator.

    Example:
        >>> with fastdl.no_grad():
        ...     y = model(x)        # no graph is recorded
    """
    mode = False


class enable_grad(_GradModeContext):
    """Enable gradient recording inside a ``no_grad`` block."""
    mode = True
