"""fastdl.nn.parallel: DistributedDataParallel (PyTorch's module path); needs fastdl[mpi]."""
from fastdl.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
