"""The short per-call path without a graph (fastdl/nn/_inference.py) and the batch-1
recurrent step: same results as the recorded path, hooks, grad mode and errors unchanged."""
import numpy as np
import pytest

import fastdl
import fastdl.nn as nn
from fastdl.autograd._functions import nn as _fn
from fastdl.nn import _inference


def _mlp(dtype=None):
    fastdl.manual_seed(0)
    return nn.Sequential(nn.Linear(7, 9, dtype=dtype), nn.ReLU(), nn.Linear(9, 5, dtype=dtype),
                         nn.Tanh(), nn.Linear(5, 4, bias=False, dtype=dtype), nn.Sigmoid(),
                         nn.Linear(4, 3, dtype=dtype), nn.SiLU())


class _Counting:
    """Counts the calls of a KernelFunction's apply (the recorded path)."""

    def __init__(self, monkeypatch, cls):
        self.n = 0
        orig = cls.apply

        def apply(*args):
            self.n += 1
            return orig(*args)
        monkeypatch.setattr(cls, "apply", apply)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 7), (5, 7), (0, 7)])
def test_direct_path_bitwise_equal_to_graph_path(dtype, shape):
    m = _mlp(dtype)
    x = fastdl.tensor(np.random.default_rng(1).standard_normal(shape).astype(dtype))
    ref = m(x)                          # grad mode: the Functions, with a graph
    assert ref.grad_fn is not None
    for ctx in (fastdl.inference_mode, fastdl.no_grad):
        with ctx():
            out = m(x)
        assert out.dtype == ref.dtype and out.shape == ref.shape
        assert not out.requires_grad and out.grad_fn is None
        np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())


def test_direct_path_skips_the_functions_only_without_grad(monkeypatch):
    m = _mlp()
    x = fastdl.randn(1, 7)
    lin = _Counting(monkeypatch, _fn.Linear)
    act = _Counting(monkeypatch, _fn.Activation)
    linrelu = _Counting(monkeypatch, _fn.LinearReLU)   # the Sequential's Linear + ReLU
    with fastdl.inference_mode():
        m(x)
    assert (lin.n, act.n, linrelu.n) == (0, 0, 0)
    m(x)
    assert (lin.n, act.n, linrelu.n) == (3, 3, 1)
    # inputs Linear's direct path does not take: 3-D input, another dtype (the
    # activations take any float Tensor directly), and a plain array
    with fastdl.inference_mode():
        y3 = m(fastdl.randn(2, 1, 7))
        y64 = m[0](fastdl.randn(1, 7, dtype=fastdl.float64))
        ya = m[1](np.ones((2, 3), np.float32))
    assert lin.n == 3 + 3 + 1 and linrelu.n == 1 + 1 and act.n == 3 + 1
    assert y3.shape == (2, 1, 3) and y64.dtype == fastdl.float64 and ya.shape == (2, 3)


def test_params_activations_and_gelu_keep_their_path(monkeypatch):
    act = _Counting(monkeypatch, _fn.Activation)
    x = fastdl.randn(2, 3)
    with fastdl.inference_mode():
        a = nn.LeakyReLU(0.2)(x)
        b = nn.GELU(approximate="tanh")(x)
    assert act.n == 2
    np.testing.assert_array_equal(a.numpy(), fastdl.nn.functional.leaky_relu(x, 0.2).numpy())
    np.testing.assert_array_equal(b.numpy(),
                                  fastdl.nn.functional.gelu(x, approximate="tanh").numpy())


def test_hooks_still_called_and_can_replace_the_output():
    m = _mlp()
    seen = []
    m[0].register_forward_hook(lambda mod, args, out: seen.append(("lin", out.shape)))
    m[1].register_forward_hook(lambda mod, args, out: out * 0)
    with fastdl.inference_mode():
        y = m[1](m[0](fastdl.randn(1, 7)))
    assert seen == [("lin", (1, 9))]
    assert float(np.abs(y.numpy()).max()) == 0.0


def test_grad_mode_unaffected():
    m = _mlp()
    x = fastdl.randn(2, 7)
    with fastdl.inference_mode():
        m(x)
        with fastdl.inference_mode(False):
            z = m(x)
    assert z.grad_fn is not None
    y = m(x)
    assert fastdl.is_grad_enabled() and y.requires_grad
    y.sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    # a leaf that requires grad inside no_grad still gets no graph
    xr = fastdl.randn(1, 7, requires_grad=True)
    with fastdl.no_grad():
        assert not m(xr).requires_grad


def test_errors_unchanged_for_bad_input():
    lin = nn.Linear(7, 3)

    def message(x, ctx):
        with ctx():
            with pytest.raises(ValueError) as e:
                lin(x)
        return str(e.value)

    for x in (fastdl.randn(2, 6), fastdl.randn(6), fastdl.tensor(1.0)):
        ref = message(x, fastdl.enable_grad)
        assert "Linear" in ref
        assert message(x, fastdl.inference_mode) == ref
        assert message(x, fastdl.no_grad) == ref
    with fastdl.inference_mode():
        with pytest.raises(TypeError, match="relu"):
            nn.ReLU()(fastdl.tensor([1, 2]))


def test_onnx_tracing_turns_the_direct_path_off():
    from fastdl.autograd.function import KernelFunction
    from fastdl.onnx import _trace
    with fastdl.no_grad():
        assert _inference.direct()
        with _trace._Tracer(recorder=None, convert=None):
            assert KernelFunction.__dict__["apply"] is not _inference._APPLY
            assert not _inference.direct()
        assert _inference.direct()


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("H", [20, 33])
def test_recurrent_rows_alone_match_the_batch(kind, H):
    # batch <= 8 multiplies by W_hh's rows in place (small-M dot), larger batches by
    # the transposed copy: each row run alone must give the batch's result
    fastdl.manual_seed(3)
    m = getattr(nn, kind)(5, H, num_layers=2, dtype=fastdl.float64)
    x = fastdl.tensor(np.random.default_rng(4).standard_normal((6, 12, 5)))
    with fastdl.inference_mode():
        big = m(x)[0].numpy()
        small = np.concatenate([m(x[:, i:i + 4])[0].numpy() for i in range(0, 12, 4)], 1)
        one = np.concatenate([m(x[:, i:i + 1])[0].numpy() for i in range(12)], 1)
    np.testing.assert_allclose(small, big, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(one, big, rtol=1e-12, atol=1e-13)
    y = m(x)[0]
    np.testing.assert_array_equal(y.detach().numpy(), big)
