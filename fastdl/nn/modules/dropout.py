"""torch.nn.modules.dropout: Dropout, Dropout1d, Dropout2d (re-exported from fastdl.nn)."""
from fastdl.nn import Dropout, Dropout1d, Dropout2d  # noqa: F401
