"""fastdl.datasets: MNIST / Fashion-MNIST readers, the bundled UCI digits, and
synthetic generators (re-exported from fastdl.data.datasets).

``DIGITS_CREDIT`` is the credit line of the bundled digits (CC BY 4.0).
"""
from fastdl.data.datasets import *  # noqa: F401,F403
from fastdl.data.datasets import __all__  # noqa: F401
