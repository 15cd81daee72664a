"""torch.nn.modules import paths: ``fastdl.nn.modules.linear.Linear`` is ``fastdl.nn.Linear``.

Each submodule (linear, conv, activation, loss, container, module, rnn,
normalization, batchnorm, dropout, pooling, sparse, transformer, flatten,
padding, upsampling, distance) re-exports the fastdl.nn classes PyTorch keeps
there, so ``from torch.nn.modules.loss import _Loss``-style imports work after
the import swap.
"""
from fastdl.nn.modules import (activation, batchnorm, container, conv, distance, dropout,
                               flatten, linear, loss, module, normalization, pooling, rnn,
                               sparse, transformer, upsampling, instancenorm)
from fastdl.nn.modules.module import Module
