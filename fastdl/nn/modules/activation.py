"""torch.nn.modules.activation: the activation layers and MultiheadAttention (re-exported from fastdl.nn)."""
from fastdl.nn import (ELU, GELU, GLU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU,  # noqa: F401
                       LogSigmoid, LogSoftmax, Mish, MultiheadAttention, ReLU, ReLU6, Sigmoid,
                       SiLU, Softmax, Softplus, Softsign, Tanh)
