"""Max pooling through the per-ISA plane loops (csrc/nn/pool_rows.h, pool_simd.h): the
compact one-byte argmax, the ReLU + max-pool node nn.Sequential builds, inference without
an argmax, PyTorch's indices on request; every ISA, odd shapes, 1 and 2 threads."""
import numpy as np
import pytest

import fastdl
import fastdl.nn as nn
import fastdl.nn.functional as F
from fastdl._C import nn as _nn
from fastdl.testing import gradcheck


def max_pool_ref(x, k, s, p, d, ceil):
    """float64 oracle: (values, PyTorch flat indices); the first strict max in window order
    wins, a NaN wins over anything and a later NaN over an earlier one; an all-padding
    window gives -inf and index -1."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = k, s, p, d
    H, W = x.shape[-2:]

    def osz(L, k_, s_, p_, d_):
        num = L + 2 * p_ - d_ * (k_ - 1) - 1
        o = (-(-num // s_) if ceil else num // s_) + 1
        if ceil and (o - 1) * s_ >= L + p_:
            o -= 1
        return o
    OH, OW = osz(H, kh, sh, ph, dh), osz(W, kw, sw, pw, dw)
    lead = x.shape[:-2]
    xs = x.reshape(-1, H, W).astype(np.float64)
    out = np.full((xs.shape[0], OH, OW), -np.inf)
    idx = np.full((xs.shape[0], OH, OW), -1, np.int64)
    for q in range(xs.shape[0]):
        for oh in range(OH):
            for ow in range(OW):
                best, bi = -np.inf, -1
                for i in range(kh):
                    for j in range(kw):
                        h, w = oh * sh - ph + i * dh, ow * sw - pw + j * dw
                        if 0 <= h < H and 0 <= w < W:
                            v = xs[q, h, w]
                            if bi == -1 or v > best or np.isnan(v):
                                best, bi = v, h * W + w
                out[q, oh, ow], idx[q, oh, ow] = best, bi
    return out.reshape(lead + (OH, OW)), idx.reshape(lead + (OH, OW))


def pair(v):
    return v if isinstance(v, tuple) else (v, v)


# (shape, kernel, stride, padding, dilation, ceil_mode): the CNN's 2x2 (rows of 14 and 7
# outputs: one masked AVX-512 step, AVX2 8 + tail, SSE2 4-steps + tail), wide rows (several
# steps), odd H and W (a last row and column no window covers), size 1, and the general path
GEOMS = [
    ((2, 3, 28, 28), 2, None, 0, 1, False),
    ((2, 3, 14, 14), 2, None, 0, 1, False),
    ((1, 2, 7, 9), 2, None, 0, 1, False),
    ((1, 2, 7, 9), 2, None, 0, 1, True),
    ((1, 1, 3, 70), 2, None, 0, 1, False),
    ((1, 1, 2, 2), 2, None, 0, 1, False),
    ((3, 1, 1), 1, None, 0, 1, False),
    ((2, 5, 5), 3, 1, 1, 1, False),
    ((1, 2, 10, 11), 3, 2, 1, 2, True),
    ((1, 1, 9, 8), (3, 2), (2, 1), (1, 0), (1, 3), False),
    ((1, 2, 6, 6), (1, 3), (1, 2), 0, 1, True),
]


def _args(k, s, p, d):
    return pair(k), pair(k if s is None else s), pair(p), pair(d)


@pytest.mark.parametrize("shape,k,s,p,d,ceil", GEOMS)
def test_max_pool2d_against_float64_oracle(isa, shape, k, s, p, d, ceil):
    x = np.random.default_rng(0).standard_normal(shape)
    ref, ridx = max_pool_ref(x, *_args(k, s, p, d), ceil)
    for dt in (np.float32, np.float64):
        t = fastdl.tensor(x.astype(dt), requires_grad=True)
        out = F.max_pool2d(t, k, s, p, d, ceil)
        np.testing.assert_array_equal(out.detach().numpy(), ref.astype(dt))
        o2, idx = F.max_pool2d(t, k, s, p, d, ceil, return_indices=True)
        np.testing.assert_array_equal(o2.detach().numpy(), ref.astype(dt))
        np.testing.assert_array_equal(idx.numpy(), ridx)
        fused = F._max_pool2d_relu(t, k, s, p, d, ceil)
        np.testing.assert_array_equal(fused.detach().numpy(), np.maximum(ref, 0).astype(dt))
        with fastdl.no_grad():
            np.testing.assert_array_equal(F.max_pool2d(t, k, s, p, d, ceil).numpy(),
                                          ref.astype(dt))
            np.testing.assert_array_equal(F._max_pool2d_relu(t, k, s, p, d, ceil).numpy(),
                                          np.maximum(ref, 0).astype(dt))


@pytest.mark.parametrize("shape,k,s,p,d,ceil", GEOMS)
def test_max_pool2d_gradients(isa, shape, k, s, p, d, ceil):
    # distinct values keep every argmax away from a tie, so finite differences hold;
    rng = np.random.default_rng(1)
    n = int(np.prod(shape))
    x = (rng.permutation(n).reshape(shape) - n / 2.0 + 0.25) / n     # none at the ReLU kink
    t = fastdl.tensor(x, requires_grad=True)
    assert gradcheck(lambda a: F.max_pool2d(a, k, s, p, d, ceil), [t])
    assert gradcheck(lambda a: F._max_pool2d_relu(a, k, s, p, d, ceil), [t])
    # float32: the compact argmax routes exactly as PyTorch's indices do
    x32 = x.astype(np.float32)
    _, ridx = max_pool_ref(x32, *_args(k, s, p, d), ceil)
    g = rng.standard_normal(ridx.shape).astype(np.float32)
    want = np.zeros(x32.reshape(-1, x32.shape[-2] * x32.shape[-1]).shape, np.float32)
    for q, (ii, gg) in enumerate(zip(ridx.reshape(want.shape[0], -1), g.reshape(want.shape[0], -1))):
        for i, v in zip(ii, gg):
            if i >= 0:
                want[q, i] += v
    a = fastdl.tensor(x32, requires_grad=True)
    F.max_pool2d(a, k, s, p, d, ceil).backward(fastdl.tensor(g))
    np.testing.assert_array_equal(a.grad.numpy(), want.reshape(x32.shape))
    # relu(max_pool) == max_pool(relu): the cut outputs route nothing
    b = fastdl.tensor(x32, requires_grad=True)
    F._max_pool2d_relu(b, k, s, p, d, ceil).backward(fastdl.tensor(g))
    c = fastdl.tensor(x32, requires_grad=True)
    F.max_pool2d(F.relu(c), k, s, p, d, ceil).backward(fastdl.tensor(g))
    np.testing.assert_array_equal(b.grad.numpy(), c.grad.numpy())


def test_max_pool2d_nan_inf_and_ties(isa):
    x = np.array([[np.nan, 1, 2, 2, -np.inf, -np.inf, 0, -0.0],
                  [np.nan, 3, 2, 2, -np.inf, -np.inf, -1, 5],
                  [1, np.inf, -3, -2, -5, -4, np.nan, 0],
                  [-1, 2, -4, -5, -6, -7, 0, 0]], np.float32)
    x = np.tile(x, (1, 3))[None, None]          # 12 outputs a row: vector steps and tails
    ref, ridx = max_pool_ref(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    out, idx = F.max_pool2d(fastdl.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ref.astype(np.float32))
    np.testing.assert_array_equal(idx.numpy(), ridx)
    t = fastdl.tensor(x, requires_grad=True)
    F.max_pool2d(t, 2).backward(fastdl.ones(1, 1, 2, 12))
    want = np.zeros(x.size, np.float32)
    np.add.at(want, ridx.ravel(), 1)
    np.testing.assert_array_equal(t.grad.numpy().ravel(), want)
    # fused ReLU: NaN stays NaN and routes nothing (relu's gradient at NaN is 0)
    r = fastdl.tensor(x, requires_grad=True)
    fo = F._max_pool2d_relu(r, 2, None, 0, 1, False)
    np.testing.assert_array_equal(fo.detach().numpy(), np.maximum(ref, 0).astype(np.float32))
    fo.backward(fastdl.ones(1, 1, 2, 12))
    keep = (ref.ravel() > 0)
    want = np.zeros(x.size, np.float32)
    np.add.at(want, ridx.ravel()[keep], 1)
    np.testing.assert_array_equal(r.grad.numpy().ravel(), want)


def test_max_pool2d_compact_argmax_layout():
    x = np.arange(16.0, dtype=np.float32).reshape(1, 1, 4, 4)[..., ::-1].copy()
    out, win = _nn.max_pool2d_forward_win(x, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, False, True)
    # each window's max sits at its bottom-left corner: position i * kw + j = 2
    assert win.dtype == np.uint8 and win.tolist() == [[[[2, 2], [2, 2]]]]
    _, win = _nn.max_pool2d_forward_win(-x, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, True, True)
    assert win.tolist() == [[[[255, 255], [255, 255]]]]      # every output cut by the ReLU
    # inference: no argmax at all
    out2, none = _nn.max_pool2d_forward_win(x, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, False, False)
    assert none is None
    np.testing.assert_array_equal(out, out2)


def test_max_pool2d_no_grad_keeps_no_node():
    x = fastdl.randn(2, 3, 8, 8, requires_grad=True)
    with fastdl.no_grad():
        y = F.max_pool2d(x, 2)
    assert y.grad_fn is None and not y.requires_grad
    assert F.max_pool2d(x, 2).grad_fn.name == "MaxPool2dBackward"


def test_max_pool2d_threads_bitwise():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 16, 29, 30)).astype(np.float32)
    g = rng.standard_normal((8, 16, 14, 15)).astype(np.float32)
    res = []
    prev = fastdl.get_num_threads()
    try:
        for nt in (1, 2):
            fastdl.set_num_threads(nt)
            a = fastdl.tensor(x, requires_grad=True)
            y = F.max_pool2d(a, 2)
            y.backward(fastdl.tensor(g))
            b = fastdl.tensor(x, requires_grad=True)
            z = F._max_pool2d_relu(b, 3, 2, 1, 1, True)
            z.backward(fastdl.ones(*z.shape))
            res.append((y.detach().numpy(), a.grad.numpy(), z.detach().numpy(), b.grad.numpy()))
    finally:
        fastdl.set_num_threads(prev)
    for u, v in zip(*res):
        np.testing.assert_array_equal(u, v)


def test_max_pool2d_empty_batch():
    x = fastdl.zeros(0, 3, 4, 4, requires_grad=True)
    y = F.max_pool2d(x, 2)
    assert y.shape == (0, 3, 2, 2)
    y.sum().backward()
    assert x.grad.shape == (0, 3, 4, 4)


def _step_by_step(seq, x):
    for m in seq:
        x = m(x)
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sequential_conv_relu_pool_fusion_is_exact(isa, dtype):
    fastdl.manual_seed(0)
    seq = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(6, 5, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
                        nn.ReLU(), nn.MaxPool2d(3, 1, 1), nn.Flatten(), nn.Linear(5 * 4 * 4, 3))
    if dtype == np.float64:
        seq = seq.double()
    x = np.random.default_rng(0).standard_normal((3, 1, 15, 15)).astype(dtype)
    outs, grads = [], []
    for run in (seq, lambda v: _step_by_step(seq, v)):
        seq.zero_grad()
        xt = fastdl.tensor(x, requires_grad=True)
        y = run(xt)
        y.backward(fastdl.ones(*y.shape, dtype=y.dtype))
        outs.append(y.detach().numpy())
        grads.append([xt.grad.numpy()] + [p.grad.numpy().copy() for p in seq.parameters()])
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6, atol=1e-6)
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_sequential_fuses_only_what_nothing_observes():
    fastdl.manual_seed(0)
    x = fastdl.randn(2, 3, 8, 8, requires_grad=True)
    seq = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2))
    assert seq(x).grad_fn.name == "MaxPool2dReluBackward"
    assert seq[0]._last_output_shape == (2, 3, 8, 8) and seq[1]._last_output_shape == (2, 3, 4, 4)
    seen = []
    h = seq[0].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    y = seq(x)
    assert seen == [(2, 3, 8, 8)] and y.grad_fn.name == "MaxPool2dBackward"
    h.remove()
    h = seq[1].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    assert seq(x).grad_fn.name == "MaxPool2dBackward" and seen[-1] == (2, 3, 4, 4)
    h.remove()
    # return_indices: the pool's own output (values, indices), never fused
    seq = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2, return_indices=True))
    out, idx = seq(x)
    ref, ridx = max_pool_ref(np.maximum(x.detach().numpy(), 0), (2, 2), (2, 2), (0, 0), (1, 1),
                             False)
    np.testing.assert_array_equal(out.detach().numpy(), ref.astype(np.float32))
    # conv + relu + pool: the plain convolution, then the fused node
    seq = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    y = seq(x)
    assert y.grad_fn.name == "MaxPool2dReluBackward"
    assert seq[0]._last_output_shape == (2, 4, 8, 8) and seq[2]._last_output_shape == (2, 4, 4, 4)
    # a window too large for the one-byte argmax runs the modules one by one
    seq = nn.Sequential(nn.ReLU(), nn.MaxPool2d(16))
    z = fastdl.randn(1, 1, 16, 16, requires_grad=True)
    assert seq(z).grad_fn.name == "MaxPool2dBackward"
    np.testing.assert_array_equal(seq(z).detach().numpy(),
                                  np.maximum(z.detach().numpy().max(), 0).reshape(1, 1, 1, 1))


@pytest.mark.parametrize("shape,osz", [((2, 3, 8, 8), 1), ((2, 3, 5, 7), 1), ((1, 2, 1, 1), 1),
                                       ((1, 1, 17, 3), 1), ((2, 2, 7, 9), (3, 4)),
                                       ((1, 1, 5, 5), (5, 2))])
def test_adaptive_avg_pool2d_per_isa(isa, shape, osz):
    x = np.random.default_rng(4).standard_normal(shape)
    oh, ow = pair(osz)
    H, W = shape[-2:]
    ref = np.zeros(shape[:-2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, h1 = i * H // oh, -(-(i + 1) * H // oh)
            w0, w1 = j * W // ow, -(-(j + 1) * W // ow)
            ref[..., i, j] = x[..., h0:h1, w0:w1].mean(axis=(-2, -1))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(fastdl.tensor(x), osz).numpy(), ref,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(fastdl.tensor(x.astype(np.float32)),
                                                     osz).numpy(), ref, rtol=1e-5, atol=1e-6)
    assert gradcheck(lambda a: F.adaptive_avg_pool2d(a, osz), [fastdl.tensor(x, requires_grad=True)])
