"""The MLP training step's kernels: nn.Sequential's Linear + ReLU node (LinearReLU: bias
and ReLU in the GEMM's epilogue, the ReLU mask applied to the incoming gradient before
Linear's GEMMs), and cross_entropy's log-sum-exp for few classes (16 rows at once, one
lane per row; the padded 16-lane tail of a row otherwise).

Oracles: float64 NumPy formulas, finite differences, and the same Sequential run
unfused (a forward hook on the ReLU turns the fusion off), which must agree bit for
bit: the fused node runs the same GEMMs and the same ReLU comparisons."""

import numpy as np
import pytest

import fastdl
import fastdl.nn as nn
import fastdl.nn.functional as F
from fastdl.testing import gradcheck

# (batch shape, in, out): N = 1, odd widths not multiples of any tile, 3-D input,
# a width above one GEMM block
SHAPES = [((1,), 3, 5), ((7,), 13, 17), ((4, 3), 9, 33), ((37,), 70, 45), ((128,), 784, 40)]


def _pair(rng, shape, fin, fout, dtype, bias=True):
    fastdl.manual_seed(int(rng.integers(1 << 30)))     # the same weights in any test order
    fused = nn.Sequential(nn.Linear(fin, fout, bias=bias, dtype=dtype), nn.ReLU())
    plain = nn.Sequential(nn.Linear(fin, fout, bias=bias, dtype=dtype), nn.ReLU())
    plain.load_state_dict(fused.state_dict())
    plain[1].register_forward_hook(lambda m, i, o: None)    # a hook: no fusion
    x = rng.standard_normal(shape + (fin,)).astype(dtype)
    return fused, plain, x


def _run(seq, x, g):
    xt = fastdl.tensor(x, requires_grad=True)
    y = seq(xt)
    y.backward(fastdl.tensor(g))
    return y, xt.grad.numpy(), [p.grad.numpy() for p in seq.parameters()]


@pytest.mark.parametrize("shape, fin, fout", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
def test_sequential_linear_relu_is_one_node_equal_to_the_unfused_pair(isa, rng, shape, fin,
                                                                      fout, dtype, bias):
    fused, plain, x = _pair(rng, shape, fin, fout, dtype, bias)
    g = rng.standard_normal(shape + (fout,)).astype(dtype)
    yf, dxf, pf = _run(fused, x, g)
    yp, dxp, pp = _run(plain, x, g)
    assert yf.grad_fn.name == "LinearReLUBackward"
    assert yp.grad_fn.name != "LinearReLUBackward"
    assert yf.shape == shape + (fout,)
    assert yf.detach().numpy().tobytes() == yp.detach().numpy().tobytes()
    assert dxf.tobytes() == dxp.tobytes()
    for a, b in zip(pf, pp):
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("shape, fin, fout", SHAPES)
def test_linear_relu_matches_float64_oracle(isa, rng, shape, fin, fout):
    fused, _, x = _pair(rng, shape, fin, fout, np.float32)
    g = rng.standard_normal(shape + (fout,)).astype(np.float32)
    y, dx, (dw, db) = _run(fused, x, g)
    w = fused[0].weight.detach().numpy().astype(np.float64)
    b = fused[0].bias.detach().numpy().astype(np.float64)
    x2 = x.reshape(-1, fin).astype(np.float64)
    pre = x2 @ w.T + b
    ref = np.maximum(pre, 0)
    tol = dict(rtol=1e-4, atol=1e-4 * np.sqrt(fin))
    yv = y.detach().numpy().reshape(-1, fout)
    np.testing.assert_allclose(yv, ref, **tol)
    # a pre-activation within float32 rounding of 0 may fall on either side: there the
    # mask is the one fastdl's forward chose (y > 0), everywhere else float64's
    mask = np.where(np.abs(pre) > 1e-4, pre > 0, yv > 0)
    gm = g.reshape(-1, fout).astype(np.float64) * mask
    np.testing.assert_allclose(dw, gm.T @ x2, rtol=1e-4, atol=1e-4 * np.sqrt(x2.shape[0]))
    np.testing.assert_allclose(db, gm.sum(0), rtol=1e-4, atol=1e-4 * np.sqrt(x2.shape[0]))
    np.testing.assert_allclose(dx.reshape(-1, fin), gm @ w, rtol=1e-4, atol=1e-4 * np.sqrt(fout))


def test_linear_relu_finite_differences(rng):
    seq = nn.Sequential(nn.Linear(6, 5, dtype=np.float64), nn.ReLU())
    # keep pre-activations away from the kink, where the derivative jumps
    with fastdl.no_grad():
        seq[0].bias.copy_(fastdl.tensor(np.array([0.9, -0.8, 0.7, -0.9, 0.6])))
    x = fastdl.tensor(rng.uniform(-0.3, 0.3, (3, 6)), requires_grad=True)
    assert seq(x).grad_fn.name == "LinearReLUBackward"
    assert gradcheck(lambda a, w, b: seq(a), (x, seq[0].weight, seq[0].bias))


def test_linear_relu_bitwise_identical_for_1_and_2_threads(rng):
    fused, _, x = _pair(rng, (128,), 784, 256, np.float32)
    g = rng.standard_normal((128, 256)).astype(np.float32)
    res = []
    old = fastdl.get_num_threads()
    try:
        for n in (1, 2):
            fastdl.set_num_threads(n)
            fused.zero_grad()
            y, dx, ps = _run(fused, x, g)
            res.append([y.detach().numpy(), dx] + ps)
    finally:
        fastdl.set_num_threads(old)
    for a, b in zip(*res):
        assert a.tobytes() == b.tobytes()


def test_linear_relu_keeps_nan_and_masks_its_gradient():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    with fastdl.no_grad():
        seq[0].weight.zero_()
        seq[0].bias.copy_(fastdl.tensor(np.array([np.nan, -1.0, 2.0], np.float32)))
    y = seq(fastdl.zeros(1, 2, requires_grad=True))
    assert y.grad_fn.name == "LinearReLUBackward"
    out = y.detach().numpy()
    assert np.isnan(out[0, 0]) and out[0, 1] == 0 and out[0, 2] == 2
    y.backward(fastdl.ones(1, 3))
    # NaN > 0 and -1 > 0 are false: ReLU's backward passes no gradient through either
    np.testing.assert_array_equal(seq[0].bias.grad.numpy(), [0, 0, 1])


def test_linear_relu_without_grad_and_under_no_grad(rng):
    fused, plain, x = _pair(rng, (5,), 7, 9, np.float32)
    xt = fastdl.tensor(x)
    ref = plain(xt).detach().numpy()
    assert fused(xt).detach().numpy().tobytes() == ref.tobytes()
    with fastdl.no_grad():
        y = fused(xt)
    assert y.grad_fn is None and y.numpy().tobytes() == ref.tobytes()
    with fastdl.inference_mode():
        assert fused(xt).numpy().tobytes() == ref.tobytes()


def test_linear_relu_shape_error_names_linear():
    seq = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    with pytest.raises(ValueError, match=r"Linear: expected input of shape \(\*, 4\)"):
        seq(fastdl.randn(2, 5))


def test_linear_relu_not_fused_when_a_hook_or_forward_can_see_the_linear_output(rng):
    seen = []
    seq = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    seq[0].register_forward_hook(lambda m, i, o: seen.append(o.detach().numpy().copy()))
    y = seq(fastdl.randn(2, 4, requires_grad=True))
    assert y.grad_fn.name == "ReluBackward" and len(seen) == 1
    seq2 = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    seq2[1].forward = lambda t: t * 2        # a replaced forward is honoured
    y2 = seq2(fastdl.ones(1, 4))
    ref = seq2[0](fastdl.ones(1, 4)) * 2
    np.testing.assert_array_equal(y2.detach().numpy(), ref.detach().numpy())


def test_linear_relu_gradient_accumulates_and_intermediate_consumers(rng):
    fused, plain, x = _pair(rng, (6,), 5, 4, np.float32)
    g = rng.standard_normal((6, 4)).astype(np.float32)
    for seq in (fused, plain):
        _run(seq, x, g)
        _run(seq, x, g)      # .grad accumulates over two backwards
    for a, b in zip(fused.parameters(), plain.parameters()):
        assert a.grad.numpy().tobytes() == b.grad.numpy().tobytes()
    # the fused output used twice: both gradients reach the node
    xt = fastdl.tensor(x, requires_grad=True)
    y = fused(xt)
    (y * 2 + y).sum().backward()
    xp = fastdl.tensor(x, requires_grad=True)
    yp = plain(xp)
    (yp * 2 + yp).sum().backward()
    assert xt.grad.numpy().tobytes() == xp.grad.numpy().tobytes()


def test_linear_relu_mlp_trains_like_the_unfused_one(rng):
    """Three Adam steps of the benchmark's MLP shape, fused against unfused: same weights."""
    def make(fuse):
        fastdl.manual_seed(0)
        m = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(),
                          nn.Linear(8, 3))
        if not fuse:
            for k in (1, 3):
                m[k].register_forward_hook(lambda mod, i, o: None)
        return m
    x = rng.standard_normal((32, 20)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    out = []
    for fuse in (True, False):
        m = make(fuse)
        opt = fastdl.optim.Adam(m.parameters(), lr=1e-2)
        for _ in range(3):
            loss = F.cross_entropy(m(fastdl.tensor(x)), fastdl.tensor(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
        out.append([p.detach().numpy().copy() for p in m.parameters()])
    for a, b in zip(*out):
        assert a.tobytes() == b.tobytes()


# ---- cross_entropy's log-sum-exp for few classes ---------------------------------------

@pytest.mark.parametrize("C", [1, 2, 10, 15, 16, 17, 33])
@pytest.mark.parametrize("N", [9, 33])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_small_rows_match_float64_oracle(isa, rng, C, N, dtype):
    x = (rng.standard_normal((N, C)) * 3).astype(dtype)
    t = rng.integers(0, C, N)
    xt = fastdl.tensor(x, requires_grad=True)
    loss = F.cross_entropy(xt, fastdl.tensor(t), reduction="none")
    x64 = x.astype(np.float64)
    m = x64.max(1, keepdims=True)
    lse = (m + np.log(np.exp(x64 - m).sum(1, keepdims=True)))[:, 0]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(loss.detach().numpy(), lse - x64[np.arange(N), t], rtol=tol,
                               atol=tol)
    loss.sum().backward()
    p = np.exp(x64 - lse[:, None])
    p[np.arange(N), t] -= 1
    np.testing.assert_allclose(xt.grad.numpy(), p, rtol=tol, atol=tol)


def test_cross_entropy_small_rows_inf_and_nan(isa):
    x = np.array([[0.0, -np.inf, 1.0], [np.inf, 0.0, 1.0], [np.nan, 0.0, 1.0],
                  [-np.inf, -np.inf, -np.inf]], np.float32)
    loss = F.cross_entropy(fastdl.tensor(x), fastdl.tensor([0, 1, 1, 2]), reduction="none")
    ref = np.log(1 + np.e) - 0.0
    np.testing.assert_allclose(loss.numpy()[0], ref, rtol=1e-6)
    # PyTorch 2.13 gives [1.3133, nan, nan, nan]: an inf logit makes inf - inf
    assert np.isnan(loss.numpy()[1:]).all()


def test_cross_entropy_bitwise_identical_across_isas(rng):
    """The row sums combine 16 lanes in one fixed order on every ISA."""
    from fastdl._C import _core
    order = ("generic", "avx2", "avx512")
    isas = order[:order.index(_core.detected_isa()) + 1]
    x = rng.standard_normal((64, 10)).astype(np.float32)
    t = rng.integers(0, 10, 64)
    prev = _core.get_isa()
    out = []
    try:
        for name in isas:
            _core.set_isa(name)
            out.append(F.cross_entropy(fastdl.tensor(x), fastdl.tensor(t),
                                       reduction="none").numpy().tobytes())
    finally:
        _core.set_isa(prev)
    assert len(set(out)) == 1


@pytest.mark.parametrize("C", list(range(1, 18)))
@pytest.mark.parametrize("N", [1, 5, 16, 17, 40])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_lse_of_16_rows_is_the_per_row_lse_bit_for_bit(isa, rng, C, N, dtype):
    """Index targets with C <= 16 take the 16-rows-at-once log-sum-exp; probability
    targets still compute it row by row (act_rows.h row_lse): the saved lse must agree
    bit for bit, -inf entries and all -inf rows included."""
    from fastdl._C import nn as _nn
    x = (rng.standard_normal((N, C)) * 4).astype(dtype)
    if N > 3:
        x[1, 0] = -np.inf
        x[2, :] = -np.inf
    t = rng.integers(0, C, N)
    _, lse_rows16 = _nn.cross_entropy_forward(x, t, None, -100, 0.0)
    _, lse_rowwise = _nn.cross_entropy_forward(x, np.eye(C, dtype=dtype)[t], None, -100, 0.0)
    assert lse_rows16.tobytes() == lse_rowwise.tobytes()


@pytest.mark.parametrize("kw", [dict(weight=True), dict(label_smoothing=0.1),
                                dict(ignore_index=3), dict(weight=True, label_smoothing=0.2)])
def test_cross_entropy_few_classes_options_match_float64_oracle(isa, rng, kw):
    N, C = 37, 10
    x = (rng.standard_normal((N, C)) * 2).astype(np.float32)
    t = rng.integers(0, C, N)
    w = rng.uniform(0.5, 2.0, C).astype(np.float32) if kw.get("weight") else None
    e = kw.get("label_smoothing", 0.0)
    ii = kw.get("ignore_index", -100)
    loss = F.cross_entropy(fastdl.tensor(x), fastdl.tensor(t),
                           weight=None if w is None else fastdl.tensor(w),
                           ignore_index=ii, label_smoothing=e, reduction="none").numpy()
    x64 = x.astype(np.float64)
    logp = x64 - (x64.max(1, keepdims=True)
                  + np.log(np.exp(x64 - x64.max(1, keepdims=True)).sum(1, keepdims=True)))
    w64 = np.ones(C) if w is None else w.astype(np.float64)
    ref = -(1 - e) * w64[t] * logp[np.arange(N), t] - e / C * (w64 * logp).sum(1)
    ref[t == ii] = 0
    np.testing.assert_allclose(loss, ref, rtol=1e-5, atol=1e-6)


def test_cross_entropy_few_classes_bitwise_identical_for_1_and_2_threads(rng):
    x = rng.standard_normal((4001, 10)).astype(np.float32)      # 40010 values: 2 threads
    t = rng.integers(0, 10, 4001)
    out = []
    old = fastdl.get_num_threads()
    try:
        for n in (1, 2):
            fastdl.set_num_threads(n)
            xt = fastdl.tensor(x, requires_grad=True)
            loss = F.cross_entropy(xt, fastdl.tensor(t))
            loss.backward()
            out.append((loss.detach().numpy().tobytes(), xt.grad.numpy().tobytes()))
    finally:
        fastdl.set_num_threads(old)
    assert out[0] == out[1]
