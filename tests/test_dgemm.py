"""float64 GEMM (fdl_dgemm_ex) and the small-M path of both GEMMs.

dgemm is checked against an extended-precision reference (np.longdouble
products, bound (K + 4) * eps64 * |A||B|) for every transposition, shapes
that are not multiples of any tile or block (K past KC, N past NC), sizes
0 and 1, the alpha/beta/bias/ReLU epilogue and leading dimensions larger
than the rows; the small-M path (M <= 8, B streamed instead of packed)
against the float64 product and against the packed path (the same rows
inside a taller product), with and without transb. Everything runs on each
ISA this CPU supports (the `isa` fixture), and results must be bitwise
identical on 1 and 2 threads.
"""
import ctypes
import os

import numpy as np
import pytest

import fastdl
from fastdl._C import _core, gemm

_lib = ctypes.CDLL(os.path.join(fastdl.get_lib(), "libfastdl.so"))
_f64p = ctypes.POINTER(ctypes.c_double)
_i64 = ctypes.c_int64
_lib.fdl_dgemm_ex.argtypes = [ctypes.c_int, ctypes.c_int, _i64, _i64, _i64, ctypes.c_double,
                              _f64p, _i64, _f64p, _i64, ctypes.c_double, _f64p, _i64, _f64p,
                              ctypes.c_int]
_lib.fdl_dgemm_ex.restype = ctypes.c_int
EPS64 = np.finfo(np.float64).eps
EPS32 = np.finfo(np.float32).eps


def _ptr(x):
    return None if x is None else x.ctypes.data_as(_f64p)


def dgemm_ex(ta, tb, alpha, a, b, beta, c, bias=None, relu=False):
    """fdl_dgemm_ex on 2-D float64 arrays with unit inner stride (C in place)."""
    M, N = c.shape
    K = a.shape[0] if ta else a.shape[1]
    # an array's row stride is its leading dimension (NumPy gives empty arrays 0)
    ld = lambda x: max(x.strides[0] // 8, x.shape[1], 1)
    st = _lib.fdl_dgemm_ex(int(ta), int(tb), M, N, K, alpha, _ptr(a), ld(a), _ptr(b), ld(b),
                           beta, _ptr(c), ld(c), _ptr(bias), 1 if relu else 0)
    assert st == 0, "fdl_dgemm_ex status %d" % st
    return c


def reference(a, b, ta, tb, alpha=1.0, beta=0.0, c0=None, bias=None, relu=False):
    """(ref, scale): the product in long double and |alpha||A||B| + ... for the bound."""
    A = np.asarray(a.T if ta else a, np.longdouble)
    B = np.asarray(b.T if tb else b, np.longdouble)
    ref = np.longdouble(alpha) * (A @ B)
    scale = abs(alpha) * (np.abs(A) @ np.abs(B))
    if c0 is not None and beta != 0:
        ref = ref + np.longdouble(beta) * c0
        scale = scale + abs(beta) * np.abs(c0)
    if bias is not None:
        ref = ref + bias
        scale = scale + np.abs(bias)
    if relu:
        ref = np.maximum(ref, 0)
    return ref, scale


def assert_close64(got, ref, scale, K):
    err = np.abs(np.asarray(got, np.longdouble) - ref)
    tol = (K + 4) * EPS64 * scale + 1e-300
    assert np.all(err <= tol), "max err %g, tol there %g" % (
        float(err.max()), float(tol.flat[np.argmax(err - tol)]))


def operands(rng, M, N, K, ta, tb, dtype=np.float64):
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(dtype)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(dtype)
    return a, b


# Tiles are 12x16 / 6x8 / 6x4 doubles; KC 1024 and NC 512 on the machines measured:
# (37, 530, 1030) crosses both a K block and an N block boundary.
SHAPES = [(1, 1, 1), (2, 3, 5), (13, 17, 19), (25, 33, 70), (12, 16, 64), (37, 530, 1030),
          (130, 70, 9)]
TRANS = [(0, 0), (0, 1), (1, 0), (1, 1)]


@pytest.mark.parametrize("M,N,K", SHAPES)
@pytest.mark.parametrize("ta,tb", TRANS)
def test_dgemm_matches_long_double(isa, rng, M, N, K, ta, tb):
    a, b = operands(rng, M, N, K, ta, tb)
    c = np.full((M, N), np.nan)
    dgemm_ex(ta, tb, 1.0, a, b, 0.0, c)          # beta == 0: C is never read
    ref, scale = reference(a, b, ta, tb)
    assert_close64(c, ref, scale, K)
    got = gemm.matmul(a, b, transa=bool(ta), transb=bool(tb))
    assert got.dtype == np.float64
    assert_close64(got, ref, scale, K)


@pytest.mark.parametrize("ta,tb", TRANS)
@pytest.mark.parametrize("alpha,beta", [(1.0, 1.0), (-0.5, 2.0), (2.5, 0.0), (0.0, -1.5)])
@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("M,N,K", [(1, 9, 5), (14, 19, 23), (31, 40, 300)])
def test_dgemm_epilogue(isa, rng, ta, tb, alpha, beta, relu, M, N, K):
    a, b = operands(rng, M, N, K, ta, tb)
    c0 = rng.standard_normal((M, N))
    bias = rng.standard_normal(N)
    c = c0.copy()
    dgemm_ex(ta, tb, alpha, a, b, beta, c, bias=bias, relu=relu)
    ref, scale = reference(a, b, ta, tb, alpha, beta, c0, bias, relu)
    assert_close64(c, ref, scale, K)


@pytest.mark.parametrize("ta,tb", TRANS)
def test_dgemm_leading_dims(isa, rng, ta, tb):
    M, N, K = 27, 35, 41
    big_a = rng.standard_normal((60, 70))
    big_b = rng.standard_normal((60, 70))
    a = big_a[:K, :M] if ta else big_a[:M, :K]
    b = big_b[:N, :K] if tb else big_b[:K, :N]
    big_c = rng.standard_normal((M, 50))
    c0 = big_c.copy()
    c = big_c[:, 3:3 + N]
    dgemm_ex(ta, tb, 1.0, a, b, 0.5, c)
    ref, scale = reference(a, b, ta, tb, 1.0, 0.5, c0[:, 3:3 + N])
    assert_close64(c, ref, scale, K)
    # the columns outside the view are untouched
    np.testing.assert_array_equal(big_c[:, :3], c0[:, :3])
    np.testing.assert_array_equal(big_c[:, 3 + N:], c0[:, 3 + N:])


@pytest.mark.parametrize("M,N,K", [(0, 4, 3), (4, 0, 3), (0, 0, 0)])
def test_dgemm_empty(isa, M, N, K):
    a = np.ones((M, K))
    b = np.ones((K, N))
    assert gemm.matmul(a, b).shape == (M, N)


def test_dgemm_k_zero_is_beta_c_plus_bias(isa, rng):
    c0 = rng.standard_normal((5, 7))
    bias = rng.standard_normal(7)
    c = c0.copy()
    dgemm_ex(0, 0, 1.0, np.zeros((5, 0)), np.zeros((0, 7)), 0.5, c, bias=bias, relu=True)
    np.testing.assert_array_equal(c, np.maximum(0.5 * c0 + bias, 0))


@pytest.mark.parametrize("M,N,K", [(300, 200, 150), (37, 530, 1030), (5, 700, 400),
                                   (8, 3000, 900)])
@pytest.mark.parametrize("ta,tb", TRANS)
def test_dgemm_bitwise_same_on_1_and_2_threads(isa, rng, M, N, K, ta, tb):
    a, b = operands(rng, M, N, K, ta, tb)
    bias = rng.standard_normal(N)
    out = {}
    for t in (1, 2):
        _core.set_num_threads(t)
        out[t] = gemm.matmul(a, b, transa=bool(ta), transb=bool(tb), bias=bias, relu=True)
    np.testing.assert_array_equal(out[1], out[2])


# ---- small M ---------------------------------------------------------------

@pytest.mark.parametrize("M", list(range(1, 17)))
@pytest.mark.parametrize("N,K", [(1, 1), (10, 128), (33, 7), (256, 784), (70, 1030)])
@pytest.mark.parametrize("tb", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_m_matches_float64_and_packed_path(isa, rng, M, N, K, tb, dtype):
    """M rows alone (small-M path for M <= 8) vs the same rows inside a
    40-row product (packed path) and vs the float64 product."""
    tall = rng.standard_normal((40, K)).astype(dtype)
    w = rng.standard_normal((N, K) if tb else (K, N)).astype(dtype)
    bias = rng.standard_normal(N).astype(dtype)
    x = tall[:M]
    got = gemm.matmul(x, w, transb=tb, bias=bias, relu=True)
    packed = gemm.matmul(tall, w, transb=tb, bias=bias, relu=True)[:M]
    W = np.asarray(w.T if tb else w, np.float64)
    ref = np.maximum(np.asarray(x, np.float64) @ W + bias, 0)
    scale = np.abs(np.asarray(x, np.float64)) @ np.abs(W) + np.abs(bias)
    eps = EPS32 if dtype == np.float32 else EPS64
    tol = (K + 4) * eps * scale + 1e-300
    assert np.all(np.abs(got - ref) <= tol)
    assert np.all(np.abs(got - packed) <= 2 * tol)


@pytest.mark.parametrize("M", [1, 3, 8])
@pytest.mark.parametrize("tb", [True, False])
def test_small_m_transposed_a_and_epilogue(isa, rng, M, tb):
    """op(A) = A^T (copied to rows first), alpha/beta through sgemm."""
    N, K = 45, 67
    a = rng.standard_normal((K, M)).astype(np.float32)
    w = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
    c0 = rng.standard_normal((M, N)).astype(np.float32)
    c = c0.copy()
    gemm.sgemm(True, tb, -1.5, a, w, 0.25, c)
    W = np.asarray(w.T if tb else w, np.float64)
    ref = -1.5 * (a.T.astype(np.float64) @ W) + 0.25 * c0
    np.testing.assert_allclose(c, ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("M", [1, 2, 4, 8])
@pytest.mark.parametrize("tb", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_m_bitwise_same_on_1_and_2_threads(isa, rng, M, tb, dtype):
    """Large enough (2*M*N*K above the threading threshold) to split N."""
    N, K = 1500, 1100
    x = rng.standard_normal((M, K)).astype(dtype)
    w = rng.standard_normal((N, K) if tb else (K, N)).astype(dtype)
    bias = rng.standard_normal(N).astype(dtype)
    out = {}
    for t in (1, 2):
        _core.set_num_threads(t)
        out[t] = gemm.matmul(x, w, transb=tb, bias=bias)
    np.testing.assert_array_equal(out[1], out[2])


def test_small_m_nan_in_c_is_ignored_when_beta_zero(isa, rng):
    x = rng.standard_normal((2, 50)).astype(np.float32)
    w = rng.standard_normal((30, 50)).astype(np.float32)
    c = np.full((2, 30), np.nan, np.float32)
    gemm.sgemm(False, True, 1.0, x, w, 0.0, c)
    np.testing.assert_allclose(c, x.astype(np.float64) @ w.T.astype(np.float64),
                               rtol=1e-5, atol=1e-5)


def test_blocking_reported_and_within_buffers():
    """MC/KC/NC derived from the caches fit the packing buffers (256 KiB per
    thread for A, 4 MiB for B) and are multiples of the register tile."""
    for dt, esz in (("float32", 4), ("float64", 8)):
        b = gemm.blocking(dt)
        assert b["mc"] % b["mr"] == 0 and b["nc"] % b["nr"] == 0 and b["kc"] % 8 == 0
        rep = 1 if _core.get_isa() != "generic" else 16 // esz
        assert b["mc"] * b["kc"] * rep * esz <= 256 << 10
        assert b["kc"] * b["nc"] * esz <= 4 << 20
        assert gemm.kernel_name(dt).startswith("sgemm_" if esz == 4 else "dgemm_")
