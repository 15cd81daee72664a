"""fastdl.utils: PyTorch's ``torch.utils`` paths (``fastdl.utils.data``, ``fastdl.utils.tensorboard``)."""
from fastdl.utils import data, tensorboard

__all__ = ["data", "tensorboard"]
