"""inference_mode: PyTorch's ``torch.inference_mode`` (context manager and decorator).

Inside it no graph is recorded: every op takes the Function's no-grad branch
(forward only, nothing kept for backward), and the tensors made there do not
require grad, even when the model's parameters do. ``inference_mode(False)``
turns it off again (and grad mode on), as in PyTorch.

fastdl has no version counters to skip, so the difference from ``no_grad`` is
the flag ``fastdl.is_inference_mode_enabled()``; what makes inference fast at
batch 1 is the no-grad path itself (benchmarks/inference.py measures it).
"""
import threading

from fastdl.autograd.grad_mode import _mode, _run_inside

__all__ = ["inference_mode", "is_inference_mode_enabled"]


class _InferenceState(threading.local):
    enabled = False


_state = _InferenceState()


def is_inference_mode_enabled():
    """True inside ``fastdl.inference_mode()`` (PyTorch's ``torch.is_inference_mode_enabled``).

    Example:
        >>> fastdl.is_inference_mode_enabled()
        False
        >>> with fastdl.inference_mode():
        ...     fastdl.is_inference_mode_enabled()
        True
    """
    return _state.enabled


class inference_mode:
    """Run without recording a graph, as a context manager or a decorator.

    Args:
        mode: True (default) turns inference mode on; False turns it off, and
            grad mode on, inside an enclosing ``inference_mode()``.

    Example:
        >>> model = fastdl.nn.Linear(3, 2)
        >>> with fastdl.inference_mode():
        ...     y = model(fastdl.randn(4, 3))
        >>> y.requires_grad
        False
        >>> @fastdl.inference_mode()
        ... def predict(x):
        ...     return model(x).argmax(1)
    """

    def __new__(cls, mode=True):
        # @fastdl.inference_mode without parentheses decorates directly, as in PyTorch
        if not isinstance(mode, bool):
            if callable(mode):
                return cls()(mode)
            raise TypeError("inference_mode: mode must be a bool, got %r" % (mode,))
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = mode

    def __enter__(self):
        self._prev = (_mode.enabled, _state.enabled)
        _mode.enabled = not self.mode
        _state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _mode.enabled, _state.enabled = self._prev
        return False

    def __call__(self, fn):
        mode = self.mode
        return _run_inside(fn, lambda: inference_mode(mode))

    def clone(self):
        return inference_mode(self.mode)
