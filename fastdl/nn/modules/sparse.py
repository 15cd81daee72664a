"""torch.nn.modules.sparse: Embedding (re-exported from fastdl.nn)."""
from fastdl.nn import Embedding  # noqa: F401
