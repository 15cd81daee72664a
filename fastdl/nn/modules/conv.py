"""torch.nn.modules.conv: Conv1d, Conv2d, ConvTranspose2d (re-exported from fastdl.nn)."""
from fastdl.nn import Conv1d, Conv2d, ConvTranspose2d  # noqa: F401
