"""Per-op Python overhead: an add of two 10-element tensors with grad tracking.

Small models are dominated by this cost, not by the kernels. Compare with
NumPy's np.add on the same arrays (no autograd) and with PyTorch when installed.
"""
import numpy as np
import pytest

import fastdl


@pytest.mark.benchmark(group="overhead: add of 10 elements")
def test_fastdl_add_with_grad(benchmark):
    fastdl.manual_seed(0)
    a = fastdl.randn(10, requires_grad=True)
    b = fastdl.randn(10, requires_grad=True)
    benchmark(lambda: a + b)


@pytest.mark.benchmark(group="overhead: add of 10 elements")
def test_fastdl_add_no_grad(benchmark):
    a = fastdl.randn(10)
    b = fastdl.randn(10)
    benchmark(lambda: a + b)


@pytest.mark.benchmark(group="overhead: add of 10 elements")
def test_numpy_add(benchmark):
    a = np.random.rand(10).astype(np.float32)
    b = np.random.rand(10).astype(np.float32)
    benchmark(lambda: np.add(a, b))


@pytest.mark.benchmark(group="overhead: add of 10 elements")
def test_torch_add_with_grad(benchmark):
    torch = pytest.importorskip("torch")
    a = torch.randn(10, requires_grad=True)
    b = torch.randn(10, requires_grad=True)
    benchmark(lambda: a + b)


@pytest.mark.benchmark(group="overhead: add+sum+backward of 10 elements")
def test_fastdl_add_sum_backward(benchmark):
    a = fastdl.randn(10, requires_grad=True)
    b = fastdl.randn(10, requires_grad=True)

    def step():
        (a + b).sum().backward()
    benchmark(step)


@pytest.mark.benchmark(group="overhead: add+sum+backward of 10 elements")
def test_torch_add_sum_backward(benchmark):
    torch = pytest.importorskip("torch")
    a = torch.randn(10, requires_grad=True)
    b = torch.randn(10, requires_grad=True)

    def step():
        (a + b).sum().backward()
    benchmark(step)
