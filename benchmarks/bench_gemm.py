"""sgemm and dgemm: fastdl against numpy.matmul, one group per shape.

Square sizes 64..2048 and the products of MLP training (784-256-128-10,
batch 128): forward x @ W^T, input gradient dY @ W, weight gradient dY^T @ x;
float64 squares 256..2048 (dgemm); the batch-1 Linear products (x @ W^T with
one row: the small-M path, which streams W instead of packing it).
Each benchmark stores its GFLOP/s (from the median time) in extra_info.
fastdl runs with its configured thread count (fastdl._C._core.set_num_threads
or OMP_NUM_THREADS); NumPy with its BLAS default.

    pytest benchmarks/bench_gemm.py --benchmark-only
"""
import numpy as np
import pytest

from fastdl._C import gemm
from fastdl.bench.gemm import BATCH1, DSQUARE, MLP, SQUARE

SHAPES = [("%d^3" % n, n, n, n, False, False) for n in SQUARE] + [
    ("%s %dx%dx%d" % (label.split()[0] + " " + label.split()[1], M, N, K), M, N, K, ta, tb)
    for label, M, N, K, ta, tb in MLP]
SHAPES = [s + (np.float32,) for s in SHAPES]
SHAPES += [("%d^3" % n, n, n, n, False, False, np.float64) for n in DSQUARE]
SHAPES += [("batch1 %s" % label.split()[-1], 1, N, K, False, True, np.float32)
           for label, K, N in BATCH1]
IDS = [("d" if s[6] == np.float64 else "") + s[0].replace(" ", "-").replace("^3", "cubed")
       for s in SHAPES]


def _operands(M, N, K, ta, tb, dtype=np.float32):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(dtype)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(dtype)
    return a, b


def _run(benchmark, shape, fn):
    label, M, N, K = shape[:4]
    benchmark.group = ("dgemm " if shape[6] == np.float64 else "sgemm ") + label
    benchmark(fn)
    flops = 2.0 * M * N * K
    benchmark.extra_info["gflops"] = round(flops / benchmark.stats.stats.median / 1e9, 1)


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_fastdl_matmul(benchmark, shape):
    _, M, N, K, ta, tb, dt = shape
    a, b = _operands(M, N, K, ta, tb, dt)
    out = np.empty((M, N), dt)
    _run(benchmark, shape, lambda: gemm.matmul(a, b, transa=ta, transb=tb, out=out))


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_numpy_matmul(benchmark, shape):
    _, M, N, K, ta, tb, dt = shape
    a, b = _operands(M, N, K, ta, tb, dt)
    an, bn = (a.T if ta else a), (b.T if tb else b)
    out = np.empty((M, N), dt)
    _run(benchmark, shape, lambda: np.matmul(an, bn, out=out))
