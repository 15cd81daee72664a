"""torch.nn.modules.module: Module (re-exported from fastdl.nn)."""
from fastdl.nn.module import Module  # noqa: F401
