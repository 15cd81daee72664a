"""torch.nn.modules.normalization: LayerNorm, GroupNorm (re-exported from fastdl.nn)."""
from fastdl.nn import GroupNorm, LayerNorm  # noqa: F401
