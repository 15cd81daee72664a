"""fastdl.datasets: MNIST / Fashion-MNIST readers, scikit-learn's digits, and
synthetic generators (re-exported from fastdl.data.datasets)."""
from fastdl.data.datasets import *  # noqa: F401,F403
from fastdl.data.datasets import __all__  # noqa: F401
