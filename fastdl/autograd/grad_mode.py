"""Gradient mode: no_grad, enable_grad, set_grad_enabled (thread-local, as in PyTorch)."""
import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]


class _GradMode(threading.local):
    enabled = True


_mode = _GradMode()


def _run_inside(fn, make_context):
    """fn as a decorator gives it: each call runs inside a fresh make_context()."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with make_context():
            return fn(*args, **kwargs)
    return wrapper


def is_grad_enabled():
    """Whether operations are being recorded for autograd in this thread (torch.is_grad_enabled).

    Example:
        >>> fastdl.is_grad_enabled()
        True
        >>> with fastdl.no_grad():
        ...     fastdl.is_grad_enabled()
        False
    """
    return _mode.enabled


class set_grad_enabled:
    """Turn gradient recording on or off: a function call, a context manager or a decorator (torch.set_grad_enabled).

    Args:
        mode: True to record, False not to.

    Example:
        >>> x = fastdl.ones(2, requires_grad=True)
        >>> with fastdl.set_grad_enabled(False):
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

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
        return _run_inside(fn, lambda: set_grad_enabled(mode))


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
        return _run_inside(fn, type(self))


class no_grad(_GradModeContext):
    """Disable gradient recording, as a context manager or a decorator (torch.no_grad).

    Use it for evaluation and inference: no graph is built, so no buffers are
    kept for backward.

    Example:
        >>> model = nn.Linear(3, 2)
        >>> with fastdl.no_grad():
        ...     y = model(fastdl.randn(4, 3))      # no graph is recorded
        >>> y.requires_grad, y.grad_fn
        (False, None)
        >>> @fastdl.no_grad()
        ... def predict(x):
        ...     return model(x)
        >>> predict(fastdl.randn(1, 3)).requires_grad
        False
    """
    mode = False


class enable_grad(_GradModeContext):
    """Enable gradient recording inside a ``no_grad`` block (torch.enable_grad).

    Example:
        >>> x = fastdl.ones(2, requires_grad=True)
        >>> with fastdl.no_grad():
        ...     with fastdl.enable_grad():
        ...         y = x * 2
        >>> y.requires_grad
        True
    """
    mode = True
