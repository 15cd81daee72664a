"""fastdl.nn.functional: PyTorch's functional names, argument order and defaults.

Usage: ``import fastdl.nn.functional as F``.
"""
