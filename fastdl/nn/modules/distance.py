"""torch.nn.modules.distance: CosineSimilarity, PairwiseDistance (re-exported from fastdl.nn)."""
from fastdl.nn import CosineSimilarity, PairwiseDistance  # noqa: F401
