"""conv2d through padded phase planes (csrc/nn/conv_rows.h): the GEMM-path
convolutions whose every stride phase is read by some tap (3x3 stride 2, padded
stride 1, stride 3, asymmetric strides, dilation that still meets every phase,
groups) copy each sample once into padded planes split by stride phase, gather
patch rows from them as contiguous copies, run the weight gradient as
dW^T = col @ dout^T and scatter dx back through the planes. Checked against a
float64 direct convolution written from the definition (loops over output
positions, not the library), finite differences, odd sizes, C and K not
multiples of 16, N=1, every ISA, and 1 vs 2 threads bitwise."""
import numpy as np
import pytest

import fastdl
import fastdl.nn.functional as F
from fastdl._C import conv
from fastdl.testing import gradcheck


def _out_size(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def ref_conv(x, w, b, st, pd, dl, groups):
    """float64 forward, one output position at a time."""
    N, C, H, W = x.shape
    K, Cg, R, S = w.shape
    P, Q = _out_size(H, R, st[0], pd[0], dl[0]), _out_size(W, S, st[1], pd[1], dl[1])
    xp = np.zeros((N, C, H + 2 * pd[0], W + 2 * pd[1]))
    xp[:, :, pd[0]:pd[0] + H, pd[1]:pd[1] + W] = x
    w64 = w.astype(np.float64)
    Kg = K // groups
    out = np.zeros((N, K, P, Q))
    for g in range(groups):
        wg = w64[g * Kg:(g + 1) * Kg].reshape(Kg, -1)
        for p in range(P):
            for q in range(Q):
                i, j = p * st[0], q * st[1]
                patch = xp[:, g * Cg:(g + 1) * Cg,
                           i:i + dl[0] * (R - 1) + 1:dl[0], j:j + dl[1] * (S - 1) + 1:dl[1]]
                out[:, g * Kg:(g + 1) * Kg, p, q] = patch.reshape(N, -1) @ wg.T
    if b is not None:
        out += np.asarray(b, np.float64).reshape(1, -1, 1, 1)
    return out


def ref_conv_backward(dout, x, w, st, pd, dl, groups):
    """float64 (dx, dw, db): the adjoint of ref_conv, position by position."""
    N, C, H, W = x.shape
    K, Cg, R, S = w.shape
    P, Q = dout.shape[2:]
    xp = np.zeros((N, C, H + 2 * pd[0], W + 2 * pd[1]))
    xp[:, :, pd[0]:pd[0] + H, pd[1]:pd[1] + W] = x
    dxp = np.zeros_like(xp)
    w64 = w.astype(np.float64)
    d64 = dout.astype(np.float64)
    dw = np.zeros((K, Cg * R * S))
    Kg = K // groups
    for g in range(groups):
        wg = w64[g * Kg:(g + 1) * Kg].reshape(Kg, -1)
        for p in range(P):
            for q in range(Q):
                i, j = p * st[0], q * st[1]
                sl = (slice(None), slice(g * Cg, (g + 1) * Cg),
                      slice(i, i + dl[0] * (R - 1) + 1, dl[0]),
                      slice(j, j + dl[1] * (S - 1) + 1, dl[1]))
                dg = d64[:, g * Kg:(g + 1) * Kg, p, q]
                dw[g * Kg:(g + 1) * Kg] += dg.T @ xp[sl].reshape(N, -1)
                dxp[sl] += (dg @ wg).reshape(N, Cg, R, S)
    dx = dxp[:, :, pd[0]:pd[0] + H, pd[1]:pd[1] + W]
    return dx, dw.reshape(w.shape), d64.sum(axis=(0, 2, 3))


# name: (N, C, H, W, K, R, S, stride, padding, dilation, groups)
CASES = {
    # ResNet-8's stride-2 layers (per-sample forward; batched chunks), small N
    "resnet_16_32_s2": (3, 16, 32, 32, 32, 3, 3, (2, 2), (1, 1), (1, 1), 1),
    "resnet_32_64_s2": (6, 32, 16, 16, 64, 3, 3, (2, 2), (1, 1), (1, 1), 1),
    "s2_odd": (3, 5, 15, 13, 7, 3, 3, (2, 2), (1, 1), (1, 1), 1),
    "s2_odd_n1": (1, 17, 17, 11, 19, 3, 3, (2, 2), (1, 1), (1, 1), 1),
    "s2_pad0": (2, 3, 10, 12, 5, 3, 3, (2, 2), (0, 0), (1, 1), 1),
    "s2_5x5_pad2": (2, 6, 13, 14, 9, 5, 5, (2, 2), (2, 2), (1, 1), 1),
    "s2_4x4_even_kernel": (2, 3, 12, 9, 4, 4, 4, (2, 2), (1, 1), (1, 1), 1),
    "s2_pad_wider_than_kernel_half": (2, 3, 7, 8, 4, 3, 3, (2, 2), (2, 2), (1, 1), 1),
    "s21_asymmetric": (2, 4, 11, 12, 6, 3, 3, (2, 1), (1, 1), (1, 1), 1),
    "s12_asymmetric_pad": (2, 4, 9, 14, 6, 3, 3, (1, 2), (0, 1), (1, 1), 1),
    "s3_pad1": (2, 5, 16, 17, 7, 3, 3, (3, 3), (1, 1), (1, 1), 1),
    "s2_dilation3": (2, 4, 17, 15, 5, 3, 3, (2, 2), (3, 3), (3, 3), 1),
    "s2_grouped": (2, 8, 12, 11, 12, 3, 3, (2, 2), (1, 1), (1, 1), 2),
    "s1_padded_small_c": (2, 3, 9, 10, 20, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    "s1_stem_per_sample": (2, 3, 32, 32, 16, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    "s1_one_channel": (2, 1, 28, 28, 32, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    "1x1_padded": (2, 3, 4, 5, 4, 1, 1, (1, 1), (1, 2), (1, 1), 1),
    # the forward's patch panel above 512 KiB: gathered into GEMM panels from the planes
    "s2_implicit_forward": (2, 64, 34, 34, 8, 3, 3, (2, 2), (1, 1), (1, 1), 1),
    # a patch matrix too large to read in place: dW by the transposed gather
    "s2_large_patch_matrix": (2, 40, 20, 22, 8, 5, 5, (2, 2), (2, 2), (1, 1), 1),
    # taps that read only padding are left out of the planes' tap list
    "s2_pad_only_taps": (3, 4, 1, 7, 5, 3, 5, (2, 2), (2, 2), (1, 1), 1),
    # stride 2 with dilation 2: only phase 0 is read, the gather path (no planes)
    "s2_dilation2_no_planes": (2, 4, 17, 15, 5, 3, 3, (2, 2), (2, 2), (2, 2), 1),
    # 3x3 pad 1 on 1x1 maps keeps one tap, which reads the input in place: the
    # direct path (no planes, no im2col), batched and grouped
    "s1_1x1_maps_one_tap": (9, 12, 1, 1, 10, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    "s1_1x1_maps_one_tap_grouped": (3, 6, 1, 1, 9, 3, 3, (1, 1), (1, 1), (1, 1), 3),
    "s1_1x1_maps_dilated": (2, 5, 1, 1, 7, 3, 3, (1, 1), (2, 2), (2, 2), 1),
    # one row of taps kept (H = 1), all three columns: planes
    "s1_one_row_of_taps": (2, 5, 1, 6, 7, 3, 3, (1, 1), (1, 1), (1, 1), 1),
}


def _data(case, dtype, seed=0):
    N, C, H, W, K, R, S, st, pd, dl, g = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = (rng.standard_normal((K, C // g, R, S)) / np.sqrt(C // g * R * S)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    return x, w, b, st, pd, dl, g


def _close(got, want, dtype, slack=1.0):
    scale = max(np.abs(want).max(), 1.0)
    atol, rtol = (2e-5 * scale, 1e-4) if dtype == np.float32 else (1e-12 * scale, 1e-10)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * slack)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(CASES))
def test_planes_match_float64_definition(name, dtype, relu, isa):
    x, w, b, st, pd, dl, g = _data(CASES[name], dtype)
    ref = ref_conv(x, w, b, st, pd, dl, g)
    if relu:
        ref = np.maximum(ref, 0)
    out = conv.forward(x, w, b, st, pd, dl, g, relu)
    assert out.dtype == dtype and out.shape == ref.shape
    _close(out, ref, dtype)

    dout = np.random.default_rng(1).standard_normal(ref.shape).astype(dtype)
    dm = dout.astype(np.float64) * (out > 0) if relu else dout
    rdx, rdw, rdb = ref_conv_backward(dm, x, w, st, pd, dl, g)
    dx, dw, db = conv.backward(dout, x, w, True, True, True, st, pd, dl, g,
                               y=out if relu else None)
    for got, want in ((dx, rdx), (dw, rdw), (db, rdb)):
        assert got.dtype == dtype and got.shape == want.shape
        _close(got, want, dtype, slack=4)


@pytest.mark.parametrize("name", ["s2_odd", "s2_odd_n1", "s21_asymmetric", "s3_pad1",
                                  "s2_dilation3", "s2_grouped", "s1_padded_small_c",
                                  "s2_5x5_pad2", "s2_pad0"])
def test_planes_gradients_by_finite_differences(name):
    N, C, H, W, K, R, S, st, pd, dl, g = CASES[name]
    fastdl.manual_seed(5)
    x = fastdl.randn(min(N, 2), C, H, W, dtype=fastdl.float64, requires_grad=True)
    w = fastdl.randn(K, C // g, R, S, dtype=fastdl.float64, requires_grad=True)
    b = fastdl.randn(K, dtype=fastdl.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, st, pd, dl, g), [x, w, b])


def test_planes_backward_adds_into_nothing_but_its_gradients():
    """dx, dw, db come back exactly equal whether or not the other gradients
    are asked for (the planes buffer is shared by dW and dx)."""
    x, w, b, st, pd, dl, g = _data(CASES["resnet_32_64_s2"], np.float32, seed=3)
    out = conv.forward(x, w, b, st, pd, dl, g, False)
    dout = np.random.default_rng(4).standard_normal(out.shape).astype(np.float32)
    dx, dw, db = conv.backward(dout, x, w, True, True, True, st, pd, dl, g)
    dx_only = conv.backward(dout, x, w, True, False, False, st, pd, dl, g)[0]
    dw_only = conv.backward(dout, x, w, False, True, False, st, pd, dl, g)[1]
    assert np.array_equal(dx, dx_only) and np.array_equal(dw, dw_only)


@pytest.mark.parametrize("name", ["resnet_16_32_s2", "resnet_32_64_s2", "s2_odd",
                                  "s2_implicit_forward", "s2_large_patch_matrix",
                                  "s2_grouped", "s1_stem_per_sample"])
@pytest.mark.parametrize("relu", [False, True])
def test_planes_bitwise_identical_for_1_and_2_threads(name, relu, isa):
    N, C, H, W, K, R, S, st, pd, dl, g = CASES[name]
    x, w, b, st, pd, dl, g = _data((max(N, 5), C, H, W, K, R, S, st, pd, dl, g), np.float32,
                                   seed=7)
    results = []
    for t in (1, 2):
        fastdl.set_num_threads(t)
        out = conv.forward(x, w, b, st, pd, dl, g, relu)
        dout = np.random.default_rng(8).standard_normal(out.shape).astype(np.float32)
        grads = conv.backward(dout, x, w, True, True, True, st, pd, dl, g,
                              y=out if relu else None)
        results.append([out.copy()] + [a.copy() for a in grads])
    for a, c in zip(*results):
        assert np.array_equal(a, c)
