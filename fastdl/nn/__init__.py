"""fastdl.nn: layers, losses and the functional API."""
from fastdl.nn import functional
