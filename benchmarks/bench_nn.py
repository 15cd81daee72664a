"""nn kernels, forward + backward through the autograd API: fastdl against a
vectorized NumPy reference of the same op, and PyTorch when installed.

Run: python -m pytest benchmarks/bench_nn.py --benchmark-only
     (compare medians within one group; ratios drift less than absolute times)

Reference implementations live in fastdl.bench.nn (shared with
`python -m fastdl bench nn`). Cases: relu, gelu and softmax over 4M float32 elements, cross_entropy at 128 x 10 and
512 x 1000, batch_norm (training) at 64 x 64 x 32 x 32, max_pool2d 2x2 on
64 x 32 x 28 x 28.
"""
import numpy as np
import pytest

import fastdl
import fastdl.nn.functional as F
from fastdl.bench.nn import (np_batch_norm_step, np_cross_entropy_step, np_gelu_step,
                             np_max_pool_step, np_relu_step, np_softmax_step)

RNG = np.random.default_rng(0)
ELEMS = (1024, 4096)          # 4M elements


def _torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(fastdl.get_num_threads())
    return torch


def _fdl_step(fn, x, *args):
    """forward + backward with an all-ones upstream gradient."""
    xt = fastdl.from_numpy(x).requires_grad_()
    y = fn(xt, *args)
    y.backward(fastdl.ones_like(y) if y.ndim else None)
    return xt.grad


def _torch_step(torch, fn, x, *args):
    xt = torch.from_numpy(x).requires_grad_()
    y = fn(xt, *args)
    y.backward(torch.ones_like(y) if y.ndim else None)
    return xt.grad


# ---- relu ----------------------------------------------------------------------------------



@pytest.mark.benchmark(group="relu 4M fwd+bwd")
def test_relu_fastdl(benchmark):
    x = RNG.standard_normal(ELEMS, dtype=np.float32)
    benchmark(_fdl_step, F.relu, x)


@pytest.mark.benchmark(group="relu 4M fwd+bwd")
def test_relu_numpy(benchmark):
    x = RNG.standard_normal(ELEMS, dtype=np.float32)
    benchmark(np_relu_step, x)


@pytest.mark.benchmark(group="relu 4M fwd+bwd")
def test_relu_torch(benchmark):
    torch = _torch()
    x = RNG.standard_normal(ELEMS, dtype=np.float32)
    benchmark(_torch_step, torch, torch.relu, x)


# ---- gelu (tanh approximation) --------------------------------------------------------

@pytest.mark.benchmark(group="gelu tanh 4M fwd+bwd")
def test_gelu_fastdl(benchmark):
    x = RNG.standard_normal(ELEMS, dtype=np.float32)
    benchmark(_fdl_step, F.gelu, x, "tanh")


@pytest.mark.benchmark(group="gelu tanh 4M fwd+bwd")
def test_gelu_numpy(benchmark):
    x = RNG.standard_normal(ELEMS, dtype=np.float32)
    benchmark(np_gelu_step, x)


@pytest.mark.benchmark(group="gelu tanh 4M fwd+bwd")
def test_gelu_torch(benchmark):
    torch = _torch()
    x = RNG.standard_normal(ELEMS, dtype=np.float32)
    benchmark(_torch_step, torch, lambda a: torch.nn.functional.gelu(a, approximate="tanh"), x)


# ---- softmax -------------------------------------------------------------------------------



@pytest.mark.benchmark(group="softmax 4M (1024 x 4096) fwd+bwd")
def test_softmax_fastdl(benchmark):
    x = RNG.standard_normal(ELEMS, dtype=np.float32)
    benchmark(_fdl_step, F.softmax, x, 1)


@pytest.mark.benchmark(group="softmax 4M (1024 x 4096) fwd+bwd")
def test_softmax_numpy(benchmark):
    x = RNG.standard_normal(ELEMS, dtype=np.float32)
    benchmark(np_softmax_step, x)


@pytest.mark.benchmark(group="softmax 4M (1024 x 4096) fwd+bwd")
def test_softmax_torch(benchmark):
    torch = _torch()
    x = RNG.standard_normal(ELEMS, dtype=np.float32)
    benchmark(_torch_step, torch, torch.softmax, x, 1)


# ---- cross_entropy -------------------------------------------------------------------------



CE_SHAPES = [(128, 10), (512, 1000)]


@pytest.mark.parametrize("shape", CE_SHAPES, ids=["128x10", "512x1000"])
def test_cross_entropy_fastdl(benchmark, shape):
    benchmark.group = "cross_entropy %dx%d fwd+bwd" % shape
    x = RNG.standard_normal(shape, dtype=np.float32)
    t = fastdl.from_numpy(RNG.integers(0, shape[1], shape[0]))
    benchmark(_fdl_step, F.cross_entropy, x, t)


@pytest.mark.parametrize("shape", CE_SHAPES, ids=["128x10", "512x1000"])
def test_cross_entropy_numpy(benchmark, shape):
    benchmark.group = "cross_entropy %dx%d fwd+bwd" % shape
    x = RNG.standard_normal(shape, dtype=np.float32)
    t = RNG.integers(0, shape[1], shape[0])
    benchmark(np_cross_entropy_step, x, t)


@pytest.mark.parametrize("shape", CE_SHAPES, ids=["128x10", "512x1000"])
def test_cross_entropy_torch(benchmark, shape):
    torch = _torch()
    benchmark.group = "cross_entropy %dx%d fwd+bwd" % shape
    x = RNG.standard_normal(shape, dtype=np.float32)
    t = torch.from_numpy(RNG.integers(0, shape[1], shape[0]))
    benchmark(_torch_step, torch, torch.nn.functional.cross_entropy, x, t)


# ---- batch_norm ------------------------------------------------------------------------------

BN = (64, 64, 32, 32)




@pytest.mark.benchmark(group="batch_norm 64x64x32x32 train fwd+bwd")
def test_batch_norm_fastdl(benchmark):
    x = RNG.standard_normal(BN, dtype=np.float32)
    w = fastdl.ones(BN[1], requires_grad=True)
    b = fastdl.zeros(BN[1], requires_grad=True)
    benchmark(_fdl_step, lambda t: F.batch_norm(t, None, None, w, b, training=True), x)


@pytest.mark.benchmark(group="batch_norm 64x64x32x32 train fwd+bwd")
def test_batch_norm_numpy(benchmark):
    x = RNG.standard_normal(BN, dtype=np.float32)
    benchmark(np_batch_norm_step, x, np.ones(BN[1], np.float32), np.zeros(BN[1], np.float32))


@pytest.mark.benchmark(group="batch_norm 64x64x32x32 train fwd+bwd")
def test_batch_norm_torch(benchmark):
    torch = _torch()
    x = RNG.standard_normal(BN, dtype=np.float32)
    w = torch.ones(BN[1], requires_grad=True)
    b = torch.zeros(BN[1], requires_grad=True)
    benchmark(_torch_step, torch,
              lambda t: torch.nn.functional.batch_norm(t, None, None, w, b, training=True), x)


# ---- max_pool2d ------------------------------------------------------------------------------

MP = (64, 32, 28, 28)




@pytest.mark.benchmark(group="max_pool2d 2x2 64x32x28x28 fwd+bwd")
def test_max_pool2d_fastdl(benchmark):
    x = RNG.standard_normal(MP, dtype=np.float32)
    benchmark(_fdl_step, F.max_pool2d, x, 2)


@pytest.mark.benchmark(group="max_pool2d 2x2 64x32x28x28 fwd+bwd")
def test_max_pool2d_numpy(benchmark):
    x = RNG.standard_normal(MP, dtype=np.float32)
    benchmark(np_max_pool_step, x)


@pytest.mark.benchmark(group="max_pool2d 2x2 64x32x28x28 fwd+bwd")
def test_max_pool2d_torch(benchmark):
    torch = _torch()
    x = RNG.standard_normal(MP, dtype=np.float32)
    benchmark(_torch_step, torch, torch.nn.functional.max_pool2d, x, 2)


@pytest.mark.benchmark(group="max_pool2d 2x2 64x32x28x28 fwd+bwd")
def test_max_pool2d_fastdl_int64_indices(benchmark):
    # the return_indices path: PyTorch's int64 flat indices, widened from the one-byte argmax
    x = RNG.standard_normal(MP, dtype=np.float32)
    benchmark(_fdl_step, lambda t: F.max_pool2d(t, 2, return_indices=True)[0], x)


# relu then max_pool2d, as nn.Sequential(..., ReLU, MaxPool2d) runs it (one fused node, the
# ReLU on the pooled output) against the two ops one after the other

@pytest.mark.benchmark(group="relu + max_pool2d 2x2 64x32x28x28 fwd+bwd")
def test_relu_max_pool2d_fastdl_fused(benchmark):
    x = RNG.standard_normal(MP, dtype=np.float32)
    seq = fastdl.nn.Sequential(fastdl.nn.ReLU(), fastdl.nn.MaxPool2d(2))
    benchmark(_fdl_step, seq, x)


@pytest.mark.benchmark(group="relu + max_pool2d 2x2 64x32x28x28 fwd+bwd")
def test_relu_max_pool2d_fastdl_two_ops(benchmark):
    x = RNG.standard_normal(MP, dtype=np.float32)
    benchmark(_fdl_step, lambda t: F.max_pool2d(F.relu(t), 2), x)


@pytest.mark.benchmark(group="relu + max_pool2d 2x2 64x32x28x28 fwd+bwd")
def test_relu_max_pool2d_torch(benchmark):
    torch = _torch()
    x = RNG.standard_normal(MP, dtype=np.float32)
    benchmark(_torch_step, torch,
              lambda t: torch.nn.functional.max_pool2d(torch.relu(t), 2), x)
