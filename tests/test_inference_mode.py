"""fastdl.inference_mode: PyTorch's context manager / decorator; no graph is recorded."""
import threading

import numpy as np
import pytest

import fastdl
import fastdl.nn as nn


def _model():
    fastdl.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))


def test_context_manager_records_no_graph():
    m = _model()
    x = fastdl.randn(4, 6)
    assert not fastdl.is_inference_mode_enabled() and fastdl.is_grad_enabled()
    with fastdl.inference_mode():
        assert fastdl.is_inference_mode_enabled() and not fastdl.is_grad_enabled()
        y = m(x)
        z = (y * 2).sum()
    assert not y.requires_grad and y.grad_fn is None
    assert not z.requires_grad and z.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        z.backward()
    # outside, recording is back on
    assert fastdl.is_grad_enabled() and not fastdl.is_inference_mode_enabled()
    assert m(x).grad_fn is not None


def test_same_values_as_grad_mode():
    m = _model()
    x = fastdl.randn(5, 6)
    ref = m(x).detach().numpy().copy()
    with fastdl.inference_mode():
        out = m(x).numpy()
    np.testing.assert_array_equal(out, ref)


def test_tensors_made_inside_do_not_require_grad():
    w = fastdl.randn(3, requires_grad=True)
    with fastdl.inference_mode():
        v = w * 3 + 1
        f = fastdl.nn.functional.relu(w)
    assert not v.requires_grad and not f.requires_grad
    assert w.requires_grad and w.grad is None


def test_decorator_with_and_without_parentheses():
    w = fastdl.randn(3, requires_grad=True)

    @fastdl.inference_mode()
    def f1(x):
        assert fastdl.is_inference_mode_enabled()
        return x * 2

    @fastdl.inference_mode
    def f2(x):
        assert fastdl.is_inference_mode_enabled()
        return x * 2

    assert f1.__name__ == "f1" and f2.__name__ == "f2"
    assert not f1(w).requires_grad and not f2(w).requires_grad
    assert fastdl.is_grad_enabled() and not fastdl.is_inference_mode_enabled()


def test_mode_false_turns_it_off_and_grad_on():
    w = fastdl.randn(3, requires_grad=True)
    with fastdl.inference_mode():
        with fastdl.inference_mode(mode=False):
            assert not fastdl.is_inference_mode_enabled() and fastdl.is_grad_enabled()
            y = w * 2
        assert fastdl.is_inference_mode_enabled() and not fastdl.is_grad_enabled()
    assert y.requires_grad
    with fastdl.inference_mode(False):
        assert fastdl.is_grad_enabled()

    @fastdl.inference_mode(False)
    def g(x):
        return x * 2
    with fastdl.inference_mode():
        assert g(w).requires_grad


def test_inside_no_grad_and_restored_on_exception():
    with fastdl.no_grad():
        with fastdl.inference_mode():
            pass
        assert not fastdl.is_grad_enabled() and not fastdl.is_inference_mode_enabled()
    with pytest.raises(ZeroDivisionError):
        with fastdl.inference_mode():
            1 / 0
    assert fastdl.is_grad_enabled() and not fastdl.is_inference_mode_enabled()


def test_bad_mode():
    with pytest.raises(TypeError, match="inference_mode: mode must be a bool"):
        fastdl.inference_mode("yes")


def test_thread_local():
    seen = {}

    def other():
        seen["inference"] = fastdl.is_inference_mode_enabled()
        seen["grad"] = fastdl.is_grad_enabled()

    with fastdl.inference_mode():
        th = threading.Thread(target=other)
        th.start()
        th.join()
    assert seen == {"inference": False, "grad": True}


def test_recurrent_and_conv_models():
    fastdl.manual_seed(1)
    lstm = nn.LSTM(4, 5, num_layers=2, batch_first=True)
    conv = nn.Conv2d(1, 2, 3)
    with fastdl.inference_mode():
        out, (h, c) = lstm(fastdl.randn(2, 3, 4))
        y = conv(fastdl.randn(1, 1, 5, 5))
    for t in (out, h, c, y):
        assert not t.requires_grad and t.grad_fn is None
