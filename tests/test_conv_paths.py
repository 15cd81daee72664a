"""conv2d's paths (batched im2col chunks, per-sample forward, 1x1, taps that read only
padding, strided, dilated, grouped, depthwise, fused ReLU, and the padded phase planes:
3x3 stride 2, padded stride 1, stride 3, asymmetric strides, dilation that still meets
every phase, groups, whose input is copied once into zero-padded planes split by stride
phase, patch rows gathered from them as contiguous copies, dW run as dW^T = col @ dout^T
and dx scattered back through the planes) against a float64 NumPy direct convolution
and its adjoint, finite differences, and bitwise 1 vs 2 threads on every ISA."""
import numpy as np
import pytest

import fastdl
import fastdl.nn as nn
import fastdl.nn.functional as F
from fastdl._C import conv
from fastdl.testing import gradcheck


def _patches(xp, g, Cg, r, s, st, dl, P, Q):
    return xp[:, g * Cg:(g + 1) * Cg,
              r * dl[0]: r * dl[0] + st[0] * (P - 1) + 1: st[0],
              s * dl[1]: s * dl[1] + st[1] * (Q - 1) + 1: st[1]]


def ref_forward(x, w, b, st, pd, dl, groups):
    """Direct float64 convolution by definition."""
    N, C, H, W = x.shape
    K, Cg, R, S = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pd[0], pd[0]), (pd[1], pd[1])))
    P = (H + 2 * pd[0] - dl[0] * (R - 1) - 1) // st[0] + 1
    Q = (W + 2 * pd[1] - dl[1] * (S - 1) - 1) // st[1] + 1
    out = np.zeros((N, K, P, Q))
    Kg = K // groups
    for g in range(groups):
        for r in range(R):
            for s in range(S):
                out[:, g * Kg:(g + 1) * Kg] += np.einsum(
                    "ncpq,kc->nkpq", _patches(xp, g, Cg, r, s, st, dl, P, Q),
                    w[g * Kg:(g + 1) * Kg, :, r, s].astype(np.float64))
    if b is not None:
        out += np.asarray(b, np.float64).reshape(1, -1, 1, 1)
    return out


def ref_backward(dout, x, w, st, pd, dl, groups):
    """The adjoint of ref_forward, in float64: (dx, dw, db)."""
    N, C, H, W = x.shape
    K, Cg, R, S = w.shape
    P, Q = dout.shape[2:]
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pd[0], pd[0]), (pd[1], pd[1])))
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape)
    Kg = K // groups
    for g in range(groups):
        dg = dout[:, g * Kg:(g + 1) * Kg].astype(np.float64)
        for r in range(R):
            for s in range(S):
                dw[g * Kg:(g + 1) * Kg, :, r, s] = np.einsum(
                    "nkpq,ncpq->kc", dg, _patches(xp, g, Cg, r, s, st, dl, P, Q))
                _patches(dxp, g, Cg, r, s, st, dl, P, Q)[...] += np.einsum(
                    "nkpq,kc->ncpq", dg, w[g * Kg:(g + 1) * Kg, :, r, s].astype(np.float64))
    dx = dxp[:, :, pd[0]:pd[0] + H, pd[1]:pd[1] + W]
    return dx, dw, dout.astype(np.float64).sum(axis=(0, 2, 3))


# name: (N, C, H, W, K, R, S, stride, padding, dilation, groups)
PATHS = {
    "batched": (5, 3, 7, 9, 5, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    "batched_chunks": (40, 17, 13, 14, 18, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    "chunks_remainder": (7, 3, 10, 10, 4, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    "1x1_chunks_remainder": (7, 6, 10, 10, 7, 1, 1, (1, 1), (0, 0), (1, 1), 1),
    "per_sample": (3, 5, 17, 19, 7, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    "1x1_small_map": (6, 19, 3, 5, 21, 1, 1, (1, 1), (0, 0), (1, 1), 1),
    "1x1_large_map": (3, 7, 17, 16, 9, 1, 1, (1, 1), (0, 0), (1, 1), 1),
    "1x1_n1": (1, 7, 17, 16, 9, 1, 1, (1, 1), (0, 0), (1, 1), 1),
    "1x1_stride2": (4, 6, 9, 11, 10, 1, 1, (2, 2), (0, 0), (1, 1), 1),
    "1x1_padded": (2, 3, 4, 5, 4, 1, 1, (1, 1), (1, 2), (1, 1), 1),
    "pad_only_taps_1x1_map": (9, 20, 1, 1, 18, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    "pad_only_taps_gaps": (3, 4, 1, 7, 5, 3, 5, (2, 2), (2, 2), (1, 1), 1),
    "no_tap_reads_input": (2, 3, 1, 1, 4, 1, 1, (1, 2), (0, 1), (1, 1), 1),
    "strided": (4, 5, 15, 13, 6, 3, 3, (2, 2), (1, 1), (1, 1), 1),
    "strided_large": (2, 3, 40, 37, 5, 3, 3, (2, 2), (1, 1), (1, 1), 1),
    "dilated": (3, 4, 11, 12, 5, 3, 3, (1, 1), (2, 2), (2, 2), 1),
    "grouped": (3, 6, 9, 8, 9, 3, 3, (1, 2), (1, 0), (1, 1), 3),
    "grouped_per_sample": (2, 4, 18, 18, 6, 3, 3, (1, 1), (1, 1), (1, 1), 2),
    "depthwise": (4, 7, 9, 11, 7, 3, 3, (1, 1), (1, 1), (1, 1), 7),
    "depthwise_strided_dilated": (3, 5, 12, 13, 5, 3, 5, (2, 3), (2, 1), (2, 1), 5),
    "depthwise_large": (2, 3, 33, 31, 3, 5, 5, (1, 1), (2, 2), (1, 1), 3),
    "depthwise_multiplier2": (3, 4, 8, 9, 8, 3, 3, (1, 1), (1, 1), (1, 1), 4),
    "wgrad_transposed": (3, 1, 6, 7, 16, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    "wgrad_transposed_pad_only_taps": (2, 2, 1, 1, 24, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    "wgrad_transposed_grouped": (2, 2, 5, 6, 20, 3, 3, (1, 1), (1, 1), (1, 1), 2),
    "n1_odd": (1, 3, 5, 7, 5, 3, 2, (1, 1), (0, 1), (1, 1), 1),
    "kernel_is_input": (2, 3, 5, 6, 4, 5, 6, (1, 1), (0, 0), (1, 1), 1),
    # implicit GEMM: panels gathered straight into the GEMM (the weight gradient
    # always; the forward when its im2col panel exceeds 512 KiB: per sample, chunks)
    "implicit_forward_per_sample": (2, 17, 23, 25, 19, 5, 5, (1, 1), (2, 2), (1, 1), 1),
    "implicit_forward_chunks": (7, 37, 9, 11, 21, 5, 5, (1, 1), (2, 1), (1, 1), 1),
    "implicit_forward_strided_dilated": (3, 36, 27, 25, 14, 5, 5, (2, 1), (2, 3), (2, 1), 2),
    "stride3_pad2": (3, 5, 16, 17, 7, 3, 3, (3, 3), (2, 2), (1, 1), 1),
    "stride3_1x1": (2, 9, 11, 10, 11, 1, 1, (3, 3), (0, 0), (1, 1), 1),
    "stride2_pad0_odd": (5, 17, 13, 15, 19, 3, 3, (2, 2), (0, 0), (1, 1), 1),
    "stride2_n1": (1, 33, 15, 9, 35, 3, 3, (2, 2), (1, 1), (1, 1), 1),
    "one_channel_first_layer": (3, 1, 28, 28, 32, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    # more than 256 taps: the materialized im2col path
    "many_taps": (2, 2, 17, 18, 3, 17, 17, (1, 1), (8, 8), (1, 1), 1),
    # ---- padded phase planes (csrc/nn/conv_rows.h): every stride phase read by a tap
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


def _tol(dtype, ref):
    scale = max(np.abs(ref).max(), 1.0)
    return (1e-5 * scale, 1e-4) if dtype == np.float32 else (1e-12 * scale, 1e-10)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(PATHS))
def test_path_matches_float64_direct_convolution(name, dtype, relu, isa):
    x, w, b, st, pd, dl, g = _data(PATHS[name], dtype)
    ref = ref_forward(x, w, b, st, pd, dl, g)
    if relu:
        ref = np.maximum(ref, 0)
    out = conv.forward(x, w, b, st, pd, dl, g, relu)
    assert out.dtype == dtype and out.shape == ref.shape
    atol, rtol = _tol(dtype, ref)
    np.testing.assert_allclose(out, ref, rtol=rtol, atol=atol)

    rng = np.random.default_rng(1)
    dout = rng.standard_normal(ref.shape).astype(dtype)
    y = out if relu else None
    dm = dout.astype(np.float64) * (out > 0) if relu else dout
    rdx, rdw, rdb = ref_backward(dm, x, w, st, pd, dl, g)
    dx, dw, db = conv.backward(dout, x, w, True, True, True, st, pd, dl, g, y=y)
    for got, want in ((dx, rdx), (dw, rdw), (db, rdb)):
        atol, rtol = _tol(dtype, want)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * 4)


@pytest.mark.parametrize("name", ["batched", "per_sample", "1x1_small_map",
                                  "pad_only_taps_gaps", "strided", "wgrad_transposed_grouped", "dilated", "grouped",
                                  "stride3_pad2", "stride3_1x1",
                                  "depthwise_strided_dilated", "depthwise_multiplier2",
                                  "s2_odd", "s2_odd_n1", "s21_asymmetric", "s3_pad1",
                                  "s2_dilation3", "s2_grouped", "s1_padded_small_c",
                                  "s2_5x5_pad2", "s2_pad0", "s1_1x1_maps_one_tap_grouped"])
def test_gradients_by_finite_differences(name):
    N, C, H, W, K, R, S, st, pd, dl, g = PATHS[name]
    N = min(N, 2)
    fastdl.manual_seed(3)
    x = fastdl.randn(N, C, H, W, dtype=fastdl.float64, requires_grad=True)
    w = fastdl.randn(K, C // g, R, S, dtype=fastdl.float64, requires_grad=True)
    b = fastdl.randn(K, dtype=fastdl.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, st, pd, dl, g), [x, w, b])
    # the fused node (ReLU's kink: no output of this seed lies within eps of 0)
    conv2 = nn.Sequential(nn.Conv2d(C, K, (R, S), st, pd, dl, g, dtype=np.float64), nn.ReLU())
    assert gradcheck(lambda x: conv2(x), [x])


@pytest.mark.parametrize("name", ["batched_chunks", "per_sample", "1x1_small_map",
                                  "1x1_chunks_remainder", "implicit_forward_per_sample",
                                  "implicit_forward_chunks", "implicit_forward_strided_dilated",
                                  "stride2_pad0_odd", "stride3_pad2",
                                  "pad_only_taps_1x1_map", "strided_large", "grouped",
                                  "wgrad_transposed",
                                  "depthwise_large", "resnet_16_32_s2", "resnet_32_64_s2",
                                  "s2_odd", "s2_implicit_forward", "s2_large_patch_matrix",
                                  "s2_grouped", "s1_stem_per_sample", "s1_1x1_maps_one_tap"])
@pytest.mark.parametrize("relu", [False, True])
def test_bitwise_identical_for_1_and_2_threads(name, relu, isa):
    N, C, H, W, K, R, S, st, pd, dl, g = PATHS[name]
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


def test_backward_gradients_do_not_depend_on_each_other():
    """dx, dw, db come back exactly equal whether or not the other gradients
    are asked for (the planes buffer is shared by dW and dx)."""
    x, w, b, st, pd, dl, g = _data(PATHS["resnet_32_64_s2"], np.float32, seed=3)
    out = conv.forward(x, w, b, st, pd, dl, g, False)
    dout = np.random.default_rng(4).standard_normal(out.shape).astype(np.float32)
    dx, dw, db = conv.backward(dout, x, w, True, True, True, st, pd, dl, g)
    dx_only = conv.backward(dout, x, w, True, False, False, st, pd, dl, g)[0]
    dw_only = conv.backward(dout, x, w, False, True, False, st, pd, dl, g)[1]
    assert np.array_equal(dx, dx_only) and np.array_equal(dw, dw_only)


@pytest.mark.parametrize("name", ["batched", "1x1_small_map", "depthwise", "grouped"])
def test_empty_batch(name):
    x, w, b, st, pd, dl, g = _data(PATHS[name], np.float32)
    x = x[:0]
    out = conv.forward(x, w, b, st, pd, dl, g, True)
    assert out.shape[0] == 0
    dx, dw, db = conv.backward(out, x, w, True, True, True, st, pd, dl, g, y=out)
    assert dx.shape == x.shape and not dw.any() and not db.any()
    seq = nn.Sequential(nn.Conv2d(x.shape[1], w.shape[0], w.shape[2:], st, pd, dl, g), nn.ReLU())
    assert seq(fastdl.tensor(x)).shape == out.shape


# ---- the fused conv + bias + ReLU node in nn.Sequential -------------------------------

def _pair_and_copy(C=5, K=6, groups=1, **kw):
    fastdl.manual_seed(11)
    fused = nn.Sequential(nn.Conv2d(C, K, 3, groups=groups, **kw), nn.ReLU())
    plain_conv = nn.Conv2d(C, K, 3, groups=groups, **kw)
    plain_conv.load_state_dict(fused[0].state_dict())
    return fused, plain_conv


@pytest.mark.parametrize("kw", [dict(padding=1), dict(stride=2), dict(padding=1, bias=False)])
@pytest.mark.parametrize("groups", [1, 5])
def test_sequential_fused_same_values_and_gradients_as_unfused(kw, groups):
    fused, plain = _pair_and_copy(groups=groups, K=5 if groups == 5 else 6, **kw)
    x0 = np.random.default_rng(4).standard_normal((3, 5, 9, 10)).astype(np.float32)
    xa = fastdl.tensor(x0, requires_grad=True)
    xb = fastdl.tensor(x0, requires_grad=True)
    ya = fused(xa)
    yb = F.relu(plain(xb))
    assert "Conv2dReLU" in repr(ya.grad_fn) and "Conv2dReLU" not in repr(yb.grad_fn)
    assert np.array_equal(ya.detach().numpy(), yb.detach().numpy())
    g = np.random.default_rng(5).standard_normal(ya.shape).astype(np.float32)
    ya.backward(fastdl.tensor(g))
    yb.backward(fastdl.tensor(g))
    np.testing.assert_allclose(xa.grad.numpy(), xb.grad.numpy(), rtol=1e-6, atol=1e-6)
    for pa, pb in zip(fused[0].parameters(), plain.parameters()):
        np.testing.assert_allclose(pa.grad.numpy(), pb.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_sequential_hooks_see_the_unfused_values():
    fused, plain = _pair_and_copy(padding=1)
    x = fastdl.randn(2, 5, 6, 7)
    seen = {}
    h1 = fused[0].register_forward_hook(lambda m, a, o: seen.__setitem__("conv", o.detach().numpy().copy()))
    h2 = fused[1].register_forward_hook(lambda m, a, o: seen.__setitem__("relu", (a[0].detach().numpy().copy(), o.detach().numpy().copy())))
    y = fused(x)
    pre = plain(x).detach().numpy()
    np.testing.assert_allclose(seen["conv"], pre, rtol=1e-6, atol=1e-6)    # pre-activation
    np.testing.assert_allclose(seen["relu"][0], pre, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(seen["relu"][1], y.detach().numpy())
    assert (seen["conv"] < 0).any()
    h1.remove()
    h2.remove()
    # a hook that changes the conv output must take effect
    fused[0].register_forward_hook(lambda m, a, o: o * 0 - 1)
    assert not fused(x).detach().numpy().any()


def test_sequential_hook_on_relu_only_and_replaced_forward_do_not_fuse():
    fused, plain = _pair_and_copy(padding=1)
    x = fastdl.randn(2, 5, 6, 7)
    fused[1].register_forward_hook(lambda m, a, o: o + 1)
    np.testing.assert_allclose(fused(x).detach().numpy(), F.relu(plain(x)).detach().numpy() + 1, rtol=1e-6,
                               atol=1e-6)
    fused2, plain2 = _pair_and_copy(padding=1)
    fused2[1].forward = lambda t: t * 2     # an instance-level replacement is honoured
    np.testing.assert_allclose(fused2(x).detach().numpy(), plain2(x).detach().numpy() * 2, rtol=1e-6, atol=1e-6)


def test_sequential_fused_under_no_grad_and_float64():
    fused, plain = _pair_and_copy(padding=1, dtype=np.float64)
    x = fastdl.randn(2, 5, 6, 7, dtype=fastdl.float64)
    with fastdl.no_grad():
        y = fused(x)
    assert y.dtype == fastdl.float64 and y.grad_fn is None
    np.testing.assert_allclose(y.detach().numpy(), F.relu(plain(x)).detach().numpy(), rtol=1e-12, atol=1e-12)


def test_relu_kernel_keeps_nan():
    x = np.zeros((1, 1, 3, 3), np.float32)
    x[0, 0, 1, 1] = np.nan
    w = np.ones((1, 1, 1, 1), np.float32)
    out = conv.forward(x, w, None, (1, 1), (0, 0), (1, 1), 1, True)
    assert np.isnan(out[0, 0, 1, 1]) and np.count_nonzero(np.isnan(out)) == 1


def test_backward_checks_shapes():
    x, w, b, st, pd, dl, g = _data(PATHS["batched"], np.float32)
    out = conv.forward(x, w, b, st, pd, dl, g)
    with pytest.raises(ValueError, match="conv2d_backward: grad_output must have shape"):
        conv.backward(out[:, :2], x, w, True, True, True, st, pd, dl, g)
    with pytest.raises(ValueError, match="conv2d_backward: output must have shape"):
        conv.backward(out, x, w, True, True, True, st, pd, dl, g, y=out[:1])
