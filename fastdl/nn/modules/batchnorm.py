"""torch.nn.modules.batchnorm: BatchNorm1d, BatchNorm2d (re-exported from fastdl.nn)."""
from fastdl.nn import BatchNorm1d, BatchNorm2d  # noqa: F401
