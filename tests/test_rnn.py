"""RNN, LSTM, GRU and their cells: kernels against NumPy references written
here, gradients against finite differences, and everything against PyTorch
when it is installed.

The float32 cell rows dispatch on the ISA: the cell-kernel tests and the
float32 layer test take the `isa` fixture (tests/conftest.py)."""
import itertools

import numpy as np
import pytest

import fastdl
from fastdl._C import _core
from fastdl._C import rnn as crnn
from fastdl.nn.rnn import (GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell, gru_cell, lstm_cell,
                           rnn_cell)
from fastdl.testing import gradcheck

F64 = np.float64


def T(a, grad=False):
    return fastdl.Tensor(np.ascontiguousarray(a), requires_grad=grad)


def N(t):
    return t.detach().numpy()


def sig(v):
    return 1.0 / (1.0 + np.exp(-v))


# ---- float64 NumPy references of PyTorch's equations ---------------------------------------

def ref_lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    g = x @ w_ih.T + h @ w_hh.T
    if b_ih is not None:
        g = g + b_ih + b_hh
    i, f, gg, o = np.split(g, 4, axis=-1)
    c2 = sig(f) * c + sig(i) * np.tanh(gg)
    return sig(o) * np.tanh(c2), c2


def ref_gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    gi = x @ w_ih.T + (0 if b_ih is None else b_ih)
    gh = h @ w_hh.T + (0 if b_hh is None else b_hh)
    ir, iz, in_ = np.split(gi, 3, axis=-1)
    hr, hz, hn = np.split(gh, 3, axis=-1)
    r, z = sig(ir + hr), sig(iz + hz)
    n = np.tanh(in_ + r * hn)
    return (1 - z) * n + z * h


def ref_rnn_step(x, h, w_ih, w_hh, b_ih, b_hh, relu):
    p = x @ w_ih.T + h @ w_hh.T
    if b_ih is not None:
        p = p + b_ih + b_hh
    return np.maximum(p, 0) if relu else np.tanh(p)


def ref_sequence(kind, x, h0, c0, weights, L, D, H, batch_first):
    """(y, h_n, c_n) in float64. weights[k] = (w_ih, w_hh, b_ih, b_hh), k = layer*D + dir."""
    x = np.asarray(x, F64)
    if batch_first:
        x = x.swapaxes(0, 1)
    Ts, B = x.shape[:2]
    h0 = np.zeros((L * D, B, H)) if h0 is None else np.asarray(h0, F64)
    c0 = np.zeros((L * D, B, H)) if c0 is None else np.asarray(c0, F64)
    hn, cn = np.zeros_like(h0), np.zeros_like(c0)
    inp = x
    for layer in range(L):
        outs = []
        for d in range(D):
            k = layer * D + d
            w = [None if a is None else np.asarray(a, F64) for a in weights[k]]
            h, c = h0[k], c0[k]
            ys = [None] * Ts
            steps = range(Ts) if d == 0 else range(Ts - 1, -1, -1)
            for t in steps:
                if kind == "lstm":
                    h, c = ref_lstm_step(inp[t], h, c, *w)
                elif kind == "gru":
                    h = ref_gru_step(inp[t], h, *w)
                else:
                    h = ref_rnn_step(inp[t], h, *w, relu=kind == "rnn_relu")
                ys[t] = h
            hn[k], cn[k] = h, c
            outs.append(np.stack(ys))
        inp = np.concatenate(outs, axis=-1)
    y = inp.swapaxes(0, 1) if batch_first else inp
    return y, hn, cn


KINDS = ["lstm", "gru", "rnn_tanh", "rnn_relu"]


def make(kind, *args, **kw):
    if kind == "lstm":
        return LSTM(*args, **kw)
    if kind == "gru":
        return GRU(*args, **kw)
    return RNN(*args, nonlinearity="relu" if kind == "rnn_relu" else "tanh", **kw)


def layer_weights(m):
    out = []
    for layer in range(m.num_layers):
        for d in range(2 if m.bidirectional else 1):
            s = "_l%d%s" % (layer, "_reverse" if d else "")
            out.append(tuple(N(getattr(m, n + s)) if m.bias else None
                             if n.startswith("bias") else N(getattr(m, n + s))
                             for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")))
    return out


def run(m, x, h0=None, c0=None):
    """(y, h_n, c_n or None) as Tensors, whatever the module kind."""
    if isinstance(m, LSTM):
        hx = None if h0 is None else (h0, c0)
        y, (h, c) = m(x, hx)
        return y, h, c
    y, h = m(x, h0)
    return y, h, None


# ---- cell kernels --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype,tol", [(np.float32, 2e-6), (np.float64, 1e-14)])
@pytest.mark.parametrize("B,H", [(1, 1), (3, 5), (4, 37)])
def test_cell_kernels_forward_match_numpy(isa, dtype, tol, B, H):
    rng = np.random.default_rng(B * 100 + H)
    gates = rng.standard_normal((B, 4 * H)) * 3
    c_prev = rng.standard_normal((B, H))
    h, c, act, tanh_c = crnn.lstm_cell_forward(gates.astype(dtype), c_prev.astype(dtype))
    i, f, g, o = np.split(gates, 4, axis=1)
    c_ref = sig(f) * c_prev + sig(i) * np.tanh(g)
    np.testing.assert_allclose(c, c_ref, atol=tol * 10, rtol=0)
    np.testing.assert_allclose(h, sig(o) * np.tanh(c_ref), atol=tol * 10, rtol=0)
    np.testing.assert_allclose(act, np.concatenate([sig(i), sig(f), np.tanh(g), sig(o)], 1),
                               atol=tol, rtol=0)

    gi, gh = rng.standard_normal((B, 3 * H)) * 2, rng.standard_normal((B, 3 * H)) * 2
    hp = rng.standard_normal((B, H))
    h, act, ghn = crnn.gru_cell_forward(gi.astype(dtype), gh.astype(dtype), hp.astype(dtype))
    r = sig(gi[:, :H] + gh[:, :H])
    z = sig(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    np.testing.assert_allclose(h, (1 - z) * n + z * hp, atol=tol * 10, rtol=0)
    np.testing.assert_allclose(ghn, gh[:, 2 * H:], atol=tol, rtol=0)

    pre = rng.standard_normal((B, H)) * 4
    np.testing.assert_allclose(crnn.rnn_tanh_cell_forward(pre.astype(dtype)), np.tanh(pre),
                               atol=tol, rtol=0)
    np.testing.assert_array_equal(crnn.rnn_relu_cell_forward(pre.astype(dtype)),
                                  np.maximum(pre, 0).astype(dtype))


def test_cell_saturates_and_propagates_nan(isa):
    # H = 2: i = (-200, 200), f = (50, -50), g = (nan, 0), o = (0, 0)
    g = np.array([[-200, 200, 50, -50, np.nan, 0, 0, 0]], np.float32)
    h, c, act, _ = crnn.lstm_cell_forward(g, np.zeros((1, 2), np.float32))
    assert act[0, 0] == 0 and act[0, 1] == 1 and act[0, 2] == 1 and 0 <= act[0, 3] < 1e-20
    assert np.isnan(act[0, 4]) and act[0, 5] == 0 and act[0, 6] == 0.5
    assert np.isnan(c[0, 0]) and np.isnan(h[0, 0]) and c[0, 1] == 0
    pre = np.array([[np.nan, -1.0, 50.0, -50.0, 1e-3]], np.float32)
    t = crnn.rnn_tanh_cell_forward(pre)
    assert np.isnan(t[0, 0]) and t[0, 2] == 1 and t[0, 3] == -1
    assert abs(t[0, 4] - np.tanh(1e-3)) < 1e-7
    assert np.isnan(crnn.rnn_relu_cell_forward(pre)[0, 0])


@pytest.mark.parametrize("B,H", [(1, 1), (3, 5), (4, 37)])
def test_cell_kernels_backward_float32_match_float64(isa, B, H):
    """The float32 backward rows of each ISA against the float64 backward
    kernels (checked by finite differences below), on the same inputs."""
    rng = np.random.default_rng(B * 10 + H)

    def both(fn, *arrays):
        a32 = [a.astype(np.float32) for a in arrays]
        return fn(*a32), fn(*[a.astype(F64) for a in a32])

    def close(got32, want64):
        for g, w in zip(got32, want64):
            assert g.dtype == np.float32
            np.testing.assert_allclose(g, w, atol=2e-6 * (1 + np.abs(w).max()), rtol=1e-5)

    gates, c_prev = rng.standard_normal((B, 4 * H)) * 3, rng.standard_normal((B, H))
    _, _, act, tanh_c = crnn.lstm_cell_forward(gates, c_prev)
    dh, dc = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    close(*both(crnn.lstm_cell_backward, act, tanh_c, c_prev, dh, dc))
    close(*both(lambda a, t, c, d: crnn.lstm_cell_backward(a, t, c, d), act, tanh_c, c_prev, dh))

    gi, gh = rng.standard_normal((B, 3 * H)) * 2, rng.standard_normal((B, 3 * H)) * 2
    hp = rng.standard_normal((B, H))
    _, act, ghn = crnn.gru_cell_forward(gi, gh, hp)
    close(*both(crnn.gru_cell_backward, act, ghn, hp, dh))

    pre = rng.standard_normal((B, H)) * 4
    for nl in ("tanh", "relu"):
        h = getattr(crnn, "rnn_%s_cell_forward" % nl)(pre)
        g32, g64 = both(getattr(crnn, "rnn_%s_cell_backward" % nl), h, dh)
        close([g32], [g64])


def test_gradcheck_lstm_cell():
    rng = np.random.default_rng(1)
    gates = T(rng.standard_normal((3, 4 * 4)), True)
    c = T(rng.standard_normal((3, 4)), True)
    assert gradcheck(lambda g, c_: lstm_cell(g, c_), [gates, c])
    # only one of the two outputs used
    assert gradcheck(lambda g, c_: lstm_cell(g, c_)[1], [gates, c])
    assert gradcheck(lambda g, c_: lstm_cell(g, c_)[0], [gates, c])


def test_gradcheck_gru_cell():
    rng = np.random.default_rng(2)
    gi = T(rng.standard_normal((2, 9)), True)
    gh = T(rng.standard_normal((2, 9)), True)
    h = T(rng.standard_normal((2, 3)), True)
    assert gradcheck(gru_cell, [gi, gh, h])


@pytest.mark.parametrize("nl", ["tanh", "relu"])
def test_gradcheck_rnn_cell(nl):
    rng = np.random.default_rng(3)
    v = rng.uniform(0.1, 2.0, (3, 4)) * rng.choice([-1, 1], (3, 4))   # away from relu's kink
    pre = T(v, True)
    assert gradcheck(lambda p: rnn_cell(p, nl), [pre])


# ---- whole layers: forward against the NumPy reference -------------------------------------

CONFIGS = [  # (num_layers, bidirectional, batch_first, initial states, bias)
    (1, False, False, False, True),
    (2, True, True, True, True),
    (2, False, False, True, False),
    (3, True, False, False, True),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("L,bi,bf,states,bias", CONFIGS)
def test_forward_matches_numpy_reference(kind, L, bi, bf, states, bias):
    fastdl.manual_seed(4)
    Ts, B, I, H = 5, 3, 4, 6
    D = 2 if bi else 1
    m = make(kind, I, H, L, bias=bias, batch_first=bf, bidirectional=bi, dtype=F64)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((B, Ts, I) if bf else (Ts, B, I))
    h0 = rng.standard_normal((L * D, B, H)) if states else None
    c0 = rng.standard_normal((L * D, B, H)) if states else None
    y, h, c = run(m, T(x), None if h0 is None else T(h0), None if c0 is None else T(c0))
    yr, hr, cr = ref_sequence(kind, x, h0, c0 if kind == "lstm" else None, layer_weights(m),
                              L, D, H, bf)
    assert y.shape == ((B, Ts, D * H) if bf else (Ts, B, D * H))
    np.testing.assert_allclose(N(y), yr, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(N(h), hr, rtol=1e-12, atol=1e-12)
    if kind == "lstm":
        np.testing.assert_allclose(N(c), cr, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("B,H", [(5, 33), (32, 200)])    # serial / threaded time loop
def test_float32_forward_close_to_float64_reference(isa, kind, B, H):
    fastdl.manual_seed(6)
    m = make(kind, 16, H, 2, bidirectional=True)
    x = np.random.default_rng(7).standard_normal((7, B, 16)).astype(np.float32)
    old = _core.get_num_threads()
    _core.set_num_threads(2)
    try:
        y, h, _ = run(m, T(x))
    finally:
        _core.set_num_threads(old)
    yr, hr, _ = ref_sequence(kind, x, None, None, layer_weights(m), 2, 2, H, False)
    np.testing.assert_allclose(N(y), yr, atol=2e-5, rtol=1e-4)
    np.testing.assert_allclose(N(h), hr, atol=2e-5, rtol=1e-4)


def test_unbatched_input():
    fastdl.manual_seed(8)
    m = LSTM(3, 4, 2, dtype=F64)
    x = np.random.default_rng(9).standard_normal((5, 3))
    y, (h, c) = m(T(x))
    assert y.shape == (5, 4) and h.shape == (2, 4) and c.shape == (2, 4)
    yb, (hb, cb) = m(T(x[:, None, :]))
    np.testing.assert_array_equal(N(y), N(yb)[:, 0])
    np.testing.assert_array_equal(N(c), N(cb)[:, 0])


@pytest.mark.parametrize("kind", KINDS)
def test_empty_sequence_or_batch_and_strided_input(kind):
    m = make(kind, 2, 3, 2, bidirectional=True, dtype=F64)
    h0 = T(np.random.default_rng(26).standard_normal((4, 2, 3)), True)
    y, h, c = run(m, T(np.zeros((0, 2, 2)), True), h0, T(np.zeros((4, 2, 3))))
    assert y.shape == (0, 2, 6)
    np.testing.assert_array_equal(N(h), N(h0))          # no step: h_n = h_0
    h.sum().backward()
    np.testing.assert_array_equal(N(h0.grad), np.ones((4, 2, 3)))
    y, h, c = run(m, T(np.zeros((3, 0, 2))))
    assert y.shape == (3, 0, 6) and h.shape == (4, 0, 3)
    base = np.random.default_rng(27).standard_normal((2, 5, 2))
    xs = fastdl.Tensor(base.transpose(1, 0, 2))          # a strided view, not a copy
    y1, _, _ = run(m, xs)
    y2, _, _ = run(m, T(base.transpose(1, 0, 2).copy()))
    np.testing.assert_array_equal(N(y1), N(y2))


def test_zero_hx_equals_no_hx():
    fastdl.manual_seed(10)
    m = GRU(3, 4, 2, bidirectional=True)
    x = T(np.random.default_rng(11).standard_normal((4, 2, 3)).astype(np.float32))
    y1, h1 = m(x)
    y2, h2 = m(x, fastdl.zeros(4, 2, 4))
    np.testing.assert_array_equal(N(y1), N(y2))
    np.testing.assert_array_equal(N(h1), N(h2))


# ---- gradients -------------------------------------------------------------------------------

GRAD_CONFIGS = [  # (num_layers, bidirectional, batch_first, initial states, bias)
    (2, True, True, True, True),
    (1, False, False, True, False),
    (2, False, False, False, True),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("L,bi,bf,states,bias", GRAD_CONFIGS)
def test_gradcheck_sequence(kind, L, bi, bf, states, bias):
    fastdl.manual_seed(12)
    Ts, B, I, H = 3, 2, 3, 2
    D = 2 if bi else 1
    m = make(kind, I, H, L, bias=bias, batch_first=bf, bidirectional=bi, dtype=F64)
    rng = np.random.default_rng(13)
    if kind == "rnn_relu":      # keep pre-activations away from relu's kink
        for p in m.parameters():
            p._data[...] = np.abs(p._data) + 0.1
    x = T(rng.uniform(0.2, 1.0, (B, Ts, I) if bf else (Ts, B, I)), True)
    inputs = [x]
    h0 = c0 = None
    if states:
        h0 = T(rng.standard_normal((L * D, B, H)) * (kind != "rnn_relu") + 0.3, True)
        inputs.append(h0)
        if kind == "lstm":
            c0 = T(rng.standard_normal((L * D, B, H)), True)
            inputs.append(c0)
    params = list(m.parameters())

    def fn(*args):
        y, h, c = run(m, x, h0, c0)
        return (y, h) if c is None else (y, h, c)
    assert gradcheck(fn, inputs + params, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gradcheck_with_dropout_between_layers(kind):
    Ts, B, I, H = 3, 2, 2, 3
    fastdl.manual_seed(14)
    m = make(kind, I, H, 2, dropout=0.4, dtype=F64)
    m.train()
    x = T(np.random.default_rng(15).standard_normal((Ts, B, I)), True)

    def fn(x_, *params):
        fastdl.manual_seed(99)          # the same mask in every evaluation
        y, h, c = run(m, x_)
        return y, h
    assert gradcheck(fn, [x] + list(m.parameters()), atol=1e-6, rtol=1e-4)


def test_only_final_state_or_only_output_gets_gradients():
    fastdl.manual_seed(16)
    m = LSTM(3, 4, 2, bidirectional=True, dtype=F64)
    x = T(np.random.default_rng(17).standard_normal((5, 2, 3)), True)
    _, (h, c) = m(x)
    c.sum().backward()
    g_c = x.grad.numpy().copy()
    assert np.abs(g_c).sum() > 0
    x.grad = None
    m.zero_grad()
    y, _ = m(x)
    y.sum().backward()
    assert np.abs(x.grad.numpy()).sum() > 0
    assert m.weight_hh_l1_reverse.grad is not None


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
def test_cells_gradcheck_and_match_reference(kind):
    fastdl.manual_seed(18)
    cls = {"lstm": LSTMCell, "gru": GRUCell, "rnn_tanh": RNNCell}[kind]
    cell = cls(3, 4, dtype=F64)
    rng = np.random.default_rng(19)
    x = T(rng.standard_normal((2, 3)), True)
    h = T(rng.standard_normal((2, 4)), True)
    c = T(rng.standard_normal((2, 4)), True)
    w = [N(cell.weight_ih), N(cell.weight_hh), N(cell.bias_ih), N(cell.bias_hh)]
    if kind == "lstm":
        h2, c2 = cell(x, (h, c))
        hr, cr = ref_lstm_step(N(x), N(h), N(c), *w)
        np.testing.assert_allclose(N(c2), cr, atol=1e-12)
        assert gradcheck(lambda *a: cell(x, (h, c)), [x, h, c] + list(cell.parameters()))
    else:
        h2 = cell(x, h)
        hr = (ref_gru_step(N(x), N(h), *w) if kind == "gru"
              else ref_rnn_step(N(x), N(h), *w, relu=False))
        assert gradcheck(lambda *a: cell(x, h), [x, h] + list(cell.parameters()))
    np.testing.assert_allclose(N(h2), hr, atol=1e-12)
    assert (cell(x[0]) if kind != "lstm" else cell(x[0])[0]).shape == (4,)


# ---- PyTorch compatibility -------------------------------------------------------------------

TORCH_CONFIGS = [  # (num_layers, bidirectional, batch_first, initial states)
    (2, True, True, True),
    (1, False, False, False),
    (2, False, True, True),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("L,bi,bf,states", TORCH_CONFIGS)
def test_matches_torch(kind, L, bi, bf, states):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    I, H, Ts, B = 6, 9, 7, 4
    D = 2 if bi else 1
    kw = dict(num_layers=L, bidirectional=bi, batch_first=bf)
    if kind == "lstm":
        t = torch.nn.LSTM(I, H, **kw)
    elif kind == "gru":
        t = torch.nn.GRU(I, H, **kw)
    else:
        t = torch.nn.RNN(I, H, nonlinearity=kind[4:], **kw)
    m = make(kind, I, H, **kw)
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    assert list(m.state_dict()) == list(t.state_dict())
    rng = np.random.default_rng(20)
    x = rng.standard_normal((B, Ts, I) if bf else (Ts, B, I)).astype(np.float32)
    h0 = rng.standard_normal((L * D, B, H)).astype(np.float32)
    c0 = rng.standard_normal((L * D, B, H)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    h0t, c0t = torch.tensor(h0, requires_grad=True), torch.tensor(c0, requires_grad=True)
    xf, h0f, c0f = T(x, True), T(h0, True), T(c0, True)
    wy = rng.standard_normal((B, Ts, D * H) if bf else (Ts, B, D * H)).astype(np.float32)
    wh = rng.standard_normal((L * D, B, H)).astype(np.float32)
    if kind == "lstm":
        yt, (ht, ct) = t(xt, (h0t, c0t) if states else None)
        yf, (hf, cf) = m(xf, (h0f, c0f) if states else None)
        lt = (yt * torch.tensor(wy)).sum() + (ht * torch.tensor(wh)).sum() + (ct * ct).sum()
        lf = (yf * T(wy)).sum() + (hf * T(wh)).sum() + (cf * cf).sum()
        np.testing.assert_allclose(N(cf), ct.detach().numpy(), rtol=1e-4, atol=1e-5)
    else:
        yt, ht = t(xt, h0t if states else None)
        yf, hf = m(xf, h0f if states else None)
        lt = (yt * torch.tensor(wy)).sum() + (ht * torch.tensor(wh)).sum()
        lf = (yf * T(wy)).sum() + (hf * T(wh)).sum()
    np.testing.assert_allclose(N(yf), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(N(hf), ht.detach().numpy(), rtol=1e-4, atol=1e-5)
    lt.backward()
    lf.backward()
    np.testing.assert_allclose(N(xf.grad), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    if states:
        np.testing.assert_allclose(N(h0f.grad), h0t.grad.numpy(), rtol=1e-4, atol=1e-5)
        if kind == "lstm":
            np.testing.assert_allclose(N(c0f.grad), c0t.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name, p in t.named_parameters():
        np.testing.assert_allclose(N(getattr(m, name).grad), p.grad.numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=name)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
def test_cells_match_torch(kind):
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    tc = {"lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell, "rnn_tanh": torch.nn.RNNCell}[kind]
    fc = {"lstm": LSTMCell, "gru": GRUCell, "rnn_tanh": RNNCell}[kind]
    t, m = tc(5, 6), fc(5, 6)
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    x = np.random.default_rng(21).standard_normal((3, 5)).astype(np.float32)
    xt, xf = torch.tensor(x, requires_grad=True), T(x, True)
    ot, of = t(xt), m(xf)
    if kind == "lstm":
        ot, of = ot[0] * 2 + ot[1], of[0] * 2 + of[1]
    np.testing.assert_allclose(N(of), ot.detach().numpy(), rtol=1e-4, atol=1e-5)
    ot.sum().backward()
    of.sum().backward()
    np.testing.assert_allclose(N(xf.grad), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name, p in t.named_parameters():
        np.testing.assert_allclose(N(getattr(m, name).grad), p.grad.numpy(), rtol=1e-4,
                                   atol=1e-5)


# ---- parameters, threads, errors ---------------------------------------------------------------

def test_parameter_names_shapes_and_init():
    fastdl.manual_seed(22)
    m = LSTM(10, 20, num_layers=2, bidirectional=True)
    names = list(m.state_dict())
    expect = []
    for layer in range(2):
        for sfx in ("", "_reverse"):
            expect += ["%s_l%d%s" % (n, layer, sfx)
                       for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    assert names == expect
    assert m.weight_ih_l0.shape == (80, 10) and m.weight_ih_l1.shape == (80, 40)
    assert m.weight_hh_l1_reverse.shape == (80, 20) and m.bias_hh_l0.shape == (80,)
    assert GRU(3, 5, bias=False).weight_hh_l0.shape == (15, 5)
    assert list(GRU(3, 5, bias=False).state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    bound = 1 / np.sqrt(20)
    for p in m.parameters():
        a = N(p)
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.8 * bound
    assert "LSTM(10, 20, num_layers=2, bidirectional=True)" == repr(m)


@pytest.mark.parametrize("kind", KINDS)
def test_bitwise_identical_for_1_and_2_threads(kind):
    # B*H*H large enough that the time loop runs threaded (2*B*G*H >= 2^21 flops),
    # and H = 12 blocks of 16 units, so two threads split the hidden state.
    fastdl.manual_seed(23)
    m = make(kind, 40, 192, 2, bidirectional=True, batch_first=True)
    x = np.random.default_rng(24).standard_normal((32, 9, 40)).astype(np.float32)
    results = []
    old = _core.get_num_threads()
    try:
        for n in (1, 2):
            _core.set_num_threads(n)
            m.zero_grad()
            xf = T(x, True)
            y, h, c = run(m, xf)
            loss = (y * y).sum() + h.sum()
            loss.backward()
            results.append([N(y), N(h), N(xf.grad)] + [N(p.grad) for p in m.parameters()])
    finally:
        _core.set_num_threads(old)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_dropout_training_vs_eval_and_seeded():
    m = GRU(4, 8, 3, dropout=0.5)
    x = T(np.random.default_rng(25).standard_normal((6, 2, 4)).astype(np.float32))
    m.train()
    fastdl.manual_seed(1)
    y1, _ = m(x)
    fastdl.manual_seed(1)
    y2, _ = m(x)
    y3, _ = m(x)
    np.testing.assert_array_equal(N(y1), N(y2))
    assert not np.array_equal(N(y1), N(y3))
    m.eval()
    ye, _ = m(x)
    ye2, _ = m(x)
    np.testing.assert_array_equal(N(ye), N(ye2))
    assert not np.array_equal(N(y1), N(ye))


def test_no_graph_without_grad():
    m = LSTM(3, 4)
    with fastdl.no_grad():
        y, (h, c) = m(fastdl.randn(2, 1, 3))
    assert not y.requires_grad and not h.requires_grad and not c.requires_grad


def test_clear_errors():
    m = LSTM(10, 20, num_layers=2)
    with pytest.raises(ValueError, match=r"LSTM.*input_size=10.*\(5, 3, 7\)"):
        m(fastdl.randn(5, 3, 7))
    with pytest.raises(ValueError, match=r"LSTM.*\(5, 3, 10, 1\)"):
        m(fastdl.randn(5, 3, 10, 1))
    with pytest.raises(ValueError, match=r"LSTM: expected h_0 of shape \(2, 3, 20\).*\(1, 3, 20\)"):
        m(fastdl.randn(5, 3, 10), (fastdl.randn(1, 3, 20), fastdl.randn(2, 3, 20)))
    with pytest.raises(ValueError, match=r"LSTM: expected c_0 of shape \(2, 3, 20\)"):
        m(fastdl.randn(5, 3, 10), (fastdl.randn(2, 3, 20), fastdl.randn(2, 3, 21)))
    with pytest.raises(ValueError, match="tuple"):
        m(fastdl.randn(5, 3, 10), fastdl.randn(2, 3, 20))
    with pytest.raises(TypeError, match="dtype"):
        m(fastdl.randn(5, 3, 10, dtype=fastdl.float64))
    g = GRU(4, 5, batch_first=True)
    with pytest.raises(ValueError, match=r"GRU.*\(N, L, 4\).*\(2, 3, 5\)"):
        g(fastdl.randn(2, 3, 5))
    with pytest.raises(ValueError, match=r"GRU: expected h_0 of shape \(1, 2, 5\)"):
        g(fastdl.randn(2, 3, 4), fastdl.randn(1, 3, 5))
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        LSTM(3, 4, 2, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size"):
        GRU(3, 0)
    with pytest.raises(ValueError, match=r"LSTMCell.*\(N, 3\).*\(2, 4\)"):
        LSTMCell(3, 4)(fastdl.randn(2, 4))
    with pytest.raises(ValueError, match=r"lstm_cell_forward: expected c_prev of shape \(2, 3\)"):
        crnn.lstm_cell_forward(np.zeros((2, 12), np.float32), np.zeros((2, 4), np.float32))
    with pytest.raises(TypeError, match="float32 or float64"):
        crnn.rnn_tanh_cell_forward(np.zeros((2, 3), np.int32))


def test_rnnbase_mode_is_pytorchs_string():
    # PyTorch's RNNBase(mode, ...) with mode 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'
    assert LSTM(3, 4).mode == "LSTM" and GRU(3, 4).mode == "GRU"
    assert RNN(3, 4).mode == "RNN_TANH" and RNN(3, 4, nonlinearity="relu").mode == "RNN_RELU"
    fastdl.manual_seed(0)
    base = fastdl.nn.rnn.RNNBase("GRU", 3, 4)
    fastdl.manual_seed(0)
    gru = GRU(3, 4)
    x = fastdl.randn(5, 2, 3)
    np.testing.assert_array_equal(base(x)[0].detach().numpy(), gru(x)[0].detach().numpy())
    with pytest.raises(ValueError, match="Unrecognized RNN mode"):
        fastdl.nn.rnn.RNNBase("RNN_SIGMOID", 3, 4)


def test_load_state_dict_from_other_architecture_fails():
    m = LSTM(3, 4, 2)
    with pytest.raises(RuntimeError, match="weight_ih_l1"):
        m.load_state_dict(LSTM(3, 4, 1).state_dict())
    with pytest.raises(RuntimeError, match="size mismatch"):
        m.load_state_dict(GRU(3, 4, 2).state_dict())
