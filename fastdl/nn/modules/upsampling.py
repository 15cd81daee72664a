"""torch.nn.modules.upsampling: Upsample (re-exported from fastdl.nn)."""
from fastdl.nn import Upsample  # noqa: F401
