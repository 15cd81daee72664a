"""torch.nn.modules.pooling: the pooling layers (re-exported from fastdl.nn)."""
from fastdl.nn import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d,  # noqa: F401
                       MaxPool1d, MaxPool2d)
