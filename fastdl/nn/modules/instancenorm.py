"""torch.nn.modules.instancenorm: InstanceNorm1d, InstanceNorm2d (re-exported from fastdl.nn)."""
from fastdl.nn import InstanceNorm1d, InstanceNorm2d  # noqa: F401
