"""torch.nn.modules.flatten: Flatten, Unflatten (re-exported from fastdl.nn)."""
from fastdl.nn import Flatten, Unflatten  # noqa: F401
