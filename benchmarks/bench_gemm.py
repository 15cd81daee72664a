"""sgemm: fastdl against numpy.matmul, one group per shape.

Square sizes 64..2048 and the products of MLP training (784-256-128-10,
batch 128): forward x @ W^T, input gradient dY @ W, weight gradient dY^T @ x.
Each benchmark stores its GFLOP/s (from the median time) in extra_info.
fastdl runs with its configured thread count (fastdl._C._core.set_num_threads
or OMP_NUM_THREADS); NumPy with its BLAS default.

    pytest benchmarks/bench_gemm.py --benchmark-only
"""
import numpy as np
import pytest

from fastdl._C import gemm
from fastdl.bench.gemm import MLP, SQUARE

SHAPES = [("%d^3" % n, n, n, n, False, False) for n in SQUARE] + [
    ("%s %dx%dx%d" % (label.split()[0] + " " + label.split()[1], M, N, K), M, N, K, ta, tb)
    for label, M, N, K, ta, tb in MLP]
IDS = [s[0].replace(" ", "-").replace("^3", "cubed") for s in SHAPES]


def _operands(M, N, K, ta, tb):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
    return a, b


def _run(benchmark, shape, fn):
    label, M, N, K = shape[:4]
    benchmark.group = "sgemm " + label
    benchmark(fn)
    flops = 2.0 * M * N * K
    benchmark.extra_info["gflops"] = round(flops / benchmark.stats.stats.median / 1e9, 1)


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_fastdl_matmul(benchmark, shape):
    _, M, N, K, ta, tb = shape
    a, b = _operands(M, N, K, ta, tb)
    out = np.empty((M, N), np.float32)
    _run(benchmark, shape, lambda: gemm.matmul(a, b, transa=ta, transb=tb, out=out))


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_numpy_matmul(benchmark, shape):
    _, M, N, K, ta, tb = shape
    a, b = _operands(M, N, K, ta, tb)
    an, bn = (a.T if ta else a), (b.T if tb else b)
    out = np.empty((M, N), np.float32)
    _run(benchmark, shape, lambda: np.matmul(an, bn, out=out))
