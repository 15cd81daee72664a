"""fastdl: deep learning on CPUs, with C kernels under a PyTorch-style API."""
import os as _os

# OpenMP threads sleep rather than spin while they wait for work, unless the
# user chose otherwise. Spinning saves ~1 us per parallel region on an idle
# machine, but when anything else wants a core, a spinning worker takes its
# time slices and training slows 10-100x (measured: the MNIST MLP step went
# from 0.85 ms to 9-80 ms with one other busy process). libgomp reads the
# variable once, when libfastdl loads it, so it is set only for that moment.
_WAIT_POLICY_DEFAULT = "OMP_WAIT_POLICY" not in _os.environ
if _WAIT_POLICY_DEFAULT:
    _os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
try:
    from fastdl._C import _core
finally:
    if _WAIT_POLICY_DEFAULT:
        del _os.environ["OMP_WAIT_POLICY"]
from fastdl.config import (config, get_include, get_lib, get_num_threads, set_num_threads,
                           show_config, _check_isa_env)
from fastdl.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from fastdl.random import get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from fastdl.tensor import Tensor
from fastdl.tensor import (abs, add, amax, amin, argmax, argmin, cat, clamp, clip, div, exp,
                           expand, flatten, log, matmul, max, maximum, mean, min, minimum, mul,
                           neg, permute, pow, reshape, split, sqrt, square, squeeze, stack, std,
                           sub, sum, transpose, unsqueeze, var, where)
from fastdl.creation import *  # noqa: F401,F403  (tensor, zeros, ..., dtypes)
from fastdl.creation import __all__ as _creation_all
from fastdl import data, datasets, metrics, testing
from fastdl import nn, optim
from fastdl.io import load, save
from fastdl import train
from fastdl.train import Trainer
from fastdl import callbacks

__version__ = _core.version()

_check_isa_env()
del _creation_all
