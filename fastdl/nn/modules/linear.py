"""torch.nn.modules.linear: Identity, Linear (re-exported from fastdl.nn)."""
from fastdl.nn import Identity, Linear  # noqa: F401
