"""Testing helpers users can call on their own functions."""
import numpy as np

from fastdl.tensor import Tensor

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """Raised by gradcheck when an analytic gradient differs from the finite-difference one.

    Example:
        >>> x = fastdl.tensor([1.0, 2.0], dtype=fastdl.float64, requires_grad=True)
        >>> try:
        ...     fastdl.testing.gradcheck(lambda t: (t * t).detach() + t, [x])  # drops 2t
        ... except fastdl.testing.GradcheckError as e:
        ...     print("caught")
        caught
    """
    pass


def _scalarize(out, weights):
    from fastdl.tensor import mul, sum as tsum
    outs = out if isinstance(out, (tuple, list)) else (out,)
    total = None
    for o, w in zip(outs, weights):
        term = tsum(mul(o, Tensor._wrap(w)))
        total = term if total is None else total + term
    return total


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, raise_exception=True):
    """Compare autograd gradients of fn with central finite differences.

    fn maps Tensors to a Tensor (or a tuple of Tensors). The outputs are
    contracted with fixed random weights, so every output element is checked.
    Use float64 inputs: float32 finite differences are too noisy to judge.

    Args:
        fn: the function under test.
        inputs: a Tensor or a sequence of Tensors; those with requires_grad are checked.
        eps: finite-difference step.
        atol, rtol: tolerance, |analytic - numeric| <= atol + rtol * |numeric|.
    Returns:
        True, or raises GradcheckError naming the input, element and both values.

    Example:
        >>> x = fastdl.randn(3, 4, dtype=fastdl.float64, requires_grad=True)
        >>> fastdl.testing.gradcheck(lambda t: (t * t).sum(1), [x])
        True
    """
    if isinstance(inputs, Tensor):
        inputs = [inputs]
    inputs = list(inputs)
    rng = np.random.default_rng(seed)
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    weights = [rng.standard_normal(o.shape).astype(o.dtype) for o in outs]
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    for t in checked:
        if t.dtype != np.float64:
            raise TypeError("gradcheck: use float64 inputs, got %s" % t.dtype)
        t.grad = None
    _scalarize(out, weights).backward()
    analytic = [np.zeros(t.shape) if t.grad is None else t.grad._data.copy() for t in checked]

    def value():
        from fastdl.autograd import no_grad
        with no_grad():
            return float(_scalarize(fn(*inputs), weights).item())

    for k, t in enumerate(checked):
        flat = t._data.reshape(-1)       # a view: t is perturbed in place
        if not np.shares_memory(flat, t._data):
            raise ValueError("gradcheck: inputs must be contiguous")
        num = np.zeros(flat.size)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            fp = value()
            flat[i] = old - eps
            fm = value()
            flat[i] = old
            num[i] = (fp - fm) / (2 * eps)
        ana = analytic[k].reshape(-1)
        bad = np.abs(ana - num) > atol + rtol * np.abs(num)
        if bad.any():
            i = int(np.argmax(bad))
            if raise_exception:
                raise GradcheckError(
                    "gradcheck: input %d (shape %s), element %d: analytic %.8g vs numeric %.8g "
                    "(%d of %d elements differ)" % (next(j for j, u in enumerate(inputs) if u is t), t.shape,
                                                    i, ana[i], num[i], int(bad.sum()), bad.size))
            return False
    return True
