"""pytest-benchmark groups compare fastdl with NumPy and PyTorch in one process. After
their calls, OpenBLAS's and PyTorch's worker threads spin for a while and would slow the
next benchmark down (fastdl's GEMM to about half speed on 2 cores): each benchmark
starts once no other thread of the process burns CPU."""
import pytest

from fastdl.bench._quiet import wait_quiet


@pytest.fixture(autouse=True)
def _quiet_process():
    wait_quiet()
    yield
