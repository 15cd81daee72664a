"""conv2d / conv1d: forward against a float64 NumPy reference, backward by
finite differences, thread-count determinism, errors, and PyTorch when present."""
import numpy as np
import pytest

import fastdl
import fastdl.nn.functional as F
from fastdl.testing import gradcheck


def conv2d_ref(x, w, b, stride, padding, dilation, groups):
    """Direct float64 convolution by definition (the oracle)."""
    N, C, H, W = x.shape
    K, Cg, R, S = w.shape
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw))
    xp[:, :, ph:ph + H, pw:pw + W] = x
    P = (H + 2 * ph - dh * (R - 1) - 1) // sh + 1
    Q = (W + 2 * pw - dw * (S - 1) - 1) // sw + 1
    out = np.zeros((N, K, P, Q))
    Kg = K // groups
    for k in range(K):
        g = k // Kg
        for r in range(R):
            for s in range(S):
                patch = xp[:, g * Cg:(g + 1) * Cg,
                           r * dh: r * dh + sh * (P - 1) + 1: sh,
                           s * dw: s * dw + sw * (Q - 1) + 1: sw]
                out[:, k] += np.einsum("ncpq,c->npq", patch, w[k, :, r, s])
        if b is not None:
            out[:, k] += b[k]
    return out


CASES = [
    # N, C, H, W, K, R, S, stride, padding, dilation, groups
    (2, 3, 8, 8, 4, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    (3, 4, 9, 7, 6, 3, 2, (2, 2), (1, 1), (2, 2), 2),
    (1, 2, 5, 5, 4, 1, 1, (1, 1), (0, 0), (1, 1), 1),      # 1x1: straight to GEMM
    (4, 6, 11, 13, 6, 5, 3, (2, 1), (2, 0), (1, 2), 3),
    (1, 1, 1, 1, 1, 1, 1, (1, 1), (0, 0), (1, 1), 1),      # size 1 everywhere
    (2, 5, 7, 17, 3, 7, 17, (1, 1), (0, 0), (1, 1), 1),    # kernel = whole input
    (5, 4, 6, 6, 4, 3, 3, (3, 3), (2, 2), (1, 1), 4),      # depthwise
    (2, 3, 10, 10, 5, 2, 2, (1, 1), (0, 3), (1, 1), 1),    # padding wider than kernel
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_forward_matches_reference(case, bias):
    N, C, H, W, K, R, S, st, pd, dl, g = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((K, C // g, R, S))
    b = rng.standard_normal(K) if bias else None
    ref = conv2d_ref(x, w, b, st, pd, dl, g)
    out = F.conv2d(fastdl.tensor(x.astype(np.float32)), fastdl.tensor(w.astype(np.float32)),
                   None if b is None else fastdl.tensor(b.astype(np.float32)), st, pd, dl, g)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    out64 = F.conv2d(fastdl.tensor(x), fastdl.tensor(w),
                     None if b is None else fastdl.tensor(b), st, pd, dl, g)
    np.testing.assert_allclose(out64.numpy(), ref, rtol=1e-12, atol=1e-12)


GRAD_CASES = CASES[:3] + [(2, 6, 7, 8, 6, 5, 3, (2, 1), (2, 0), (1, 2), 3)] + CASES[6:]


@pytest.mark.parametrize("case", GRAD_CASES)
def test_backward_by_finite_differences(case):
    N, C, H, W, K, R, S, st, pd, dl, g = case
    fastdl.manual_seed(1)
    x = fastdl.randn(N, C, H, W, dtype=fastdl.float64, requires_grad=True)
    w = fastdl.randn(K, C // g, R, S, dtype=fastdl.float64, requires_grad=True)
    b = fastdl.randn(K, dtype=fastdl.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, st, pd, dl, g), [x, w, b])


def test_non_contiguous_and_broadcast_free_inputs():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 8, 9, 3)).transpose(0, 3, 1, 2)     # NHWC view as NCHW
    w = rng.standard_normal((4, 3, 3, 3))
    out = F.conv2d(fastdl.tensor(x), fastdl.tensor(w), padding=1)
    np.testing.assert_allclose(out.numpy(), conv2d_ref(x, w, None, (1, 1), (1, 1), (1, 1), 1),
                               rtol=1e-12, atol=1e-12)


def test_empty_batch():
    out = F.conv2d(fastdl.zeros(0, 3, 5, 5), fastdl.zeros(4, 3, 3, 3))
    assert out.shape == (0, 4, 3, 3)


def test_padding_same_and_valid():
    x = fastdl.randn(1, 2, 7, 6, dtype=fastdl.float64)
    w = fastdl.randn(3, 2, 3, 5, dtype=fastdl.float64)
    assert F.conv2d(x, w, padding="same").shape == (1, 3, 7, 6)
    assert F.conv2d(x, w, padding="valid").shape == (1, 3, 5, 2)


def test_conv1d_matches_reference():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 19))
    w = rng.standard_normal((6, 2, 5))
    b = rng.standard_normal(6)
    out = F.conv1d(fastdl.tensor(x), fastdl.tensor(w), fastdl.tensor(b), stride=2, padding=3,
                   dilation=2, groups=2)
    ref = conv2d_ref(x[:, :, None, :], w[:, :, None, :], b, (1, 2), (0, 3), (1, 2), 2)[:, :, 0]
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12)
    xt = fastdl.tensor(x, requires_grad=True)
    wt = fastdl.tensor(w, requires_grad=True)
    assert gradcheck(lambda a, c: F.conv1d(a, c, None, 2, 3, 2, 2), [xt, wt])


def test_bitwise_identical_for_1_and_2_threads():
    fastdl.manual_seed(4)
    x = fastdl.randn(16, 8, 20, 20, requires_grad=True)
    w = fastdl.randn(16, 8, 3, 3, requires_grad=True)
    b = fastdl.randn(16, requires_grad=True)
    results = []
    for t in (1, 2):
        fastdl.set_num_threads(t)
        for p in (x, w, b):
            p.grad = None
        y = F.conv2d(x, w, b, padding=1, stride=1)
        (y * y).sum().backward()
        results.append([y.detach().numpy().copy(), x.grad.numpy().copy(),
                        w.grad.numpy().copy(), b.grad.numpy().copy()])
    for a, c in zip(*results):
        assert np.array_equal(a, c)


@pytest.mark.parametrize("bad, match", [
    (lambda: F.conv2d(fastdl.randn(1, 3, 5, 5), fastdl.randn(4, 2, 3, 3)), "channels"),
    (lambda: F.conv2d(fastdl.randn(1, 3, 2, 2), fastdl.randn(4, 3, 3, 3)), "larger than the padded"),
    (lambda: F.conv2d(fastdl.randn(3, 5, 5), fastdl.randn(4, 3, 3, 3)), "4-D input"),
    (lambda: F.conv2d(fastdl.randn(1, 4, 5, 5), fastdl.randn(4, 2, 3, 3), groups=3), "divisible"),
    (lambda: F.conv2d(fastdl.randn(1, 3, 5, 5), fastdl.randn(4, 3, 3, 3), stride=0), "stride"),
    (lambda: F.conv2d(fastdl.randn(1, 3, 5, 5), fastdl.randn(4, 3, 3, 3), fastdl.randn(3)), "bias"),
])
def test_bad_arguments_raise_clear_errors(bad, match):
    with pytest.raises(ValueError, match=match) as e:
        bad()
    assert "conv2d" in str(e.value)


def test_matches_torch_forward_and_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    for N, C, H, W, K, R, S, st, pd, dl, g in CASES:
        x = rng.standard_normal((N, C, H, W))
        w = rng.standard_normal((K, C // g, R, S))
        b = rng.standard_normal(K)
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        ty = torch.nn.functional.conv2d(tx, tw, tb, st, pd, dl, g)
        gy = rng.standard_normal(tuple(ty.shape))
        ty.backward(torch.tensor(gy))
        fx, fw, fb = (fastdl.tensor(a, requires_grad=True) for a in (x, w, b))
        fy = F.conv2d(fx, fw, fb, st, pd, dl, g)
        fy.backward(fastdl.tensor(gy))
        np.testing.assert_allclose(fy.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-10)
        for f, t in ((fx, tx), (fw, tw), (fb, tb)):
            np.testing.assert_allclose(f.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-10)
