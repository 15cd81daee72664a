"""fastdl.utils: PyTorch's ``torch.utils`` paths (``fastdl.utils.data``)."""
from fastdl.utils import data

__all__ = ["data"]
