"""torch.nn.modules.loss: the losses and their bases _Loss, _WeightedLoss (re-exported from fastdl.nn)."""
from fastdl.nn.loss import *  # noqa: F401,F403
from fastdl.nn.loss import _Loss, _WeightedLoss  # noqa: F401
