"""A 2-layer regression with raw Tensors, autograd and manual SGD: the loss falls >= 10x."""
import numpy as np
import pytest

gemm = pytest.importorskip("fastdl._C.gemm")

import fastdl  # noqa: E402


@pytest.mark.parametrize("nonlinearity", ["maximum", "clip"])
def test_two_layer_regression_loss_falls_10x(nonlinearity):
    rng = np.random.default_rng(0)
    n, d, h = 256, 8, 32
    X = rng.standard_normal((n, d)).astype(np.float32)
    w_true = rng.standard_normal((d, 1)).astype(np.float32)
    v = rng.standard_normal((d, 1)).astype(np.float32)
    y = (X @ w_true + np.maximum(X @ v, 0) + 0.5).astype(np.float32)
    x_t, y_t = fastdl.from_numpy(X), fastdl.from_numpy(y)

    fastdl.manual_seed(0)
    w1 = (fastdl.randn(d, h) * (1.0 / np.sqrt(d))).requires_grad_()
    b1 = fastdl.zeros(h, requires_grad=True)
    w2 = (fastdl.randn(h, 1) * (1.0 / np.sqrt(h))).requires_grad_()
    b2 = fastdl.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]

    def act(z):
        return fastdl.maximum(z, 0) if nonlinearity == "maximum" else z.clip(min=0)

    losses = []
    lr = 0.1
    for step in range(300):
        pred = act(x_t @ w1 + b1) @ w2 + b2
        loss = ((pred - y_t) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with fastdl.no_grad():
            for p in params:
                p -= lr * p.grad
        losses.append(loss.item())
    assert all(np.isfinite(losses))
    assert losses[-1] < losses[0] / 10, (losses[0], losses[-1])
    for p in params:
        assert p.is_leaf and p.requires_grad and p.dtype == np.float32
