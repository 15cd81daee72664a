"""GEMM: fastdl._C.gemm.matmul / sgemm against a float64 NumPy reference.

The float32 GEMM picks its micro-kernel and blocking by ISA: its tests take
the `isa` fixture (tests/conftest.py, forced in-process with _core.set_isa),
so the AVX-512, AVX2 and portable kernels are all checked. The float64 GEMM,
the reference sgemm, the batching, layout-copy and argument checks have no
per-ISA code and run once.
"""
import threading

import numpy as np
import pytest

from fastdl._C import _core, gemm

EPS32 = np.finfo(np.float32).eps


def rand(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def op(x, t):
    x = np.asarray(x, np.float64)
    return np.swapaxes(x, -1, -2) if t else x


def assert_gemm_close(got, a, b, ta=False, tb=False, alpha=1.0, beta=0.0, c0=None,
                      bias=None, relu=False, dtype=np.float32):
    """got vs the float64 result, with a bound that scales with K and |A||B|."""
    A, B = op(a, ta), op(b, tb)
    ref = alpha * (A @ B)
    scale = abs(alpha) * (np.abs(A) @ np.abs(B))
    if c0 is not None and beta != 0:
        ref = ref + beta * np.asarray(c0, np.float64)
        scale = scale + abs(beta) * np.abs(np.asarray(c0, np.float64))
    if bias is not None:
        ref = ref + np.asarray(bias, np.float64)
        scale = scale + np.abs(np.asarray(bias, np.float64))
    if relu:
        ref = np.maximum(ref, 0)
    K = A.shape[-1]
    eps = EPS32 if dtype == np.float32 else np.finfo(np.float64).eps
    tol = (K + 4) * eps * scale + 1e-30
    assert got.dtype == dtype
    assert got.shape == ref.shape
    err = np.abs(got.astype(np.float64) - ref)
    assert np.all(err <= tol), "max err %g (tol %g)" % (err.max(), tol.flat[np.argmax(err - tol)])


SHAPES = [  # (M, N, K)
    (1, 1, 1), (1, 7, 5), (7, 1, 5), (5, 7, 1), (2, 3, 4),
    (13, 17, 19), (31, 37, 41),            # primes
    (100, 3, 257), (3, 100, 257),          # tall-skinny, short-wide, K just over KC
    (12, 32, 256), (24, 64, 512),          # exact multiples of the AVX-512 tile
    (25, 65, 513), (11, 31, 255),          # one off the multiples
    (128, 256, 784), (128, 10, 128),       # MLP layers
    (530, 70, 300),                        # A too big to read in place: packed
    (40, 530, 300),                        # B too big to read in place: packed
    (9, 4100, 20),                         # N over NC: two jc panels
    (37, 45, 1100), (530, 70, 1100),       # K over every ISA's KC: several K passes
    (40, 16, 300), (64, 8, 100), (64, 4, 100),   # N = half a panel: read in place
    (50, 48, 70), (36, 24, 64),            # a full panel, then half a panel
]


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("M,N,K", SHAPES)
def test_matmul_transposes(isa, M, N, K, ta, tb):
    rng = np.random.default_rng(M * 1000 + N * 10 + K)
    a = rand(rng, (K, M) if ta else (M, K))
    b = rand(rng, (N, K) if tb else (K, N))
    assert_gemm_close(gemm.matmul(a, b, transa=ta, transb=tb), a, b, ta, tb)


@pytest.mark.parametrize("M,N,K", [(0, 5, 3), (5, 0, 3), (0, 0, 0), (4, 6, 0)])
def test_matmul_zero_sizes(M, N, K):
    a = np.ones((M, K), np.float32)
    b = np.ones((K, N), np.float32)
    c = gemm.matmul(a, b)
    assert c.shape == (M, N)
    np.testing.assert_array_equal(c, np.zeros((M, N), np.float32))
    bias = np.arange(N, dtype=np.float32) - 2
    np.testing.assert_array_equal(gemm.matmul(a, b, bias=bias, relu=True),
                                  np.broadcast_to(np.maximum(bias, 0), (M, N)))


def test_sgemm_k_zero_scales_c(isa):
    c = np.full((3, 4), 2.0, np.float32)
    gemm.sgemm(False, False, 1.0, np.ones((3, 0), np.float32), np.ones((0, 4), np.float32),
               1.5, c)
    np.testing.assert_array_equal(c, np.full((3, 4), 3.0, np.float32))
    c[0, 0] = np.nan
    gemm.sgemm(False, False, 1.0, np.ones((3, 0), np.float32), np.ones((0, 4), np.float32),
               0.0, c)
    np.testing.assert_array_equal(c, np.zeros((3, 4), np.float32))


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.7])
@pytest.mark.parametrize("beta", [0.0, 1.0, 2.5])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("K", [300, 1100])
def test_sgemm_alpha_beta_leading_dims(isa, alpha, beta, ta, tb, K):
    """Sub-matrix views: every operand has a leading dimension > its width."""
    M, N = 29, 45
    rng = np.random.default_rng(7)
    big_a = rand(rng, (K + 5, M + 9) if ta else (M + 5, K + 9))
    big_b = rand(rng, (N + 4, K + 7) if tb else (K + 4, N + 7))
    big_c = rand(rng, (M + 6, N + 11))
    a = big_a[2:2 + (K if ta else M), 3:3 + (M if ta else K)]
    b = big_b[1:1 + (N if tb else K), 5:5 + (K if tb else N)]
    before = big_c.copy()
    c = big_c[3:3 + M, 4:4 + N]
    c0 = c.copy()
    gemm.sgemm(ta, tb, alpha, a, b, beta, c)
    assert_gemm_close(c, a, b, ta, tb, alpha, beta, c0)
    outside = np.ones(big_c.shape, bool)
    outside[3:3 + M, 4:4 + N] = False
    np.testing.assert_array_equal(big_c[outside], before[outside])


@pytest.mark.parametrize("M,N,K", [(5, 7, 3), (64, 80, 300), (600, 40, 300)])
def test_nan_rules(isa, M, N, K):
    rng = np.random.default_rng(3)
    a = rand(rng, (M, K))
    b = rand(rng, (K, N))
    c = np.full((M, N), np.nan, np.float32)
    gemm.sgemm(False, False, 1.0, a, b, 0.0, c)  # beta == 0: C is write-only
    assert not np.isnan(c).any()
    assert_gemm_close(c, a, b)
    a[M // 2, K // 2] = np.nan
    c = gemm.matmul(a, b)
    assert np.isnan(c[M // 2]).all()
    assert not np.isnan(np.delete(c, M // 2, axis=0)).any()
    c = gemm.matmul(a, b, relu=True)             # ReLU keeps NaN
    assert np.isnan(c[M // 2]).all()


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("M,N,K", [(1, 1, 1), (13, 33, 17), (128, 256, 784), (530, 70, 300),
                                   (40, 50, 1100)])
@pytest.mark.parametrize("relu", [False, True])
def test_matmul_bias_relu(isa, M, N, K, ta, tb, relu):
    rng = np.random.default_rng(11)
    a = rand(rng, (K, M) if ta else (M, K))
    b = rand(rng, (N, K) if tb else (K, N))
    bias = rand(rng, (N,))
    got = gemm.matmul(a, b, transa=ta, transb=tb, bias=bias, relu=relu)
    assert_gemm_close(got, a, b, ta, tb, bias=bias, relu=relu)
    if relu:
        assert (got >= 0).all()


def test_matmul_out():
    rng = np.random.default_rng(5)
    a, b = rand(rng, (2, 30, 20)), rand(rng, (20, 10))
    out = np.empty((2, 30, 10), np.float32)
    got = gemm.matmul(a, b, out=out)
    assert got is out
    assert_gemm_close(out, a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sa,sb", [
    ((3, 1, 7, 5), (4, 5, 6)),     # broadcast both ways
    ((2, 7, 5), (5, 6)),           # shared B (stride 0)
    ((7, 5), (3, 5, 6)),           # shared A
    ((1, 2, 7, 5), (2, 1, 5, 6)),
    ((4, 40, 30), (4, 30, 50)),
])
def test_matmul_batched(sa, sb, dtype):
    rng = np.random.default_rng(1)
    a, b = rand(rng, sa, dtype), rand(rng, sb, dtype)
    got = gemm.matmul(a, b)
    ref_shape = np.broadcast_shapes(sa[:-2], sb[:-2]) + (sa[-2], sb[-1])
    assert got.shape == ref_shape
    A = np.broadcast_to(a, ref_shape[:-2] + sa[-2:])
    B = np.broadcast_to(b, ref_shape[:-2] + sb[-2:])
    assert_gemm_close(got, A, B, dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_batched_transposed_and_strided(dtype):
    rng = np.random.default_rng(2)
    a = rand(rng, (6, 9, 13), dtype)[::2]          # batch stride 2 * 9 * 13
    b = rand(rng, (3, 11, 13), dtype)              # (..., N, K) -> transb
    bias = rand(rng, (11,), dtype)
    got = gemm.matmul(a, b, transb=True, bias=bias, relu=True)
    assert_gemm_close(got, a, b, tb=True, bias=bias, relu=True, dtype=dtype)
    at = np.swapaxes(rand(rng, (3, 9, 13), dtype), -1, -2)  # (3, 13, 9): outer stride 1
    b2 = rand(rng, (3, 11, 9), dtype)
    assert_gemm_close(gemm.matmul(at, b2, transb=True), at, b2, tb=True, dtype=dtype)


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("M,N,K", [(1, 1, 1), (13, 17, 19), (64, 70, 300), (0, 3, 2), (3, 4, 0)])
def test_dgemm(M, N, K, ta, tb):
    rng = np.random.default_rng(9)
    a = rand(rng, (K, M) if ta else (M, K), np.float64)
    b = rand(rng, (N, K) if tb else (K, N), np.float64)
    bias = rand(rng, (N,), np.float64)
    got = gemm.matmul(a, b, transa=ta, transb=tb, bias=bias, relu=True)
    assert_gemm_close(got, a, b, ta, tb, bias=bias, relu=True, dtype=np.float64)


def test_layouts_without_and_with_copy():
    rng = np.random.default_rng(4)
    a = np.asfortranarray(rand(rng, (40, 30)))     # read in place as transposed
    b = rand(rng, (60, 50))[::2, ::3]              # no unit stride: copied
    assert_gemm_close(gemm.matmul(a, b[:30]), a, b[:30])
    c = rand(rng, (30, 20))[:, ::-1]               # negative stride: copied
    assert_gemm_close(gemm.matmul(a, c), a, c)


def test_sgemm_ref_oracle():
    rng = np.random.default_rng(8)
    for ta in (False, True):
        for tb in (False, True):
            M, N, K = 17, 23, 31
            a = rand(rng, (K, M) if ta else (M, K))
            b = rand(rng, (N, K) if tb else (K, N))
            c0 = rand(rng, (M, N))
            bias = rand(rng, (N,))
            c = c0.copy()
            gemm.sgemm_ref(ta, tb, 0.5, a, b, 2.0, c, bias=bias, relu=True)
            assert_gemm_close(c, a, b, ta, tb, 0.5, 2.0, c0, bias=bias, relu=True)


@pytest.mark.skipif(not _core.has_openmp(), reason="serial build: one thread only")
@pytest.mark.parametrize("M,N,K,ta,tb", [
    (128, 256, 784, False, True), (128, 784, 256, False, False), (256, 784, 128, True, False),
    (300, 290, 600, True, True), (530, 700, 300, False, False), (20, 1000, 300, False, False),
    (131, 71, 1100, False, False), (600, 300, 1100, True, False),
])
def test_bitwise_identical_across_threads(isa, M, N, K, ta, tb):
    rng = np.random.default_rng(6)
    a = rand(rng, (K, M) if ta else (M, K))
    b = rand(rng, (N, K) if tb else (K, N))
    bias = rand(rng, (N,))
    _core.set_num_threads(1)
    one = gemm.matmul(a, b, transa=ta, transb=tb, bias=bias)
    _core.set_num_threads(2)
    two = gemm.matmul(a, b, transa=ta, transb=tb, bias=bias)
    assert one.view(np.uint32).tobytes() == two.view(np.uint32).tobytes()
    assert_gemm_close(two, a, b, ta, tb, bias=bias)


@pytest.mark.skipif(not _core.has_openmp(), reason="serial build: one thread only")
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("N,K", [(45, 2100), (1100, 300), (2100, 1100)])
def test_threads_race_free_over_k_passes_and_n_blocks(isa, tb, N, K):
    """Column-split teams run unsynchronized over K passes of different
    depth and N blocks of different width; repeat to give a buffer race a
    chance to show."""
    rng = np.random.default_rng(13)
    M = 29
    a = rand(rng, (M, K))
    b = rand(rng, (N, K) if tb else (K, N))
    _core.set_num_threads(1)
    one = gemm.matmul(a, b, transb=tb).tobytes()
    _core.set_num_threads(2)
    for _ in range(30):
        assert gemm.matmul(a, b, transb=tb).tobytes() == one


@pytest.mark.skipif(not _core.has_openmp(), reason="serial build: one thread only")
def test_bitwise_identical_across_threads_batched():
    rng = np.random.default_rng(12)
    a, b = rand(rng, (8, 30, 40)), rand(rng, (8, 40, 20))
    _core.set_num_threads(1)
    one = gemm.matmul(a, b)
    _core.set_num_threads(2)
    two = gemm.matmul(a, b)
    assert one.tobytes() == two.tobytes()


def test_concurrent_callers():
    """Two OS threads in the C code at once (the GIL is released)."""
    rng = np.random.default_rng(10)
    pairs = [(rand(rng, (200, 300)), rand(rng, (300, 150))) for _ in range(2)]
    expect = [gemm.matmul(a, b) for a, b in pairs]
    errors = []

    def work(i):
        a, b = pairs[i]
        for _ in range(20):
            if gemm.matmul(a, b).tobytes() != expect[i].tobytes():
                errors.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_errors_name_op_shapes_and_dtypes():
    f32 = np.ones((3, 4), np.float32)
    with pytest.raises(TypeError, match=r"matmul: .*float32.*float64"):
        gemm.matmul(f32, np.ones((4, 2)))
    with pytest.raises(TypeError, match=r"matmul: .*int64"):
        gemm.matmul(np.ones((3, 4), np.int64), np.ones((4, 2), np.int64))
    with pytest.raises(TypeError, match=r"matmul: expected numpy arrays"):
        gemm.matmul([[1.0]], f32)
    with pytest.raises(ValueError, match=r"matmul: .*\(3, 4\).*K=4.*\(5, 2\).*K=5"):
        gemm.matmul(f32, np.ones((5, 2), np.float32))
    with pytest.raises(ValueError, match=r"matmul: .*2 dims.*\(4,\)"):
        gemm.matmul(f32, np.ones(4, np.float32))
    with pytest.raises(ValueError, match=r"matmul: batch dims .*\(2, 3, 4\).*\(3, 4, 2\)"):
        gemm.matmul(np.ones((2, 3, 4), np.float32), np.ones((3, 4, 2), np.float32))
    with pytest.raises(ValueError, match=r"matmul: expected bias of shape \(2,\), got \(3,\)"):
        gemm.matmul(f32, np.ones((4, 2), np.float32), bias=np.ones(3, np.float32))
    with pytest.raises(TypeError, match=r"matmul: expected bias as a float32"):
        gemm.matmul(f32, np.ones((4, 2), np.float32), bias=np.ones(2))
    with pytest.raises(ValueError, match=r"matmul: expected out of shape \(3, 2\), got \(2, 3\)"):
        gemm.matmul(f32, np.ones((4, 2), np.float32), out=np.empty((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"C-contiguous"):
        gemm.matmul(f32, np.ones((4, 2), np.float32), out=np.empty((2, 3), np.float32).T)
    with pytest.raises(ValueError, match=r"sgemm: with C \(3, 3\), expected A \(3, 4\)"):
        gemm.sgemm(False, False, 1.0, f32, f32, 0.0, np.zeros((3, 3), np.float32))
    with pytest.raises(ValueError, match=r"sgemm: C must have a unit inner stride"):
        gemm.sgemm(False, False, 1.0, f32, f32.T.copy(), 0.0, np.zeros((4, 3), np.float32).T)


@pytest.mark.skipif(not _core.has_openmp(), reason="serial build: one thread only")
def test_no_race_between_blocks_when_one_thread_lags(isa):
    """Two threads, one slowed by a busy process on the other core: results must
    not change. Shapes with several jc and pc blocks (N > NC, K > KC), where a
    thread running ahead into the next block used to overwrite packed panels
    its slower partner was still reading."""
    import subprocess
    import sys
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        rng = np.random.default_rng(9)
        for M, N, K in [(64, 3000, 700), (300, 2000, 2100), (530, 700, 1100)]:
            a = rand(rng, (M, K))
            b = rand(rng, (K, N))
            _core.set_num_threads(1)
            one = gemm.matmul(a, b)
            _core.set_num_threads(2)
            for _ in range(8):
                assert np.array_equal(one, gemm.matmul(a, b))
    finally:
        busy.kill()
        busy.wait()


def test_kernel_name_and_fma_probe(isa):
    """The ISA's own sgemm micro-kernel and FMA peak loop are the ones that run:
    the probe's flop count is its ISA's (lanes x independent FMAs x 2)."""
    name = gemm.kernel_name()
    assert isinstance(name, str) and name
    flops_per_iter = {"generic": 48 * 2, "avx2": 12 * 8 * 2, "avx512": 16 * 16 * 2}[isa]
    assert gemm.fma_loop(1000, 1) == 1000 * flops_per_iter
    assert gemm.fma_loop(0, 1) == 0
    assert gemm.fma_loop(-5, 1) == 0
    if _core.has_openmp():
        assert gemm.fma_loop(10, 2) == 2 * 10 * flops_per_iter


def test_kernel_names_differ_by_isa():
    names = {}
    for isa in ("generic", "avx2", "avx512")[:("generic", "avx2", "avx512").index(
            _core.detected_isa()) + 1]:
        prev = _core.get_isa()
        _core.set_isa(isa)
        try:
            names[isa] = gemm.kernel_name()
        finally:
            _core.set_isa(prev)
    assert len(set(names.values())) == len(names), names
