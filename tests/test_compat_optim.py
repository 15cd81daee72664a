"""LBFGS and CosineAnnealingWarmRestarts (issue 12), against torch when installed."""
import math

import numpy as np
import pytest

import fastdl


def _rosen(lib, w):
    return (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2


def _run_lbfgs(lib, ls, steps=3, **kw):
    w = lib.tensor([-1.2, 1.0], dtype=lib.float64, requires_grad=True)
    opt = lib.optim.LBFGS([w], line_search_fn=ls, **kw)
    losses = []

    def closure():
        opt.zero_grad()
        loss = _rosen(lib, w)
        loss.backward()
        return loss
    for _ in range(steps):
        losses.append(float(opt.step(closure)))
    return w.detach().numpy().copy(), losses, opt.state[w]


def test_lbfgs_strong_wolfe_solves_rosenbrock():
    w, losses, state = _run_lbfgs(fastdl, "strong_wolfe", steps=5)
    np.testing.assert_allclose(w, [1.0, 1.0], atol=1e-4)   # where torch stops too
    assert losses[0] > losses[-1]
    assert state["n_iter"] > 5 and state["func_evals"] >= state["n_iter"]
    assert {"d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad"} <= set(state)


def test_lbfgs_fixed_step_decreases_a_quadratic():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((6, 6))
    A = A @ A.T + 6 * np.eye(6)
    b = rng.standard_normal(6)
    w = fastdl.zeros(6, dtype=fastdl.float64, requires_grad=True)
    At, bt = fastdl.tensor(A), fastdl.tensor(b)
    opt = fastdl.optim.LBFGS([w], lr=1, max_iter=50, history_size=5)

    def closure():
        opt.zero_grad()
        loss = 0.5 * (w @ (At @ w)) - bt @ w
        loss.backward()
        return loss
    for _ in range(3):
        opt.step(closure)
    np.testing.assert_allclose(w.detach().numpy(), np.linalg.solve(A, b), atol=1e-4)
    assert len(opt.state[w]["old_dirs"]) <= 5


def test_lbfgs_float32_model_and_errors():
    lin = fastdl.nn.Linear(3, 1)
    x = fastdl.randn(32, 3)
    y = x @ fastdl.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    opt = fastdl.optim.LBFGS(lin.parameters(), line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = fastdl.nn.functional.mse_loss(lin(x), y)
        loss.backward()
        return loss
    first = float(closure())
    for _ in range(3):
        opt.step(closure)
    assert float(closure()) < 1e-6 < first
    with pytest.raises(ValueError, match="strong_wolfe"):
        fastdl.optim.LBFGS(lin.parameters(), line_search_fn="backtracking")
    with pytest.raises(RuntimeError, match="closure"):
        opt.step(None)


@pytest.mark.parametrize("ls", [None, "strong_wolfe"])
def test_lbfgs_matches_torch(ls):
    torch = pytest.importorskip("torch")
    ours = _run_lbfgs(fastdl, ls, steps=2, max_iter=10)
    ref = _run_lbfgs(torch, ls, steps=2, max_iter=10)
    np.testing.assert_allclose(ours[0], ref[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours[1], ref[1], rtol=1e-9)
    assert ours[2]["func_evals"] == ref[2]["func_evals"]
    assert ours[2]["n_iter"] == ref[2]["n_iter"]


def _warm_restarts(lib, steps, T_0, T_mult, eta_min, epochs=None):
    opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
    s = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_mult,
                                                           eta_min=eta_min)
    out = []
    for i in range(steps):
        opt.step()
        if epochs is None:
            s.step()
        else:
            s.step(epochs[i])
        out.append(s.get_last_lr()[0])
    return out


@pytest.mark.parametrize("T_0,T_mult,eta_min", [(3, 1, 0.0), (2, 2, 0.01), (1, 3, 0.0)])
def test_cosine_warm_restarts_formula(T_0, T_mult, eta_min):
    got = _warm_restarts(fastdl, 15, T_0, T_mult, eta_min)
    want, T_i, T_cur = [], T_0, 0
    for _ in range(15):
        T_cur += 1
        if T_cur >= T_i:
            T_cur -= T_i
            T_i *= T_mult
        want.append(eta_min + (0.1 - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    with pytest.raises(ValueError, match="T_0"):
        fastdl.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            fastdl.optim.SGD([fastdl.zeros(1, requires_grad=True)], lr=0.1), T_0=0)


def test_cosine_warm_restarts_matches_torch():
    torch = pytest.importorskip("torch")
    for args in [(12, 2, 2, 0.0), (10, 3, 1, 0.001)]:
        np.testing.assert_allclose(_warm_restarts(fastdl, *args), _warm_restarts(torch, *args),
                                   rtol=1e-12)
    ep = [0.5, 1.25, 2.0, 3.7, 6.1, 9.0]
    np.testing.assert_allclose(_warm_restarts(fastdl, 6, 2, 2, 0.0, ep),
                               _warm_restarts(torch, 6, 2, 2, 0.0, ep), rtol=1e-12)
