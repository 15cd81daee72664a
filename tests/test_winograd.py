"""Winograd F(4x4, 3x3) convolution (csrc/nn/winograd.c): forward, input and
weight gradients against a float64 NumPy direct convolution, finite
differences through the Tensor API, every ISA, thread-count invariance, and
the algorithm switch.

Error bound (measured, unit-scale normal data, |w| ~ 1): max |error| over
max |float64 reference| stays below 7e-6 for forward and dx and 3e-6 for dw
up to C = K = 64; the tests assert 2e-5 (forward, dx) and 1e-5 (dw). The
im2col path reaches about 5e-7 on the same data: Winograd's transforms
(entries up to 8 in A^T, down to 1/24 in G) cost about an order of magnitude.
"""
import numpy as np
import pytest

import fastdl
import fastdl.nn.functional as F
from fastdl._C import conv, winograd

FWD_TOL = 2e-5
DW_TOL = 1e-5


@pytest.fixture
def algo():
    """Force an algorithm for the test, restoring the previous setting."""
    prev = winograd.get_algo()
    yield winograd.set_algo
    winograd.set_algo(prev)


def ref_forward(x, w, pad):
    """float64 direct convolution, stride 1, 3x3, padding pad = (ph, pw)."""
    ph, pw = pad
    N, C, H, W = x.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    P, Q = H + 2 * ph - 2, W + 2 * pw - 2
    out = np.zeros((N, w.shape[0], P, Q))
    for r in range(3):
        for s in range(3):
            out += np.einsum("nchw,kc->nkhw", xp[:, :, r:r + P, s:s + Q],
                             w[:, :, r, s].astype(np.float64))
    return out


def ref_backward(dout, x, w, pad):
    """float64 (dx, dw) of the direct convolution."""
    ph, pw = pad
    N, C, H, W = x.shape
    P, Q = dout.shape[2:]
    d = dout.astype(np.float64)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape)
    for r in range(3):
        for s in range(3):
            dxp[:, :, r:r + P, s:s + Q] += np.einsum("nkpq,kc->ncpq", d,
                                                      w[:, :, r, s].astype(np.float64))
            dw[:, :, r, s] = np.einsum("nkpq,ncpq->kc", d, xp[:, :, r:r + P, s:s + Q])
    return dxp[:, :, ph:ph + H, pw:pw + W], dw


def rel_err(a, ref):
    return float(np.abs(a - ref).max() / max(np.abs(ref).max(), 1e-30))


# (N, C, K, H, W, (pad_h, pad_w)): odd sizes, maps smaller than a tile, C and K
# not multiples of 16, N = 1, padding 0, 1, 2 and mixed; blocks of tile rows (at least
# 32 tiles) inside an image (63x66: 2 of 16 tile rows each) and spanning images from
# mid-image (12 images of 10x7: 3 tile rows each, 16 per block); the 32->64 14x14
# layer (products read in place)
SHAPES = [
    (1, 3, 5, 7, 9, (1, 1)),
    (2, 17, 19, 11, 13, (0, 0)),
    (1, 1, 1, 3, 3, (0, 0)),
    (3, 5, 4, 2, 2, (1, 1)),
    (1, 6, 7, 1, 5, (1, 1)),
    (2, 9, 33, 5, 6, (2, 2)),
    (1, 20, 3, 6, 10, (1, 0)),
    (4, 16, 16, 8, 8, (1, 1)),
    (2, 64, 64, 15, 17, (1, 1)),
    (12, 5, 6, 10, 7, (1, 1)),
    (1, 3, 5, 63, 66, (1, 1)),
    (3, 32, 64, 14, 14, (1, 1)),
]


def data(shape, rng):
    N, C, K, H, W, pad = shape
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = rng.standard_normal((K, C, 3, 3)).astype(np.float32)
    b = rng.standard_normal(K).astype(np.float32)
    return x, w, b, pad


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_forward_matches_float64(shape, isa, algo, rng):
    algo("winograd")
    x, w, b, pad = data(shape, rng)
    assert winograd.algo_name(x.shape, w.shape, (1, 1), pad) == "winograd_f4x4_3x3"
    out = conv.forward(x, w, b, (1, 1), pad, (1, 1), 1)
    ref = ref_forward(x, w, pad) + b[None, :, None, None]
    assert out.shape == ref.shape
    assert rel_err(out, ref) < FWD_TOL


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_backward_matches_float64(shape, isa, algo, rng):
    algo("winograd")
    x, w, b, pad = data(shape, rng)
    P, Q = x.shape[2] + 2 * pad[0] - 2, x.shape[3] + 2 * pad[1] - 2
    dout = rng.standard_normal((x.shape[0], w.shape[0], P, Q)).astype(np.float32)
    dx, dw, db = conv.backward(dout, x, w, True, True, True, (1, 1), pad, (1, 1), 1)
    rdx, rdw = ref_backward(dout, x, w, pad)
    assert rel_err(dx, rdx) < FWD_TOL
    assert rel_err(dw, rdw) < DW_TOL
    np.testing.assert_allclose(db, dout.astype(np.float64).sum(axis=(0, 2, 3)), rtol=1e-5,
                               atol=1e-4)


def test_backward_adds_into_gradients_and_skips_missing_ones(algo, rng):
    """Only the gradients asked for are made; the C function adds (+=)."""
    algo("winograd")
    x, w, b, pad = data((2, 8, 8, 9, 9, (1, 1)), rng)
    dout = rng.standard_normal((2, 8, 9, 9)).astype(np.float32)
    dx, dw, db = conv.backward(dout, x, w, False, True, False, (1, 1), pad, (1, 1), 1)
    assert dx is None and db is None
    rdx, rdw = ref_backward(dout, x, w, pad)
    assert rel_err(dw, rdw) < DW_TOL
    dx, dw, db = conv.backward(dout, x, w, True, False, False, (1, 1), pad, (1, 1), 1)
    assert dw is None and rel_err(dx, rdx) < FWD_TOL


@pytest.mark.parametrize("shape", [(1, 3, 4, 7, 9, (1, 1)), (2, 5, 6, 6, 5, (0, 0)),
                                   (6, 3, 4, 10, 7, (1, 1))], ids=str)
def test_finite_differences_through_tensor_api(shape, algo, rng):
    """The loss sum(conv(x, w) * g) is linear in x and in w, so a central
    difference along a random direction equals the directional derivative up
    to rounding, for any step."""
    algo("winograd")
    x, w, b, pad = data(shape, rng)
    xt = fastdl.from_numpy(x).requires_grad_()
    wt = fastdl.from_numpy(w).requires_grad_()
    bt = fastdl.from_numpy(b).requires_grad_()
    y = F.conv2d(xt, wt, bt, padding=pad)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(fastdl.from_numpy(g))

    def loss(xv, wv):
        out = F.conv2d(fastdl.from_numpy(xv), fastdl.from_numpy(wv), bt.detach(), padding=pad)
        return float(np.sum(out.numpy().astype(np.float64) * g))

    eps = 0.5
    for grad, which in ((xt.grad.numpy(), 0), (wt.grad.numpy(), 1)):
        v = rng.standard_normal(grad.shape).astype(np.float32)
        args_p = [x, w]
        args_m = [x, w]
        args_p[which] = args_p[which] + eps * v
        args_m[which] = args_m[which] - eps * v
        fd = (loss(*args_p) - loss(*args_m)) / (2 * eps)
        an = float(np.sum(grad.astype(np.float64) * v))
        assert abs(fd - an) <= 1e-4 * max(1.0, abs(an)), (which, fd, an)
    np.testing.assert_allclose(bt.grad.numpy(), g.astype(np.float64).sum(axis=(0, 2, 3)),
                               rtol=1e-5, atol=1e-4)


# whole images per block (5 x 21x19), blocks inside images (2 x 40x37), blocks
# spanning images (16 x 10x7)
THREAD_SHAPES = [(5, 24, 20, 21, 19, (1, 1)), (2, 16, 16, 40, 37, (1, 1)),
                 (16, 20, 24, 10, 7, (1, 1))]


@pytest.mark.parametrize("shape", THREAD_SHAPES, ids=str)
def test_same_bits_for_one_and_two_threads(shape, isa, algo, rng):
    """Large enough to run threaded and to need several tile blocks."""
    algo("winograd")
    x, w, b, pad = data(shape, rng)
    P, Q = x.shape[2] + 2 * pad[0] - 2, x.shape[3] + 2 * pad[1] - 2
    dout = rng.standard_normal((x.shape[0], w.shape[0], P, Q)).astype(np.float32)
    res = []
    for n in (1, 2):
        fastdl.set_num_threads(n)
        out = conv.forward(x, w, b, (1, 1), pad, (1, 1), 1)
        res.append((out,) + conv.backward(dout, x, w, True, True, True, (1, 1), pad,
                                          (1, 1), 1))
    for a, c in zip(*res):
        assert np.array_equal(a, c)


@pytest.mark.parametrize("want", [(True, False, True), (False, True, True),
                                  (False, False, True), (True, True, False),
                                  (True, False, False), (False, True, False)], ids=str)
def test_gradient_subsets_same_bits_as_all_three(want, isa, algo, rng):
    """dx, dw and db share one parallel region when asked together; asked
    alone or in pairs (other code paths) each gradient has the same bits as
    from the full call, on 1 and 2 threads."""
    algo("winograd")
    x, w, b, pad = data(THREAD_SHAPES[2], rng)
    P, Q = x.shape[2] + 2 * pad[0] - 2, x.shape[3] + 2 * pad[1] - 2
    dout = rng.standard_normal((x.shape[0], w.shape[0], P, Q)).astype(np.float32)
    ymask = rng.standard_normal(dout.shape).astype(np.float32)
    for y in (None, ymask):
        for n in (1, 2):
            fastdl.set_num_threads(n)
            full = conv.backward(dout, x, w, True, True, True, (1, 1), pad, (1, 1), 1, y=y)
            part = conv.backward(dout, x, w, *want, (1, 1), pad, (1, 1), 1, y=y)
            for asked, f, g in zip(want, full, part):
                if asked:
                    assert np.array_equal(f, g)
                else:
                    assert g is None


def test_auto_rule_and_layers_winograd_does_not_serve(algo):
    algo("auto")
    big = ((64, 64, 32, 32), (64, 64, 3, 3))
    assert winograd.algo_name(*big, (1, 1), (1, 1)) == "winograd_f4x4_3x3"
    assert winograd.algo_name((64, 1, 28, 28), (32, 1, 3, 3), (1, 1), (1, 1)) == "im2col"
    algo("winograd")
    # stride 2, dilation 2, groups 2, 5x5, padding 3: never Winograd
    assert winograd.algo_name(big[0], big[1], (2, 2), (1, 1)) == "im2col"
    assert winograd.algo_name(big[0], big[1], (1, 1), (2, 2), (2, 2)) == "im2col"
    assert winograd.algo_name(big[0], (64, 32, 3, 3), (1, 1), (1, 1), (1, 1), 2) == "im2col"
    assert winograd.algo_name(big[0], (64, 64, 5, 5), (1, 1), (1, 1)) == "im2col"
    assert winograd.algo_name(big[0], big[1], (1, 1), (3, 3)) == "im2col"
    algo("im2col")
    assert winograd.algo_name(*big, (1, 1), (1, 1)) == "im2col"
    with pytest.raises(ValueError, match="conv2d algorithm"):
        winograd.set_algo("fft")


def test_forced_im2col_gives_the_old_path(algo, rng):
    """Both paths agree within Winograd's bound, and float64 is untouched."""
    x, w, b, pad = data((2, 16, 16, 10, 10, (1, 1)), rng)
    outs = {}
    for a in ("im2col", "winograd"):
        algo(a)
        outs[a] = conv.forward(x, w, b, (1, 1), pad, (1, 1), 1)
        out64 = conv.forward(x.astype(np.float64), w.astype(np.float64),
                             b.astype(np.float64), (1, 1), pad, (1, 1), 1)
        outs[a + "64"] = out64
    ref = ref_forward(x, w, pad) + b[None, :, None, None]
    assert rel_err(outs["im2col"], ref) < 2e-6
    assert rel_err(outs["winograd"], ref) < FWD_TOL
    assert np.array_equal(outs["im2col64"], outs["winograd64"])
    assert rel_err(outs["im2col64"], ref) < 1e-12


@pytest.mark.parametrize("value, expect", [("im2col", "im2col"), ("winograd", "winograd"),
                                           ("", "auto")])
def test_environment_variable(value, expect, run_isolated):
    r = run_isolated("""
        import fastdl
        from fastdl._C import winograd
        print(winograd.get_algo(), fastdl.config()["conv_algo"])
    """, env={"FASTDL_CONV_ALGO": value})
    got, cfg = r.stdout.split(None, 1)
    assert got == expect
    assert cfg.startswith(expect)


def test_c_api_of_the_switch():
    """fastdl/winograd.h called directly: bad values are refused, NULL is safe."""
    import ctypes
    import os
    lib = ctypes.CDLL(os.path.join(fastdl.get_lib(), "libfastdl.so"))
    lib.fdl_conv2d_algo_name.restype = ctypes.c_char_p
    prev = lib.fdl_conv2d_get_algo()
    try:
        assert lib.fdl_conv2d_set_algo(7) != 0
        assert lib.fdl_conv2d_set_algo(-1) != 0
        assert lib.fdl_conv2d_get_algo() == prev
        assert lib.fdl_conv2d_set_algo(1) == 0 and winograd.get_algo() == "im2col"
        assert lib.fdl_conv2d_algo_name(None) == b"invalid"
    finally:
        lib.fdl_conv2d_set_algo(prev)
    with pytest.raises(ValueError, match="algo_name"):
        winograd.algo_name((1, 2, 3), (1, 2, 3, 3))


def test_unknown_environment_value_warns(run_isolated):
    r = run_isolated("""
        import warnings
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            import fastdl
        from fastdl._C import winograd
        print(winograd.get_algo(), [str(x.message) for x in w])
    """, env={"FASTDL_CONV_ALGO": "fft"})
    assert r.stdout.startswith("auto")
    assert "FASTDL_CONV_ALGO=fft is not one of auto, im2col, winograd" in r.stdout



@pytest.mark.parametrize("pad", [0, 1])
def test_fused_conv_relu_on_winograd_layers(pad, algo, rng):
    """Sequential(Conv2d, ReLU) runs as one fused node. On a layer Winograd serves, its
    forward (ReLU after the output transform) and backward (dout masked by y > 0) give the
    same bits as the unfused pair on Winograd; its output agrees with im2col to Winograd's
    bound."""
    import fastdl.nn as nn
    fastdl.manual_seed(3)
    seq = nn.Sequential(nn.Conv2d(9, 10, 3, padding=pad), nn.ReLU())
    x = rng.standard_normal((3, 9, 11, 13)).astype(np.float32)
    g = None
    runs = {}
    for name, fused in (("winograd", True), ("winograd", False), ("im2col", False)):
        algo(name)
        assert winograd.algo_name(x.shape, (10, 9, 3, 3), (1, 1), (pad, pad)) == (
            "winograd_f4x4_3x3" if name == "winograd" else "im2col")
        xt = fastdl.tensor(x, requires_grad=True)
        seq.zero_grad()
        y = seq(xt) if fused else F.relu(seq[0](xt))
        assert ("Conv2dReLU" in repr(y.grad_fn)) == fused
        if g is None:
            g = rng.standard_normal(y.shape).astype(np.float32)
        y.backward(fastdl.tensor(g))
        runs[name, fused] = [y.detach().numpy().copy(), xt.grad.numpy().copy(),
                             seq[0].weight.grad.numpy().copy(), seq[0].bias.grad.numpy().copy()]
    for a, b in zip(runs["winograd", True], runs["winograd", False]):
        assert np.array_equal(a, b)
    # the unfused Winograd backward is checked against float64 above; the outputs here
    # (a ReLU near zero may flip between algorithms, so not the masked gradients)
    assert rel_err(runs["winograd", True][0], runs["im2col", False][0].astype(np.float64)) \
        < FWD_TOL


# (N, C, K, H, W, (pad_h, pad_w)) for the fused ReLU on Winograd: odd maps, C and K
# not multiples of 16, N = 1, a map smaller than a tile, padding 0, 1, 2 and mixed
RELU_SHAPES = [
    (1, 3, 5, 7, 9, (1, 1)),
    (2, 17, 19, 11, 13, (0, 0)),
    (3, 5, 4, 2, 2, (1, 1)),
    (2, 9, 33, 5, 6, (2, 2)),
    (1, 20, 3, 6, 10, (1, 0)),
    (12, 5, 6, 10, 7, (1, 1)),
]


@pytest.mark.parametrize("shape", RELU_SHAPES, ids=str)
def test_fused_relu_forward_and_masked_backward_match_float64(shape, isa, algo, rng):
    """conv.forward(relu=True) applies the ReLU inside the output transform, and
    conv.backward(y=...) reads the mask y > 0 inside both dout transforms (dx's input
    transform and dw's gradient transform) and in db: against float64 on the dout
    masked in NumPy. y is a made-up array with zeros, negatives and a NaN (NaN > 0 is
    false: masked), so the mask is independent of the forward."""
    algo("winograd")
    x, w, b, pad = data(shape, rng)
    out = conv.forward(x, w, b, (1, 1), pad, (1, 1), 1, True)
    ref = ref_forward(x, w, pad) + b[None, :, None, None]
    assert out.min() >= 0.0
    assert rel_err(out, np.maximum(ref, 0.0)) < FWD_TOL
    dout = rng.standard_normal(out.shape).astype(np.float32)
    y = rng.standard_normal(out.shape).astype(np.float32)
    y.reshape(-1)[::7] = 0.0
    y.reshape(-1)[3] = np.nan
    md = np.where(y > 0, dout, 0.0).astype(np.float32)
    dx, dw, db = conv.backward(dout, x, w, True, True, True, (1, 1), pad, (1, 1), 1, y=y)
    rdx, rdw = ref_backward(md, x, w, pad)
    assert rel_err(dx, rdx) < FWD_TOL
    assert rel_err(dw, rdw) < DW_TOL
    np.testing.assert_allclose(db, md.astype(np.float64).sum(axis=(0, 2, 3)), rtol=1e-5,
                               atol=1e-4)
    # the same bits as the unfused backward on the masked copy
    for a, c in zip((dx, dw, db), conv.backward(md, x, w, True, True, True, (1, 1), pad,
                                                (1, 1), 1)):
        assert np.array_equal(a, c)


@pytest.mark.parametrize("shape", THREAD_SHAPES, ids=str)
def test_fused_relu_same_bits_for_one_and_two_threads(shape, isa, algo, rng):
    algo("winograd")
    x, w, b, pad = data(shape, rng)
    res = []
    for n in (1, 2):
        fastdl.set_num_threads(n)
        out = conv.forward(x, w, b, (1, 1), pad, (1, 1), 1, True)
        dout = np.cos(np.arange(out.size, dtype=np.float32)).reshape(out.shape)
        res.append((out,) + conv.backward(dout, x, w, True, True, True, (1, 1), pad,
                                          (1, 1), 1, y=out))
    for a, c in zip(*res):
        assert np.array_equal(a, c)
