"""torch.nn.modules.transformer: the Transformer layers (re-exported from fastdl.nn)."""
from fastdl.nn.transformer import *  # noqa: F401,F403
