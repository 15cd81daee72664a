"""fdl_conv2d_backward_write_{f32,f64} (fastdl/conv.h): the backward that writes
dx, dw and db instead of adding into them, so the caller need not zero them
(the Python layer uses it; the input gradient is the largest array of a conv
backward). Called through ctypes on buffers full of NaN, on every path the
library has (Winograd, phase planes, the materialized col2im, 1x1 GEMMs in
place, depthwise), every ISA, with and without the fused ReLU's mask: the
result must be bitwise the accumulating variant's on zeroed buffers, and the
accumulating variant must still add."""
import ctypes
import os

import numpy as np
import pytest

import fastdl
from fastdl._C import winograd


class Params(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int64) for n in
                ("N", "C", "H", "W", "K", "R", "S", "stride_h", "stride_w", "pad_h", "pad_w",
                 "dil_h", "dil_w", "groups")]


@pytest.fixture(scope="module")
def lib():
    return ctypes.CDLL(os.path.join(fastdl.get_lib(), "libfastdl.so"))


# name: (N, C, H, W, K, R, S, stride, padding, dilation, groups)
CASES = {
    "winograd": (5, 16, 12, 10, 24, 3, 3, 1, 1, 1, 1),
    "winograd_odd": (5, 19, 9, 13, 17, 3, 3, 1, 1, 1, 1),
    "planes_s2": (3, 16, 16, 16, 32, 3, 3, 2, 1, 1, 1),
    "planes_s2_odd": (2, 5, 15, 13, 7, 3, 3, 2, 1, 1, 1),
    "planes_grouped": (2, 6, 9, 11, 9, 3, 3, 2, 1, 1, 3),
    "col2im_1x1_s2": (3, 8, 11, 9, 12, 1, 1, 2, 0, 1, 1),
    "col2im_dilated_s2": (2, 4, 17, 15, 5, 3, 3, 2, 2, 2, 1),
    "col2im_1x1_small_maps": (5, 8, 5, 5, 6, 1, 1, 1, 0, 1, 1),
    "gemm_in_place_1x1": (2, 8, 16, 17, 6, 1, 1, 1, 0, 1, 1),
    "depthwise": (3, 6, 10, 9, 6, 3, 3, 1, 1, 1, 6),
    "depthwise_s2": (2, 5, 11, 8, 5, 3, 3, 2, 1, 1, 5),
    "empty_batch": (0, 4, 8, 8, 6, 3, 3, 1, 1, 1, 1),
}


def _setup(case, dtype, seed=0):
    N, C, H, W, K, R, S, st, pd, dl, g = case
    p = Params(N, C, H, W, K, R, S, st, st, pd, pd, dl, dl, g)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((K, C // g, R, S)).astype(dtype)
    P = (H + 2 * pd - dl * (R - 1) - 1) // st + 1
    Q = (W + 2 * pd - dl * (S - 1) - 1) // st + 1
    dout = rng.standard_normal((N, K, P, Q)).astype(dtype)
    y = rng.standard_normal((N, K, P, Q)).astype(dtype)   # a mask: half the entries > 0
    return p, x, w, dout, y


def _call(lib, name, p, x, w, dout, y, fill):
    dtype = x.dtype
    dx = np.full(x.shape, fill, dtype)
    dw = np.full(w.shape, fill, dtype)
    db = np.full(w.shape[0], fill, dtype)
    lib.fdl_conv2d_workspace_size.restype = ctypes.c_int64
    nws = lib.fdl_conv2d_workspace_size(ctypes.byref(p), ctypes.c_int(fastdl.get_num_threads()))
    ws = np.empty(max(int(nws), 1), np.uint8)
    ptr = lambda a: None if a is None else a.ctypes.data_as(ctypes.c_void_p)   # noqa: E731
    suffix = "f32" if dtype == np.float32 else "f64"
    st = getattr(lib, "fdl_conv2d_backward_%s_%s" % (name, suffix))(
        ptr(dx), ptr(dw), ptr(db), ptr(dout), ptr(y), ptr(x), ptr(w), ctypes.byref(p),
        ptr(ws), ctypes.c_int64(ws.nbytes))
    assert st == 0
    return dx, dw, db


def test_cases_reach_winograd():
    for name in ("winograd", "winograd_odd"):
        N, C, H, W, K = CASES[name][:5]
        assert winograd.algo_name((N, C, H, W), (K, C, 3, 3), padding=(1, 1)).startswith(
            "winograd")
    N, C, H, W, K = CASES["planes_s2"][:5]
    assert winograd.algo_name((N, C, H, W), (K, C, 3, 3), (2, 2), (1, 1)) == "im2col"


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(CASES))
def test_write_over_nan_equals_add_into_zeros(lib, name, dtype, masked, isa):
    p, x, w, dout, y = _setup(CASES[name], dtype)
    y = y if masked else None
    want = _call(lib, "ex", p, x, w, dout, y, 0.0)
    got = _call(lib, "write", p, x, w, dout, y, np.nan)
    for a, b in zip(got, want):
        assert np.array_equal(a, b), name
    assert all(np.isfinite(a).all() for a in got)


@pytest.mark.parametrize("name", ["winograd", "planes_s2", "col2im_1x1_s2", "gemm_in_place_1x1",
                                  "depthwise", "col2im_dilated_s2"])
def test_accumulating_variant_still_adds(lib, name, isa):
    p, x, w, dout, _ = _setup(CASES[name], np.float64, seed=2)
    fresh = _call(lib, "write", p, x, w, dout, None, np.nan)
    added = _call(lib, "ex", p, x, w, dout, None, 1.5)
    for a, b in zip(added, fresh):
        np.testing.assert_allclose(a, b + 1.5, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["winograd", "planes_s2", "col2im_1x1_small_maps",
                                  "depthwise_s2"])
def test_write_bitwise_identical_for_1_and_2_threads(lib, name, isa):
    p, x, w, dout, y = _setup(CASES[name], np.float32, seed=3)
    runs = []
    for t in (1, 2):
        fastdl.set_num_threads(t)
        runs.append(_call(lib, "write", p, x, w, dout, y, np.nan))
    for a, b in zip(*runs):
        assert np.array_equal(a, b)


def test_write_refuses_bad_params_without_touching_outputs(lib):
    p, x, w, dout, y = _setup(CASES["planes_s2"], np.float32)
    p.groups = 5          # 16 channels do not split into 5 groups
    dw = np.full(w.shape, 7.0, np.float32)
    db = np.full(w.shape[0], 7.0, np.float32)
    st = lib.fdl_conv2d_backward_write_f32(
        None, dw.ctypes.data_as(ctypes.c_void_p), db.ctypes.data_as(ctypes.c_void_p),
        dout.ctypes.data_as(ctypes.c_void_p), None, x.ctypes.data_as(ctypes.c_void_p),
        w.ctypes.data_as(ctypes.c_void_p), ctypes.byref(p), None, ctypes.c_int64(0))
    assert st != 0
    assert (dw == 7.0).all() and (db == 7.0).all()
